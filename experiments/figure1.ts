/**
 * `deno task figure1`: the paper's Figure 1 — clean and PGD-20 robust accuracy against the attack
 * radius for the KD and KDIGA students of the TRADES teacher (the teacher as a dashed reference
 * line), as `results/figure1.svg` and `results/figure1.png`, with `results/figure1.csv` and
 * `results/figure1.md`. Uses (and caches) the same models and rows as `table3`.
 *
 * @example
 * ```ts
 * import { figure1Plot } from "./figure1.ts";
 * const plot = figure1Plot([], { radii: [0.1], labels: ["0.1"] }, "mnist");
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
import { PAPER_TABLE3 } from "./paper_numbers.ts";
import { type LinePlot, renderPng, renderSvg } from "./plot.ts";
import type { RadiusGrid } from "./presets.ts";
import { writeResults } from "./report.ts";
import { accuracyCsv, type AccuracyRow, markdownTable } from "./tables.ts";

/**
 * The task's command line (the students are fixed: KD and KDIGA).
 *
 * @example
 * ```ts
 * import { FIGURE1_TASK } from "./figure1.ts";
 * import { helpText } from "./cli.ts";
 * console.log(helpText(FIGURE1_TASK));
 * ```
 */
export const FIGURE1_TASK: TaskSpec = {
  name: "figure1",
  summary:
    "Figure 1: clean and PGD-20 robust accuracy vs radius of the KD and KDIGA students (SVG + PNG)",
  options: Object.fromEntries(
    Object.entries(DISTILLATION_OPTIONS).filter(([k]) => k !== "methods"),
  ),
};

const STYLE: Record<
  string,
  { color: string; marker?: "circle" | "square"; dashed?: boolean; name: string }
> = {
  kd: { color: "#d62728", marker: "circle", name: "KD" },
  kdiga: { color: "#1f77b4", marker: "square", name: "KDIGA" },
  teacher: { color: "#7f7f7f", dashed: true, name: "teacher (TRADES)" },
};

/**
 * The plot: one line per row (KD, KDIGA, teacher), accuracy at radius 0 (clean) and at each
 * radius of the grid.
 *
 * @example
 * ```ts
 * import { figure1Plot } from "./figure1.ts";
 * const row = { key: "kd", method: "kd", label: "KD", model: "m", teacher: "teacher", clean: 99, robust: [40], count: 10 };
 * figure1Plot([row], { radii: [0.1], labels: ["0.1"] }, "mnist").series[0].y; // [99, 40]
 * ```
 */
export function figure1Plot(
  rows: readonly AccuracyRow[],
  grid: RadiusGrid,
  dataset: string,
): LinePlot {
  const ordered = ["kd", "kdiga", "teacher"].map((k) => rows.find((r) => r.key === k)).filter((r) =>
    r !== undefined
  );
  return {
    title: `KD vs KDIGA students of a TRADES teacher (${dataset})`,
    xLabel: "PGD-20 radius (Linf, 0 = clean)",
    yLabel: "accuracy (%)",
    yRange: [0, 100],
    xTicks: [
      { value: 0, label: "0" },
      ...grid.radii.map((r, i) => ({ value: r, label: grid.labels[i] })),
    ],
    series: ordered.map((r) => ({
      label: STYLE[r.key].name,
      x: [0, ...grid.radii],
      y: [r.clean, ...r.robust],
      color: STYLE[r.key].color,
      marker: STYLE[r.key].marker,
      dashed: STYLE[r.key].dashed,
    })),
  };
}

/**
 * Figure 1's Markdown: the plotted numbers (ours / paper, the paper's from Table 3, which its
 * Figure 1 plots).
 *
 * @example
 * ```ts
 * import { figure1Markdown } from "./figure1.ts";
 * figure1Markdown([], { radii: [], labels: [] }, "mnist");
 * ```
 */
export function figure1Markdown(
  rows: readonly AccuracyRow[],
  grid: RadiusGrid,
  dataset: string,
  pngName = "figure1.png",
): string {
  const header = [
    "Model",
    "Clean",
    ...grid.labels.map((l, i) => `PGD-20 ${l} (paper ${PAPER_TABLE3.radiusLabels[i] ?? "—"})`),
  ];
  const body = ["kd", "kdiga", "teacher"].map((key) => {
    const ours = rows.find((r) => r.key === key);
    const paper = PAPER_TABLE3.rows.find((r) => r.key === key);
    const cell = (o?: number, p?: number) =>
      `${o === undefined ? "—" : o.toFixed(2)} / ${p === undefined ? "—" : p.toFixed(2)}`;
    return [
      STYLE[key].name,
      cell(ours?.clean, paper?.clean),
      ...grid.radii.map((_, i) => cell(ours?.robust[i], paper?.robust[i])),
    ];
  });
  return [
    `# Figure 1 on ${dataset}`,
    "",
    `![Figure 1](${pngName})`,
    "",
    "Accuracy (%) of the KD and KDIGA students (and their TRADES teacher) against PGD-20 at each radius. " +
    "Each cell: **ours / paper** (the paper's Figure 1 plots its Table 3 rows, CIFAR-10, radii k/255).",
    "",
    markdownTable(header, body),
  ].join("\n");
}

/**
 * Runs the task (see the module doc) on parsed command-line values.
 *
 * @example
 * ```ts
 * import { FIGURE1_TASK, figure1Main } from "./figure1.ts";
 * import { runTask } from "./cli.ts";
 * const code = await runTask(FIGURE1_TASK, ["--help"], figure1Main); // prints the help, returns 0
 * ```
 */
export async function figure1Main(values: TaskValues): Promise<void> {
  const run = await prepareDistillationRun(values, ["kd", "kdiga"]);
  const measured = await measureDistillationRows(run);
  const rows = measured.map((m) => m.row);
  const grid = run.study.evaluation.grid;
  const plot = figure1Plot(rows, grid, run.study.dataset);
  const md = figure1Markdown(rows, grid, run.study.dataset, `figure1${run.suffix}.png`) + "\n" +
    kdPairRunSection("figure1", run, measured);
  const paths = await writeResults(run.args.resultsDir, `figure1${run.suffix}`, {
    csv: accuracyCsv(rows, "pgd", grid.labels),
    md,
    svg: renderSvg(plot),
    png: renderPng(plot),
  });
  console.log(md);
  console.error(`wrote ${paths.join(", ")}`);
}

if (import.meta.main) Deno.exit(await runTask(FIGURE1_TASK, Deno.args, figure1Main));
