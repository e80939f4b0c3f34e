/**
 * The training loop: epochs of seeded batches, one functional step per batch
 * (`training/step.ts`), a multistep learning rate, a CSV log and a checkpoint per epoch, and
 * exact resumption from that checkpoint.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import type { AttackOptions } from "../attacks/validate.ts";
import { type AugmentOptions, batchCount, epochBatches } from "../data/batches.ts";
import type { ImageDataset } from "../data/dataset.ts";
import { loadModelCheckpoint, saveModelCheckpoint } from "../models/checkpoint.ts";
import { asClassifier } from "../models/registry.ts";
import type { Model, NamedTensors, Variables } from "../models/types.ts";
import { pathExists, writeFileAtomic } from "../util/atomic.ts";
import { Progress } from "../util/progress.ts";
import { deriveSeed } from "../util/rng.ts";
import { evaluateAccuracy } from "./evaluate.ts";
import { type EpochLogRow, formatLogCsv, parseLogCsv } from "./log.ts";
import {
  assertMethodName,
  methodAdversary,
  type MethodName,
  methodNeedsTeacher,
  type MethodOptions,
} from "./methods.ts";
import { multiStepLr, warmupFactor } from "./schedule.ts";
import { type AlignmentGradient, NonFiniteLossError, type TrainState, trainStep } from "./step.ts";

/** A model with its variables (e.g. a loaded teacher). */
export interface ModelWithVariables {
  model: Model;
  variables: Variables;
}

/** Options of {@link train}. Defaults follow the paper's CIFAR-10 setting (§4.1) where it has one. */
export interface TrainOptions extends MethodOptions {
  /** The model to train (the student, for distillation methods). */
  model: Model;
  method: MethodName;
  /** Training data. */
  train: ImageDataset;
  /** Held-out data for the per-epoch clean and PGD accuracy (none: not measured). */
  eval?: ImageDataset;
  /** The frozen teacher of the distillation methods (run in eval mode). */
  teacher?: ModelWithVariables;
  epochs: number;
  /** Default 128. */
  batchSize?: number;
  /** Initial learning rate (default 0.1). */
  lr?: number;
  /** SGD momentum (default 0.9). */
  momentum?: number;
  /** Weight decay (default 2e-4, the paper's CIFAR-10 value). */
  weightDecay?: number;
  /** Epochs (0-based) at which the learning rate is multiplied by `gamma` (default none). */
  milestones?: number[];
  /** Default 0.1. */
  gamma?: number;
  /**
   * Epochs of linear learning-rate warm-up from 0, per step (default 0: none); see
   * `warmupFactor` in `schedule.ts`.
   */
  warmupEpochs?: number;
  /** Seeds the initialisation, the data order, augmentation and the attacks (default 0). */
  seed?: number;
  /** Data augmentation (default none; CIFAR-10: `{cropPadding: 4, flip: true}`). */
  augment?: AugmentOptions;
  /** KDIGA's alignment gradient: `"exact"` (default) or `"finite-difference"`. */
  alignmentGradient?: AlignmentGradient;
  /** Step of the finite-difference alignment gradient (default 1). */
  finiteDifferenceStep?: number;
  /** PGD of the per-epoch robust accuracy (`attacks/pgd.ts`); null or absent: clean only. */
  evalAttack?: AttackOptions | null;
  /** Batch size of the evaluation (default 200). */
  evalBatchSize?: number;
  /** Directory of `checkpoint.safetensors` and `log.csv` (absent: nothing is written). */
  outDir?: string;
  /** Continue from `outDir/checkpoint.safetensors` if it exists (default false: start afresh). */
  resume?: boolean;
  /** Starting variables instead of `model.init(seed)` (copied; yours are not disposed). */
  initial?: Variables;
  /** No progress lines on stderr (default: KDIGA_QUIET=1). */
  quiet?: boolean;
}

/** What {@link train} returns. The caller owns (and disposes) the tensors. */
export interface TrainResult {
  variables: Variables;
  /** SGD momentum buffers by parameter name. */
  momentum: NamedTensors;
  /** One row per completed epoch (including those before a resume). */
  log: EpochLogRow[];
  /** Epoch this run started at (0, or the checkpoint's epoch when resumed). */
  startEpoch: number;
}

/** The file names inside `outDir`. */
export const CHECKPOINT_FILE = "checkpoint.safetensors";
/** The CSV log inside `outDir`. */
export const LOG_FILE = "log.csv";

/** The options that must match for a resumed run to continue the same run. */
function runSignature(o: TrainOptions): Record<string, unknown> {
  return {
    method: o.method,
    model: o.model.name,
    modelConfig: o.model.config,
    teacher: o.teacher?.model.name ?? null,
    train: `${o.train.name}:${o.train.length}`,
    batchSize: o.batchSize ?? 128,
    lr: o.lr ?? 0.1,
    momentum: o.momentum ?? 0.9,
    weightDecay: o.weightDecay ?? 2e-4,
    milestones: o.milestones ?? [],
    gamma: o.gamma ?? 0.1,
    seed: o.seed ?? 0,
    augment: o.augment ?? {},
    distillation: o.distillation ?? {},
    attack: o.attack ?? null,
    tradesBeta: o.tradesBeta ?? null,
    alignmentGradient: o.alignmentGradient ?? "exact",
    finiteDifferenceStep: o.finiteDifferenceStep ?? null,
    // Only when set, so checkpoints written before warm-up existed still resume.
    ...(o.warmupEpochs ? { warmupEpochs: o.warmupEpochs } : {}),
  };
}

