/**
 * Per-example losses that attacks maximise or minimise: cross-entropy, the margin
 * `z_y - max_{j != y} z_j`, and Croce & Hein's difference-of-logits ratio (DLR), untargeted and
 * targeted. None of them reads data back from the device (no per-step syncs).
 *
 * The "largest other logit" and the sorted logits that DLR needs are chosen by masks that are
 * held constant under differentiation (as a sort's permutation is), so `tf.topk`, which has no
 * gradient in tfjs, never lies on the gradient path.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { logSoftmax } from "../losses/cross_entropy.ts";

/** Added to DLR denominators (as in the paper) so they are never 0. */
const DLR_TINY = 1e-12;

/**
 * Float one-hot rows [batch, classes] of int labels.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { oneHotRows } from "./losses.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * oneHotRows(tf.tensor1d([1], "int32"), 3); // [[0, 1, 0]]
 * ```
 */
export function oneHotRows(y: tf.Tensor1D, numClasses: number): tf.Tensor2D {
  return tf.tidy(() =>
    tf.cast(tf.oneHot(tf.cast(y, "int32") as tf.Tensor1D, numClasses), "float32") as tf.Tensor2D
  );
}

/**
 * `f(masks)` with a zero gradient: the masks pick entries of the logits, the gradient then flows
 * through the picked logits only, as through a sort with a fixed permutation.
 */
const constantMasks = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const logits = args[0] as tf.Tensor2D;
  const [batch, classes] = logits.shape;
  const k = Math.min(4, classes);
  const { indices } = tf.topk(logits, k);
  // [batch, k, classes]: row r is the one-hot of the r-th largest logit.
  const value = tf.cast(tf.oneHot(indices as tf.Tensor2D, classes), "float32");
  return {
    value: k < 4 ? tf.concat([value, tf.zeros([batch, 4 - k, classes])], 1) : value,
    gradFunc: () => [tf.zeros([batch, classes])],
  };
}) as (logits: tf.Tensor2D) => tf.Tensor3D;

/** The r-th largest logit per example (r = 0 is the largest); masks from {@link constantMasks}. */
function sortedLogit(logits: tf.Tensor2D, masks: tf.Tensor3D, r: number): tf.Tensor1D {
  const [batch, , classes] = masks.shape;
  const m = tf.reshape(tf.slice(masks, [0, r, 0], [batch, 1, classes]), [batch, classes]);
  return tf.sum(tf.mul(logits, m), 1) as tf.Tensor1D;
}

/**
 * Per-example softmax cross-entropy [batch] against one-hot rows (no label checks, no data
 * reads: for attack loops).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { perExampleCrossEntropy, oneHotRows } from "./losses.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * perExampleCrossEntropy(tf.tensor2d([[0, 0]]), oneHotRows(tf.tensor1d([0], "int32"), 2)); // [0.693]
 * ```
 */
export function perExampleCrossEntropy(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(oneHot, logSoftmax(logits)), 1)) as tf.Tensor1D);
}

/**
 * The largest logit other than the true class', per example [batch].
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { largestOtherLogit, oneHotRows } from "./losses.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * largestOtherLogit(tf.tensor2d([[3, 1, 2]]), oneHotRows(tf.tensor1d([0], "int32"), 3)); // [2]
 * ```
 */
export function largestOtherLogit(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    // Push the true logit far below every other one; the max then picks the best other class.
    const spread = tf.add(tf.sub(tf.max(logits), tf.min(logits)), 1);
    return tf.max(tf.sub(logits, tf.mul(oneHot, spread)), 1) as tf.Tensor1D;
  });
}

/**
 * The margin `z_y - max_{j != y} z_j` per example [batch]: > 0 iff the example is classified
 * correctly (ties aside). Square attack minimises it.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { marginLoss, oneHotRows } from "./losses.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * marginLoss(tf.tensor2d([[3, 1, 2]]), oneHotRows(tf.tensor1d([0], "int32"), 3)); // [1]
 * ```
 */
export function marginLoss(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() =>
    tf.sub(tf.sum(tf.mul(logits, oneHot), 1), largestOtherLogit(logits, oneHot)) as tf.Tensor1D
  );
}

/**
 * The difference-of-logits ratio (Croce & Hein 2020), per example, to maximise:
 * `DLR = -(z_y - max_{j != y} z_j) / (z_pi1 - z_pi3 + 1e-12)` with `z_pi1 >= z_pi2 >= ...` the
 * sorted logits. Invariant to shifting and scaling the logits. Needs >= 3 classes.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { dlrLoss, oneHotRows } from "./losses.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * dlrLoss(tf.tensor2d([[3, 1, 2]]), oneHotRows(tf.tensor1d([0], "int32"), 3)); // [-(3-2)/(3-1)] = [-0.5]
 * ```
 */
export function dlrLoss(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Tensor1D {
  if (logits.shape[1] < 3) {
    throw new Error(`the DLR loss needs >= 3 classes; got logits of shape [${logits.shape}]`);
  }
  return tf.tidy(() => {
    const masks = constantMasks(logits);
    const zy = tf.sum(tf.mul(logits, oneHot), 1);
    const num = tf.sub(zy, largestOtherLogit(logits, oneHot));
    const den = tf.add(
      tf.sub(sortedLogit(logits, masks, 0), sortedLogit(logits, masks, 2)),
      DLR_TINY,
    );
    return tf.neg(tf.div(num, den)) as tf.Tensor1D;
  });
}

/**
 * The targeted DLR loss (Croce & Hein 2020), per example, to maximise towards class `t`:
 * `-(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2 + 1e-12)`. Needs >= 4 classes.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { targetedDlrLoss, oneHotRows } from "./losses.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const y = oneHotRows(tf.tensor1d([0], "int32"), 4), t = oneHotRows(tf.tensor1d([1], "int32"), 4);
 * targetedDlrLoss(tf.tensor2d([[4, 3, 2, 0]]), y, t); // [-(4-3)/(4-1)]
 * ```
 */
export function targetedDlrLoss(
  logits: tf.Tensor2D,
  oneHot: tf.Tensor2D,
  targetOneHot: tf.Tensor2D,
): tf.Tensor1D {
  if (logits.shape[1] < 4) {
    throw new Error(
      `the targeted DLR loss needs >= 4 classes; got logits of shape [${logits.shape}]`,
    );
  }
  return tf.tidy(() => {
    const masks = constantMasks(logits);
    const zy = tf.sum(tf.mul(logits, oneHot), 1);
    const zt = tf.sum(tf.mul(logits, targetOneHot), 1);
    const low = tf.mul(0.5, tf.add(sortedLogit(logits, masks, 2), sortedLogit(logits, masks, 3)));
    const den = tf.add(tf.sub(sortedLogit(logits, masks, 0), low), DLR_TINY);
    return tf.neg(tf.div(tf.sub(zy, zt), den)) as tf.Tensor1D;
  });
}

/**
 * Per-example misclassification mask [batch] (bool): `argmax(logits) != y`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { misclassified } from "./losses.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * misclassified(tf.tensor2d([[1, 2], [2, 1]]), tf.tensor1d([0, 0], "int32")); // [true, false]
 * ```
 */
export function misclassified(logits: tf.Tensor2D, y: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => tf.notEqual(tf.argMax(logits, 1), tf.cast(y, "int32")) as tf.Tensor1D);
}
