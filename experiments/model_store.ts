/**
 * Trained models cached as checkpoints under `runs/`: a model is described by a
 * {@link TrainedModelSpec} (dataset, model config, method, training settings, teacher, seed,
 * preset); its directory name carries a hash of that spec, so every task that asks for the same
 * model reuses it, and an interrupted training resumes from its last per-epoch checkpoint
 * (`training/train.ts`).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import { configHash, stableStringify } from "./cache.ts";
import {
  type AttackOptions,
  type AugmentOptions,
  CHECKPOINT_FILE,
  pathExists,
  createModel,
  type DatasetSplits,
  type EpochLogRow,
  type KdigaOptions,
  type MethodName,
  type Model,
  train,
  type Variables,
  writeFileAtomic,
} from "./common.ts";

/** A model to build: a registry name and config overrides (`createModel(name, options)`). */
export interface ModelChoice {
  name: string;
  options: Record<string, unknown>;
}

/** SGD training settings (`training/train.ts`). */
export interface TrainingSettings {
  epochs: number;
  batchSize: number;
  lr: number;
  milestones: number[];
  gamma?: number;
  weightDecay: number;
  momentum?: number;
  augment?: AugmentOptions;
  /** Train on the first `trainSize` images only (null: all). */
  trainSize: number | null;
  /** Epochs of linear learning-rate warm-up (absent: none). */
  warmupEpochs?: number;
}

/** Everything that determines a trained model. */
export interface TrainedModelSpec {
  /** Short name for the directory and logs, e.g. "teacher" or "student-kdiga". */
  label: string;
  /** Dataset name (the data itself is passed to {@link obtainTrainedModel}). */
  dataset: string;
  preset: string;
  model: ModelChoice;
  method: MethodName;
  training: TrainingSettings;
  /** Training attack of at / trades / ard / kdiga-ard*. */
  attack?: AttackOptions;
  tradesBeta?: number;
  distillation?: KdigaOptions;
  /** The teacher of distillation methods. */
  teacher?: TrainedModelSpec;
  /** Start from this model's weights (fine-tuning a pre-trained model) instead of an init. */
  initialFrom?: TrainedModelSpec;
  seed: number;
}

/** A trained model, its variables (owned by the store's cache), and its training log. */
export interface TrainedModel {
  spec: TrainedModelSpec;
  model: Model;
  variables: Variables;
  log: EpochLogRow[];
  /** Where its checkpoint is. */
  dir: string;
  /** True when nothing had to be trained in this call. */
  cached: boolean;
}

/** Where to keep checkpoints and how loud to be. */
export interface StoreContext {
  /** Root of the caches (`runs/`). */
  runsDir: string;
  data: DatasetSplits;
  quiet?: boolean;
  /** Called before each model is obtained (e.g. to print what is being trained). */
  onStart?: (spec: TrainedModelSpec, dir: string) => void;
}

/**
 * The checkpoint directory of a spec: `<runsDir>/models/<dataset>-<preset>/<label>-<hash>`.
 *
 * @example
 * ```ts
 * import { modelDirectory } from "./model_store.ts";
 * const dir = await modelDirectory("runs", { label: "teacher", dataset: "mnist", preset: "quick",
 *   model: { name: "small-cnn", options: {} }, method: "st", seed: 0,
 *   training: { epochs: 1, batchSize: 128, lr: 0.1, milestones: [], weightDecay: 5e-4, trainSize: null } });
 * ```
 */
export async function modelDirectory(runsDir: string, spec: TrainedModelSpec): Promise<string> {
  const safe = spec.label.replace(/[^a-zA-Z0-9._-]/g, "_");
  return join(
    runsDir,
    "models",
    `${spec.dataset}-${spec.preset}`,
    `${safe}-${await configHash(spec)}`,
  );
}

/**
 * Builds the spec's model for the dataset's image shape and classes.
 *
 * @example
 * ```ts
 * import { loadDataset } from "./common.ts";
 * import { buildModel } from "./model_store.ts";
 * import { distillationStudy } from "./presets.ts";
 * const study = distillationStudy({ data: { name: "mnist" }, preset: "quick", seed: 0, resultsDir: "results", runsDir: "runs" });
 * const model = buildModel(study.teacher, await loadDataset("mnist"));
 * ```
 */
