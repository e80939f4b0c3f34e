/**
 * Softmax cross-entropy written from plain ops, so that it is correct to second order.
 *
 * `tf.losses.softmaxCrossEntropy` and `tf.logSoftmax` are `customGrad` ops in tfjs 4.22: their
 * saved values are computed with the tape off, so a gradient of their gradient silently loses
 * terms (tfjs issue #3252). Everything in kdiga that is differentiated twice uses these instead.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** How a per-example loss is reduced over the batch. */
export type Reduction = "mean" | "sum" | "none";

const REDUCTIONS: readonly Reduction[] = ["mean", "sum", "none"];

/**
 * `log softmax(logits)` along the last axis, as `logits - logSumExp(logits)`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { logSoftmax } from "./cross_entropy.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const lp = logSoftmax(tf.tensor2d([[0, 0]])); // [[-0.693, -0.693]]
 * ```
 */
export function logSoftmax(logits: tf.Tensor): tf.Tensor {
  const axis = logits.rank - 1;
  return tf.sub(logits, tf.logSumExp(logits, axis, true));
}

/** Reduces a per-example loss vector as asked. */
export function reduceLoss(perExample: tf.Tensor1D, reduction: Reduction): tf.Tensor {
  switch (reduction) {
    case "mean":
      return tf.mean(perExample);
    case "sum":
      return tf.sum(perExample);
    case "none":
      return perExample;
    default:
      throw new Error(
        `unknown reduction '${reduction}': allowed are ${REDUCTIONS.map((r) => `'${r}'`).join(", ")}`,
      );
  }
}

/**
 * Turns labels into a [batch, classes] float target: int labels become one-hot rows, a
 * [batch, classes] tensor is taken as given (soft targets). Checks shapes and label range.
 */
export function targetDistribution(labels: tf.Tensor, batch: number, classes: number): tf.Tensor2D {
  if (labels.rank === 1) {
    if (labels.shape[0] !== batch) {
      throw new Error(
        `labels have shape [${labels.shape}] but logits have batch ${batch}: they must match`,
      );
    }
    // A label outside [0, classes) would give an all-zero one-hot row and a silent zero loss.
    const ids = labels.dataSync();
    for (let i = 0; i < ids.length; i++) {
      if (!Number.isInteger(ids[i]) || ids[i] < 0 || ids[i] >= classes) {
        throw new Error(`label ${ids[i]} at index ${i} is out of range: allowed are 0..${classes - 1}`);
      }
    }
    return tf.cast(tf.oneHot(tf.cast(labels, "int32") as tf.Tensor1D, classes), "float32") as tf.Tensor2D;
  }
  if (labels.rank === 2) {
    if (labels.shape[0] !== batch || labels.shape[1] !== classes) {
      throw new Error(
        `soft labels have shape [${labels.shape}] but logits have shape [${batch},${classes}]`,
      );
    }
    return tf.cast(labels, "float32") as tf.Tensor2D;
  }
  throw new Error(
    `labels must be int class ids [batch] or probabilities [batch, classes]; got shape [${labels.shape}]`,
  );
}

/**
 * Softmax cross-entropy `CE(f(x), y) = -sum_k y_k log softmax(f(x))_k`, batch-averaged by default
 * (PyTorch's `F.cross_entropy`). Correct to second order.
 *
 * @param logits [batch, classes]
 * @param labels int class ids [batch] (in `[0, classes)`) or soft targets [batch, classes]
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { crossEntropy } from "./cross_entropy.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const ce = crossEntropy(tf.tensor2d([[2, 0], [0, 2]]), tf.tensor1d([0, 1], "int32"));
 * // ce = log(1 + e^-2) = 0.1269
 * ```
 */
export function crossEntropy(
  logits: tf.Tensor,
  labels: tf.Tensor,
  reduction: Reduction = "mean",
): tf.Tensor {
  if (logits.rank !== 2) {
    throw new Error(`logits must be [batch, classes]; got shape [${logits.shape}]`);
  }
  const [batch, classes] = logits.shape;
  return tf.tidy(() => {
    const target = targetDistribution(labels, batch, classes);
    const perExample = tf.neg(tf.sum(tf.mul(target, logSoftmax(logits)), 1)) as tf.Tensor1D;
    return reduceLoss(perExample, reduction);
  });
}
