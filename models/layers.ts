/**
 * Pure building blocks of the model families: functions of tensors, no hidden state.
 *
 * Every block here is built from ops whose gradients are correct to second order in kdiga
 * (see `backend/gradients.ts`): no `tf.fused.*`, no `tf.maxPool`, no `tf.logSoftmax`, no
 * `tf.batchNorm` (BatchNorm is written out so that the batch statistics are ordinary taped ops).
 *
 * Layouts are tfjs': activations NHWC, convolution filters [kh, kw, in, out] (HWIO), depthwise
 * filters [kh, kw, channels, 1], dense weights [in, out].
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** Padding of a convolution: pixels added on each side (as PyTorch), or tfjs' "same"/"valid". */
export type Padding = number | "same" | "valid";

/** Options of {@link conv2d} and {@link depthwiseConv2d}. */
export interface ConvOptions {
  /** Stride in both spatial directions (default 1). */
  stride?: number;
  /**
   * Pixels of zero padding on each side (default 0, as PyTorch). A number gives PyTorch's exact
   * semantics, so weights transfer; "same"/"valid" are tfjs' modes.
   */
  padding?: Padding;
}

function checkConvOptions(options: ConvOptions): { stride: number; padding: Padding } {
  const stride = options.stride ?? 1;
  const padding = options.padding ?? 0;
  if (!Number.isInteger(stride) || stride < 1) {
    throw new Error(`stride must be a positive integer; got ${stride}`);
  }
  if (typeof padding === "number" && (!Number.isInteger(padding) || padding < 0)) {
    throw new Error(`padding must be a non-negative integer, "same" or "valid"; got ${padding}`);
  }
  if (typeof padding === "string" && padding !== "same" && padding !== "valid") {
    throw new Error(`padding must be a non-negative integer, "same" or "valid"; got "${padding}"`);
  }
  return { stride, padding };
}

function checkBias(bias: tf.Tensor | undefined, channels: number, what: string): void {
  if (bias !== undefined && (bias.rank !== 1 || bias.shape[0] !== channels)) {
    throw new Error(`${what} bias must have shape [${channels}]; got [${bias.shape}]`);
  }
}

/**
 * 2-D convolution of NHWC `x` with an HWIO `weight`, plus an optional per-channel `bias`
 * (leave it out when BatchNorm follows).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { conv2d } from "./layers.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const y = conv2d(tf.ones([1, 28, 28, 1]), tf.ones([3, 3, 1, 8]), undefined, { stride: 2, padding: 1 });
 * // y.shape = [1, 14, 14, 8]
 * ```
 */
export function conv2d(
  x: tf.Tensor4D,
  weight: tf.Tensor4D,
  bias?: tf.Tensor1D,
  options: ConvOptions = {},
): tf.Tensor4D {
  const { stride, padding } = checkConvOptions(options);
  if (x.rank !== 4) throw new Error(`conv2d input must be NHWC (rank 4); got shape [${x.shape}]`);
  if (weight.rank !== 4 || weight.shape[2] !== x.shape[3]) {
    throw new Error(
      `conv2d weight must be [kh, kw, ${
        x.shape[3]
      }, out] for input [${x.shape}]; got [${weight.shape}]`,
    );
  }
  checkBias(bias, weight.shape[3], "conv2d");
  return tf.tidy(() => {
    const y = tf.conv2d(x, weight, stride, padding);
    return bias === undefined ? y : tf.add(y, bias);
  });
}

/**
 * Depthwise 2-D convolution (one filter per channel, channel multiplier 1) with an optional bias.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { depthwiseConv2d } from "./layers.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const y = depthwiseConv2d(tf.ones([1, 8, 8, 4]), tf.ones([3, 3, 4, 1]), undefined, { padding: 1 });
 * // y.shape = [1, 8, 8, 4]
 * ```
 */
