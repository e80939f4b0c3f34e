/**
 * Adversarially robust distillation, ARD (Goldblum et al. 2020; the paper's Eq. 2).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { distillationTerms } from "./kd.ts";
import {
  type AdversarialInputs,
  checkBatch,
  type DistillationOptions,
  type LossParts,
} from "./options.ts";

/**
 * ARD, Eq. 2: `λ_CE L_CE(f_s(x), y) + λ_KD T² L_KL(f_s(x + δ)/T, f_t(x)/T)`, with `x + δ` given
 * as `xAdv`: δ from Eq. 3, PGD on the student's cross-entropy (make it with
 * `adversarialInputs(student, x, y, attack)` outside the gradient computation). Defaults as KD
 * (§4.1: T = 1, λ_CE = λ_KD = 0.5, KL reduced as PyTorch's `KLDivLoss()`, as in ARD's code).
 * Returns `{total, ce, kl}`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { ardLoss } from "./ard.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([4, 3]) as tf.Tensor2D;
 * const net = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [-1, 4]) as tf.Tensor2D, w) as tf.Tensor2D;
 * const x = tf.randomUniform([2, 2, 2, 1], 0.1, 0.9) as tf.Tensor4D;
 * const xAdv = tf.add(x, 0.05) as tf.Tensor4D;
 * const { total, ce, kl } = ardLoss({ student: net, teacher: net, x, y: tf.tensor1d([0, 2], "int32"), xAdv });
 * ```
 */
export function ardLoss(inputs: AdversarialInputs, options: DistillationOptions = {}): LossParts {
  const { student, teacher, x, y, xAdv } = inputs;
  checkBatch(x, y, xAdv);
  return tf.tidy(() => distillationTerms(student(x), student(xAdv), teacher(x), y, options));
}
