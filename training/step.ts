/**
 * One functional training step: the method's loss, its parameter gradient (`tf.valueAndGrads`
 * over the parameters as a list), an SGD update, and the BatchNorm statistics of the step.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { kdigaFiniteDifferenceGrads } from "../losses/mod.ts";
import type { Classifier, Model, NamedTensors, Variables } from "../models/types.ts";
import {
  methodAdversarialInputs,
  methodLoss,
  type MethodName,
  methodNeedsTeacher,
  type MethodOptions,
} from "./methods.ts";
import { type SgdOptions, sgdUpdate } from "./sgd.ts";

/** How KDIGA's alignment term is differentiated. */
export type AlignmentGradient = "exact" | "finite-difference";

/** What a step needs besides the batch and the current variables. */
export interface StepConfig extends MethodOptions {
  model: Model;
  method: MethodName;
  /** The frozen teacher in eval mode (distillation methods). */
  teacher?: Classifier;
  /**
   * `"exact"` (default): double backprop. `"finite-difference"` (method `kdiga` only): the
   * alignment term's gradient by `kdigaFiniteDifferenceGrads`, with no second-order gradient.
   */
  alignmentGradient?: AlignmentGradient;
  /** Step of the finite difference (default 1, see `kdigaFiniteDifferenceGrads`). */
  finiteDifferenceStep?: number;
}

/** The variables being trained and the optimiser's momentum buffers (same names as params). */
export interface TrainState {
  variables: Variables;
  momentum: NamedTensors;
}

/** What {@link trainStep} returns. */
export interface StepResult {
  /** The new state (new tensors; the old state is left for the caller to dispose). */
  state: TrainState;
  /** The loss and its parts as numbers (`total`, and `ce`, `kl`, `alignment` where defined). */
  parts: Record<string, number>;
}

/** A non-finite loss or gradient stopped training. */
export class NonFiniteLossError extends Error {
  constructor(message: string, readonly step: number) {
    super(message);
    this.name = "NonFiniteLossError";
  }
}

/**
 * Runs the student in training mode and keeps the BatchNorm statistics of each call, so the step
 * can keep those of the pass on the clean batch.
 */
class StateRecorder {
  readonly #records: { input: tf.Tensor; state: NamedTensors }[] = [];
  constructor(readonly model: Model, readonly state: NamedTensors) {}

  forward(params: NamedTensors, x: tf.Tensor4D): tf.Tensor2D {
    const r = this.model.apply({ params, state: this.state }, x, { training: true });
    const fresh: NamedTensors = {};
    for (const [name, t] of Object.entries(r.state)) {
      // Tensors created in a gradient's forward pass are disposed when it ends: keep ours.
      fresh[name] = t === this.state[name] ? t : tf.keep(t);
    }
    this.#records.push({ input: x, state: fresh });
    return r.logits;
  }

