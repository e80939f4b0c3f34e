/**
 * Tiny models with known robustness for the attack tests (8x8x1 inputs).
 * - a linear classifier,
 * - a ReLU network that is linear on the whole [0, 1] box (every hidden unit is either always
 *   on or always off there), with its effective linear weights,
 * - a gradient-masked linear classifier (hard rounding of the input: zero gradient).
 * Exact minimal distances come from `linearMinimalDistances` (closed form
 * `margin / ||w_y - w_j||_dual`), which tests/attacks_reference_test.ts checks by hand.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Classifier } from "../models/types.ts";
import { linearClassifier, linearMinimalDistances } from "../attacks/reference_models.ts";
import { ballViolation } from "../attacks/geometry.ts";
import type { Norm } from "../attacks/validate.ts";
import assert from "node:assert";

export const SIDE = 8;
export const FEATURES = SIDE * SIDE;

/** A model with its effective linear weights (for the closed-form distances). */
export interface Fixture {
  model: Classifier;
  weights: tf.Tensor2D;
  bias: tf.Tensor1D;
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  labels: Int32Array;
  classes: number;
  /** Exact minimal distances (the box does not bind: asserted). */
  distances: Record<Norm, Float64Array>;
}

/** Inputs uniform in [0.35, 0.65]: far enough from the box edges that it does not bind. */
export function inputs(batch: number, seed: number): tf.Tensor4D {
  return tf.randomUniform([batch, SIDE, SIDE, 1], 0.35, 0.65, "float32", seed) as tf.Tensor4D;
}

function finish(
  model: Classifier,
  weights: tf.Tensor2D,
  bias: tf.Tensor1D,
  x: tf.Tensor4D,
  classes: number,
): Fixture {
  // Labels are the clean predictions, so every example starts correctly classified.
  const y = tf.tidy(() => tf.cast(tf.argMax(model(x), 1), "int32")) as tf.Tensor1D;
  const labels = y.dataSync() as Int32Array;
  const distances = {} as Record<Norm, Float64Array>;
  for (const norm of ["Linf", "L2"] as const) {
    const free = linearMinimalDistances(weights, bias, x, labels, norm);
    const boxed = linearMinimalDistances(weights, bias, x, labels, norm, { inBox: true });
    free.forEach((d, i) =>
      assert.ok(Math.abs(d - boxed[i]) <= 1e-9 * Math.max(1, d), `box binds at ${i}`)
    );
    distances[norm] = free;
  }
  return { model, weights, bias, x, y, labels, classes, distances };
}

/** logits = flatten(x) W + b with W ~ N(0, 1). */
export function linearFixture(classes: number, batch: number, seed: number): Fixture {
  const weights = tf.randomNormal([FEATURES, classes], 0, 1, "float32", seed) as tf.Tensor2D;
  const bias = tf.randomNormal([classes], 0, 0.5, "float32", seed + 1) as tf.Tensor1D;
  const x = inputs(batch, seed + 2);
  // Centre the logits so classes are balanced on these inputs.
  const centred = tf.tidy(() =>
    tf.sub(bias, tf.mean(tf.matMul(tf.reshape(x, [batch, FEATURES]), weights), 0))
  ) as tf.Tensor1D;
  bias.dispose();
  return finish(linearClassifier(weights, centred), weights, centred, x, classes);
}

/**
 * relu(x W1 + b1) W2 + b2 with 16 hidden units; b1 puts half of them always on and half always
 * off on [0, 1]^64 (|x . w1_k| <= ||w1_k||_1 there), so on the box the net equals the linear
 * map with weights W1[:, on] W2[on, :] and bias b1[on] W2[on, :] + b2.
 */
