/**
 * `deno task table4`: the paper's Table 4 — the terms of Proposition 2's bound for the students
 * of Table 3: llm (Definition 2) at two radii (the 4th and 8th of Table 3's grid, as the paper's
 * 4/255 and 8/255), the cross-entropy, and `||g_s - g_t||_2` with the teacher as reference, on
 * 1,000 seeded random test points. Reuses table3's students from their checkpoints (training
 * them if absent). Writes `results/table4.csv` and `results/table4.md`.
 *
 * The llm values are ascent estimates (lower bounds of the max in Definition 2); the gradient
 * difference is the mean over points of the per-example L2 norm (see `bounds.ts`).
 *
 * @example
 * ```ts
 * import { table4Markdown } from "./table4.ts";
 * import { distillationStudy } from "./presets.ts";
 * const study = distillationStudy({ data: { name: "mnist" }, preset: "quick", seed: 0, resultsDir: "results", runsDir: "runs" });
 * const md = table4Markdown([], study);
 * ```
 * @module
 */
import { basename, join } from "node:path";
import { boundTerms, type BoundTermsResult } from "./bounds.ts";
import { cachedResult, configHash } from "./cache.ts";
import { boundClaims, type BoundRow, formatClaims } from "./checks.ts";
import { runTask, type TaskSpec, type TaskValues } from "./cli.ts";
import { asClassifier } from "./common.ts";
import {
  DISTILLATION_OPTIONS,
  distillationRowLabel,
  prepareDistillationRun,
} from "./distillation.ts";
import { modelDirectory, obtainTrainedModel } from "./model_store.ts";
import { PAPER_TABLE4 } from "./paper_numbers.ts";
import { type DistillationStudy, STUDENT_METHODS, type StudentMethod } from "./presets.ts";
import { runSection, writeResults } from "./report.ts";
import { evaluationSubset, type MeasuredRow } from "./rows.ts";
import { formatCsv, markdownTable } from "./tables.ts";

/**
 * The task's command line.
 *
 * @example
 * ```ts
 * import { TABLE4_TASK } from "./table4.ts";
 * import { helpText } from "./cli.ts";
 * console.log(helpText(TABLE4_TASK));
 * ```
 */
export const TABLE4_TASK: TaskSpec = {
  name: "table4",
  summary: "Table 4: bound terms (llm at two radii, CE, ||g_s - g_t||_2) of Table 3's students",
  options: DISTILLATION_OPTIONS,
};

/** A measured Table 4 row. */
export interface Table4Row extends BoundRow {
  method: StudentMethod;
  label: string;
  count: number;
}

/**
 * The llm radii of the study (Table 4: the 4th and 8th radius of Table 3's grid).
 *
 * @example
 * ```ts
 * import { boundRadii } from "./table4.ts";
 * import { distillationStudy } from "./presets.ts";
 * const study = distillationStudy({ data: { name: "mnist" }, preset: "quick", seed: 0, resultsDir: "results", runsDir: "runs" });
 * boundRadii(study).labels; // ["0.08", "0.16"]
 * ```
 */
export function boundRadii(study: DistillationStudy): { radii: number[]; labels: string[] } {
  const g = study.evaluation.grid;
  const idx = study.bounds.radiusIndices;
  return { radii: idx.map((i) => g.radii[i]), labels: idx.map((i) => g.labels[i]) };
}

/**
 * The CSV of Table 4: `method,key,model,llm@<r1>,llm@<r2>,ce,grad_diff_l2,count`.
 *
 * @example
 * ```ts
 * import { table4Csv } from "./table4.ts";
 * table4Csv([{ key: "kd", method: "kd", label: "KD", llm: [1, 2], ce: 0.2, gradientDifference: 0.5, count: 10 }], ["0.08", "0.16"], "m");
 * ```
 */
export function table4Csv(
  rows: readonly Table4Row[],
  radiusLabels: readonly string[],
  model: string,
): string {
  return formatCsv(
    [
      "method",
      "key",
      "model",
      ...radiusLabels.map((r) => `llm@${r}`),
      "ce",
      "grad_diff_l2",
      "count",
    ],
    rows.map((
      r,
    ) => [
      r.method,
      r.key,
      model,
      ...r.llm.map((v) => Number(v.toFixed(4))),
      Number(r.ce.toFixed(4)),
      Number(r.gradientDifference.toFixed(4)),
      r.count,
    ]),
  );
}

/**
 * The Markdown of Table 4 (ours / paper in each cell) and the checked claims.
 *
 * @example
 * ```ts
 * import { table4Markdown } from "./table4.ts";
 * import { distillationStudy } from "./presets.ts";
 * const study = distillationStudy({ data: { name: "mnist" }, preset: "quick", seed: 0, resultsDir: "results", runsDir: "runs" });
 * table4Markdown([], study).startsWith("# Table 4"); // true
 * ```
 */