  /**
   * The statistics of the last pass on `x` (else of the last pass), as new tensors; releases the
   * rest. Running statistics are thus updated once per step, from the clean batch where the
   * loss sees it (from `x + δ` for adversarial training, whose loss sees only that).
   */
  take(x: tf.Tensor): NamedTensors {
    const onX = this.#records.filter((r) => r.input === x);
    const chosen = (onX.length > 0 ? onX : this.#records).at(-1);
    const out: NamedTensors = {};
    for (const [name, t] of Object.entries(this.state)) {
      const c = chosen?.state[name];
      out[name] = c !== undefined && c !== t ? tf.clone(c) : tf.clone(t);
    }
    this.release();
    return out;
  }

  release(): void {
    for (const r of this.#records) {
      for (const [name, t] of Object.entries(r.state)) if (t !== this.state[name]) t.dispose();
    }
    this.#records.length = 0;
  }
}

function zip(names: string[], tensors: tf.Tensor[]): NamedTensors {
  const out: NamedTensors = {};
  names.forEach((n, i) => (out[n] = tensors[i]));
  return out;
}

/**
 * One training step on a batch: adversarial inputs if the method needs them (seeded by `seed`,
 * outside the gradient computation), the loss and its exact parameter gradient (or KDIGA's
 * finite-difference approximation), then SGD (`sgdUpdate`). BatchNorm running statistics come
 * from the student's training-mode pass on the clean batch.
 *
 * Throws {@link NonFiniteLossError} (with `stepNumber`) if the loss or the gradient is not
 * finite; nothing is then changed.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { createModel } from "../models/registry.ts";
 * import { trainStep } from "./step.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const model = createModel("mlp-tiny", { inputShape: [4, 4, 1], numClasses: 3 });
 * const variables = model.init(0);
 * const x = tf.randomUniform([8, 4, 4, 1]) as tf.Tensor4D;
 * const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], "int32");
 * const { state, parts } = trainStep({ model, method: "st" }, { variables, momentum: {} }, { x, y }, { lr: 0.1 }, 0, 1);
 * ```
 */
export function trainStep(
  config: StepConfig,
  current: TrainState,
  batch: { x: tf.Tensor4D; y: tf.Tensor1D },
  sgd: SgdOptions,
  seed: number,
  stepNumber: number,
): StepResult {
  const { model, method } = config;
  if (methodNeedsTeacher(method) && config.teacher === undefined) {
    throw new Error(`method '${method}' distils from a teacher; none given`);
  }
  const { params, state } = current.variables;
  const { x, y } = batch;
  const names = Object.keys(params);
  const recorder = new StateRecorder(model, state);
  const studentTrain: Classifier = (xx) =>
    tf.tidy(() => model.apply({ params, state }, xx, { training: true }).logits);
  const studentEval: Classifier = (xx) =>
    model.apply({ params, state }, xx, { training: false }).logits;
  const xAdv = methodAdversarialInputs(
    method,
    studentTrain,
    studentEval,
    x,
    y,
    config.attack,
    seed,
  );
  let kept: Record<string, tf.Tensor> = {};
  let grads: tf.Tensor[] = [];
  try {
    if (config.alignmentGradient === "finite-difference") {
      if (method !== "kdiga") {
        throw new Error(
          `alignmentGradient 'finite-difference' is implemented for method 'kdiga' only; got '${method}'`,
        );
      }
      const r = kdigaFiniteDifferenceGrads(
        (ps, xx) => recorder.forward(zip(names, ps), xx),
        names.map((n) => params[n]),
        config.teacher!,
        x,
        y,
        { ...config.distillation, step: config.finiteDifferenceStep },
      );
      grads = r.grads;
      kept = { ...r.parts } as unknown as Record<string, tf.Tensor>;
    } else {
      const { value, grads: g } = tf.valueAndGrads((...ps: tf.Tensor[]) => {
        const student: Classifier = (xx) => recorder.forward(zip(names, ps), xx);
        const parts = methodLoss(method, { student, teacher: config.teacher, x, y, xAdv }, config);
        for (const [k, v] of Object.entries(parts)) if (k !== "total" && v) kept[k] = tf.keep(v);
        return parts.total;
      })(names.map((n) => params[n]));
      kept.total = value;
      grads = g;
    }
    const partNumbers: Record<string, number> = {};
    for (const [k, v] of Object.entries(kept)) partNumbers[k] = v.dataSync()[0];
    const gradSqTensor = tf.tidy(() => tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
    const gradSq = gradSqTensor.dataSync()[0];
    gradSqTensor.dispose();
    if (!Number.isFinite(partNumbers.total) || !Number.isFinite(gradSq)) {
      const what = !Number.isFinite(partNumbers.total)
        ? `loss ${partNumbers.total}`
        : `gradient (squared norm ${gradSq})`;
      throw new NonFiniteLossError(`non-finite ${what} at step ${stepNumber}`, stepNumber);
    }
    const updated = sgdUpdate(params, zip(names, grads), current.momentum, sgd);
    const newState = recorder.take(x);
    return {
      state: { variables: { params: updated.params, state: newState }, momentum: updated.momentum },
      parts: partNumbers,
    };
  } finally {
    recorder.release();
    tf.dispose(Object.values(kept));
    tf.dispose(grads);
    xAdv?.dispose();
  }
}
