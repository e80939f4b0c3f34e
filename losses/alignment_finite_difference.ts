/**
 * KDIGA's parameter gradient without double backprop: the alignment term's gradient by a finite
 * difference of parameter gradients along the alignment direction (a Hessian-vector product).
 *
 * For the alignment `A(θ) = φ(v)`, `v = g_s(θ) - g_t`, `g_s(θ) = ∇_x L(θ, x)`:
 * `∇_θ A = H_θx w` with `w = ∂φ/∂v` (`v/||v||` for the `"batch"` norm), and
 * `H_θx w = d/dh ∇_θ L(θ, x + h w) |_{h=0}
 *        ≈ [∇_θ L(θ, x + h w) - ∇_θ L(θ, x - h w)] / (2h)`.
 * (For the squared norm, `d/dθ ½||g_s - g_t||² = H_θx (g_s - g_t)`; ours divides by the norm.)
 * The step is taken so that the perturbation `h w / ||w||` has Frobenius norm `step` over the
 * batch.
 *
 * Cost: four student forward+backward passes (input gradient, main loss, the two shifted
 * gradients) and first-order gradients only, instead of one forward and a backward through the
 * backward pass.
 *
 * Accuracy (measured; `tests/losses_test.ts` checks the smooth case):
 * - Smooth activations (tanh, softplus; tiny MLP/CNN): cosine > 0.999 with the exact
 *   double-backprop gradient of the alignment term at step 1e-2, error O(h²).
 * - ReLU networks: `∇_θ CE(θ, x)` JUMPS in x wherever a ReLU flips (the backpropagated masks
 *   change), and a batch has so many units that any step large enough to beat float32 roundoff
 *   crosses some of them. The difference then measures a smoothed mixed derivative, not the
 *   exact one. On `small-cnn` (ReLU), MNIST, B = 128, the alignment term alone (λ_IGA = 1):
 *   cosine 0.27 / 0.83 / 0.87 / 0.91 and relative error 3.7 / 0.67 / 0.57 / 0.44 at steps
 *   0.01 / 1 / 3 / 10 (hence the default step 1).
 * - With the paper's default weights (λ_IGA = 0.5/B on the batch-mean-CE gradients) the
 *   alignment term is about 1e-4 of the parameter gradient's norm on that model, so the total
 *   gradient agrees to a relative error of 1e-4 (cosine 1.0000) at every step size.
 * - Speed: no faster than the exact gradient on `small-cnn` at B = 128 on wasm (310-640 vs
 *   440-750 images/s, noisy shared machine). Prefer the exact gradient; this is for engines
 *   without second-order gradients.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Classifier } from "../models/types.ts";
import { crossEntropy } from "./cross_entropy.ts";
import { distillationTerms } from "./kd.ts";
import { alignmentNorm, logitsAndInputGradient } from "./input_gradient.ts";
import type { KdigaOptions } from "./kdiga.ts";
import { checkBatch, checkPositive, type LossParts, resolveAlignmentOptions } from "./options.ts";

/** A classifier written as a function of its parameters (as a list), for `tf.grads`. */
export type ParametricClassifier = (params: tf.Tensor[], x: tf.Tensor4D) => tf.Tensor2D;

/** Options of {@link kdigaFiniteDifferenceGrads}: KDIGA's, plus the difference step. */
export interface FiniteDifferenceOptions extends KdigaOptions {
  /** Frobenius norm of the input shift `h w` over the whole batch (default 1; see the module docs). */
  step?: number;
}

/** What {@link kdigaFiniteDifferenceGrads} returns. */
export interface LossAndGrads {
  /** The KDIGA loss and its parts, as `kdigaLoss` returns them. */
  parts: LossParts;
  /** The approximate gradient of `parts.total`, one tensor per parameter. */
  grads: tf.Tensor[];
}

