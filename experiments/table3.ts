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
import {
  COMMON_OPTIONS,
  parseInteger,
  runTask,
  type TaskSpec,
  type TaskValues,
  UsageError,
} from "./cli.ts";
import { formatDuration } from "./common.ts";
import {
  DISTILLATION_OPTIONS,
  type DistillationRun,
  measureDistillationRows,
  prepareDistillationRun,
} from "./distillation.ts";
import { PAPER_TABLE3 } from "./paper_numbers.ts";
import type { DistillationStudy } from "./presets.ts";
import { runSection, writeResults } from "./report.ts";
import { seedRows, seedSummaryCsv, seedSummaryMarkdown } from "./seeds.ts";
import { accuracyCsv, accuracyMarkdownTable, type AccuracyRow, markdownTable } from "./tables.ts";

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
  options: {
    ...DISTILLATION_OPTIONS,
    seeds: {
      type: "string",
      valueName: "LIST",
      description: "several seeds, comma-separated (e.g. 0,1,2,3): measures (or reuses) each " +
        "seed's rows and writes table3-seeds.{csv,md} with mean ± sd per cell and the paired " +
        "claims over seeds, instead of one seed's table",
    },
  },
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
  if (typeof values.seeds === "string") return await table3SeedsMain(values);
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

/**
 * Parses `--seeds` (comma-separated distinct integers >= 0).
 *
 * @example
 * ```ts
 * import { parseSeeds } from "./table3.ts";
 * parseSeeds("0,1,2"); // [0, 1, 2]
 * ```
 */
export function parseSeeds(value: string): number[] {
  const items = value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`--seeds needs at least one seed; got '${value}'`);
  const seeds = items.map((s) => parseInteger("seeds", s));
  const repeated = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (repeated !== undefined) {
    throw new UsageError(`--seeds lists seed ${repeated} twice; got '${value}'`);
  }
  return seeds;
}

/**
 * `table3 --seeds LIST`: every seed's rows (cached rows reused, missing ones trained and
 * measured), then `results/table3-seeds<tag>.{csv,md}`: mean ± sd per cell, the paired claims
 * over seeds, and each seed's numbers.
 */
async function table3SeedsMain(values: TaskValues): Promise<void> {
  if (values.seed !== COMMON_OPTIONS.seed.default) {
    throw new UsageError(`give either --seed or --seeds, not both (got --seed ${values.seed})`);
  }
  const seeds = parseSeeds(String(values.seeds));
  const started = performance.now();
  const perSeed: AccuracyRow[][] = [];
  let last: DistillationRun | undefined;
  for (const [i, seed] of seeds.entries()) {
    console.error(`table3 --seeds: seed ${seed} (${i + 1} of ${seeds.length})`);
    last = await prepareDistillationRun({ ...values, seed: String(seed) });
    perSeed.push((await measureDistillationRows(last)).map((m) => m.row));
  }
  const run = last!;
  const g = run.study.evaluation.grid;
  const tables = { seeds, rows: perSeed, radiusLabels: g.labels };
  const perSeedTable = markdownTable(
    ["seed", "Model", "Clean", ...g.labels],
    perSeed.flatMap((rows, i) =>
      rows.map((r) => [
        String(seeds[i]),
        r.label,
        r.clean.toFixed(1),
        ...r.robust.map((v) => v.toFixed(1)),
      ])
    ),
  );
  const md = [
    `# Table 3 on ${run.study.dataset} over seeds ${seeds.join(", ")} (preset ${run.study.preset})`,
    "",
    `Mean ± sample standard deviation over the seeds of clean and ${run.study.evaluation.steps}-step ` +
    `PGD (Linf) robust accuracy (%) on ${
      run.study.evaluation.size ?? "all"
    } test points. Each seed ` +
    "retrains the teacher and every student (initialisation, data order, attacks); the test " +
    "points are the same.",
    "",
    seedSummaryMarkdown(tables, `PGD-${run.study.evaluation.steps}`),
    "## Each seed",
    "",
    perSeedTable,
    "## Run",
    "",
    `- task: \`table3 --seeds ${seeds.join(",")}\`; dataset: ${run.args.data.name}; preset: ` +
    `${run.args.preset}; backend: ${run.backend}`,
    `- wall time of this invocation: ${formatDuration((performance.now() - started) / 1000)} ` +
    "(rows reused from the cache under `runs/` cost nothing here); each seed's config is that " +
    "of `table3 --seed N` with the same options",
    "",
  ].join("\n");
  const paths = await writeResults(run.args.resultsDir, `table3-seeds${run.suffix}`, {
    csv: seedSummaryCsv(seedRows(tables), "pgd", g.labels),
    md,
  });
  console.log(md);
  console.error(`wrote ${paths.join(", ")}`);
}

if (import.meta.main) Deno.exit(await runTask(TABLE3_TASK, Deno.args, table3Main));