export function depthwiseConv2d(
  x: tf.Tensor4D,
  weight: tf.Tensor4D,
  bias?: tf.Tensor1D,
  options: ConvOptions = {},
): tf.Tensor4D {
  const { stride, padding } = checkConvOptions(options);
  if (x.rank !== 4) {
    throw new Error(`depthwiseConv2d input must be NHWC (rank 4); got shape [${x.shape}]`);
  }
  if (weight.rank !== 4 || weight.shape[2] !== x.shape[3] || weight.shape[3] !== 1) {
    throw new Error(
      `depthwiseConv2d weight must be [kh, kw, ${
        x.shape[3]
      }, 1] for input [${x.shape}]; got [${weight.shape}]`,
    );
  }
  checkBias(bias, weight.shape[2], "depthwiseConv2d");
  return tf.tidy(() => {
    const y = tf.depthwiseConv2d(x, weight, stride, padding);
    return bias === undefined ? y : tf.add(y, bias);
  });
}

/**
 * Fully connected layer `x @ weight + bias` over the last axis; `x` may be [batch, in] or
 * [batch, tokens, in].
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { dense } from "./layers.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const y = dense(tf.ones([2, 3]), tf.ones([3, 4]), tf.zeros([4])); // [[3,3,3,3],[3,3,3,3]]
 * ```
 */
export function dense<T extends tf.Tensor>(x: T, weight: tf.Tensor2D, bias?: tf.Tensor1D): T {
  const inFeatures = x.shape[x.rank - 1];
  if (x.rank < 2) throw new Error(`dense input must have rank >= 2; got shape [${x.shape}]`);
  if (weight.rank !== 2 || weight.shape[0] !== inFeatures) {
    throw new Error(
      `dense weight must be [${inFeatures}, out] for input [${x.shape}]; got [${weight.shape}]`,
    );
  }
  checkBias(bias, weight.shape[1], "dense");
  return tf.tidy(() => {
    const flat = x.rank === 2 ? (x as tf.Tensor) : tf.reshape(x, [-1, inFeatures]);
    let y: tf.Tensor = tf.matMul(flat as tf.Tensor2D, weight);
    if (bias !== undefined) y = tf.add(y, bias);
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), weight.shape[1]]);
  }) as T;
}

/** BatchNorm's learned affine parameters and running statistics, all of shape [channels]. */
export interface BatchNormParams {
  /** Scale (PyTorch's `weight`, "gamma"). */
  weight: tf.Tensor1D;
  /** Shift (PyTorch's `bias`, "beta"). */
  bias: tf.Tensor1D;
  runningMean: tf.Tensor1D;
  runningVar: tf.Tensor1D;
}

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  /** Batch statistics (and updated running statistics) if true; running statistics if false. */
  training: boolean;
  /** PyTorch convention: `running = (1 - momentum) * running + momentum * batch` (default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5, as PyTorch). */
  eps?: number;
}

/** What {@link batchNorm} returns. */
export interface BatchNormResult<T extends tf.Tensor> {
  y: T;
  /** Updated running mean in training mode; the given one in eval mode. */
  runningMean: tf.Tensor1D;
  /** Updated running variance (unbiased batch variance, as PyTorch) in training mode. */
  runningVar: tf.Tensor1D;
}

/**
 * Batch normalisation over every axis but the last (channels), as PyTorch's `BatchNorm2d` /
 * `BatchNorm1d`: training mode normalises with the biased batch variance and moves the running
 * statistics towards the batch mean and the unbiased batch variance; eval mode uses the running
 * statistics. Written from plain ops, so gradients through the batch statistics are exact to
 * second order.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { batchNorm } from "./layers.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const p = {
 *   weight: tf.tensor1d([1]),
 *   bias: tf.tensor1d([0]),
 *   runningMean: tf.tensor1d([0]),
 *   runningVar: tf.tensor1d([1]),
 * };
 * const { y, runningMean } = batchNorm(tf.tensor2d([[1], [3]]), p, { training: true });
 * // y ~ [[-1], [1]], runningMean = [0.2]
 * ```
 */