export function table4Markdown(rows: readonly Table4Row[], study: DistillationStudy): string {
  const { labels } = boundRadii(study);
  const f = (v: number | undefined) => (v === undefined ? "—" : v.toFixed(3));
  const header = [
    "Model",
    ...labels.map((l, i) => `llm ${l} (paper ${PAPER_TABLE4.radiusLabels[i]})`),
    "l_CE",
    "‖g_s − g_t‖₂",
  ];
  const body = PAPER_TABLE4.rows.map((p) => {
    const ours = rows.find((r) => r.key === p.key);
    return [
      p.label,
      ...p.llm.map((v, i) => `${f(ours?.llm[i])} / ${v.toFixed(3)}`),
      `${f(ours?.ce)} / ${p.ce.toFixed(3)}`,
      `${f(ours?.gradientDifference)} / ${p.gradientDifference.toFixed(3)}`,
    ];
  });
  const n = rows[0]?.count ?? study.bounds.size;
  return [
    `# Table 4 on ${study.dataset} (preset ${study.preset})`,
    "",
    `Bound terms of Proposition 2 for Table 3's students, means over ${n} seeded random test points: llm ` +
    `(Definition 2; projected-ascent estimate, ${study.bounds.llmSteps} steps, ${study.bounds.llmRestarts} ` +
    `restart(s), so a lower estimate of the max), the student's cross-entropy l_CE, and ‖g_s − g_t‖₂ ` +
    `(per-example input gradients of the CE; the TRADES teacher as reference, also for ST). ` +
    `Each cell: **ours / paper** (CIFAR-10, radii 4/255 and 8/255).`,
    "",
    markdownTable(header, body),
    "## The paper's claims, checked on our numbers",
    "",
    formatClaims(boundClaims(rows, labels)),
  ].join("\n");
}

/**
 * Runs the task (see the module doc) on parsed command-line values.
 *
 * @example
 * ```ts
 * import { TABLE4_TASK, table4Main } from "./table4.ts";
 * import { runTask } from "./cli.ts";
 * const code = await runTask(TABLE4_TASK, ["--help"], table4Main); // prints the help, returns 0
 * ```
 */
export async function table4Main(values: TaskValues): Promise<void> {
  const run = await prepareDistillationRun(values);
  const { study, context } = run;
  const { radii, labels } = boundRadii(study);
  const subset = evaluationSubset(run.data.test, study.bounds.size, study.seed);
  const rows: Table4Row[] = [];
  const measured: MeasuredRow[] = [];
  for (const method of STUDENT_METHODS) {
    if (!run.methods.includes(method)) continue;
    const spec = study.students[method];
    const config = {
      model: basename(await modelDirectory(context.runsDir, spec)),
      teacher: basename(await modelDirectory(context.runsDir, study.teacher)),
      radii,
      bounds: study.bounds,
      seed: study.seed,
    };
    const path = join(
      context.runsDir,
      "rows",
      `${study.dataset}-${study.preset}`,
      `bounds-${method}-${await configHash(config)}.json`,
    );
    const { value, reused } = await cachedResult<BoundTermsResult & { trainSeconds: number }>(
      path,
      config,
      async () => {
        const teacher = await obtainTrainedModel(study.teacher, context);
        const student = await obtainTrainedModel(spec, context);
        const terms = boundTerms(
          asClassifier(student.model, student.variables),
          asClassifier(teacher.model, teacher.variables),
          subset,
          {
            radii,
            llmSteps: study.bounds.llmSteps,
            llmRestarts: study.bounds.llmRestarts,
            batchSize: study.bounds.batchSize,
            seed: study.seed,
            label: `${method}: bound terms`,
          },
        );
        return {
          ...terms,
          trainSeconds: student.log.reduce(
            (s, l) => s + (Number.isFinite(l.seconds) ? l.seconds : 0),
            0,
          ),
        };
      },
    );
    const row: Table4Row = {
      key: method,
      method,
      label: distillationRowLabel(study, method),
      llm: value.llm,
      ce: value.ce,
      gradientDifference: value.gradientDifference,
      count: value.count,
    };
    rows.push(row);
    measured.push({
      row: {
        key: method,
        method,
        label: row.label,
        model: spec.model.name,
        teacher: "teacher",
        clean: NaN,
        robust: [],
        count: value.count,
      },
      evalSeconds: value.seconds,
      trainSeconds: value.trainSeconds,
      reused,
    });
  }
  const md = table4Markdown(rows, study) + "\n" + runSection({
    task: "table4",
    args: run.args,
    wallSeconds: (performance.now() - run.started) / 1000,
    backend: run.backend,
    config: {
      bounds: study.bounds,
      llmRadii: radii,
      teacher: study.teacher,
      students: study.students,
    },
    rows: measured,
  });
  const paths = await writeResults(run.args.resultsDir, `table4${run.suffix}`, {
    csv: table4Csv(rows, labels, study.students.st.model.name),
    md,
  });
  console.log(md);
  console.error(`wrote ${paths.join(", ")}`);
}

if (import.meta.main) Deno.exit(await runTask(TABLE4_TASK, Deno.args, table4Main));
