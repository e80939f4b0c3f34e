/**
 * Geometry of the threat balls: per-example norms, projection onto the eps-ball intersected with
 * the [0, 1] box, steepest-ascent directions and random starting points.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Norm } from "./validate.ts";

/** Guards divisions by a norm that may be 0 (a zero gradient or a zero perturbation). */
const TINY = 1e-12;

/**
 * Reshapes a per-example vector [batch] so it broadcasts against [batch, h, w, c].
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { perExample } from "./geometry.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * perExample(tf.tensor1d([1, 2])).shape; // [2, 1, 1, 1]
 * ```
 */
export function perExample(v: tf.Tensor1D): tf.Tensor4D {
  return tf.reshape(v, [v.shape[0], 1, 1, 1]);
}

/**
 * The per-example norm of `d` ([batch, ...]) over all non-batch axes: `max|d|` for Linf,
 * `sqrt(sum d^2)` for L2.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { perExampleNorm } from "./geometry.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * perExampleNorm(tf.tensor4d([3, -4], [1, 1, 2, 1]), "L2"); // [5]
 * ```
 */
export function perExampleNorm(d: tf.Tensor, norm: Norm): tf.Tensor1D {
  return tf.tidy(() => {
    const flat = tf.reshape(d, [d.shape[0], -1]);
    return (norm === "Linf"
      ? tf.max(tf.abs(flat), 1)
      : tf.sqrt(tf.sum(tf.square(flat), 1))) as tf.Tensor1D;
  });
}

/**
 * Projects `xAdv` onto the `eps`-ball around `x` and then clips it to [0, 1]. Clipping after the
 * projection cannot leave the ball: it only moves each coordinate towards `x`'s (which is in the
 * box), so every norm of the perturbation shrinks.
 *
 * @param eps a number, or a per-example [batch] tensor
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { projectToBall } from "./geometry.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const x = tf.fill([1, 1, 1, 1], 0.5) as tf.Tensor4D;
 * projectToBall(tf.fill([1, 1, 1, 1], 0.9) as tf.Tensor4D, x, 0.1, "Linf"); // 0.6
 * ```
 */
export function projectToBall(
  xAdv: tf.Tensor4D,
  x: tf.Tensor4D,
  eps: number | tf.Tensor1D,
  norm: Norm,
): tf.Tensor4D {
  return tf.tidy(() => {
    const e = typeof eps === "number" ? tf.scalar(eps) : perExample(eps);
    const d = tf.sub(xAdv, x);
    let inBall: tf.Tensor;
    if (norm === "Linf") {
      inBall = tf.minimum(tf.maximum(d, tf.neg(e)), e);
    } else {
      const n = perExample(perExampleNorm(d, "L2"));
      inBall = tf.mul(d, tf.minimum(1, tf.div(e, tf.add(n, TINY))));
    }
    return tf.clipByValue(tf.add(x, inBall), 0, 1) as tf.Tensor4D;
  });
}

/** The Linf ball intersected with the box, as per-coordinate bounds (see {@link clipToBounds}). */
export interface BoxBounds {
  lo: tf.Tensor4D;
  hi: tf.Tensor4D;
}

/**
 * Per-coordinate bounds `max(x - eps, 0)` and `min(x + eps, 1)` of the Linf ball in the box:
 * computed once per attack, they make each Linf projection two ops.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { linfBounds, clipToBounds } from "./geometry.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const b = linfBounds(tf.fill([1, 1, 1, 1], 0.95) as tf.Tensor4D, 0.1); // lo 0.85, hi 1
 * clipToBounds(tf.fill([1, 1, 1, 1], 2) as tf.Tensor4D, b); // 1
 * ```
 */
export function linfBounds(x: tf.Tensor4D, eps: number): BoxBounds {
  return tf.tidy(() => ({
    lo: tf.maximum(tf.sub(x, eps), 0) as tf.Tensor4D,
    hi: tf.minimum(tf.add(x, eps), 1) as tf.Tensor4D,
  }));
}

/**
 * `xAdv` clipped to per-coordinate bounds: the Linf projection onto the ball and the box.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { linfBounds, clipToBounds } from "./geometry.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const x = tf.fill([1, 1, 1, 1], 0.5) as tf.Tensor4D;
 * clipToBounds(tf.fill([1, 1, 1, 1], 0.9) as tf.Tensor4D, linfBounds(x, 0.1)); // 0.6
 * ```
 */
