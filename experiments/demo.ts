/**
 * `deno task demo`: the first thing to run. On the embedded MNIST, trains a robust teacher
 * (TRADES), a KD student and a KDIGA student, measures PGD-20 robust accuracy at a few radii and
 * prints a small table that shows whether KDIGA keeps the robustness KD loses. About 10 minutes
 * on 2 CPU cores; the models and rows are the same (and cached the same way) as `table3`'s, so
 * `table3` afterwards only trains the other students.
 *
 * @example
 * ```ts
 * import { demoSummary } from "./demo.ts";
 * const r = (key: string, robust: number[]) => ({ key, method: key, label: key, model: "m", teacher: null, clean: 99, robust, count: 10 });
 * console.log(demoSummary([r("teacher", [90, 80]), r("kd", [20, 1]), r("kdiga", [70, 40])], ["0.1", "0.2"], [0, 1]));
 * ```
 * @module
 */
import { runTask, type TaskSpec, type TaskValues } from "./cli.ts";
import {
  DISTILLATION_OPTIONS,
  kdPairRunSection,
  measureDistillationRows,
  prepareDistillationRun,
} from "./distillation.ts";
import { writeResults } from "./report.ts";
import { accuracyCsv, type AccuracyRow, markdownTable } from "./tables.ts";

/**
 * The task's command line.
 *
 * @example
 * ```ts
 * import { DEMO_TASK } from "./demo.ts";
 * import { helpText } from "./cli.ts";
 * console.log(helpText(DEMO_TASK));
 * ```
 */
export const DEMO_TASK: TaskSpec = {
  name: "demo",
  summary:
    "a robust teacher, a KD and a KDIGA student on MNIST: does KDIGA keep the robustness KD loses?",
  options: Object.fromEntries(
    Object.entries(DISTILLATION_OPTIONS).filter(([k]) => k !== "methods"),
  ),
};

/**
 * Indices of the radii the demo prints: every other radius of the grid, ending at the largest.
 *
 * @example
 * ```ts
 * import { demoRadiusIndices } from "./demo.ts";
 * demoRadiusIndices(8); // [1, 3, 5, 7]
 * ```
 */
export function demoRadiusIndices(count: number): number[] {
  const out: number[] = [];
  for (let i = count - 1; i >= 0; i -= 2) out.unshift(i);
  return out;
}

/**
 * The demo's table (clean and robust accuracy at the chosen radii) and a one-line verdict per
 * radius: how much of the teacher's robust accuracy KD and KDIGA keep.
 *
 * @example
 * ```ts
 * import { demoSummary } from "./demo.ts";
 * const r = (key: string, robust: number[]) => ({ key, method: key, label: key, model: "m", teacher: null, clean: 99, robust, count: 10 });
 * demoSummary([r("teacher", [90]), r("kd", [20]), r("kdiga", [70])], ["0.1"], [0]).includes("KDIGA"); // true
 * ```
 */
export function demoSummary(
  rows: readonly AccuracyRow[],
  labels: readonly string[],
  indices: readonly number[],
): string {
  const names: Record<string, string> = {
    teacher: "teacher (TRADES)",
    kd: "KD student",
    kdiga: "KDIGA student",
  };
  const body = ["teacher", "kd", "kdiga"].flatMap((key) => {
    const r = rows.find((x) => x.key === key);
    return r
      ? [[names[key], r.clean.toFixed(1), ...indices.map((i) => r.robust[i].toFixed(1))]]
      : [];
  });
  const table = markdownTable(
    ["model", "clean", ...indices.map((i) => `PGD-20 @ ${labels[i]}`)],
    body,
  );
  const t = rows.find((r) => r.key === "teacher"),
    kd = rows.find((r) => r.key === "kd"),
    ki = rows.find((r) => r.key === "kdiga");
  const lines: string[] = [];
  if (t && kd && ki) {
    for (const i of indices) {
      const keep = (r: AccuracyRow) =>
        (t.robust[i] > 0 ? (100 * r.robust[i]) / t.robust[i] : NaN).toFixed(0);
      const verdict = ki.robust[i] > kd.robust[i] ? "KDIGA keeps more" : "KDIGA does NOT keep more";
      lines.push(
        `- radius ${labels[i]}: teacher ${t.robust[i].toFixed(1)}%, KD ${
          kd.robust[i].toFixed(1)
        }% (${keep(kd)}% of the ` +
          `teacher's), KDIGA ${ki.robust[i].toFixed(1)}% (${keep(ki)}%): ${verdict}`,
      );
    }
  }
  return `${table}\n${lines.join("\n")}\n`;
}

/**
 * Runs the task (see the module doc) on parsed command-line values.
 *
 * @example
 * ```ts
 * import { DEMO_TASK, demoMain } from "./demo.ts";
 * import { runTask } from "./cli.ts";
 * const code = await runTask(DEMO_TASK, ["--help"], demoMain); // prints the help, returns 0
 * ```
 */
export async function demoMain(values: TaskValues): Promise<void> {
  const run = await prepareDistillationRun(values, ["kd", "kdiga"]);
  const measured = await measureDistillationRows(run);
  const rows = measured.map((m) => m.row);
  const g = run.study.evaluation.grid;
  const summary = demoSummary(rows, g.labels, demoRadiusIndices(g.radii.length));
  const md = [
    `# Demo: does robustness survive distillation? (${run.study.dataset}, preset ${run.study.preset})`,
    "",
    `Clean and PGD-20 robust accuracy (%) on ${rows[0]?.count} test points of a TRADES teacher ` +
    `(${run.study.teacher.model.name}) and two ${run.study.students.kd.model.name} students distilled from it: ` +
    "standard KD, and KD with input gradient alignment (KDIGA). All radii: `results/demo.csv`.",
    "",
    summary,
    kdPairRunSection("demo", run, measured),
  ].join("\n");
  const paths = await writeResults(run.args.resultsDir, `demo${run.suffix}`, {
    csv: accuracyCsv(rows, "pgd", g.labels),
    md,
  });
  console.log(md);
  console.error(`wrote ${paths.join(", ")}`);
}

if (import.meta.main) Deno.exit(await runTask(DEMO_TASK, Deno.args, demoMain));
