/**
 * Perturbation balls for the theory checks: which norms are allowed, their dual norms, seeded
 * uniform sampling in a ball, projection onto it and one ascent step (sign step for Linf,
 * normalised-gradient step for L2). Norms are taken per example over every non-batch axis.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** The perturbation norms the theory functions accept. */
export const PERTURBATION_NORMS = ["linf", "l2"] as const;
/** One of {@link PERTURBATION_NORMS}. */
export type PerturbationNorm = typeof PERTURBATION_NORMS[number];
/** Vector norms used for reporting gradient differences. */
export type VectorNorm = "l1" | "l2" | "linf";

/**
 * Throws unless `norm` is a perturbation norm, naming the allowed values.
 *
 * @example
 * ```ts
 * import { assertPerturbationNorm } from "./ball.ts";
 * assertPerturbationNorm("linf"); // ok; "l1" would throw
 * ```
 */
export function assertPerturbationNorm(norm: string): asserts norm is PerturbationNorm {
  if (!(PERTURBATION_NORMS as readonly string[]).includes(norm)) {
    throw new Error(`unknown norm '${norm}': allowed are ${PERTURBATION_NORMS.join(", ")}`);
  }
}

/**
 * Throws unless `delta` is a finite number > 0.
 *
 * @example
 * ```ts
 * import { assertRadius } from "./ball.ts";
 * assertRadius(0.1); // ok; 0 or -1 would throw
 * ```
 */
export function assertRadius(delta: number, name = "delta"): void {
  if (typeof delta !== "number" || !Number.isFinite(delta) || delta <= 0) {
    throw new Error(`${name} must be a finite number > 0; got ${delta}`);
  }
}

/**
 * The dual norm of a perturbation norm: `sup_{||e|| <= 1} e·v = ||v||_*`. Hölder's inequality
 * `|e·v| <= ||e|| ||v||_*` is what Proposition 2's gradient term rests on, so an Linf ball pairs
 * with the L1 norm of the gradient difference and an L2 ball with L2.
 *
 * @example
 * ```ts
 * import { dualNorm } from "./ball.ts";
 * dualNorm("linf"); // "l1"
 * ```
 */
export function dualNorm(norm: PerturbationNorm): VectorNorm {
  return norm === "linf" ? "l1" : "l2";
}

/**
 * Per-example vector norm over every axis but the first: [batch, ...] -> [batch].
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { perExampleNorm } from "./ball.ts";
 * const n = perExampleNorm(tf.tensor2d([[3, -4]]), "l1"); // [7]
 * ```
 */
export function perExampleNorm(t: tf.Tensor, norm: VectorNorm): tf.Tensor1D {
  return tf.tidy(() => {
    const flat = tf.reshape(t, [t.shape[0], -1]);
    switch (norm) {
      case "l1":
        return tf.sum(tf.abs(flat), 1) as tf.Tensor1D;
      case "l2":
        return tf.sqrt(tf.sum(tf.square(flat), 1)) as tf.Tensor1D;
      case "linf":
        return tf.max(tf.abs(flat), 1) as tf.Tensor1D;
      default:
        throw new Error(`unknown vector norm '${norm}': allowed are l1, l2, linf`);
    }
  });
}

/** A standard normal sample from a uniform generator (Box-Muller). */
export function gaussianSample(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * Points drawn uniformly from the ball of radius `delta` (per example), seeded.
 *
 * @example
 * ```ts
 * import { seededRandom } from "../util/rng.ts";
 * import { randomInBall } from "./ball.ts";
 * const e = randomInBall([4, 2], "linf", 0.1, seededRandom(0)); // entries in [-0.1, 0.1]
 * ```
 */
export function randomInBall(
  shape: number[],
  norm: PerturbationNorm,
  delta: number,
  rand: () => number,
): tf.Tensor {
  const batch = shape[0];
  const dim = shape.slice(1).reduce((a, b) => a * b, 1);
  const values = new Float32Array(batch * dim);
  for (let b = 0; b < batch; b++) {
    if (norm === "linf") {
      for (let i = 0; i < dim; i++) values[b * dim + i] = (2 * rand() - 1) * delta;
    } else {
      let sq = 0;
      const g = new Float64Array(dim);
      for (let i = 0; i < dim; i++) {
        g[i] = gaussianSample(rand);
        sq += g[i] * g[i];
      }
      // Radius delta * U^(1/D) makes the point uniform in the L2 ball.
      const r = delta * Math.pow(rand(), 1 / dim) / Math.max(Math.sqrt(sq), 1e-12);
      for (let i = 0; i < dim; i++) values[b * dim + i] = g[i] * r;
    }
  }
  return tf.tensor(values, shape, "float32");
}

/**
 * Euclidean projection of per-example perturbations onto the ball of radius `delta`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { projectToBall } from "./ball.ts";
 * const p = projectToBall(tf.tensor2d([[3, 4]]), "l2", 1); // [[0.6, 0.8]]
 * ```
 */
export function projectToBall(e: tf.Tensor, norm: PerturbationNorm, delta: number): tf.Tensor {
  return tf.tidy(() => {
    if (norm === "linf") return tf.clipByValue(e, -delta, delta);
    const n = perExampleNorm(e, "l2");
    const factor = tf.minimum(1, tf.div(delta, tf.maximum(n, 1e-12)));
    const shape = [e.shape[0], ...e.shape.slice(1).map(() => 1)];
    return tf.mul(e, tf.reshape(factor, shape));
  });
}

/**
 * One projected ascent step `project(e + step * direction(grad))`: the sign of the gradient for
 * Linf (steepest ascent for that norm), the L2-normalised gradient for L2.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { ascentStep } from "./ball.ts";
 * const e = ascentStep(tf.tensor2d([[0, 0]]), tf.tensor2d([[2, -1]]), "linf", 0.1, 0.05);
 * // [[0.05, -0.05]]
 * ```
 */
export function ascentStep(
  e: tf.Tensor,
  grad: tf.Tensor,
  norm: PerturbationNorm,
  delta: number,
  step: number,
): tf.Tensor {
  return tf.tidy(() => {
    let direction: tf.Tensor;
    if (norm === "linf") {
      direction = tf.sign(grad);
    } else {
      const n = perExampleNorm(grad, "l2");
      const shape = [grad.shape[0], ...grad.shape.slice(1).map(() => 1)];
      direction = tf.div(grad, tf.reshape(tf.maximum(n, 1e-12), shape));
    }
    return projectToBall(tf.add(e, tf.mul(direction, step)), norm, delta);
  });
}
