/**
 * Standard knowledge distillation (Hinton et al.; the paper's Eq. 1).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { crossEntropy } from "./cross_entropy.ts";
import { klDivergence } from "./kl_divergence.ts";
import {
  checkBatch,
  type DistillationInputs,
  type DistillationOptions,
  type LossParts,
  resolveDistillationOptions,
} from "./options.ts";

/**
 * The two distillation terms on given logits:
 * `total = λ_CE CE(ceLogits, y) + λ_KL T² KL(klLogits/T, teacherLogits/T)`.
 * KD (Eq. 1) passes the student's clean logits twice; ARD (Eq. 2) passes its logits on `x + δ`
 * as `klLogits`. Returns `{total, ce, kl}` with `kl` already multiplied by T².
 *
 * @param ceLogits student logits [B, C] for the cross-entropy
 * @param klLogits student logits [B, C] for the KL term
 * @param teacherLogits teacher logits [B, C] (constants)
 * @param y integer labels [B]
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { distillationTerms } from "./kd.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const s = tf.tensor2d([[1, 0]]);
 * const { total } = distillationTerms(s, s, s, tf.tensor1d([0], "int32")); // 0.5 * CE, KL = 0
 * ```
 */
export function distillationTerms(
  ceLogits: tf.Tensor2D,
  klLogits: tf.Tensor2D,
  teacherLogits: tf.Tensor2D,
  y: tf.Tensor1D,
  options: DistillationOptions = {},
): Required<Pick<LossParts, "total" | "ce" | "kl">> {
  const o = resolveDistillationOptions(options);
  return tf.tidy(() => {
    const ce = crossEntropy(ceLogits, y) as tf.Scalar;
    const kl = tf.mul(
      klDivergence(klLogits, teacherLogits, {
        temperature: o.temperature,
        reduction: o.klReduction,
      }),
      o.temperature * o.temperature,
    ) as tf.Scalar;
    if (kl.rank !== 0) {
      throw new Error(`klReduction '${o.klReduction}' gives a vector; the losses need a scalar`);
    }
    const total = tf.add(tf.mul(ce, o.lambdaCe), tf.mul(kl, o.lambdaKl)) as tf.Scalar;
    return { total, ce, kl };
  });
}

/**
 * Knowledge distillation, Eq. 1:
 * `L_KD = λ_CE L_CE(f_s(x), y) + λ_KD T² L_KL(f_s(x)/T, f_t(x)/T)`.
 * Defaults from §4.1: T = 1, λ_CE = λ_KD = 0.5, KL reduced as PyTorch's `KLDivLoss()`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { kdLoss } from "./kd.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([4, 3]) as tf.Tensor2D;
 * const net = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [-1, 4]) as tf.Tensor2D, w) as tf.Tensor2D;
 * const x = tf.randomUniform([2, 2, 2, 1]) as tf.Tensor4D;
 * const { total, ce, kl } = kdLoss({ student: net, teacher: net, x, y: tf.tensor1d([0, 2], "int32") });
 * ```
 */
export function kdLoss(inputs: DistillationInputs, options: DistillationOptions = {}): LossParts {
  const { student, teacher, x, y } = inputs;
  checkBatch(x, y);
  return tf.tidy(() => {
    const s = student(x);
    return distillationTerms(s, s, teacher(x), y, options);
  });
}
