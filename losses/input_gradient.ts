/**
 * Input gradients of the cross-entropy and KDIGA's input gradient alignment term
 * `||∇_x L_CE(f_s(x), y) - ∇_x L_CE(f_t(x), y)||_2` (Eqs. 5-7).
 *
 * The student's input gradient is computed with a nested `tf.grad`, so it stays differentiable:
 * a parameter gradient taken around it is the exact double-backprop gradient. The teacher's is
 * computed the same way but depends on nothing being trained, so it is a constant.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Classifier } from "../models/types.ts";
import { crossEntropy } from "./cross_entropy.ts";
import { ALIGNMENT_MODES, type AlignmentMode, checkBatch } from "./options.ts";

/** Logits and the input gradient of the cross-entropy, from one forward pass. */
export interface LogitsAndInputGradient {
  /** [B, C] */
  logits: tf.Tensor2D;
  /** ∇_x CE, the shape of x. */
  inputGradient: tf.Tensor4D;
}

/**
 * The classifier's logits at `x` and the input gradient `∇_x CE(f(x), y)`, from ONE forward pass
 * (the logits are the ones the gradient was taken through, so a loss built on both is taped as
 * one graph). `ceReduction` `"mean"` gives the gradient of the batch-mean cross-entropy (each
 * row is the per-example gradient / B); `"sum"` gives per-example gradients.
 *
 * Both results stay differentiable in whatever the classifier closes over (nested `tf.grad`).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { logitsAndInputGradient } from "./input_gradient.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([4, 3]) as tf.Tensor2D;
 * const net = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [-1, 4]) as tf.Tensor2D, w) as tf.Tensor2D;
 * const x = tf.randomUniform([2, 2, 2, 1]) as tf.Tensor4D;
 * const { logits, inputGradient } = logitsAndInputGradient(net, x, tf.tensor1d([0, 2], "int32"));
 * ```
 */
export function logitsAndInputGradient(
  classifier: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  ceReduction: "mean" | "sum" = "mean",
): LogitsAndInputGradient {
  checkBatch(x, y);
  if (ceReduction !== "mean" && ceReduction !== "sum") {
    throw new Error(`ceReduction must be 'mean' or 'sum'; got '${ceReduction}'`);
  }
  let kept: tf.Tensor2D | undefined;
  const inputGradient = tf.grad((xx: tf.Tensor) => {
    const logits = classifier(xx as tf.Tensor4D);
    // tf.grad disposes everything its forward pass made except the returned loss; keep the
    // logits (a taped tensor) so the caller's loss can build on the same forward pass.
    kept = tf.keep(logits);
    return crossEntropy(logits, y, ceReduction) as tf.Scalar;
  })(x) as tf.Tensor4D;
  // Hand the logits to the caller's tidy scope: a clone is a taped identity (the gradient flows
  // through it); the kept original is no longer needed (the tape holds its own saved copies).
  const logits = tf.clone(kept!);
  kept!.dispose();
  return { logits, inputGradient };
}

/**
 * The alignment norm between two input gradients (unweighted).
 *
 * - `"batch"`: `||gs - gt||_2`, one Frobenius norm over the whole batch.
 * - `"per-example"`: `(1/B) Σ_i ||gs_i - gt_i||_2`.
 *
 * The norm is taken as `sqrt(Σ d² + 1e-20)`: the tiny floor keeps its gradient finite when the
 * two gradients are equal (then the norm is 1e-10, not 0).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { alignmentNorm } from "./input_gradient.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const a = tf.zeros([1, 1, 1, 2]) as tf.Tensor4D;
 * const b = tf.tensor4d([3, 4], [1, 1, 1, 2]);
 * const n = alignmentNorm(a, b, "batch"); // 5
 * ```
 */
export function alignmentNorm(
  studentGradient: tf.Tensor4D,
  teacherGradient: tf.Tensor4D,
  mode: AlignmentMode = "batch",
): tf.Scalar {
  if (!ALIGNMENT_MODES.includes(mode)) {
    throw new Error(`unknown alignment '${mode}': allowed are ${ALIGNMENT_MODES.join(", ")}`);
  }
  if (studentGradient.shape.some((d, i) => d !== teacherGradient.shape[i])) {
    throw new Error(
      `input gradients differ in shape: [${studentGradient.shape}] vs [${teacherGradient.shape}]`,
    );
  }
  return tf.tidy(() => {
    const d = tf.sub(studentGradient, teacherGradient);
    if (mode === "batch") return tf.sqrt(tf.add(tf.sum(tf.square(d)), 1e-20)) as tf.Scalar;
    const perExample = tf.sqrt(tf.add(tf.sum(tf.square(d), [1, 2, 3]), 1e-20));
    return tf.mean(perExample) as tf.Scalar;
  });
}

/** Options of {@link inputGradientAlignment}. */
export interface InputGradientAlignmentOptions {
  /** `"batch"` (default, authors' code) or `"per-example"`; see `AlignmentMode`. */
  alignment?: AlignmentMode;
}

/**
 * The input gradient alignment term of Eq. 5, `||∇_x L_CE(f_s(x), y) - ∇_x L_CE(f_t(x), y)||_2`
 * (unweighted; see `AlignmentMode` for the `"batch"` and `"per-example"` forms). The teacher's
 * gradient is a constant; the student's stays differentiable (nested `tf.grad`), so the
 * parameter gradient of this term is the exact double-backprop gradient.
 *
 * Also returns both classifiers' logits at `x`, from the same forward passes, for the other
 * loss terms.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { inputGradientAlignment } from "./input_gradient.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([4, 3]) as tf.Tensor2D;
 * const net = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [-1, 4]) as tf.Tensor2D, w) as tf.Tensor2D;
 * const x = tf.randomUniform([2, 2, 2, 1]) as tf.Tensor4D;
 * const y = tf.tensor1d([0, 2], "int32");
 * const { alignment } = inputGradientAlignment(net, net, x, y); // ~0: same model
 * ```
 */
export function inputGradientAlignment(
  student: Classifier,
  teacher: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  options: InputGradientAlignmentOptions = {},
): { alignment: tf.Scalar; studentLogits: tf.Tensor2D; teacherLogits: tf.Tensor2D } {
  const mode = options.alignment ?? "batch";
  if (!ALIGNMENT_MODES.includes(mode)) {
    throw new Error(`unknown alignment '${mode}': allowed are ${ALIGNMENT_MODES.join(", ")}`);
  }
  const ceReduction = mode === "batch" ? "mean" : "sum";
  return tf.tidy(() => {
    const t = logitsAndInputGradient(teacher, x, y, ceReduction);
    const s = logitsAndInputGradient(student, x, y, ceReduction);
    return {
      alignment: alignmentNorm(s.inputGradient, t.inputGradient, mode),
      studentLogits: s.logits,
      teacherLogits: t.logits,
    };
  });
}