export function batchNorm<T extends tf.Tensor>(
  x: T,
  params: BatchNormParams,
  options: BatchNormOptions,
): BatchNormResult<T> {
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  if (!(momentum >= 0 && momentum <= 1)) {
    throw new Error(`momentum must be in [0, 1]; got ${momentum}`);
  }
  if (!(eps >= 0)) throw new Error(`eps must be >= 0; got ${eps}`);
  const channels = x.shape[x.rank - 1];
  for (const [key, t] of Object.entries(params)) {
    if (t.rank !== 1 || t.shape[0] !== channels) {
      throw new Error(`batchNorm ${key} must have shape [${channels}]; got [${t.shape}]`);
    }
  }
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const count = x.size / channels;
  if (!options.training) {
    const y = tf.tidy(() => {
      const scale = tf.mul(params.weight, tf.rsqrt(tf.add(params.runningVar, eps)));
      const shift = tf.sub(params.bias, tf.mul(params.runningMean, scale));
      return tf.add(tf.mul(x, scale), shift) as T;
    });
    return { y, runningMean: params.runningMean, runningVar: params.runningVar };
  }
  if (count < 2) {
    throw new Error(
      `batchNorm in training mode needs more than 1 value per channel; got input shape [${x.shape}]`,
    );
  }
  return tf.tidy(() => {
    const mean = tf.mean(x, axes);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), axes);
    const scale = tf.mul(params.weight, tf.rsqrt(tf.add(variance, eps)));
    const y = tf.add(tf.mul(centered, scale), params.bias) as T;
    const unbiased = tf.mul(variance, count / (count - 1));
    const runningMean = tf.add(tf.mul(params.runningMean, 1 - momentum), tf.mul(mean, momentum));
    const runningVar = tf.add(tf.mul(params.runningVar, 1 - momentum), tf.mul(unbiased, momentum));
    return { y, runningMean: runningMean as tf.Tensor1D, runningVar: runningVar as tf.Tensor1D };
  });
}

/**
 * Layer normalisation over the last axis with a learned scale and shift.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { layerNorm } from "./layers.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const y = layerNorm(tf.tensor2d([[1, 3]]), tf.ones([2]), tf.zeros([2])); // ~ [[-1, 1]]
 * ```
 */
export function layerNorm<T extends tf.Tensor>(
  x: T,
  weight: tf.Tensor1D,
  bias: tf.Tensor1D,
  eps = 1e-6,
): T {
  const features = x.shape[x.rank - 1];
  if (!(eps >= 0)) throw new Error(`eps must be >= 0; got ${eps}`);
  for (const [key, t] of [["weight", weight], ["bias", bias]] as const) {
    if (t.rank !== 1 || t.shape[0] !== features) {
      throw new Error(`layerNorm ${key} must have shape [${features}]; got [${t.shape}]`);
    }
  }
  return tf.tidy(() => {
    const axis = x.rank - 1;
    const centered = tf.sub(x, tf.mean(x, axis, true));
    const variance = tf.mean(tf.square(centered), axis, true);
    const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(normed, weight), bias) as T;
  });
}

/** Which formula {@link gelu} uses. */
export type GeluApproximation = "erf" | "tanh";

/**
 * GELU activation: exact `x * Phi(x)` via erf (PyTorch's default), or the tanh approximation.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { gelu } from "./layers.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const y = gelu(tf.tensor1d([0, 1])); // [0, 0.8413]
 * ```
 */
export function gelu<T extends tf.Tensor>(x: T, approximation: GeluApproximation = "erf"): T {
  if (approximation !== "erf" && approximation !== "tanh") {
    throw new Error(`gelu approximation must be "erf" or "tanh"; got "${approximation}"`);
  }
  return tf.tidy(() => {
    if (approximation === "erf") {
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T;
    }
    // x^3 as a product: no Pow on the second-order path.
    const cube = tf.mul(tf.mul(x, x), x);
    const inner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1)) as T;
  });
}

/** Weights of {@link multiHeadSelfAttention}; layout as timm's ViT (qkv columns = [3, heads, headDim]). */
export interface AttentionParams {
  /** [width, 3 * width] */
  qkvWeight: tf.Tensor2D;
  /** [3 * width] */
  qkvBias: tf.Tensor1D;
  /** [width, width] */
  projWeight: tf.Tensor2D;
  /** [width] */
  projBias: tf.Tensor1D;
}

/**
 * Multi-head scaled dot-product self-attention over tokens `x` [batch, tokens, width], with
 * softmax from `tf.softmax` (second-order correct in kdiga).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { multiHeadSelfAttention } from "./layers.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = 8;
 * const y = multiHeadSelfAttention(tf.ones([2, 5, w]), {
 *   qkvWeight: tf.ones([w, 3 * w]), qkvBias: tf.zeros([3 * w]),
 *   projWeight: tf.ones([w, w]), projBias: tf.zeros([w]),
 * }, 2); // [2, 5, 8]
 * ```
 */
