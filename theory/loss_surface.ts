/**
 * Per-example cross-entropy and its input gradient for any classifier `x [batch, ...] -> logits`
 * (image models and the 2-D toy nets alike). Every quantity of Definition 2 and Proposition 2 is
 * per example: the gradient of the batch-MEAN loss would be each example's gradient / batch, so
 * these use the per-example loss (the gradient of the SUM is the per-example gradient, because
 * examples do not interact in eval mode).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { crossEntropy } from "../losses/cross_entropy.ts";

/** Any classifier from a batch of inputs (any rank >= 2) to logits [batch, classes]. */
export type TensorClassifier<X extends tf.Tensor = tf.Tensor> = (x: X) => tf.Tensor2D;

/**
 * Throws unless `y` holds one int label per example of `x`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { assertLabels } from "./loss_surface.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * assertLabels(tf.zeros([3, 2]), tf.tensor1d([0, 1, 1], "int32")); // ok
 * ```
 */
export function assertLabels(x: tf.Tensor, y: tf.Tensor): void {
  if (x.rank < 2) throw new Error(`x must be [batch, ...]; got shape [${x.shape}]`);
  if (y.rank !== 1 || y.shape[0] !== x.shape[0]) {
    throw new Error(
      `y must be int class ids [${x.shape[0]}] (one per example of x); got shape [${y.shape}]`,
    );
  }
}

/**
 * `CE(f(x_i), y_i)` for each example: [batch]. It is `crossEntropy(model(x), y, "none")` from
 * `losses/cross_entropy.ts`, applied to a model (the form the ascent loops need).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { classifierCrossEntropy } from "./loss_surface.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const f = (x: tf.Tensor) => tf.concat([tf.zerosLike(x), x], 1) as tf.Tensor2D;
 * const ce = classifierCrossEntropy(f, tf.tensor2d([[0], [2]]), tf.tensor1d([0, 1], "int32"));
 * // [log 2, log(1 + e^-2)]
 * ```
 */
export function classifierCrossEntropy<X extends tf.Tensor>(
  model: TensorClassifier<X>,
  x: X,
  y: tf.Tensor,
): tf.Tensor1D {
  return tf.tidy(() => crossEntropy(model(x), y, "none") as tf.Tensor1D);
}

/**
 * `∇_x CE(f(x_i), y_i)` for each example, the shape of x. Taped like any computation, so it
 * stays differentiable in whatever `model` closes over (for double backprop).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { classifierInputGradient } from "./loss_surface.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const f = (x: tf.Tensor) => tf.concat([tf.zerosLike(x), x], 1) as tf.Tensor2D;
 * const g = classifierInputGradient(f, tf.tensor2d([[0]]), tf.tensor1d([1], "int32"));
 * // d/dx softplus(-x) at 0 = -0.5
 * ```
 */
export function classifierInputGradient<X extends tf.Tensor>(
  model: TensorClassifier<X>,
  x: X,
  y: tf.Tensor,
): tf.Tensor {
  return tf.grad((xx: tf.Tensor) => tf.sum(crossEntropy(model(xx as X), y, "none")))(x);
}

/**
 * Per-example dot product over every axis but the first: [batch, ...] x [batch, ...] -> [batch].
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { perExampleDot } from "./loss_surface.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * perExampleDot(tf.tensor2d([[1, 2]]), tf.tensor2d([[3, 4]])); // [11]
 * ```
 */
export function perExampleDot(a: tf.Tensor, b: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.reshape(tf.mul(a, b), [a.shape[0], -1]), 1) as tf.Tensor1D);
}