function checkOptions(o: TrainOptions): void {
  assertMethodName(o.method);
  if (o.warmupEpochs !== undefined && !(Number.isFinite(o.warmupEpochs) && o.warmupEpochs >= 0)) {
    throw new Error(`warmupEpochs must be a number >= 0; got ${o.warmupEpochs}`);
  }
  if (!Number.isInteger(o.epochs) || o.epochs < 0) {
    throw new Error(`epochs must be an integer >= 0; got ${o.epochs}`);
  }
  const bs = o.batchSize ?? 128;
  if (!Number.isInteger(bs) || bs < 1) {
    throw new Error(`batchSize must be an integer >= 1; got ${bs}`);
  }
  const shape = o.train.imageShape;
  if (o.model.inputShape.some((d, i) => d !== shape[i])) {
    throw new Error(
      `model ${o.model.name} takes inputs [${o.model.inputShape}] but the data has [${shape}]`,
    );
  }
  if (o.model.numClasses !== o.train.numClasses) {
    throw new Error(
      `model ${o.model.name} has ${o.model.numClasses} classes but the data has ${o.train.numClasses}`,
    );
  }
  if (methodNeedsTeacher(o.method)) {
    if (!o.teacher) throw new Error(`method '${o.method}' distils from a teacher; none given`);
    const t = o.teacher.model;
    if (t.numClasses !== o.train.numClasses) {
      throw new Error(
        `the teacher (${t.name}) has ${t.numClasses} classes but the data has ${o.train.numClasses}`,
      );
    }
    if (t.inputShape.some((d, i) => d !== shape[i])) {
      throw new Error(
        `the teacher (${t.name}) takes inputs [${t.inputShape}] but the data has [${shape}]`,
      );
    }
  }
  if (methodAdversary(o.method) !== null && o.attack === undefined) {
    throw new Error(
      `method '${o.method}' trains on adversarial inputs: give attack options (at least eps)`,
    );
  }
  if (o.resume && !o.outDir) throw new Error("resume needs outDir (where the checkpoint is)");
}

function cloneAll(t: NamedTensors): NamedTensors {
  const out: NamedTensors = {};
  for (const [k, v] of Object.entries(t)) out[k] = tf.clone(v);
  return out;
}

function disposeState(s: TrainState): void {
  tf.dispose(Object.values(s.variables.params));
  tf.dispose(Object.values(s.variables.state));
  tf.dispose(Object.values(s.momentum));
}


/** Restores the run from `outDir`'s checkpoint and log, checking it is the same run. */
async function restore(
  o: TrainOptions,
  path: string,
): Promise<{ state: TrainState; epoch: number; log: EpochLogRow[] }> {
  const ckpt = await loadModelCheckpoint(path);
  const stored = ckpt.metadata.run;
  const want = runSignature(o);
  const dispose = () => {
    disposeState({ variables: ckpt.variables, momentum: ckpt.optimizer });
  };
  if (stored === undefined) {
    dispose();
    throw new Error(
      `${path} holds no training run ("run" metadata): not a kdiga training checkpoint`,
    );
  }
  const have = JSON.parse(stored) as Record<string, unknown>;
  const differ = Object.keys(want).filter((k) =>
    JSON.stringify(have[k]) !== JSON.stringify(want[k])
  );
  if (differ.length > 0) {
    dispose();
    throw new Error(
      `cannot resume from ${path}: the run differs in ${
        differ.map((k) =>
          `${k} (checkpoint ${JSON.stringify(have[k])}, now ${JSON.stringify(want[k])})`
        ).join(", ")
      }`,
    );
  }
  const momentum: NamedTensors = {};
  for (const [k, v] of Object.entries(ckpt.optimizer)) {
    if (k.startsWith("momentum.")) momentum[k.slice("momentum.".length)] = v;
    else v.dispose();
  }
  const epoch = ckpt.epoch ?? 0;
  const logPath = join(o.outDir!, LOG_FILE);
  const log = (await pathExists(logPath))
    ? parseLogCsv(await Deno.readTextFile(logPath)).filter((r) => r.epoch <= epoch)
    : [];
  return { state: { variables: ckpt.variables, momentum }, epoch, log };
}