export function reluFixture(classes: number, batch: number, seed: number): Fixture {
  const hidden = 16;
  const w1 = tf.randomNormal([FEATURES, hidden], 0, 0.3, "float32", seed) as tf.Tensor2D;
  const w2 = tf.randomNormal([hidden, classes], 0, 1, "float32", seed + 1) as tf.Tensor2D;
  const x = inputs(batch, seed + 2);
  const l1 = tf.sum(tf.abs(w1), 0).dataSync();
  const on = Array.from({ length: hidden }, (_, k) => k % 2 === 0);
  const b1 = tf.tensor1d(Array.from(l1, (v, k) => (on[k] ? v + 0.5 : -(v + 0.5))));
  const onMask = tf.tensor1d(on.map((o) => (o ? 1 : 0)));
  const weights = tf.tidy(() => tf.matMul(tf.mul(w1, onMask), w2)) as tf.Tensor2D;
  // Effective bias: centre the logits on these inputs; b2 makes the net match it.
  const bias = tf.tidy(() =>
    tf.neg(tf.mean(tf.matMul(tf.reshape(x, [batch, FEATURES]), weights), 0))
  ) as tf.Tensor1D;
  const b2 = tf.tidy(() =>
    tf.sub(bias, tf.squeeze(tf.matMul(tf.reshape(tf.mul(b1, onMask), [1, hidden]), w2)))
  ) as tf.Tensor1D;
  const model: Classifier = (xa) =>
    tf.tidy(() =>
      tf.add(
        tf.matMul(tf.relu(tf.add(tf.matMul(tf.reshape(xa, [xa.shape[0], FEATURES]), w1), b1)), w2),
        b2,
      ) as tf.Tensor2D
    );
  return finish(model, weights, bias, x, classes);
}

/**
 * A linear classifier behind a hard rounding of the input to multiples of 1/levels: its input
 * gradient is exactly zero everywhere (gradient masking), its decisions nearly those of the
 * linear model.
 */
export function maskedFixture(
  classes: number,
  batch: number,
  seed: number,
  levels = 1000,
): Fixture {
  const lin = linearFixture(classes, batch, seed);
  const model: Classifier = (xa) =>
    lin.model(tf.tidy(() => tf.div(tf.round(tf.mul(xa, levels)), levels)) as tf.Tensor4D);
  const y = tf.tidy(() => tf.cast(tf.argMax(model(lin.x), 1), "int32")) as tf.Tensor1D;
  return { ...lin, model, y, labels: y.dataSync() as Int32Array };
}

/** Number of examples `model` classifies correctly on `xAdv`. */
export function correctCount(model: Classifier, xAdv: tf.Tensor4D, y: tf.Tensor1D): number {
  return tf.tidy(() =>
    tf.sum(tf.cast(tf.equal(tf.argMax(model(xAdv), 1), tf.cast(y, "int32")), "int32")).dataSync()[0]
  );
}

/** Number of exact distances above eps: the exact robust count. */
export function exactRobustCount(distances: Float64Array, eps: number): number {
  return distances.filter((d) => d > eps).length;
}

/**
 * Radii in the middle of the widest (relative) gap between consecutive sorted distances near
 * each quantile, so that the exact robust count is unambiguous: no distance lies within float
 * noise, or within FAB's small overshoot, of a radius.
 */
export function radiiBetween(distances: Float64Array, quantiles: number[]): number[] {
  const s = Array.from(distances).filter((d) => Number.isFinite(d) && d > 0).sort((a, b) => a - b);
  return quantiles.map((q) => {
    const centre = Math.min(Math.max(Math.floor(q * s.length), 0), s.length - 2);
    let best = centre;
    for (let i = Math.max(centre - 3, 0); i <= Math.min(centre + 3, s.length - 2); i++) {
      if ((s[i + 1] - s[i]) / s[i] > (s[best + 1] - s[best]) / s[best]) best = i;
    }
    return (s[best] + s[best + 1]) / 2;
  });
}

/** Asserts `xAdv` is inside the eps-ball around x and inside [0, 1] (float slack 1e-5). */
export function assertInBall(
  xAdv: tf.Tensor4D,
  x: tf.Tensor4D,
  eps: number,
  norm: Norm,
  what: string,
): void {
  const v = ballViolation(xAdv, x, eps, norm);
  assert.ok(
    v.outsideBall <= 1e-5 * Math.max(1, eps),
    `${what}: ${norm} norm ${v.maxNorm} exceeds eps ${eps}`,
  );
  assert.ok(v.outsideBox <= 0, `${what}: values outside [0, 1] by ${v.outsideBox}`);
}
