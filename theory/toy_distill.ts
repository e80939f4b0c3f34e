/**
 * A minimal KDIGA distillation of toy MLPs on a handful of points, for the check of
 * Proposition 1. It is NOT the package's KDIGA loss (`losses/kdiga.ts`); it is the smallest
 * objective the check needs, on 2-D tensors:
 * `λ_CE CE(f_s(x), y) + λ_KL T² KL(p_t^T || p_s^T) + λ_IGA mean_i ||∇_x CE_s(x_i) - ∇_x CE_t(x_i)||²`,
 * with the student's input gradient from a nested `tf.grad` (double backprop) and a hand-written
 * Adam step. `λ_CE` defaults to 0: with a positive CE weight the "perfect student" loss `L = 0`
 * of Proposition 1 is unattainable (CE > 0) and CE pulls the student's logits away from the
 * teacher's.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NamedTensors } from "../models/types.ts";
import { crossEntropy, logSoftmax } from "../losses/cross_entropy.ts";
import { initToyMlp, type ToyMlp, toyMlpLogits, toyMlpSizes } from "./toy_mlp.ts";

/** Weights of the three terms of the toy KDIGA objective. */
export interface ToyKdigaWeights {
  ce: number;
  kl: number;
  iga: number;
}

/** The toy objective's terms (batch means). */
export interface ToyKdigaTerms {
  ce: number;
  kl: number;
  /** mean_i ||g_s - g_t||² */
  iga: number;
  total: number;
}

/** Options of {@link distillToyKdiga}. */
export interface DistillToyKdigaOptions {
  /** Student hidden layer sizes (default [32, 32]). */
  hidden?: number[];
  seed?: number;
  /** Adam steps (default 3000). */
  steps?: number;
  /** Adam learning rate (default 3e-3). */
  learningRate?: number;
  /** Default {ce: 0, kl: 1, iga: 1}. */
  weights?: Partial<ToyKdigaWeights>;
  /** Distillation temperature (default 1). */
  temperature?: number;
}

/**
 * The toy KDIGA objective's terms as tensors (differentiable in the student's params, to second
 * order through the input gradient).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { initToyMlp } from "./toy_mlp.ts";
 * import { toyKdigaObjective } from "./toy_distill.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const s = initToyMlp([2, 8, 2], { seed: 1 }), t = initToyMlp([2, 8, 2], { seed: 2 });
 * const terms = toyKdigaObjective(s, t, tf.tensor2d([[0.1, 0.9]]), tf.tensor1d([0], "int32"),
 *   { ce: 0, kl: 1, iga: 1 });
 * terms.total.print();
 * ```
 */
export function toyKdigaObjective(
  student: ToyMlp,
  teacher: ToyMlp,
  x: tf.Tensor2D,
  y: tf.Tensor1D,
  weights: ToyKdigaWeights,
  temperature = 1,
): { ce: tf.Scalar; kl: tf.Scalar; iga: tf.Scalar; total: tf.Scalar } {
  const inputGrad = (net: ToyMlp) =>
    tf.grad((xx: tf.Tensor) =>
      tf.sum(crossEntropy(toyMlpLogits(net, xx as tf.Tensor2D), y, "none"))
    )(x);
  const zs = toyMlpLogits(student, x);
  const zt = toyMlpLogits(teacher, x);
  const ce = crossEntropy(zs, y, "mean") as tf.Scalar;
  const lpT = logSoftmax(tf.div(zt, temperature));
  const lpS = logSoftmax(tf.div(zs, temperature));
  const kl = tf.mul(
    temperature * temperature,
    tf.mean(tf.sum(tf.mul(tf.exp(lpT), tf.sub(lpT, lpS)), 1)),
  ) as tf.Scalar;
  const iga = tf.mean(
    tf.sum(tf.square(tf.sub(inputGrad(student), inputGrad(teacher))), 1),
  ) as tf.Scalar;
  const total = tf.addN([
    tf.mul(weights.ce, ce),
    tf.mul(weights.kl, kl),
    tf.mul(weights.iga, iga),
  ]) as tf.Scalar;
  return { ce, kl, iga, total };
}