export function multiHeadSelfAttention(
  x: tf.Tensor3D,
  params: AttentionParams,
  heads: number,
): tf.Tensor3D {
  if (x.rank !== 3) {
    throw new Error(`attention input must be [batch, tokens, width]; got shape [${x.shape}]`);
  }
  const [batch, tokens, width] = x.shape;
  if (!Number.isInteger(heads) || heads < 1 || width % heads !== 0) {
    throw new Error(`heads must be a positive integer dividing the width ${width}; got ${heads}`);
  }
  if (params.qkvWeight.rank !== 2 || params.qkvWeight.shape[1] !== 3 * width) {
    throw new Error(`qkv weight must be [${width}, ${3 * width}]; got [${params.qkvWeight.shape}]`);
  }
  const headDim = width / heads;
  return tf.tidy(() => {
    const qkv = dense(x, params.qkvWeight, params.qkvBias);
    // [batch, tokens, width] slice -> [batch * heads, tokens, headDim]
    const split = (i: number) =>
      tf.reshape(
        tf.transpose(
          tf.reshape(tf.slice(qkv, [0, 0, i * width], [batch, tokens, width]), [
            batch,
            tokens,
            heads,
            headDim,
          ]),
          [0, 2, 1, 3],
        ),
        [batch * heads, tokens, headDim],
      ) as tf.Tensor3D;
    const q = tf.mul(split(0), 1 / Math.sqrt(headDim)) as tf.Tensor3D;
    const k = split(1);
    const v = split(2);
    const attention = tf.softmax(tf.matMul(q, k, false, true), -1) as tf.Tensor3D;
    const mixed = tf.matMul(attention, v);
    const merged = tf.reshape(
      tf.transpose(tf.reshape(mixed, [batch, heads, tokens, headDim]), [0, 2, 1, 3]),
      [batch, tokens, width],
    ) as tf.Tensor3D;
    return dense(merged, params.projWeight, params.projBias);
  });
}

/**
 * Global average pooling [batch, h, w, c] -> [batch, c] via `tf.mean` (second-order correct).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { globalAveragePool } from "./layers.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const y = globalAveragePool(tf.ones([2, 4, 4, 3])); // [2, 3] of ones
 * ```
 */
export function globalAveragePool(x: tf.Tensor4D): tf.Tensor2D {
  if (x.rank !== 4) throw new Error(`globalAveragePool input must be NHWC; got shape [${x.shape}]`);
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}

/** Per-channel input statistics: the model computes `(x - mean) / std`. */
export interface InputNormalization {
  mean: number[];
  std: number[];
}

/**
 * Checks that `normalization` has one finite mean and one positive std per input channel.
 *
 * @example
 * ```ts
 * import { checkNormalization } from "./layers.ts";
 * checkNormalization({ mean: [0.5], std: [0.25] }, 1); // ok; a std of 0 or a wrong length throws
 * ```
 */
export function checkNormalization(normalization: InputNormalization, channels: number): void {
  const { mean, std } = normalization;
  if (
    !Array.isArray(mean) || !Array.isArray(std) || mean.length !== channels ||
    std.length !== channels
  ) {
    throw new Error(
      `normalization mean and std must each have ${channels} entries (one per input channel); ` +
        `got mean ${JSON.stringify(mean)}, std ${JSON.stringify(std)}`,
    );
  }
  if (!mean.every(Number.isFinite) || !std.every((s) => Number.isFinite(s) && s > 0)) {
    throw new Error(
      `normalization mean must be finite and std > 0; got mean ${JSON.stringify(mean)}, std ${
        JSON.stringify(std)
      }`,
    );
  }
}

/**
 * Per-channel `(x - mean) / std` of NHWC inputs.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { normalizeInput } from "./layers.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const y = normalizeInput(tf.fill([1, 2, 2, 1], 0.5), { mean: [0.5], std: [0.25] }); // zeros
 * ```
 */
export function normalizeInput(x: tf.Tensor4D, normalization: InputNormalization): tf.Tensor4D {
  checkNormalization(normalization, x.shape[3]);
  return tf.tidy(() =>
    tf.div(
      tf.sub(x, tf.tensor1d(normalization.mean)),
      tf.tensor1d(normalization.std),
    ) as tf.Tensor4D
  );
}
