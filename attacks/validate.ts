/**
 * Shared attack option types and input validation.
 *
 * Every attack in `attacks/` has the signature `(model, x, y, opts) -> xAdv` with
 * {@link AttackOptions}; this file checks options and inputs up front, with errors that name the
 * bad value and what is allowed.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Classifier } from "../models/types.ts";

/** The threat models: L-infinity or L2 balls around the clean input. */
export type Norm = "Linf" | "L2";

/** Every {@link Norm}. */
export const NORMS: readonly Norm[] = ["Linf", "L2"];

/**
 * Options every attack takes. Attacks fill the fields they leave unset with their own defaults
 * (see each attack's docs).
 */
export interface AttackOptions {
  /** Radius of the threat ball, >= 0 (in [0, 1] pixel units). */
  eps: number;
  /** Threat model (default "Linf"). */
  norm?: "Linf" | "L2";
  /** Iterations per restart. */
  steps?: number;
  /** Step size of iterative attacks. */
  stepSize?: number;
  /** Start each restart from a random point of the ball. */
  randomStart?: boolean;
  /** Independent runs; later runs attack only the points earlier runs did not fool. */
  restarts?: number;
  /** Seed of all randomness (default 0): same seed, same result. */
  seed?: number;
}

/**
 * An attack: takes an eval-mode classifier, clean inputs `x` in [0, 1] ([batch, h, w, c]) and
 * int labels `y` ([batch]); returns adversarial inputs of the same shape, inside the
 * `opts.eps`-ball around `x` and inside [0, 1].
 */
export type AttackFn<O extends AttackOptions = AttackOptions> = (
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  opts: O,
) => tf.Tensor4D;

function assertInteger(name: string, value: number | undefined, min: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min}; got ${value}`);
  }
}

/**
 * Checks the shared options: `eps` finite and >= 0, `norm` one of {@link NORMS}, `steps` and
 * `restarts` integers >= 1, `stepSize` finite and > 0, `seed` finite.
 *
 * @example
 * ```ts
 * import { assertAttackOptions } from "./validate.ts";
 * assertAttackOptions({ eps: 8 / 255, norm: "Linf", steps: 10 });
 * // assertAttackOptions({ eps: -1 }) throws "eps must be >= 0; got -1"
 * ```
 */
export function assertAttackOptions(opts: AttackOptions): void {
  if (opts == null || typeof opts !== "object") {
    throw new Error(`attack options must be an object with at least eps; got ${opts}`);
  }
  const { eps, norm, stepSize, seed } = opts;
  if (typeof eps !== "number" || Number.isNaN(eps)) {
    throw new Error(`eps must be a number >= 0; got ${eps}`);
  }
  if (eps < 0) throw new Error(`eps must be >= 0; got ${eps}`);
  if (!Number.isFinite(eps)) throw new Error(`eps must be finite; got ${eps}`);
  if (norm !== undefined && !(NORMS as readonly string[]).includes(norm)) {
    throw new Error(`unknown norm '${norm}': allowed are ${NORMS.map((n) => `'${n}'`).join(", ")}`);
  }
  assertInteger("steps", opts.steps, 1);
  assertInteger("restarts", opts.restarts, 1);
  if (stepSize !== undefined && !(Number.isFinite(stepSize) && stepSize > 0)) {
    throw new Error(`stepSize must be a finite number > 0; got ${stepSize}`);
  }
  if (seed !== undefined && !Number.isFinite(seed)) {
    throw new Error(`seed must be a finite number; got ${seed}`);
  }
}

/**
 * Checks the inputs of an attack: `x` is [batch, h, w, c] float with every value in [0, 1],
 * `y` is [batch] with non-negative integer class ids. Returns the labels (one data read of `y`
 * and of `x`'s min/max). The upper label bound is checked by {@link assertLabelsBelow} once the
 * number of classes is known.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { assertAttackInputs } from "./validate.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const labels = assertAttackInputs(tf.zeros([2, 8, 8, 1]) as tf.Tensor4D, tf.tensor1d([0, 1], "int32"));
 * ```
 */
