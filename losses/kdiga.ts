/**
 * Knowledge distillation with input gradient alignment: KDIGA (Eq. 5) and its combinations with
 * ARD, KDIGA-ARDC (Eq. 6) and KDIGA-ARDA (Eq. 7).
 *
 * The alignment term's parameter gradient is the exact double-backprop gradient (nested
 * `tf.grad`); `kdigaFiniteDifferenceGrads` in `alignment_finite_difference.ts` is the
 * approximation without double backprop.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { distillationTerms } from "./kd.ts";
import { alignmentNorm, logitsAndInputGradient } from "./input_gradient.ts";
import {
  type AdversarialInputs,
  type AlignmentOptions,
  checkBatch,
  type DistillationInputs,
  type DistillationOptions,
  type LossParts,
  resolveAlignmentOptions,
} from "./options.ts";

/** Options of the KDIGA losses: the distillation weights and the alignment term's. */
export type KdigaOptions = DistillationOptions & AlignmentOptions;

/**
 * KL and alignment on `xAlign` (student and teacher both there); CE on the student's logits at
 * `x` (the alignment pass's logits when `xAlign` is `x`, so KDIGA needs one student forward).
 */
function kdigaParts(
  inputs: DistillationInputs,
  xAlign: tf.Tensor4D,
  options: KdigaOptions,
): LossParts {
  const { student, teacher, x, y } = inputs;
  const { mode, lambdaIga } = resolveAlignmentOptions(options, x.shape[0]);
  const ceReduction = mode === "batch" ? "mean" : "sum";
  return tf.tidy(() => {
    const t = logitsAndInputGradient(teacher, xAlign, y, ceReduction);
    const s = logitsAndInputGradient(student, xAlign, y, ceReduction);
    const alignment = alignmentNorm(s.inputGradient, t.inputGradient, mode);
    const studentClean = xAlign === x ? s.logits : student(x);
    const d = distillationTerms(studentClean, s.logits, t.logits, y, options);
    const total = tf.add(d.total, tf.mul(alignment, lambdaIga)) as tf.Scalar;
    return { total, ce: d.ce, kl: d.kl, alignment };
  });
}

/**
 * KDIGA, Eq. 5:
 * `L_IGA = λ_CE L_CE(f_s(x), y) + λ_KL T² L_KL(f_s(x)/T, f_t(x)/T)
 *          + λ_IGA ||∇_x L_CE(f_s(x), y) - ∇_x L_CE(f_t(x), y)||_2`.
 *
 * Defaults (§4.1 and the authors' code): T = 1, λ_CE = λ_KL = 0.5, KL reduced as PyTorch's
 * `KLDivLoss()` (mean over batch and classes), alignment `"batch"` (gradients of the batch-mean
 * CE, one Frobenius norm over the batch) with λ_IGA = γ / B, γ = 0.5. Returns
 * `{total, ce, kl, alignment}`; `kl` includes T², `alignment` is the unweighted norm.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { kdigaLoss } from "./kdiga.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([4, 3]) as tf.Tensor2D;
 * const net = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [-1, 4]) as tf.Tensor2D, w) as tf.Tensor2D;
 * const x = tf.randomUniform([2, 2, 2, 1]) as tf.Tensor4D;
 * const y = tf.tensor1d([0, 2], "int32");
 * const { total, alignment } = kdigaLoss({ student: net, teacher: net, x, y });
 * ```
 */
export function kdigaLoss(inputs: DistillationInputs, options: KdigaOptions = {}): LossParts {
  checkBatch(inputs.x, inputs.y);
  return kdigaParts(inputs, inputs.x, options);
}

/**
 * KDIGA-ARDC, Eq. 6: ARD (Eq. 2) plus the alignment term on CLEAN inputs:
 * `λ_CE L_CE(f_s(x), y) + λ_KL T² L_KL(f_s(x+δ)/T, f_t(x)/T)
 *  + λ_IGA ||∇_x L_CE(f_s(x), y) - ∇_x L_CE(f_t(x), y)||_2`, with `x + δ` given as `xAdv`
 * (Eq. 3). Same defaults as {@link kdigaLoss}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { kdigaArdcLoss } from "./kdiga.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([4, 3]) as tf.Tensor2D;
 * const net = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [-1, 4]) as tf.Tensor2D, w) as tf.Tensor2D;
 * const x = tf.randomUniform([2, 2, 2, 1], 0.1, 0.9) as tf.Tensor4D;
 * const xAdv = tf.add(x, 0.05) as tf.Tensor4D;
 * const y = tf.tensor1d([0, 2], "int32");
 * const { total } = kdigaArdcLoss({ student: net, teacher: net, x, y, xAdv });
 * ```
 */
export function kdigaArdcLoss(inputs: AdversarialInputs, options: KdigaOptions = {}): LossParts {
  const { student, x, y, xAdv } = inputs;
  checkBatch(x, y, xAdv);
  const { mode, lambdaIga } = resolveAlignmentOptions(options, x.shape[0]);
  const ceReduction = mode === "batch" ? "mean" : "sum";
  return tf.tidy(() => {
    const t = logitsAndInputGradient(inputs.teacher, x, y, ceReduction);
    const s = logitsAndInputGradient(student, x, y, ceReduction);
    const alignment = alignmentNorm(s.inputGradient, t.inputGradient, mode);
    const d = distillationTerms(s.logits, student(xAdv), t.logits, y, options);
    const total = tf.add(d.total, tf.mul(alignment, lambdaIga)) as tf.Scalar;
    return { total, ce: d.ce, kl: d.kl, alignment };
  });
}

/**
 * KDIGA-ARDA, Eq. 7: KL and alignment both on the ADVERSARIAL inputs `x + δ` (given as `xAdv`):
 * `λ_CE L_CE(f_s(x), y) + λ_KL T² L_KL(f_s(x+δ)/T, f_t(x+δ)/T)
 *  + λ_IGA ||∇_x L_CE(f_s(x+δ), y) - ∇_x L_CE(f_t(x+δ), y)||_2`.
 * Same defaults as {@link kdigaLoss}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { kdigaArdaLoss } from "./kdiga.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([4, 3]) as tf.Tensor2D;
 * const net = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [-1, 4]) as tf.Tensor2D, w) as tf.Tensor2D;
 * const x = tf.randomUniform([2, 2, 2, 1], 0.1, 0.9) as tf.Tensor4D;
 * const xAdv = tf.add(x, 0.05) as tf.Tensor4D;
 * const y = tf.tensor1d([0, 2], "int32");
 * const { total } = kdigaArdaLoss({ student: net, teacher: net, x, y, xAdv });
 * ```
 */
export function kdigaArdaLoss(inputs: AdversarialInputs, options: KdigaOptions = {}): LossParts {
  const { x, y, xAdv } = inputs;
  checkBatch(x, y, xAdv);
  return kdigaParts(inputs, xAdv, options);
}