export function buildModel(spec: TrainedModelSpec, data: DatasetSplits): Model {
  const { imageShape, numClasses } = data.train;
  return createModel(spec.model.name, {
    ...spec.model.options,
    inputShape: [...imageShape] as [number, number, number],
    numClasses,
  });
}

const memory = new Map<string, Promise<TrainedModel>>();

/**
 * The trained model of `spec`: from memory if this process has it, else from its finished
 * checkpoint, else trained (resuming from the last epoch's checkpoint if one exists). Teachers
 * and pre-trained starting points are obtained the same way first. The returned variables are
 * shared: do not dispose them (see {@link releaseTrainedModels}).
 *
 * @example
 * ```ts
 * import { loadDataset } from "./common.ts";
 * import { obtainTrainedModel } from "./model_store.ts";
 * const data = await loadDataset("mnist");
 * const t = await obtainTrainedModel({ label: "demo-st", dataset: "mnist", preset: "quick",
 *   model: { name: "mlp-tiny", options: {} }, method: "st", seed: 0,
 *   training: { epochs: 1, batchSize: 128, lr: 0.05, milestones: [], weightDecay: 5e-4, trainSize: 256 } },
 *   { runsDir: "/tmp/kdiga-runs", data });
 * ```
 */
export function obtainTrainedModel(
  spec: TrainedModelSpec,
  context: StoreContext,
): Promise<TrainedModel> {
  const key = `${context.runsDir}|${spec.dataset}|${stableStringify(spec)}`;
  let pending = memory.get(key);
  if (pending === undefined) {
    pending = trainOrLoad(spec, context);
    memory.set(key, pending);
    pending.catch(() => memory.delete(key));
  }
  return pending;
}


async function trainOrLoad(spec: TrainedModelSpec, context: StoreContext): Promise<TrainedModel> {
  const teacher = spec.teacher ? await obtainTrainedModel(spec.teacher, context) : undefined;
  const initial = spec.initialFrom
    ? await obtainTrainedModel(spec.initialFrom, context)
    : undefined;
  const dir = await modelDirectory(context.runsDir, spec);
  context.onStart?.(spec, dir);
  const hadCheckpoint = await pathExists(join(dir, CHECKPOINT_FILE));
  await writeFileAtomic(join(dir, "spec.json"), JSON.stringify(spec, null, 1) + "\n");
  const model = buildModel(spec, context.data);
  const t = spec.training;
  const trainData = t.trainSize === null || t.trainSize >= context.data.train.length
    ? context.data.train
    : context.data.train.slice(0, t.trainSize);
  const result = await train({
    model,
    method: spec.method,
    train: trainData,
    eval: context.data.test.slice(0, Math.min(500, context.data.test.length)),
    teacher: teacher ? { model: teacher.model, variables: teacher.variables } : undefined,
    epochs: t.epochs,
    batchSize: t.batchSize,
    lr: t.lr,
    momentum: t.momentum,
    weightDecay: t.weightDecay,
    milestones: t.milestones,
    gamma: t.gamma,
    warmupEpochs: t.warmupEpochs,
    augment: t.augment,
    seed: spec.seed,
    attack: spec.attack,
    tradesBeta: spec.tradesBeta,
    distillation: spec.distillation,
    initial: initial?.variables,
    outDir: dir,
    resume: true,
    quiet: context.quiet,
  });
  tf.dispose(Object.values(result.momentum));
  const cached = hadCheckpoint && result.startEpoch >= t.epochs;
  return { spec, model, variables: result.variables, log: result.log, dir, cached };
}

/**
 * Forgets (and disposes) every model this process holds in memory.
 *
 * @example
 * ```ts
 * import { releaseTrainedModels } from "./model_store.ts";
 * await releaseTrainedModels();
 * ```
 */
export async function releaseTrainedModels(): Promise<void> {
  for (const pending of memory.values()) {
    try {
      const m = await pending;
      tf.dispose([...Object.values(m.variables.params), ...Object.values(m.variables.state)]);
    } catch { /* failed trainings hold nothing */ }
  }
  memory.clear();
}