/**
 * Trains `model` with `method`: SGD with momentum and weight decay (PyTorch semantics), a
 * multistep learning rate, seeded shuffling (and augmentation, attacks) per epoch; per epoch a
 * CSV log row (loss parts, clean and PGD accuracy on `eval`) and a checkpoint (params, BN state,
 * momentum, run options, epoch) in `outDir`. All randomness derives from `(seed, epoch, batch)`,
 * so a run resumed from its checkpoint continues exactly as an uninterrupted one.
 *
 * A non-finite loss (or gradient) stops training with a {@link NonFiniteLossError} naming the
 * step; the checkpoint of the last completed epoch is kept.
 *
 * @example
 * ```ts
 * import { loadDataset } from "../data/load.ts";
 * import { createModel } from "../models/registry.ts";
 * import { train } from "./train.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const { train: data, test } = await loadDataset("mnist");
 * const model = createModel("mlp-tiny", { inputShape: [28, 28, 1] });
 * const result = await train({ model, method: "st", train: data.slice(0, 512), eval: test.slice(0, 200), epochs: 1, lr: 0.05 });
 * ```
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  checkOptions(options);
  const o = options;
  const batchSize = o.batchSize ?? 128;
  const seed = o.seed ?? 0;
  const ckptPath = o.outDir ? join(o.outDir, CHECKPOINT_FILE) : undefined;
  const logPath = o.outDir ? join(o.outDir, LOG_FILE) : undefined;

  let state: TrainState;
  let startEpoch = 0;
  let log: EpochLogRow[] = [];
  if (o.resume && ckptPath && (await pathExists(ckptPath))) {
    ({ state, epoch: startEpoch, log } = await restore(o, ckptPath));
  } else {
    const variables = o.initial
      ? { params: cloneAll(o.initial.params), state: cloneAll(o.initial.state) }
      : o.model.init(seed);
    state = { variables, momentum: {} };
  }

  const teacher = o.teacher ? asClassifier(o.teacher.model, o.teacher.variables) : undefined;
  const stepsPerEpoch = batchCount(o.train.length, batchSize);
  const warmupSteps = Math.round((o.warmupEpochs ?? 0) * stepsPerEpoch);
  const quiet = o.quiet ?? undefined;
  try {
    for (let epoch = startEpoch; epoch < o.epochs; epoch++) {
      const epochStart = performance.now();
      const lr = multiStepLr(o.lr ?? 0.1, o.milestones ?? [], o.gamma ?? 0.1, epoch);
      const progress = new Progress(`${o.method} epoch ${epoch + 1}/${o.epochs}`, stepsPerEpoch, {
        quiet,
      });
      const sums: Record<string, number> = {};
      let b = 0;
      const batches = epochBatches(o.train, {
        batchSize,
        epoch,
        seed: deriveSeed(seed, "data"),
        augment: o.augment,
      });
      for (const batch of batches) {
        const stepNumber = epoch * stepsPerEpoch + b + 1;
        let result;
        try {
          result = trainStep(
            { ...o, teacher },
            state,
            batch,
            {
              lr: lr * warmupFactor(stepNumber, warmupSteps),
              momentum: o.momentum ?? 0.9,
              weightDecay: o.weightDecay ?? 2e-4,
            },
            deriveSeed(seed, `attack-${epoch}-${b}`),
            stepNumber,
          );
        } catch (e) {
          if (e instanceof NonFiniteLossError) {
            const kept = ckptPath && (await pathExists(ckptPath))
              ? `; the last good checkpoint is ${ckptPath}`
              : "";
            throw new NonFiniteLossError(
              `training stopped: ${e.message} (epoch ${epoch + 1}, batch ${
                b + 1
              } of ${stepsPerEpoch})${kept}`,
              e.step,
            );
          }
          throw e;
        } finally {
          tf.dispose([batch.x, batch.y]);
        }
        disposeState(state);
        state = result.state;
        for (const [k, v] of Object.entries(result.parts)) sums[k] = (sums[k] ?? 0) + v;
        b++;
        progress.tick(1, `loss ${(sums.total / b).toFixed(4)}`);
      }
      const trainSeconds = (performance.now() - epochStart) / 1000;
      progress.done(`loss ${(sums.total / Math.max(b, 1)).toFixed(4)}`);
      let acc = { clean: NaN, pgd: NaN };
      if (o.eval && o.eval.length > 0) {
        acc = evaluateAccuracy(asClassifier(o.model, state.variables), o.eval, {
          batchSize: o.evalBatchSize,
          attack: o.evalAttack ?? null,
        });
      }
      const mean = (k: string) => (k in sums ? sums[k] / b : NaN);
      log.push({
        epoch: epoch + 1,
        lr,
        loss: mean("total"),
        ce: mean("ce"),
        kl: mean("kl"),
        alignment: mean("alignment"),
        cleanAcc: acc.clean,
        pgdAcc: acc.pgd,
        imagesPerSecond: o.train.length / trainSeconds,
        seconds: (performance.now() - epochStart) / 1000,
      });
      if (ckptPath && logPath) {
        const optimizer: NamedTensors = {};
        for (const [k, v] of Object.entries(state.momentum)) optimizer[`momentum.${k}`] = v;
        await saveModelCheckpoint(ckptPath, o.model, state.variables, {
          optimizer,
          epoch: epoch + 1,
          metadata: { method: o.method, run: JSON.stringify(runSignature(o)) },
        });
        await writeFileAtomic(logPath, formatLogCsv(log));
      }
    }
  } catch (e) {
    disposeState(state);
    throw e;
  }
  return { variables: state.variables, momentum: state.momentum, log, startEpoch };
}
