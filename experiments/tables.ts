/**
 * Writers of the result files: CSV (one row per model, a `method` column, `clean`, one column
 * per radius named `pgd@<radius>` or `aa@<radius>`) and Markdown tables laid out like the
 * paper's, each cell `ours / paper`.
 * @module
 */
import type { PaperRow, PaperTable } from "./paper_numbers.ts";

/** One model's accuracies (in %), as the robust-accuracy tables list them. */
export interface AccuracyRow {
  /** Row key, matching the paper's row keys (`paper_numbers.ts`), e.g. "kdiga". */
  key: string;
  /** Training method (`trades`, `at`, `st`, `kd`, `ard`, `kdiga`, ...). */
  method: string;
  /** Our row name, e.g. "wide-resnet-tiny(TRADES) -KDIGA-> mobilenetv2-tiny". */
  label: string;
  /** The model trained. */
  model: string;
  /** The teacher's row key, or null. */
  teacher: string | null;
  clean: number;
  /** Robust accuracy per radius (ascending radii). */
  robust: number[];
  /** Test points evaluated. */
  count: number;
  /** The teacher's accuracies, for the tables that print them in brackets. */
  teacherClean?: number | null;
  teacherRobust?: number[] | null;
}

/** Attack prefixes of the CSV columns. */
export type AttackKind = "pgd" | "aa";

/**
 * The robust-accuracy column names, e.g. `pgd@0.1`.
 *
 * @example
 * ```ts
 * import { robustColumnNames } from "./tables.ts";
 * robustColumnNames("pgd", ["0.05", "0.1"]); // ["pgd@0.05", "pgd@0.1"]
 * ```
 */
export function robustColumnNames(attack: AttackKind, radiusLabels: readonly string[]): string[] {
  return radiusLabels.map((r) => `${attack}@${r}`);
}

function csvCell(v: string | number | null | undefined): string {
  if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) return "";
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * CSV text from a header and rows (RFC 4180 quoting; empty cell for null, undefined or NaN).
 *
 * @example
 * ```ts
 * import { formatCsv } from "./tables.ts";
 * formatCsv(["method", "clean"], [["kd", 98.5]]); // "method,clean\nkd,98.5\n"
 * ```
 */
export function formatCsv(
  header: readonly string[],
  rows: readonly (readonly (string | number | null | undefined)[])[],
): string {
  for (const [i, r] of rows.entries()) {
    if (r.length !== header.length) {
      throw new Error(`CSV row ${i} has ${r.length} cells but the header has ${header.length}`);
    }
  }
  return [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
}

function round(v: number, decimals: number): number {
  return Number(v.toFixed(decimals));
}

/**
 * The CSV of accuracy rows: `method,key,model,teacher,clean,<attack>@<r>...,count`, plus
 * `teacher_clean,teacher_<attack>@<r>...` when `withTeacher`. Accuracies in %, 2 decimals.
 *
 * @example
 * ```ts
 * import { accuracyCsv } from "./tables.ts";
 * const csv = accuracyCsv([{ key: "kd", method: "kd", label: "KD", model: "mlp", teacher: "teacher",
 *   clean: 98, robust: [50, 10], count: 100 }], "pgd", ["0.1", "0.2"]);
 * ```
 */
export function accuracyCsv(
  rows: readonly AccuracyRow[],
  attack: AttackKind,
  radiusLabels: readonly string[],
  withTeacher = false,
): string {
  const robustCols = robustColumnNames(attack, radiusLabels);
  const header = ["method", "key", "model", "teacher", "clean", ...robustCols, "count"];
  if (withTeacher) header.push("teacher_clean", ...robustCols.map((c) => `teacher_${c}`));
  const body = rows.map((r) => {
    if (r.robust.length !== radiusLabels.length) {
      throw new Error(
        `row '${r.key}' has ${r.robust.length} robust accuracies for ${radiusLabels.length} radii`,
      );
    }
    const cells: (string | number | null)[] = [
      r.method,
      r.key,
      r.model,
      r.teacher,
      round(r.clean, 2),
      ...r.robust.map((v) => round(v, 2)),
      r.count,
    ];
    if (withTeacher) {
      cells.push(
        r.teacherClean == null ? null : round(r.teacherClean, 2),
        ...radiusLabels.map((_, i) => (r.teacherRobust ? round(r.teacherRobust[i], 2) : null)),
      );
    }
    return cells;
  });
  return formatCsv(header, body);
}

/**
 * A Markdown table (pipes in cells escaped).
 *
 * @example
 * ```ts
 * import { markdownTable } from "./tables.ts";
 * markdownTable(["a", "b"], [["1", "2"]]); // "| a | b |\n|---|---|\n| 1 | 2 |\n"
 * ```
 */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const line = (cells: readonly string[]) => `| ${cells.map(esc).join(" | ")} |`;
  return [line(header), `|${header.map(() => "---").join("|")}|`, ...rows.map(line)].join("\n") +
    "\n";
}