export function assertAttackInputs(x: tf.Tensor4D, y: tf.Tensor1D): Int32Array {
  if (!(x instanceof tf.Tensor) || x.rank !== 4) {
    throw new Error(
      `x must be a 4-D tensor [batch, height, width, channels]; got ${
        x instanceof tf.Tensor ? `shape [${x.shape}]` : String(x)
      }`,
    );
  }
  if (!(y instanceof tf.Tensor) || y.rank !== 1) {
    throw new Error(
      `y must be a 1-D tensor of class ids [batch]; got ${
        y instanceof tf.Tensor ? `shape [${y.shape}]` : String(y)
      }`,
    );
  }
  if (x.shape[0] !== y.shape[0]) {
    throw new Error(
      `batch sizes differ: x has ${x.shape[0]} examples (shape [${x.shape}]) but y has ${
        y.shape[0]
      } labels`,
    );
  }
  if (x.dtype !== "float32") throw new Error(`x must be float32; got ${x.dtype}`);
  if (x.size > 0) {
    const range = tf.tidy(() => tf.stack([tf.min(x), tf.max(x)]));
    const [lo, hi] = range.dataSync() as Float32Array;
    range.dispose();
    if (!(lo >= 0 && hi <= 1)) {
      const bad = Number.isNaN(lo) || Number.isNaN(hi) ? NaN : lo < 0 ? lo : hi;
      throw new Error(`x must lie in [0, 1]; found value ${bad} (min ${lo}, max ${hi})`);
    }
  }
  const raw = y.dataSync();
  const labels = new Int32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i] as number;
    if (!Number.isInteger(v) || v < 0) {
      throw new Error(`label ${v} at index ${i} is not a non-negative integer class id`);
    }
    labels[i] = v;
  }
  return labels;
}

/**
 * Throws unless every label is below `numClasses` (naming the first bad label).
 *
 * @example
 * ```ts
 * import { assertLabelsBelow } from "./validate.ts";
 * assertLabelsBelow(new Int32Array([0, 2]), 3);
 * ```
 */
export function assertLabelsBelow(labels: Int32Array, numClasses: number): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= numClasses) {
      throw new Error(
        `label ${labels[i]} at index ${i} is out of range: the model has ${numClasses} classes, ` +
          `allowed are 0..${numClasses - 1}`,
      );
    }
  }
}

/**
 * Runs the classifier and checks that it returned logits [batch, classes] with classes >= 2.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { checkedLogits } from "./validate.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const model = (x: tf.Tensor4D) => tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
 * const logits = checkedLogits(model, tf.zeros([1, 1, 1, 2]) as tf.Tensor4D); // [1, 2]
 * ```
 */
export function checkedLogits(model: (x: tf.Tensor4D) => tf.Tensor2D, x: tf.Tensor4D): tf.Tensor2D {
  if (typeof model !== "function") {
    throw new Error(`model must be a function x -> logits; got ${typeof model}`);
  }
  const logits = model(x);
  if (!(logits instanceof tf.Tensor) || logits.rank !== 2 || logits.shape[0] !== x.shape[0]) {
    const got = logits instanceof tf.Tensor ? `shape [${logits.shape}]` : String(logits);
    throw new Error(`model must return logits [${x.shape[0]}, classes]; got ${got}`);
  }
  if (logits.shape[1] < 2) {
    throw new Error(`model must return at least 2 classes; got shape [${logits.shape}]`);
  }
  return logits;
}

/** What {@link validateAttack} returns. */
export interface ValidatedAttack {
  /** Labels as int32 ids. */
  labels: Int32Array;
  /** Number of classes of the model. */
  numClasses: number;
  /** The model's logits on the clean inputs (the caller owns and disposes them). */
  cleanLogits: tf.Tensor2D;
}

/**
 * Everything an attack checks before it starts: options, inputs, one clean forward pass to learn
 * the number of classes, and the label range.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { validateAttack } from "./validate.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const model = (x: tf.Tensor4D) => tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
 * const v = validateAttack(model, tf.zeros([1, 1, 1, 2]) as tf.Tensor4D, tf.tensor1d([1], "int32"), { eps: 0.1 });
 * v.cleanLogits.dispose(); // v.numClasses === 2
 * ```
 */
export function validateAttack(
  model: (x: tf.Tensor4D) => tf.Tensor2D,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  opts: AttackOptions,
): ValidatedAttack {
  assertAttackOptions(opts);
  const labels = assertAttackInputs(x, y);
  const cleanLogits = tf.tidy(() => checkedLogits(model, x));
  const numClasses = cleanLogits.shape[1];
  try {
    assertLabelsBelow(labels, numClasses);
  } catch (e) {
    cleanLogits.dispose();
    throw e;
  }
  return { labels, numClasses, cleanLogits };
}
