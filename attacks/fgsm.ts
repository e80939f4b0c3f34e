/**
 * The fast gradient sign method (Goodfellow et al. 2015) and its L2 analogue.
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { Classifier } from "../models/types.ts";
import { pgd, type PgdOptions } from "./pgd.ts";

/**
 * One gradient step of size `eps` on the loss: `x + eps * sign(grad)` (Linf) or
 * `x + eps * grad / ||grad||_2` (L2), clipped to [0, 1]. It is {@link pgd} with `steps: 1`,
 * `stepSize: eps`, no random start (each may be overridden, e.g. `randomStart: true` for
 * R+FGSM-style starts), so it keeps the clean input for examples already misclassified.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { fgsm } from "./fgsm.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const model = (x: tf.Tensor4D) => tf.reshape(x, [x.shape[0], 2]) as tf.Tensor2D;
 * const xAdv = fgsm(model, tf.tensor4d([0.6, 0.4], [1, 1, 2, 1]), tf.tensor1d([0], "int32"), { eps: 0.1 });
 * // [[0.5, 0.5]]: the step lowers logit 0 and raises logit 1
 * ```
 */
export function fgsm(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  opts: PgdOptions,
): tf.Tensor4D {
  return pgd(model, x, y, {
    steps: 1,
    stepSize: opts.eps > 0 ? opts.eps : undefined,
    randomStart: false,
    ...opts,
  });
}
