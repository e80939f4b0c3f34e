/**
 * Stochastic gradient descent with momentum and weight decay, with PyTorch's `torch.optim.SGD`
 * semantics (dampening 0, no Nesterov), as a pure function of named tensors.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NamedTensors } from "../models/types.ts";
import { checkNonNegative } from "../losses/options.ts";

/** Options of {@link sgdUpdate}. */
export interface SgdOptions {
  /** Learning rate, > 0. */
  lr: number;
  /** Momentum μ in [0, 1) (default 0.9). */
  momentum?: number;
  /** L2 weight decay added to the gradient (default 0). */
  weightDecay?: number;
}

/** New parameters and momentum buffers after one step. */
export interface SgdResult {
  params: NamedTensors;
  momentum: NamedTensors;
}

/**
 * One SGD step, as `torch.optim.SGD`:
 * `g ← g + weightDecay · p`, `v ← μ v + g`, `p ← p - lr · v`. Buffers absent from `momentum`
 * start at zero (PyTorch's first step sets `v = g`, the same). Returns new tensors; the caller
 * disposes the old ones. Every parameter needs a gradient.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { sgdUpdate } from "./sgd.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const { params, momentum } = sgdUpdate({ w: tf.tensor1d([1]) }, { w: tf.tensor1d([0.5]) }, {}, { lr: 0.1 });
 * // w = 1 - 0.1 * 0.5 = 0.95, momentum.w = 0.5
 * ```
 */
export function sgdUpdate(
  params: NamedTensors,
  grads: NamedTensors,
  momentum: NamedTensors,
  options: SgdOptions,
): SgdResult {
  const mu = options.momentum ?? 0.9;
  const wd = options.weightDecay ?? 0;
  if (typeof options.lr !== "number" || !Number.isFinite(options.lr) || options.lr <= 0) {
    throw new Error(`lr must be a finite number > 0; got ${options.lr}`);
  }
  if (!(mu >= 0 && mu < 1)) throw new Error(`momentum must be in [0, 1); got ${mu}`);
  checkNonNegative("weightDecay", wd);
  for (const name of Object.keys(params)) {
    if (!(name in grads)) throw new Error(`no gradient for parameter '${name}'`);
  }
  return tf.tidy(() => {
    const newParams: NamedTensors = {};
    const newMomentum: NamedTensors = {};
    for (const [name, p] of Object.entries(params)) {
      const g = wd > 0 ? tf.add(grads[name], tf.mul(p, wd)) : grads[name];
      const v = momentum[name] && mu > 0 ? tf.add(tf.mul(momentum[name], mu), g) : tf.clone(g);
      newMomentum[name] = v;
      newParams[name] = tf.sub(p, tf.mul(v, options.lr));
    }
    return { params: newParams, momentum: newMomentum };
  });
}
