/**
 * Toy multilayer perceptrons on low-dimensional inputs, as plain named tensors, for the
 * numerical checks of Propositions 1 and 2: `dense{i}.weight` [in, out] and `dense{i}.bias`
 * [out], `logits = dense_L(act(... act(dense_0(x))))`. With ReLU the net is piecewise linear,
 * which is what the exact certifier needs; tanh and softplus give smooth nets.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NamedTensors } from "../models/types.ts";
import { seededRandom } from "../util/rng.ts";
import { gaussianSample } from "./ball.ts";

/** Hidden activations of a toy MLP. Only `relu` is piecewise linear. */
export const TOY_ACTIVATIONS = ["relu", "tanh", "softplus"] as const;
/** One of {@link TOY_ACTIVATIONS}. */
export type ToyActivation = typeof TOY_ACTIVATIONS[number];

/** A toy MLP: named weights plus the hidden activation. */
export interface ToyMlp {
  readonly params: NamedTensors;
  readonly activation: ToyActivation;
}

/** One dense layer in float64, row-major `weight[i * outSize + o]`. */
export interface DenseLayer64 {
  inSize: number;
  outSize: number;
  weight: Float64Array;
  bias: Float64Array;
}

/** Options of {@link initToyMlp}. */
export interface InitToyMlpOptions {
  seed: number;
  /** Hidden activation (default "relu"). */
  activation?: ToyActivation;
  /** Multiplies He-initialised weights (default 1). */
  weightScale?: number;
  /** Standard deviation of the biases (default 0.5, so regions do not all meet at 0). */
  biasScale?: number;
}

function assertActivation(activation: string): asserts activation is ToyActivation {
  if (!(TOY_ACTIVATIONS as readonly string[]).includes(activation)) {
    throw new Error(
      `unknown activation '${activation}': allowed are ${TOY_ACTIVATIONS.join(", ")}`,
    );
  }
}

/**
 * A seeded toy MLP with layer sizes `[inputs, hidden..., classes]`.
 *
 * @example
 * ```ts
 * import { initToyMlp } from "./toy_mlp.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const net = initToyMlp([2, 8, 8, 2], { seed: 0 }); // 2-D input, 2 classes
 * ```
 */
export function initToyMlp(sizes: number[], options: InitToyMlpOptions): ToyMlp {
  if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new Error(
      `sizes must be >= 2 positive integers [inputs, hidden..., classes]; got [${sizes}]`,
    );
  }
  const activation = options.activation ?? "relu";
  assertActivation(activation);
  const scale = options.weightScale ?? 1;
  const biasScale = options.biasScale ?? 0.5;
  const rand = seededRandom(options.seed);
  const layers: { weight: number[][]; bias: number[] }[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [fanIn, fanOut] = [sizes[l], sizes[l + 1]];
    const std = scale * Math.sqrt(2 / fanIn);
    const weight = Array.from(
      { length: fanIn },
      () => Array.from({ length: fanOut }, () => std * gaussianSample(rand)),
    );
    const bias = Array.from({ length: fanOut }, () => biasScale * gaussianSample(rand));
    layers.push({ weight, bias });
  }
  return toyMlpFromArrays(layers, activation);
}

/**
 * Builds a toy MLP from nested arrays (`weight[in][out]`), e.g. for hand-constructed nets.
 *
 * @example
 * ```ts
 * import { toyMlpFromArrays } from "./toy_mlp.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * // logits = [x0 - x1, 0]: an affine net (no hidden layer)
 * const net = toyMlpFromArrays([{ weight: [[1, 0], [-1, 0]], bias: [0, 0] }], "relu");
 * ```
 */
export function toyMlpFromArrays(
  layers: readonly { weight: readonly (readonly number[])[]; bias: readonly number[] }[],
  activation: ToyActivation = "relu",
): ToyMlp {
  assertActivation(activation);
  if (layers.length === 0) throw new Error("a toy MLP needs at least one layer");
  const params: NamedTensors = {};
  layers.forEach((layer, l) => {
    const inSize = layer.weight.length;
    const outSize = layer.bias.length;
    if (inSize === 0 || layer.weight.some((row) => row.length !== outSize)) {
      throw new Error(
        `layer ${l}: weight must be [in][out] with out = bias length ${outSize}`,
      );
    }
    params[`dense${l}.weight`] = tf.tensor2d(layer.weight as number[][], [inSize, outSize]);
    params[`dense${l}.bias`] = tf.tensor1d(layer.bias as number[]);
  });
  const net = { params, activation };
  toyMlpSizes(net);
  return net;
}

/**
 * Layer sizes `[inputs, hidden..., classes]`, checking that the named tensors chain up.
 *
 * @example
 * ```ts
 * import { initToyMlp, toyMlpSizes } from "./toy_mlp.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * toyMlpSizes(initToyMlp([2, 4, 3], { seed: 1 })); // [2, 4, 3]
 * ```
 */
