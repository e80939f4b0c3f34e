/**
 * The distillation KL divergence `KL(softmax(t/T) || softmax(s/T))`, from plain ops so that it
 * is correct to second order.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { logSoftmax } from "./cross_entropy.ts";
import { checkPositive, KL_REDUCTIONS, type KlReduction } from "./options.ts";

/** Options of {@link klDivergence}. */
export interface KlDivergenceOptions {
  /** Temperature T dividing both logits (default 1). No T² factor here: the losses add it. */
  temperature?: number;
  /** Reduction over the batch (default `"mean"`, PyTorch's `KLDivLoss` default; see {@link KlReduction}). */
  reduction?: KlReduction;
}

/**
 * `KL(p_t || p_s) = Σ_k p_t,k (log p_t,k - log p_s,k)` with `p = softmax(logits / T)`: the
 * `L_KL(f_s(x)/T, f_t(x)/T)` of Eqs. 1, 2 and 5-7, as PyTorch's
 * `KLDivLoss(log_softmax(s/T), softmax(t/T))` computes it.
 *
 * With the default reduction `"mean"` the sum is divided by `B * C` (PyTorch's default, used by
 * ARD and the KDIGA authors); `"batchmean"` divides by `B` only. The teacher logits are treated
 * as data: pass constants (the gradient also flows into them if they depend on what is
 * differentiated).
 *
 * @param studentLogits [B, C]
 * @param teacherLogits [B, C]
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { klDivergence } from "./kl_divergence.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const s = tf.tensor2d([[0, 0]]);
 * const t = tf.tensor2d([[Math.log(3), 0]]); // p_t = [0.75, 0.25]
 * const kl = klDivergence(s, t, { reduction: "batchmean" });
 * // 0.75 log(0.75/0.5) + 0.25 log(0.25/0.5) = 0.1308
 * ```
 */
export function klDivergence(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  options: KlDivergenceOptions = {},
): tf.Tensor {
  const temperature = options.temperature ?? 1;
  const reduction = options.reduction ?? "mean";
  checkPositive("temperature", temperature);
  if (!KL_REDUCTIONS.includes(reduction)) {
    throw new Error(`unknown KL reduction '${reduction}': allowed are ${KL_REDUCTIONS.join(", ")}`);
  }
  if (studentLogits.rank !== 2) {
    throw new Error(`student logits must be [batch, classes]; got shape [${studentLogits.shape}]`);
  }
  if (
    teacherLogits.rank !== 2 || teacherLogits.shape[0] !== studentLogits.shape[0] ||
    teacherLogits.shape[1] !== studentLogits.shape[1]
  ) {
    throw new Error(
      `teacher logits must have the student's shape [${studentLogits.shape}]; got [${teacherLogits.shape}]`,
    );
  }
  const [batch, classes] = studentLogits.shape;
  return tf.tidy(() => {
    const logPs = logSoftmax(tf.div(studentLogits, temperature));
    const logPt = logSoftmax(tf.div(teacherLogits, temperature));
    const perExample = tf.sum(tf.mul(tf.exp(logPt), tf.sub(logPt, logPs)), 1);
    switch (reduction) {
      case "mean":
        return tf.div(tf.sum(perExample), batch * classes);
      case "batchmean":
        return tf.div(tf.sum(perExample), batch);
      case "sum":
        return tf.sum(perExample);
      case "none":
        return perExample;
    }
  });
}