/**
 * The KDIGA loss (Eq. 5; same options and defaults as `kdigaLoss`) and its parameter gradient,
 * exact for the CE and KL terms and a central finite difference of parameter gradients for the
 * alignment term (see the module docs). No second-order gradient is taken.
 *
 * @param apply the student as a function of `params`
 * @param params the student's trainable parameters
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { kdigaFiniteDifferenceGrads } from "./alignment_finite_difference.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const apply = ([w]: tf.Tensor[], x: tf.Tensor4D) =>
 *   tf.matMul(tf.tanh(tf.reshape(x, [-1, 4])), w as tf.Tensor2D) as tf.Tensor2D;
 * const params = [tf.randomNormal([4, 3])];
 * const teacherW = tf.randomNormal([4, 3]);
 * const teacher = (x: tf.Tensor4D) => apply([teacherW], x);
 * const x = tf.randomUniform([2, 2, 2, 1]) as tf.Tensor4D;
 * const { parts, grads } = kdigaFiniteDifferenceGrads(apply, params, teacher, x, tf.tensor1d([0, 2], "int32"));
 * ```
 */
export function kdigaFiniteDifferenceGrads(
  apply: ParametricClassifier,
  params: tf.Tensor[],
  teacher: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  options: FiniteDifferenceOptions = {},
): LossAndGrads {
  checkBatch(x, y);
  const step = options.step ?? 1;
  checkPositive("step", step);
  const { mode, lambdaIga } = resolveAlignmentOptions(options, x.shape[0]);
  const ceReduction = mode === "batch" ? "mean" : "sum";
  const student = (xx: tf.Tensor4D) => apply(params, xx);
  return tf.tidy(() => {
    const t = logitsAndInputGradient(teacher, x, y, ceReduction);
    const s = logitsAndInputGradient(student, x, y, ceReduction);
    const alignment = alignmentNorm(s.inputGradient, t.inputGradient, mode);

    let kept: tf.Tensor[] = [];
    const main = tf.grads((...ps: tf.Tensor[]) => {
      const logits = apply(ps, x);
      const d = distillationTerms(logits, logits, t.logits, y, options);
      kept = [tf.keep(d.total), tf.keep(d.ce), tf.keep(d.kl)];
      return d.total;
    })(params);
    // Re-own the kept parts in this scope (tf.grads disposes its forward pass's other tensors).
    const [mainTotal, ce, kl] = kept.map((k) => tf.clone(k) as tf.Scalar);
    kept.forEach((k) => k.dispose());

    // w = ∂φ/∂v: v/||v|| for the batch norm; v_i / (B ||v_i||) per example.
    const v = tf.sub(s.inputGradient, t.inputGradient);
    const w = mode === "batch" ? tf.div(v, alignment) : tf.div(
      v,
      tf.mul(tf.sqrt(tf.add(tf.sum(tf.square(v), [1, 2, 3], true), 1e-20)), x.shape[0]),
    );
    const wNorm = tf.sqrt(tf.add(tf.sum(tf.square(w)), 1e-30));
    const shift = tf.mul(w, tf.div(step, wNorm)) as tf.Tensor4D;
    const ceParamGrads = (xx: tf.Tensor4D) =>
      tf.grads((...ps: tf.Tensor[]) => crossEntropy(apply(ps, xx), y, ceReduction) as tf.Scalar)(
        params,
      );
    const plus = ceParamGrads(tf.add(x, shift) as tf.Tensor4D);
    const minus = ceParamGrads(tf.sub(x, shift) as tf.Tensor4D);
    // H w ≈ ||w|| [∇θL(x + h ŵ) - ∇θL(x - h ŵ)] / (2h), ŵ = w / ||w||.
    const scale = tf.mul(wNorm, lambdaIga / (2 * step));
    const grads = main.map((g, i) => tf.add(g, tf.mul(scale, tf.sub(plus[i], minus[i]))));
    const total = tf.add(mainTotal, tf.mul(alignment, lambdaIga)) as tf.Scalar;
    return { parts: { total, ce, kl, alignment }, grads };
  });
}
