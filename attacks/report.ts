/**
 * CSV and Markdown renderings of an {@link EvaluationReport}.
 * @module
 */
import type { EvaluationReport } from "./evaluate.ts";

/** Quotes a CSV field when it needs it (RFC 4180). */
function csvField(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * The report as CSV: a header and one line per attack and radius, with the clean accuracy
 * repeated on each line (so every line stands alone in a spreadsheet).
 *
 * @example
 * ```ts
 * import { toCsv } from "./report.ts";
 * const csv = toCsv({
 *   clean: { correct: 9, total: 10, accuracy: 0.9 }, zeroGradientFraction: 0, warnings: [], seed: 0,
 *   rows: [{ attack: "pgd", norm: "Linf", eps: 0.03, robustCorrect: 4, total: 10, robustAccuracy: 0.4, seconds: 1.5 }],
 * });
 * // attack,norm,eps,robust_correct,total,robust_accuracy,clean_correct,clean_accuracy,seconds
 * // pgd,Linf,0.03,4,10,0.4,9,0.9,1.500
 * ```
 */
export function toCsv(report: EvaluationReport): string {
  const header = [
    "attack",
    "norm",
    "eps",
    "robust_correct",
    "total",
    "robust_accuracy",
    "clean_correct",
    "clean_accuracy",
    "seconds",
  ];
  const lines = [header.join(",")];
  for (const r of report.rows) {
    lines.push(
      [
        r.attack,
        r.norm,
        r.eps,
        r.robustCorrect,
        r.total,
        r.robustAccuracy,
        report.clean.correct,
        report.clean.accuracy,
        r.seconds.toFixed(3),
      ].map(csvField).join(","),
    );
  }
  return lines.join("\n") + "\n";
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/**
 * The report as Markdown: clean accuracy, a table with one row per attack and one column per
 * radius (`robust % (count/total)`), and the warnings.
 *
 * @example
 * ```ts
 * import { toMarkdown } from "./report.ts";
 * const md = toMarkdown({
 *   clean: { correct: 9, total: 10, accuracy: 0.9 }, zeroGradientFraction: 0, warnings: [], seed: 0,
 *   rows: [{ attack: "pgd", norm: "Linf", eps: 0.03, robustCorrect: 4, total: 10, robustAccuracy: 0.4, seconds: 1.5 }],
 * });
 * // Clean accuracy: 90.0% (9/10), seed 0
 * //
 * // | attack | Linf eps=0.03 |
 * // | --- | --- |
 * // | pgd | 40.0% (4/10) |
 * ```
 */
export function toMarkdown(report: EvaluationReport): string {
  const columns: string[] = [];
  for (const r of report.rows) {
    const c = `${r.norm} eps=${r.eps}`;
    if (!columns.includes(c)) columns.push(c);
  }
  const attacks: string[] = [];
  for (const r of report.rows) if (!attacks.includes(r.attack)) attacks.push(r.attack);
  const escape = (s: string) => s.replaceAll("|", "\\|");
  const out = [
    `Clean accuracy: ${
      pct(report.clean.accuracy)
    } (${report.clean.correct}/${report.clean.total}), seed ${report.seed}`,
    "",
    `| attack | ${columns.map(escape).join(" | ")} |`,
    `| --- | ${columns.map(() => "---").join(" | ")} |`,
  ];
  for (const a of attacks) {
    const cells = columns.map((c) => {
      const r = report.rows.find((row) => row.attack === a && `${row.norm} eps=${row.eps}` === c);
      return r ? `${pct(r.robustAccuracy)} (${r.robustCorrect}/${r.total})` : "";
    });
    out.push(`| ${escape(a)} | ${cells.join(" | ")} |`);
  }
  if (report.warnings.length > 0) {
    out.push("", "Warnings:", ...report.warnings.map((w) => `- ${w}`));
  }
  return out.join("\n") + "\n";
}