export function toyMlpSizes(net: ToyMlp): number[] {
  if (net == null || typeof net !== "object" || net.params == null) {
    throw new Error("expected a ToyMlp {params, activation}");
  }
  assertActivation(net.activation);
  const sizes: number[] = [];
  let l = 0;
  while (net.params[`dense${l}.weight`] !== undefined) {
    const w = net.params[`dense${l}.weight`];
    const b = net.params[`dense${l}.bias`];
    if (w.rank !== 2 || b === undefined || b.rank !== 1 || b.shape[0] !== w.shape[1]) {
      throw new Error(
        `dense${l}: weight must be [in, out] and bias [out]; got [${w.shape}] and [${b?.shape}]`,
      );
    }
    if (l === 0) sizes.push(w.shape[0]);
    else if (sizes[l] !== w.shape[0]) {
      throw new Error(
        `dense${l}.weight has ${w.shape[0]} inputs but dense${l - 1} has ${sizes[l]} outputs`,
      );
    }
    sizes.push(w.shape[1]);
    l++;
  }
  if (l === 0) throw new Error("a ToyMlp needs params dense0.weight and dense0.bias");
  const extra = Object.keys(net.params).filter((k) =>
    !/^dense\d+\.(weight|bias)$/.test(k) ||
    Number(k.slice(5, k.indexOf("."))) >= l
  );
  if (extra.length > 0) throw new Error(`unexpected toy MLP params: ${extra.join(", ")}`);
  return sizes;
}

function activate(z: tf.Tensor, activation: ToyActivation): tf.Tensor {
  switch (activation) {
    case "relu":
      return tf.relu(z);
    case "tanh":
      return tf.tanh(z);
    case "softplus":
      return tf.softplus(z);
  }
}

/**
 * Logits of a toy MLP with the given params (so a trainer can pass its own tensors).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { initToyMlp, toyMlpLogits } from "./toy_mlp.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const net = initToyMlp([2, 4, 2], { seed: 0 });
 * const logits = toyMlpLogits(net, tf.tensor2d([[0.5, 0.5]])); // [1, 2]
 * ```
 */
export function toyMlpLogits(net: ToyMlp, x: tf.Tensor2D): tf.Tensor2D {
  const sizes = toyMlpSizes(net);
  if (x.rank !== 2 || x.shape[1] !== sizes[0]) {
    throw new Error(`toy MLP input must be [batch, ${sizes[0]}]; got [${x.shape}]`);
  }
  return tf.tidy(() => {
    let h: tf.Tensor = x;
    const last = sizes.length - 2;
    for (let l = 0; l <= last; l++) {
      h = tf.add(
        tf.matMul(h as tf.Tensor2D, net.params[`dense${l}.weight`] as tf.Tensor2D),
        net.params[`dense${l}.bias`],
      );
      if (l < last) h = activate(h, net.activation);
    }
    return h as tf.Tensor2D;
  });
}

/**
 * The toy MLP as a classifier function `x [batch, inputs] -> logits [batch, classes]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { initToyMlp, toyMlpClassifier } from "./toy_mlp.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const f = toyMlpClassifier(initToyMlp([2, 4, 2], { seed: 0 }));
 * const logits = f(tf.tensor2d([[0, 1]]));
 * ```
 */
export function toyMlpClassifier(net: ToyMlp): (x: tf.Tensor2D) => tf.Tensor2D {
  toyMlpSizes(net);
  return (x) => toyMlpLogits(net, x);
}

/**
 * The layers in float64 (exact copies of the float32 weights), for exact computations.
 *
 * @example
 * ```ts
 * import { initToyMlp, toyMlpToFloat64 } from "./toy_mlp.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const layers = toyMlpToFloat64(initToyMlp([2, 3, 2], { seed: 0 })); // 2 layers
 * ```
 */
export function toyMlpToFloat64(net: ToyMlp): DenseLayer64[] {
  const sizes = toyMlpSizes(net);
  const layers: DenseLayer64[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    layers.push({
      inSize: sizes[l],
      outSize: sizes[l + 1],
      weight: Float64Array.from(net.params[`dense${l}.weight`].dataSync()),
      bias: Float64Array.from(net.params[`dense${l}.bias`].dataSync()),
    });
  }
  return layers;
}

/**
 * Forward pass in float64 on one input, from {@link toyMlpToFloat64} layers.
 *
 * @example
 * ```ts
 * import { initToyMlp, toyMlpToFloat64, evaluateLayers64 } from "./toy_mlp.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const layers = toyMlpToFloat64(initToyMlp([2, 3, 2], { seed: 0 }));
 * const logits = evaluateLayers64(layers, "relu", [0.2, 0.7]); // Float64Array(2)
 * ```
 */
export function evaluateLayers64(
  layers: readonly DenseLayer64[],
  activation: ToyActivation,
  x: ArrayLike<number>,
): Float64Array {
  let h = Float64Array.from(x);
  layers.forEach((layer, l) => {
    const out = Float64Array.from(layer.bias);
    for (let i = 0; i < layer.inSize; i++) {
      const hi = h[i];
      if (hi === 0) continue;
      const row = i * layer.outSize;
      for (let o = 0; o < layer.outSize; o++) out[o] += hi * layer.weight[row + o];
    }
    if (l < layers.length - 1) {
      for (let o = 0; o < out.length; o++) {
        const z = out[o];
        out[o] = activation === "relu"
          ? Math.max(0, z)
          : activation === "tanh"
          ? Math.tanh(z)
          : (z > 30 ? z : Math.log1p(Math.exp(z)));
      }
    }
    h = out;
  });
  return h;
}

/**
 * Disposes every tensor of a toy MLP.
 *
 * @example
 * ```ts
 * import { disposeToyMlp, initToyMlp } from "./toy_mlp.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * disposeToyMlp(initToyMlp([2, 3, 2], { seed: 0 }));
 * ```
 */
export function disposeToyMlp(net: ToyMlp): void {
  tf.dispose(Object.values(net.params));
}
