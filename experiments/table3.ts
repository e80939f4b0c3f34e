/**
 * `deno task table3`: the paper's Table 3 — a robust teacher (WideResNet trained with TRADES)
 * and MobileNetV2 students trained by ST, KD, ARD, KDIGA, KDIGA-ARDC and KDIGA-ARDA; clean and
 * 20-step PGD robust accuracy at 8 radii. Writes `results/table3.csv` and `results/table3.md`
 * (the paper's numbers beside ours, the paper's claims checked, config, seed and wall time).
 *
 * Defaults: embedded MNIST, preset `quick` (see `presets.ts`). Teachers, students and measured
 * rows are cached under `runs/`; a rerun reuses them, an interrupted one resumes.
 *
 * @example
 * ```ts
 * import { table3Markdown } from "./table3.ts";
 * import { distillationStudy } from "./presets.ts";
 * const study = distillationStudy({ data: { name: "mnist" }, preset: "quick", seed: 0, resultsDir: "results", runsDir: "runs" });
 * const md = table3Markdown([], study);
 * ```
 * @module
 */
import { distillationClaims, formatClaims } from "./checks.ts";
import { runTask, type TaskSpec, type TaskValues } from "./cli.ts";
import {
  DISTILLATION_OPTIONS,
  measureDistillationRows,
  prepareDistillationRun,
} from "./distillation.ts";
import { PAPER_TABLE3 } from "./paper_numbers.ts";
import type { DistillationStudy } from "./presets.ts";
import { runSection, writeResults } from "./report.ts";
import { accuracyCsv, accuracyMarkdownTable, type AccuracyRow } from "./tables.ts";

/**
 * The task's command line.
 *
 * @example
 * ```ts
 * import { TABLE3_TASK } from "./table3.ts";
 * import { helpText } from "./cli.ts";
 * console.log(helpText(TABLE3_TASK));
 * ```
 */
export const TABLE3_TASK: TaskSpec = {
  name: "table3",
  summary:
    "Table 3: clean and PGD-20 robust accuracy of ST/KD/ARD/KDIGA/KDIGA-ARDC/KDIGA-ARDA students of a TRADES teacher",
  options: DISTILLATION_OPTIONS,
};

/**
 * The Markdown table of Table 3 with the paper's numbers beside ours, and the checked claims.
 *
 * @example
 * ```ts
 * import { table3Markdown } from "./table3.ts";
 * import { distillationStudy } from "./presets.ts";
 * const study = distillationStudy({ data: { name: "mnist" }, preset: "quick", seed: 0, resultsDir: "results", runsDir: "runs" });
 * table3Markdown([], study).startsWith("# Table 3"); // true
 * ```
 */
export function table3Markdown(rows: readonly AccuracyRow[], study: DistillationStudy): string {
  const g = study.evaluation.grid;
  const n = rows[0]?.count ?? study.evaluation.size;
  return [
    `# Table 3 on ${study.dataset} (preset ${study.preset})`,
    "",
    `Clean accuracy and robust accuracy (%) against ${study.evaluation.steps}-step PGD (Linf) at ${g.radii.length} radii, ` +
    `on ${
      n ?? "all"
    } test points. Teacher: ${study.teacher.model.name} trained with TRADES; students: ` +
    `${study.students.st.model.name}. Each cell: **ours / paper** (the paper: CIFAR-10, WideResNet-34-10 ` +
    `TRADES teacher, MobileNetV2 students, radii k/255; our radii are in the column headers).`,
    "",
    accuracyMarkdownTable(rows, PAPER_TABLE3, { radiusLabels: g.labels }),
    "## The paper's claims, checked on our numbers",
    "",
    formatClaims(distillationClaims(rows, g.labels)),
  ].join("\n");
}

/**
 * Runs the task (see the module doc) on parsed command-line values.
 *
 * @example
 * ```ts
 * import { TABLE3_TASK, table3Main } from "./table3.ts";
 * import { runTask } from "./cli.ts";
 * const code = await runTask(TABLE3_TASK, ["--help"], table3Main); // prints the help, returns 0
 * ```
 */
export async function table3Main(values: TaskValues): Promise<void> {
  const run = await prepareDistillationRun(values);
  const measured = await measureDistillationRows(run);
  const rows = measured.map((m) => m.row);
  const g = run.study.evaluation.grid;
  const md = table3Markdown(rows, run.study) + "\n" + runSection({
    task: "table3",
    args: run.args,
    wallSeconds: (performance.now() - run.started) / 1000,
    backend: run.backend,
    config: run.study,
    rows: measured,
  });
  const paths = await writeResults(run.args.resultsDir, `table3${run.suffix}`, {
    csv: accuracyCsv(rows, "pgd", g.labels),
    md,
  });
  console.log(md);
  console.error(`wrote ${paths.join(", ")}`);
}

if (import.meta.main) Deno.exit(await runTask(TABLE3_TASK, Deno.args, table3Main));
