/**
 * Classifiers whose robustness is known in closed form, to check attacks against: a linear
 * classifier `logits = flatten(x) W + b`, the exact minimal Linf/L2 distance of each input to a
 * misclassification (without and with the [0, 1] box), and the robust accuracy these imply.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Classifier } from "../models/types.ts";
import { projectOntoHyperplaneInBox } from "./hyperplane.ts";
import type { Norm } from "./validate.ts";

/**
 * The linear classifier `logits = flatten(x) . weights + bias`.
 *
 * @param weights [features, classes] with features = h * w * c
 * @param bias [classes]
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { linearClassifier } from "./reference_models.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const model = linearClassifier(tf.ones([4, 2]) as tf.Tensor2D, tf.tensor1d([0, 1]));
 * const logits = model(tf.fill([1, 2, 2, 1], 0.5) as tf.Tensor4D); // [[2, 3]]
 * ```
 */
export function linearClassifier(weights: tf.Tensor2D, bias: tf.Tensor1D): Classifier {
  if (weights.rank !== 2 || bias.rank !== 1 || bias.shape[0] !== weights.shape[1]) {
    throw new Error(
      `weights must be [features, classes] and bias [classes]; got [${weights.shape}] and [${bias.shape}]`,
    );
  }
  return (x: tf.Tensor4D) =>
    tf.tidy(() => {
      const flat = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
      if (flat.shape[1] !== weights.shape[0]) {
        throw new Error(
          `input has ${flat.shape[1]} features but weights expect ${weights.shape[0]}`,
        );
      }
      return tf.add(tf.matMul(flat, weights), bias) as tf.Tensor2D;
    });
}

/**
 * Exact minimal perturbation norm that makes a linear classifier misclassify each input:
 * `min_{j != y} (z_y - z_j) / ||w_y - w_j||_q` with q = 1 for Linf and q = 2 for L2 (the dual
 * norms), 0 where the input is already misclassified. `inBox: true` adds the constraint that the
 * perturbed input stays in [0, 1] (then the answer is the minimal-norm step onto each boundary
 * hyperplane inside the box, `Infinity` where the box cannot reach it).
 *
 * @param weights [features, classes]
 * @param bias [classes]
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { linearMinimalDistances } from "./reference_models.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * // logits (x1 - x2, 0): margin 0.2 at x = (0.6, 0.4); Linf distance 0.2 / ||(1,-1)||_1 = 0.1
 * const w = tf.tensor2d([[1, 0], [-1, 0]]);
 * linearMinimalDistances(w, tf.tensor1d([0, 0]), tf.tensor4d([0.6, 0.4], [1, 1, 2, 1]), new Int32Array([0]), "Linf");
 * ```
 */
export function linearMinimalDistances(
  weights: tf.Tensor2D,
  bias: tf.Tensor1D,
  x: tf.Tensor4D,
  labels: Int32Array,
  norm: Norm,
  options: { inBox?: boolean } = {},
): Float64Array {
  const [features, classes] = weights.shape;
  const batch = x.shape[0];
  if (x.size !== batch * features) {
    throw new Error(`x has ${x.size / batch} features per example; weights expect ${features}`);
  }
  const W = weights.dataSync();
  const b = bias.dataSync();
  const data = x.dataSync();
  const out = new Float64Array(batch);
  const diff = new Float64Array(features);
  for (let e = 0; e < batch; e++) {
    const xe = data.subarray(e * features, (e + 1) * features);
    const y = labels[e];
    const z = new Float64Array(classes);
    for (let k = 0; k < classes; k++) {
      let acc = b[k];
      for (let i = 0; i < features; i++) acc += xe[i] * W[i * classes + k];
      z[k] = acc;
    }
    let best = Infinity;
    for (let j = 0; j < classes; j++) {
      if (j === y) continue;
      const margin = z[y] - z[j];
      if (margin <= 0) {
        best = 0;
        break;
      }
      // Move along w_j - w_y until z_j - z_y rises by `margin`.
      for (let i = 0; i < features; i++) diff[i] = W[i * classes + j] - W[i * classes + y];
      let dist: number;
      if (options.inBox) {
        const { step, feasible } = projectOntoHyperplaneInBox(xe, diff, margin, norm);
        if (!feasible) continue;
        dist = 0;
        for (let i = 0; i < features; i++) {
          dist = norm === "Linf" ? Math.max(dist, Math.abs(step[i])) : dist + step[i] * step[i];
        }
        if (norm === "L2") dist = Math.sqrt(dist);
      } else {
        let dual = 0;
        for (let i = 0; i < features; i++) {
          dual = norm === "Linf" ? dual + Math.abs(diff[i]) : dual + diff[i] * diff[i];
        }
        dist = margin / (norm === "Linf" ? dual : Math.sqrt(dual));
      }
      best = Math.min(best, dist);
    }
    out[e] = best;
  }
  return out;
}

/**
 * The robust accuracy that exact minimal distances imply at radius `eps`: the fraction of inputs
 * whose distance exceeds `eps`.
 *
 * @example
 * ```ts
 * import { robustAccuracyFromDistances } from "./reference_models.ts";
 * robustAccuracyFromDistances(new Float64Array([0, 0.1, 0.3]), 0.2); // 1/3
 * ```
 */
export function robustAccuracyFromDistances(distances: ArrayLike<number>, eps: number): number {
  if (distances.length === 0) return NaN;
  let robust = 0;
  for (let i = 0; i < distances.length; i++) if (distances[i] > eps) robust++;
  return robust / distances.length;
}