export function clipToBounds(xAdv: tf.Tensor4D, bounds: BoxBounds): tf.Tensor4D {
  return tf.tidy(() => tf.minimum(tf.maximum(xAdv, bounds.lo), bounds.hi) as tf.Tensor4D);
}

/**
 * The steepest-ascent direction of unit norm for a gradient: `sign(g)` for Linf, `g / ||g||_2`
 * for L2 (0 where the gradient is 0).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { ascentDirection } from "./geometry.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * ascentDirection(tf.tensor4d([3, -4], [1, 1, 2, 1]), "L2"); // [0.6, -0.8]
 * ```
 */
export function ascentDirection(grad: tf.Tensor4D, norm: Norm): tf.Tensor4D {
  return tf.tidy(() => {
    if (norm === "Linf") return tf.sign(grad) as tf.Tensor4D;
    return tf.div(grad, tf.add(perExample(perExampleNorm(grad, "L2")), TINY)) as tf.Tensor4D;
  });
}

/**
 * A random point of the `eps`-ball around `x` (uniform in the Linf cube; uniform in the L2
 * ball), clipped to [0, 1]. Deterministic in `seed`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { randomInBall } from "./geometry.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const x0 = randomInBall(tf.fill([2, 4, 4, 1], 0.5) as tf.Tensor4D, 0.1, "Linf", 7);
 * ```
 */
export function randomInBall(x: tf.Tensor4D, eps: number, norm: Norm, seed: number): tf.Tensor4D {
  return tf.tidy(() => {
    if (norm === "Linf") {
      return tf.clipByValue(
        tf.add(x, tf.randomUniform(x.shape, -eps, eps, "float32", seed)),
        0,
        1,
      ) as tf.Tensor4D;
    }
    const dims = x.size / x.shape[0];
    const g = tf.randomNormal(x.shape, 0, 1, "float32", seed) as tf.Tensor4D;
    const dir = ascentDirection(g, "L2");
    // Radius eps * u^(1/d) makes the point uniform in the ball, not crowded at its centre.
    const u = tf.randomUniform([x.shape[0]], 0, 1, "float32", seed + 1) as tf.Tensor1D;
    const r = tf.mul(eps, tf.pow(u, 1 / dims)) as tf.Tensor1D;
    return tf.clipByValue(tf.add(x, tf.mul(dir, perExample(r))), 0, 1) as tf.Tensor4D;
  });
}

/** How far a batch of adversarial inputs strays outside the eps-ball and the [0, 1] box. */
export interface BallViolation {
  /** max over examples of `max(0, ||xAdv - x|| - eps)`. */
  outsideBall: number;
  /** max over values of the distance to [0, 1] (0 if all values are in the box). */
  outsideBox: number;
  /** The largest per-example perturbation norm. */
  maxNorm: number;
}

/**
 * Measures how far `xAdv` strays outside the `eps`-ball around `x` and outside [0, 1] (one data
 * read). Used to check attacks' outputs.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { ballViolation } from "./geometry.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const x = tf.fill([1, 2, 2, 1], 0.5) as tf.Tensor4D;
 * ballViolation(tf.fill([1, 2, 2, 1], 0.7) as tf.Tensor4D, x, 0.1, "Linf").outsideBall; // 0.1
 * ```
 */
export function ballViolation(
  xAdv: tf.Tensor4D,
  x: tf.Tensor4D,
  eps: number,
  norm: Norm,
): BallViolation {
  if (xAdv.shape.join(",") !== x.shape.join(",")) {
    throw new Error(
      `adversarial inputs have shape [${xAdv.shape}] but inputs have shape [${x.shape}]`,
    );
  }
  if (x.shape[0] === 0) return { outsideBall: 0, outsideBox: 0, maxNorm: 0 };
  const stats = tf.tidy(() =>
    tf.stack([
      tf.max(perExampleNorm(tf.sub(xAdv, x), norm)),
      tf.neg(tf.min(xAdv)),
      tf.sub(tf.max(xAdv), 1),
    ])
  );
  const [maxNorm, below, above] = stats.dataSync() as Float32Array;
  stats.dispose();
  return {
    outsideBall: Math.max(0, maxNorm - eps),
    outsideBox: Math.max(0, below, above),
    maxNorm,
  };
}
