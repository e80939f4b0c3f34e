/**
 * What Tables 1 and 2 share: the transfer study's rows (CNN and ViT teachers; ResNet-18/34/50/101
 * students from scratch; a pre-trained ViT fine-tuned by KDIGA), measured under PGD-40 (Table 1)
 * or AutoAttack (Table 2), with each teacher's accuracy in brackets as the paper prints it.
 * @module
 */
import { commonArgs, type OptionSpec, parseList, type TaskSpec, type TaskValues } from "./cli.ts";
import { describeBackend, useBackend } from "./common.ts";
import { studyOverrides, tagSuffix } from "./distillation.ts";
import type { StoreContext } from "./model_store.ts";
import type { PaperTable } from "./paper_numbers.ts";
import { type TransferRow, type TransferStudy, transferStudy } from "./presets.ts";
import { runSection, writeResults } from "./report.ts";
import { loadStudyData, type MeasuredRow, measureRow } from "./rows.ts";
import { formatClaims, transferClaims } from "./checks.ts";
import { accuracyCsv, accuracyMarkdownTable, type AccuracyRow } from "./tables.ts";

/**
 * Every row key of the transfer study, in the paper's order.
 *
 * @example
 * ```ts
 * import { TRANSFER_ROW_KEYS } from "./transfer.ts";
 * TRANSFER_ROW_KEYS.includes("cnn-kdiga-vit-pretrained"); // true
 * ```
 */
export const TRANSFER_ROW_KEYS = [
  "resnet18-st",
  "vit-st",
  "vit-kd-resnet18",
  "vit-kdiga-resnet18",
  "cnn-kd-resnet18",
  "cnn-kdiga-resnet18",
  "cnn-kdiga-resnet34",
  "cnn-kdiga-resnet50",
  "cnn-kdiga-resnet101",
  "cnn-kdiga-vit-pretrained",
] as const;

/** Our names of the transfer study's teachers and students. */
function rowLabel(study: TransferStudy, row: TransferRow): string {
  const name = (key: string) => {
    const spec = key === "cnn-at" ? study.teachers["cnn-at"] : study.teachers["vit-st"];
    return `${spec.model.name} (${key === "cnn-at" ? "AT" : "ST"})`;
  };
  const model = row.spec.model.name;
  if (row.teacherKey === null) return `${model} (${row.spec.method.toUpperCase()})`;
  const star = row.spec.initialFrom ? "*" : "";
  return `${name(row.teacherKey)} -${row.spec.method.toUpperCase()}-> ${model}${star}`;
}

/**
 * The options of Tables 1-2 (besides the common ones), `--rows` defaulting to `defaultRows`.
 *
 * @example
 * ```ts
 * import { transferOptions } from "./transfer.ts";
 * transferOptions(["resnet18-st"]).rows.default; // "resnet18-st"
 * ```
 */
export function transferOptions(defaultRows: readonly string[]): Record<string, OptionSpec> {
  return {
    rows: {
      type: "string",
      default: defaultRows.join(","),
      valueName: "LIST",
      description: `rows to train and measure, comma-separated from ${
        TRANSFER_ROW_KEYS.join(", ")
      }`,
    },
    gamma: {
      type: "string",
      valueName: "G",
      description:
        "γ of the KDIGA students' λ_IGA = γ / B (quick 100; paper 1000, the paper's 10^3/B)",
    },
    "student-epochs": {
      type: "string",
      valueName: "N",
      description: "training epochs of students and teachers (default: the preset's)",
    },
    tag: { type: "string", valueName: "NAME", description: "suffix of the result files" },
  };
}

/** What a table of the transfer study prints and which attack it runs. */
export interface TransferTable {
  task: TaskSpec;
  paper: PaperTable;
  attack: "pgd" | "aa";
}

/**
 * The Markdown of Table 1 or 2: ours / paper per cell, the teacher's accuracy in brackets.
 *
 * @example
 * ```ts
 * import { transferMarkdown } from "./transfer.ts";
 * import { PAPER_TABLE1 } from "./paper_numbers.ts";
 * import { transferStudy } from "./presets.ts";
 * const study = transferStudy({ data: { name: "mnist" }, preset: "quick", seed: 0, resultsDir: "results", runsDir: "runs" });
 * transferMarkdown([], study, PAPER_TABLE1, "pgd");
 * ```
 */
