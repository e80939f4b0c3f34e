/**
 * Perturbation balls for the theory checks: the norm check, dual norms, per-example vector norms
 * (L1 too), seeded uniform sampling of perturbations, projection and one ascent step (sign step
 * for Linf, normalised-gradient step for L2). Norms are spelled as in `attacks/` ({@link Norm})
 * and taken per example over every non-batch axis.
 *
 * Theory perturbations `e` live around 0 (the point is `x + e`), are not clipped to the [0, 1]
 * box, and have any rank >= 2 (the toy nets take [batch, features]); `attacks/geometry.ts` works
 * on images `xAdv` around `x`, clipped to the box. What is the same is reused from there.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { ascentDirection, perExampleNorm } from "../attacks/geometry.ts";
import { type Norm, NORMS } from "../attacks/validate.ts";

/** Vector norms of gradient differences: the perturbation norms and L1 (the dual of Linf). */
export type VectorNorm = "L1" | "L2" | "Linf";

/** Every {@link VectorNorm}. */
export const VECTOR_NORMS: readonly VectorNorm[] = ["L1", "L2", "Linf"];

/**
 * Throws unless `norm` is a perturbation norm (one of `NORMS`: "Linf", "L2"), naming the allowed
 * values.
 *
 * @example
 * ```ts
 * import { assertNorm } from "./ball.ts";
 * assertNorm("Linf"); // ok; "L1" would throw "unknown norm 'L1': allowed are 'Linf', 'L2'"
 * ```
 */
export function assertNorm(norm: string): asserts norm is Norm {
  if (!(NORMS as readonly string[]).includes(norm)) {
    throw new Error(`unknown norm '${norm}': allowed are ${NORMS.map((n) => `'${n}'`).join(", ")}`);
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
 * dualNorm("Linf"); // "L1"
 * ```
 */
export function dualNorm(norm: Norm): VectorNorm {
  return norm === "Linf" ? "L1" : "L2";
}

/**
 * Per-example vector norm over every axis but the first: [batch, ...] -> [batch]. Linf and L2
 * are `attacks/geometry.ts`'s `perExampleNorm`; L1 is added here.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { perExampleVectorNorm } from "./ball.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const n = perExampleVectorNorm(tf.tensor2d([[3, -4]]), "L1"); // [7]
 * ```
 */
export function perExampleVectorNorm(t: tf.Tensor, norm: VectorNorm): tf.Tensor1D {
  switch (norm) {
    case "L1":
      return tf.tidy(() => tf.sum(tf.abs(tf.reshape(t, [t.shape[0], -1])), 1) as tf.Tensor1D);
    case "L2":
    case "Linf":
      return perExampleNorm(t, norm);
    default:
      throw new Error(
        `unknown vector norm '${norm}': allowed are ${
          VECTOR_NORMS.map((n) => `'${n}'`).join(", ")
        }`,
      );
  }
}

/**
 * A standard normal sample from a uniform generator (Box-Muller), for plain-JS seeded sampling.
 *
 * @example
 * ```ts
 * import { seededRandom } from "../util/rng.ts";
 * import { gaussianSample } from "./ball.ts";
 * const z = gaussianSample(seededRandom(0)); // ~ N(0, 1)
 * ```
 */
export function gaussianSample(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/**
 * Perturbations `e` drawn uniformly from the ball of radius `delta` around 0 (per example),
 * seeded by a JS generator.
 *
 * Not `attacks/geometry.ts`'s `randomInBall`: that one returns points around `x` clipped to
 * [0, 1], takes rank-4 images only and draws from tfjs' seeded ops, not from `rand`.
 *
 * @example
 * ```ts
 * import { seededRandom } from "../util/rng.ts";
 * import { randomPerturbation } from "./ball.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const e = randomPerturbation([4, 2], "Linf", 0.1, seededRandom(0)); // entries in [-0.1, 0.1]
 * ```
 */
export function randomPerturbation(
  shape: number[],
  norm: Norm,
  delta: number,
  rand: () => number,
): tf.Tensor {
  const batch = shape[0];
  const dim = shape.slice(1).reduce((a, b) => a * b, 1);
  const values = new Float32Array(batch * dim);
  for (let b = 0; b < batch; b++) {
    if (norm === "Linf") {
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
 * Euclidean projection of per-example perturbations `e` onto the ball of radius `delta` around
 * 0. Unlike `attacks/geometry.ts`'s `projectToBall` (around `x`, then clipped to [0, 1]), there
 * is no box: theory inputs are not images.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { projectPerturbation } from "./ball.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const p = projectPerturbation(tf.tensor2d([[3, 4]]), "L2", 1); // [[0.6, 0.8]]
 * ```
 */
export function projectPerturbation(e: tf.Tensor, norm: Norm, delta: number): tf.Tensor {
  return tf.tidy(() => {
    if (norm === "Linf") return tf.clipByValue(e, -delta, delta);
    const n = perExampleNorm(e, "L2");
    const factor = tf.minimum(1, tf.div(delta, tf.maximum(n, 1e-12)));
    const shape = [e.shape[0], ...e.shape.slice(1).map(() => 1)];
    return tf.mul(e, tf.reshape(factor, shape));
  });
}

/**
 * One projected ascent step `project(e + step * direction(grad))` with `attacks/geometry.ts`'s
 * `ascentDirection`: the sign of the gradient for Linf (steepest ascent for that norm), the
 * L2-normalised gradient for L2.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { ascentStep } from "./ball.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const e = ascentStep(tf.tensor2d([[0, 0]]), tf.tensor2d([[2, -1]]), "Linf", 0.1, 0.05);
 * // [[0.05, -0.05]]
 * ```
 */
export function ascentStep(
  e: tf.Tensor,
  grad: tf.Tensor,
  norm: Norm,
  delta: number,
  step: number,
): tf.Tensor {
  return tf.tidy(() => {
    // ascentDirection takes [batch, h, w, c]; its norms are over all non-batch axes, so any
    // [batch, ...] gradient can go through as [batch, D, 1, 1].
    const dim = grad.shape.slice(1).reduce((a, b) => a * b, 1);
    const asImage = tf.reshape(grad, [grad.shape[0], dim, 1, 1]) as tf.Tensor4D;
    const direction = tf.reshape(ascentDirection(asImage, norm), grad.shape);
    return projectPerturbation(tf.add(e, tf.mul(direction, step)), norm, delta);
  });
}