/**
 * Formats a percentage, or "—" when absent.
 *
 * @example
 * ```ts
 * import { formatPercent } from "./tables.ts";
 * formatPercent(12.345, 1); // "12.3"
 * ```
 */
export function formatPercent(v: number | null | undefined, decimals: number): string {
  return v === null || v === undefined || Number.isNaN(v) ? "—" : v.toFixed(decimals);
}

function withBracket(
  v: number | null | undefined,
  teacher: number | null | undefined,
  decimals: number,
  bracket: boolean,
): string {
  const main = formatPercent(v, decimals);
  if (!bracket || main === "—") return main;
  return `${main} (${teacher === null || teacher === undefined ? "-" : teacher.toFixed(decimals)})`;
}

/** Options of {@link accuracyMarkdownTable}. */
export interface AccuracyTableOptions {
  /** Our radii as printed in the header (the paper's are in `paper.radiusLabels`). */
  radiusLabels: readonly string[];
  /** Print the teacher's accuracy in brackets after each of ours (Tables 1-2). */
  teacherInBrackets?: boolean;
  /** Decimals of our numbers (default: 2; Tables 1-2 print 1). */
  decimals?: number;
}

/**
 * A Markdown robust-accuracy table laid out like the paper's: one row per paper row (in the
 * paper's order; rows we did not run show "—"), then our rows the paper does not have; each cell
 * `ours / paper`, with the teacher's accuracy in brackets when asked.
 *
 * @example
 * ```ts
 * import { accuracyMarkdownTable } from "./tables.ts";
 * import { PAPER_TABLE3 } from "./paper_numbers.ts";
 * const md = accuracyMarkdownTable([{ key: "kd", method: "kd", label: "KD", model: "m", teacher: "teacher",
 *   clean: 98, robust: [1, 2, 3, 4, 5, 6, 7, 8], count: 10 }], PAPER_TABLE3,
 *   { radiusLabels: ["1", "2", "3", "4", "5", "6", "7", "8"] });
 * ```
 */
export function accuracyMarkdownTable(
  rows: readonly AccuracyRow[],
  paper: PaperTable,
  options: AccuracyTableOptions,
): string {
  const decimals = options.decimals ?? 2;
  const bracket = options.teacherInBrackets ?? false;
  const n = options.radiusLabels.length;
  if (n !== paper.radii.length) {
    throw new Error(`${paper.title} has ${paper.radii.length} radii; got ${n} radius labels`);
  }
  const attackName = paper.attack === "pgd" ? `PGD-${paper.steps}` : "AutoAttack";
  const header = [
    "Model",
    "Clean",
    ...options.radiusLabels.map((r, i) => `${attackName} ${r} (paper ${paper.radiusLabels[i]})`),
  ];
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const cells = (ours: AccuracyRow | undefined, p: PaperRow | undefined): string[] => {
    const pair = (o: string, q: string) => `${o} / ${q}`;
    const paperCell = (v: number | undefined, t: number | null | undefined) =>
      p ? withBracket(v, t, paper.decimals, bracket) : "—";
    return [
      pair(
        withBracket(ours?.clean, ours?.teacherClean, decimals, bracket),
        paperCell(p?.clean, p?.teacherClean),
      ),
      ...Array.from({ length: n }, (_, i) =>
        pair(
          withBracket(ours?.robust[i], ours?.teacherRobust?.[i], decimals, bracket),
          paperCell(p?.robust[i], p?.teacherRobust?.[i]),
        )),
    ];
  };
  const body: string[][] = [];
  for (const p of paper.rows) body.push([p.label, ...cells(byKey.get(p.key), p)]);
  for (const r of rows) {
    if (!paper.rows.some((p) => p.key === r.key)) body.push([r.label, ...cells(r, undefined)]);
  }
  return markdownTable(header, body);
}
