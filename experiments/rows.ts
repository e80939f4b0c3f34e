/**
 * Rows of the robust-accuracy tables: obtain the trained model (`model_store.ts`), measure clean
 * and robust accuracy on a seeded subset of the test set (`robustness.ts`), and cache the result
 * per row so an interrupted task resumes where it stopped.
 * @module
 */
import { basename, join } from "node:path";
import { cachedResult, configHash } from "./cache.ts";
import type { DataChoice } from "./cli.ts";
import {
  asClassifier,
  type DatasetSplits,
  type ImageDataset,
  loadDataset,
  seededPermutation,
} from "./common.ts";
import {
  modelDirectory,
  obtainTrainedModel,
  type StoreContext,
  type TrainedModelSpec,
} from "./model_store.ts";
import type { EvaluationSettings } from "./presets.ts";
import { robustAccuracyCurve, type RobustnessResult } from "./robustness.ts";
import type { AccuracyRow } from "./tables.ts";

/**
 * Loads the chosen dataset.
 *
 * @example
 * ```ts
 * import { loadStudyData } from "./rows.ts";
 * const data = await loadStudyData({ name: "mnist" });
 * ```
 */
export async function loadStudyData(choice: DataChoice): Promise<DatasetSplits> {
  return await loadDataset(choice.name, { path: choice.path });
}

/**
 * A seeded random subset of `size` test points (the whole set, in order, when `size` is null or
 * not smaller).
 *
 * @example
 * ```ts
 * import { loadDataset } from "./common.ts";
 * import { evaluationSubset } from "./rows.ts";
 * const { test } = await loadDataset("mnist");
 * evaluationSubset(test, 100, 0).length; // 100
 * ```
 */
export function evaluationSubset(
  test: ImageDataset,
  size: number | null,
  seed: number,
): ImageDataset {
  if (size === null || size >= test.length) return test;
  const order = Array.from(seededPermutation(test.length, seed).subarray(0, size)).sort((a, b) =>
    a - b
  );
  return test.subset(order, `${test.name}[${size} random, seed ${seed}]`);
}

/** What identifies a measured row: the model's checkpoint directory and the measurement. */
export interface RowConfig {
  model: string;
  attack: "pgd" | "aa";
  evaluation: Record<string, unknown>;
  seed: number;
}

/**
 * Where a row's cached result lives: `<runsDir>/rows/<dataset>-<preset>/<key>-<hash>.json`.
 *
 * @example
 * ```ts
 * import { rowPath } from "./rows.ts";
 * import { distillationStudy } from "./presets.ts";
 * const study = distillationStudy({ data: { name: "mnist" }, preset: "quick", seed: 0, resultsDir: "results", runsDir: "runs" });
 * const path = await rowPath("runs", study.teacher, "teacher", { model: "m", attack: "pgd", evaluation: {}, seed: 0 });
 * ```
 */
export async function rowPath(
  runsDir: string,
  spec: TrainedModelSpec,
  key: string,
  config: RowConfig,
): Promise<string> {
  return join(
    runsDir,
    "rows",
    `${spec.dataset}-${spec.preset}`,
    `${key}-${await configHash(config)}.json`,
  );
}

/** A row to measure. */
export interface RowRequest {
  key: string;
  label: string;
  spec: TrainedModelSpec;
  teacherKey: string | null;
  attack: "pgd" | "aa";
  evaluation: EvaluationSettings & { targets?: number; queries?: number };
}

/** A measured row, with how it was obtained. */
export interface MeasuredRow {
  row: AccuracyRow;
  /** Seconds of the measurement when it was made (cached rows keep their original time). */
  evalSeconds: number;
  /** Training seconds from the model's log (0 if unknown). */
  trainSeconds: number;
  /** True when the stored result was reused. */
  reused: boolean;
}

/**
 * Measures one row (or reuses its cached result when the model and the measurement settings are
 * unchanged): trains or loads the model, then clean and robust accuracy over the grid.
 *
 * @example
 * ```ts
 * import { measureRow, loadStudyData } from "./rows.ts";
 * import { distillationStudy } from "./presets.ts";
 * const args = { data: { name: "mnist" as const }, preset: "quick" as const, seed: 0, resultsDir: "results", runsDir: "runs" };
 * const study = distillationStudy(args);
 * const data = await loadStudyData(args.data);
 * const m = await measureRow({ key: "teacher", label: "teacher", spec: study.teacher, teacherKey: null,
 *   attack: "pgd", evaluation: study.evaluation }, { runsDir: "runs", data });
 * ```
 */
export async function measureRow(request: RowRequest, context: StoreContext): Promise<MeasuredRow> {
  const { spec, evaluation } = request;
  const dir = await modelDirectory(context.runsDir, spec);
  const config: RowConfig = {
    model: basename(dir),
    attack: request.attack,
    evaluation: {
      radii: evaluation.grid.radii,
      size: evaluation.size,
      steps: evaluation.steps,
      ...(request.attack === "aa"
        ? { targets: evaluation.targets, queries: evaluation.queries }
        : {}),
    },
    seed: spec.seed,
  };
  const path = await rowPath(context.runsDir, spec, request.key, config);
  let trainSeconds = 0;
  const { value, reused } = await cachedResult<RobustnessResult & { trainSeconds: number }>(
    path,
    config,
    async () => {
      const trained = await obtainTrainedModel(spec, context);
      const subset = evaluationSubset(context.data.test, evaluation.size, spec.seed);
      const result = robustAccuracyCurve(asClassifier(trained.model, trained.variables), subset, {
        radii: evaluation.grid.radii,
        attack: request.attack,
        steps: evaluation.steps,
        targets: evaluation.targets,
        queries: evaluation.queries,
        batchSize: evaluation.batchSize,
        seed: spec.seed,
        label: `${request.key}: ${
          request.attack === "pgd" ? `PGD-${evaluation.steps}` : "AutoAttack"
        }`,
        quiet: context.quiet,
      });
      return {
        ...result,
        trainSeconds: trained.log.reduce(
          (s, l) => s + (Number.isFinite(l.seconds) ? l.seconds : 0),
          0,
        ),
      };
    },
  );
  trainSeconds = value.trainSeconds;
  return {
    row: {
      key: request.key,
      method: spec.method,
      label: request.label,
      model: spec.model.name,
      teacher: request.teacherKey,
      clean: value.clean,
      robust: value.robust,
      count: value.count,
    },
    evalSeconds: value.seconds,
    trainSeconds,
    reused,
  };
}