export function transferMarkdown(
  rows: readonly AccuracyRow[],
  study: TransferStudy,
  paper: PaperTable,
  attack: "pgd" | "aa",
): string {
  const ev = attack === "pgd" ? study.pgd : study.autoAttack;
  const what = attack === "pgd"
    ? `${ev.steps}-step PGD`
    : `AutoAttack (APGD-CE, APGD-T, FAB-T, Square; ${ev.steps} iterations, ${study.autoAttack.targets} targets, ` +
      `${study.autoAttack.queries} Square queries)`;
  return [
    `# ${paper.title} on ${study.dataset} (preset ${study.preset})`,
    "",
    `Clean and robust accuracy (%) against ${what} (Linf) at ${ev.grid.radii.length} radii, on ${
      rows[0]?.count ?? ev.size
    } ` +
    `test points; the teacher's accuracy in brackets. Teachers: ${
      study.teachers["cnn-at"].model.name
    } ` +
    `(adversarially trained; the paper's ResNet50 (AT)) and ${
      study.teachers["vit-st"].model.name
    } (normally ` +
    `trained; the paper's ViT-S/16). "*": a pre-trained ViT (our ViT ST row) fine-tuned by KDIGA. Each cell: ` +
    `**ours / paper** (the paper: ImageNet, radii 0.001-0.01). Rows the paper has and we do not run (other ViT ` +
    `teachers) show "—".`,
    "",
    accuracyMarkdownTable(rows, paper, {
      radiusLabels: ev.grid.labels,
      teacherInBrackets: true,
      decimals: 1,
    }),
    "## The paper's claims, checked on our numbers",
    "",
    formatClaims(transferClaims(rows, ev.grid.labels)) || "(none: their rows were not run)\n",
  ].join("\n");
}

/**
 * Runs Table 1 or 2 on the command-line values.
 *
 * @example
 * ```ts
 * import { transferMain } from "./transfer.ts";
 * import { TABLE1 } from "./table1.ts";
 * import { runTask } from "./cli.ts";
 * const code = await runTask(TABLE1.task, ["--help"], (v) => transferMain(TABLE1, v)); // prints the help
 * ```
 */
export async function transferMain(table: TransferTable, values: TaskValues): Promise<void> {
  const args = commonArgs(values);
  const overrides = studyOverrides(values);
  const suffix = tagSuffix(values);
  const keys = parseList("rows", String(values.rows), TRANSFER_ROW_KEYS);
  const started = performance.now();
  await useBackend();
  const data = await loadStudyData(args.data);
  const study = transferStudy(args, overrides);
  const context: StoreContext = {
    runsDir: args.runsDir,
    data,
    onStart: (spec, dir) =>
      console.error(`[${spec.label}] ${spec.method} ${spec.model.name}: ${dir}`),
  };
  const evaluation = table.attack === "pgd" ? study.pgd : study.autoAttack;
  const teacherRow = async (key: "cnn-at" | "vit-st") =>
    await measureRow({
      key,
      label: `${study.teachers[key].model.name} (${key === "cnn-at" ? "AT" : "ST"})`,
      spec: study.teachers[key],
      teacherKey: null,
      attack: table.attack,
      evaluation,
    }, context);
  const measured: MeasuredRow[] = [];
  const teachers = new Map<string, AccuracyRow>();
  for (const row of study.rows) {
    if (!(keys as string[]).includes(row.key)) continue;
    if (row.teacherKey && !teachers.has(row.teacherKey)) {
      const m = await teacherRow(row.teacherKey as "cnn-at" | "vit-st");
      teachers.set(row.teacherKey, m.row);
      if (row.teacherKey === "cnn-at") measured.push(m);
    }
    const m = await measureRow({
      key: row.key,
      label: rowLabel(study, row),
      spec: row.spec,
      teacherKey: row.teacherKey,
      attack: table.attack,
      evaluation,
    }, context);
    const t = row.teacherKey ? teachers.get(row.teacherKey) : undefined;
    m.row.teacherClean = t ? t.clean : null;
    m.row.teacherRobust = t ? t.robust : null;
    if (row.key === "vit-st") teachers.set("vit-st", m.row);
    measured.push(m);
  }
  const rows = measured.map((m) => m.row);
  const name = table.task.name;
  const md = transferMarkdown(rows, study, table.paper, table.attack) + "\n" + runSection({
    task: name,
    args,
    wallSeconds: (performance.now() - started) / 1000,
    backend: describeBackend(),
    config: {
      teachers: study.teachers,
      rows: study.rows.filter((r) => (keys as string[]).includes(r.key)),
      evaluation,
    },
    rows: measured,
  });
  const paths = await writeResults(args.resultsDir, `${name}${suffix}`, {
    csv: accuracyCsv(rows, table.attack, evaluation.grid.labels, true),
    md,
  });
  console.log(md);
  console.error(`wrote ${paths.join(", ")}`);
}