/**
 * Distils a toy ReLU (or smooth) student from a toy teacher on the points `x` with the toy
 * KDIGA objective, by Adam. Returns the student and its final terms.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { initToyMlp } from "./toy_mlp.ts";
 * import { distillToyKdiga } from "./toy_distill.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const teacher = initToyMlp([2, 8, 2], { seed: 0 });
 * const { student, terms } = distillToyKdiga(teacher, tf.tensor2d([[0.2, 0.3], [0.8, 0.1]]),
 *   tf.tensor1d([0, 1], "int32"), { steps: 20 });
 * console.log(terms.kl, terms.iga);
 * ```
 */
export function distillToyKdiga(
  teacher: ToyMlp,
  x: tf.Tensor2D,
  y: tf.Tensor1D,
  options: DistillToyKdigaOptions = {},
): { student: ToyMlp; terms: ToyKdigaTerms } {
  const sizes = toyMlpSizes(teacher);
  const hidden = options.hidden ?? [32, 32];
  const steps = options.steps ?? 3000;
  const lr = options.learningRate ?? 3e-3;
  const weights: ToyKdigaWeights = { ce: 0, kl: 1, iga: 1, ...options.weights };
  const temperature = options.temperature ?? 1;
  if (!Number.isInteger(steps) || steps < 0) {
    throw new Error(`steps must be an integer >= 0; got ${steps}`);
  }
  if (!(lr > 0)) throw new Error(`learningRate must be > 0; got ${lr}`);
  if (!(temperature > 0)) throw new Error(`temperature must be > 0; got ${temperature}`);
  for (const [k, v] of Object.entries(weights)) {
    if (!(v >= 0)) throw new Error(`weights.${k} must be >= 0; got ${v}`);
  }
  if (x.rank !== 2 || x.shape[1] !== sizes[0] || y.rank !== 1 || y.shape[0] !== x.shape[0]) {
    throw new Error(`x must be [n, ${sizes[0]}] and y [n]; got [${x.shape}] and [${y.shape}]`);
  }
  const init = initToyMlp([sizes[0], ...hidden, sizes[sizes.length - 1]], {
    seed: options.seed ?? 0,
    activation: teacher.activation,
  });
  const names = Object.keys(init.params);
  let params: NamedTensors = init.params;
  let m: tf.Tensor[] = names.map((n) => tf.zerosLike(params[n]));
  let v: tf.Tensor[] = names.map((n) => tf.zerosLike(params[n]));
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const lossOf = (...list: tf.Tensor[]) => {
    const net: ToyMlp = {
      params: Object.fromEntries(names.map((n, i) => [n, list[i]])),
      activation: teacher.activation,
    };
    return toyKdigaObjective(net, teacher, x, y, weights, temperature).total;
  };
  const gradsOf = tf.grads(lossOf);
  for (let step = 1; step <= steps; step++) {
    const next = tf.tidy(() => {
      const list = names.map((n) => params[n]);
      const grads = gradsOf(list);
      const mNew = m.map((mi, i) => tf.add(tf.mul(b1, mi), tf.mul(1 - b1, grads[i])));
      const vNew = v.map((vi, i) => tf.add(tf.mul(b2, vi), tf.mul(1 - b2, tf.square(grads[i]))));
      const c1 = 1 - Math.pow(b1, step), c2 = 1 - Math.pow(b2, step);
      const pNew = list.map((p, i) =>
        tf.sub(p, tf.mul(lr / c1, tf.div(mNew[i], tf.add(tf.sqrt(tf.div(vNew[i], c2)), eps))))
      );
      return { pNew, mNew, vNew };
    });
    tf.dispose([...Object.values(params), ...m, ...v]);
    params = Object.fromEntries(names.map((n, i) => [n, next.pNew[i]]));
    m = next.mNew;
    v = next.vNew;
  }
  tf.dispose([...m, ...v]);
  const student: ToyMlp = { params, activation: teacher.activation };
  const terms = tf.tidy(() => {
    const t = toyKdigaObjective(student, teacher, x, y, weights, temperature);
    return {
      ce: t.ce.dataSync()[0],
      kl: t.kl.dataSync()[0],
      iga: t.iga.dataSync()[0],
      total: t.total.dataSync()[0],
    };
  });
  return { student, terms };
}
