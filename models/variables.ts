/**
 * Declarative variable lists: each model family describes its parameters and BatchNorm state as
 * {@link VariableSpec}s, from which `init(seed)` materialises tensors, and from which parameter
 * counts and checkpoint signatures are computed without allocating anything.
 *
 * Every tensor's seed is `deriveSeed(seed, name)`, so adding a layer never changes the
 * initialisation of the others.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { deriveSeed } from "../util/rng.ts";
import type { NamedTensors, Variables } from "./types.ts";

/** How a variable starts out. `truncatedNormal` is cut at 2 standard deviations (as tfjs). */
export type Initializer =
  | { kind: "zeros" }
  | { kind: "ones" }
  | { kind: "normal"; std: number }
  | { kind: "truncatedNormal"; std: number }
  | { kind: "uniform"; limit: number };

/** One named variable: a trainable parameter or a non-trainable state tensor (BN statistics). */
export interface VariableSpec {
  name: string;
  shape: readonly number[];
  init: Initializer;
  trainable: boolean;
}

/** The name, shape and dtype of a tensor, as a checkpoint loader checks them. */
export interface TensorSignature {
  shape: readonly number[];
  dtype: string;
}

/** Expected tensors per section; a `Variables` object (e.g. `model.init(0)`) fits this type. */
export interface VariablesSignature {
  params: Record<string, TensorSignature>;
  state: Record<string, TensorSignature>;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Allocates the variables of `specs`, deterministically in `seed`.
 *
 * @example
 * ```ts
 * import { initVariables, SpecBuilder } from "./variables.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const specs = new SpecBuilder().dense("fc", { inFeatures: 4, outFeatures: 2 }).build();
 * const { params } = initVariables(specs, 0); // params["fc.weight"]: [4, 2]
 * ```
 */
export function initVariables(specs: readonly VariableSpec[], seed: number): Variables {
  if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number; got ${seed}`);
  const params: NamedTensors = {};
  const state: NamedTensors = {};
  for (const spec of specs) {
    const s = deriveSeed(seed, spec.name);
    const shape = [...spec.shape];
    const init = spec.init;
    let t: tf.Tensor;
    switch (init.kind) {
      case "zeros":
        t = tf.zeros(shape);
        break;
      case "ones":
        t = tf.ones(shape);
        break;
      case "normal":
        t = tf.randomNormal(shape, 0, init.std, "float32", s);
        break;
      case "truncatedNormal":
        t = tf.truncatedNormal(shape, 0, init.std, "float32", s);
        break;
      case "uniform":
        t = tf.randomUniform(shape, -init.limit, init.limit, "float32", s);
        break;
    }
    (spec.trainable ? params : state)[spec.name] = t;
  }
  return { params, state };
}

/**
 * Number of scalars in `specs`: trainable parameters only, unless `includeState`.
 *
 * @example
 * ```ts
 * import { countSpecParameters, SpecBuilder } from "./variables.ts";
 * const specs = new SpecBuilder().dense("fc", { inFeatures: 4, outFeatures: 2 }).build();
 * countSpecParameters(specs); // 10
 * ```
 */
export function countSpecParameters(
  specs: readonly VariableSpec[],
  includeState = false,
): number {
  let n = 0;
  for (const spec of specs) if (spec.trainable || includeState) n += sizeOf(spec.shape);
  return n;
}

/**
 * The {@link VariablesSignature} of `specs` (all float32), for checking checkpoints without
 * allocating the model.
 *
 * @example
 * ```ts
 * import { signatureOfSpecs, SpecBuilder } from "./variables.ts";
 * const sig = signatureOfSpecs(new SpecBuilder().batchNorm("bn", 3).build());
 * // sig.state["bn.running_mean"] = { shape: [3], dtype: "float32" }
 * ```
 */
export function signatureOfSpecs(specs: readonly VariableSpec[]): VariablesSignature {
  const sig: VariablesSignature = { params: {}, state: {} };
  for (const spec of specs) {
    (spec.trainable ? sig.params : sig.state)[spec.name] = { shape: spec.shape, dtype: "float32" };
  }
  return sig;
}

/** How a convolution's or dense layer's weight starts out. */
export type WeightInit =
  /** Kaiming normal over fan-out, `std = sqrt(2 / (k*k*out))` (torchvision ResNet, TRADES WRN). */
  | "kaiming-fan-out"
  /** Kaiming normal over fan-in, `std = sqrt(2 / fanIn)`. */
  | "kaiming-fan-in"
  /** PyTorch's default for Conv/Linear: uniform in `±1/sqrt(fanIn)` (weight and bias). */
  | "pytorch-default"
  /** Truncated normal with std 0.02 (ViT, timm). */
  | "truncated-normal-0.02"
  /** Normal with std 0.01 (torchvision MobileNetV2 classifier). */
  | "normal-0.01";

function weightInitializer(init: WeightInit, fanIn: number, fanOut: number): Initializer {
  switch (init) {
    case "kaiming-fan-out":
      return { kind: "normal", std: Math.sqrt(2 / fanOut) };
    case "kaiming-fan-in":
      return { kind: "normal", std: Math.sqrt(2 / fanIn) };
    case "pytorch-default":
      return { kind: "uniform", limit: 1 / Math.sqrt(fanIn) };
    case "truncated-normal-0.02":
      return { kind: "truncatedNormal", std: 0.02 };
    case "normal-0.01":
      return { kind: "normal", std: 0.01 };
    default:
      throw new Error(
        `unknown weight init '${init}': allowed are kaiming-fan-out, kaiming-fan-in, ` +
          `pytorch-default, truncated-normal-0.02, normal-0.01`,
      );
  }
}

function biasInitializer(init: WeightInit, fanIn: number): Initializer {
  return init === "pytorch-default"
    ? { kind: "uniform", limit: 1 / Math.sqrt(fanIn) }
    : { kind: "zeros" };
}

function checkDim(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${what} must be a positive integer; got ${value}`);
  }
}

/** Options of {@link SpecBuilder.conv2d}. */
export interface ConvSpecOptions {
  kernelSize: number;
  inChannels: number;
  outChannels: number;
  /** Add a bias (default false: BatchNorm usually follows). */
  bias?: boolean;
  /** Default "kaiming-fan-out". */
  init?: WeightInit;
}

/** Options of {@link SpecBuilder.dense}. */
export interface DenseSpecOptions {
  inFeatures: number;
  outFeatures: number;
  /** Add a bias (default true). */
  bias?: boolean;
  /** Default "pytorch-default". */
  init?: WeightInit;
}

/**
 * Collects the variable specs of a model, with the naming every layer of kdiga uses
 * (PyTorch-like): `<layer>.weight`, `<layer>.bias`, BatchNorm state `<layer>.running_mean` and
 * `<layer>.running_var`. Duplicate names are an error.
 *
 * @example
 * ```ts
 * import { SpecBuilder } from "./variables.ts";
 * const specs = new SpecBuilder()
 *   .conv2d("conv1", { kernelSize: 3, inChannels: 3, outChannels: 16 })
 *   .batchNorm("bn1", 16)
 *   .dense("fc", { inFeatures: 16, outFeatures: 10 })
 *   .build();
 * ```
 */
export class SpecBuilder {
  #specs: VariableSpec[] = [];
  #names = new Set<string>();

  /** Adds one variable. */
  add(name: string, shape: readonly number[], init: Initializer, trainable = true): this {
    if (this.#names.has(name)) throw new Error(`duplicate variable name '${name}'`);
    for (const d of shape) checkDim(`dimension of '${name}'`, d);
    this.#names.add(name);
    this.#specs.push({ name, shape: [...shape], init, trainable });
    return this;
  }

  /** A convolution: `<name>.weight` [k, k, in, out] (+ `<name>.bias` [out]). */
  conv2d(name: string, options: ConvSpecOptions): this {
    const { kernelSize: k, inChannels, outChannels } = options;
    checkDim(`${name} kernelSize`, k);
    checkDim(`${name} inChannels`, inChannels);
    checkDim(`${name} outChannels`, outChannels);
    const init = options.init ?? "kaiming-fan-out";
    const fanIn = k * k * inChannels;
    this.add(
      `${name}.weight`,
      [k, k, inChannels, outChannels],
      weightInitializer(init, fanIn, k * k * outChannels),
    );
    if (options.bias) this.add(`${name}.bias`, [outChannels], biasInitializer(init, fanIn));
    return this;
  }

  /** A depthwise convolution: `<name>.weight` [k, k, channels, 1] (PyTorch fans: in 1, out 1 per group). */
  depthwiseConv2d(
    name: string,
    options: { kernelSize: number; channels: number; bias?: boolean; init?: WeightInit },
  ): this {
    const { kernelSize: k, channels } = options;
    checkDim(`${name} kernelSize`, k);
    checkDim(`${name} channels`, channels);
    const init = options.init ?? "kaiming-fan-out";
    // PyTorch's fans of a [C, 1, k, k] grouped weight: fanIn = k*k, fanOut = C*k*k.
    this.add(
      `${name}.weight`,
      [k, k, channels, 1],
      weightInitializer(init, k * k, channels * k * k),
    );
    if (options.bias) this.add(`${name}.bias`, [channels], biasInitializer(init, k * k));
    return this;
  }

  /** A dense layer: `<name>.weight` [in, out] (+ `<name>.bias` [out]). */
  dense(name: string, options: DenseSpecOptions): this {
    const { inFeatures, outFeatures } = options;
    checkDim(`${name} inFeatures`, inFeatures);
    checkDim(`${name} outFeatures`, outFeatures);
    const init = options.init ?? "pytorch-default";
    this.add(
      `${name}.weight`,
      [inFeatures, outFeatures],
      weightInitializer(init, inFeatures, outFeatures),
    );
    if (options.bias ?? true) {
      this.add(`${name}.bias`, [outFeatures], biasInitializer(init, inFeatures));
    }
    return this;
  }

  /**
   * BatchNorm: params `<name>.weight` (ones, or zeros with `zeroWeight`: a residual branch that
   * starts switched off), `<name>.bias` (zeros); state running mean/var.
   */
  batchNorm(name: string, channels: number, zeroWeight = false): this {
    checkDim(`${name} channels`, channels);
    this.add(`${name}.weight`, [channels], { kind: zeroWeight ? "zeros" : "ones" });
    this.add(`${name}.bias`, [channels], { kind: "zeros" });
    this.add(`${name}.running_mean`, [channels], { kind: "zeros" }, false);
    this.add(`${name}.running_var`, [channels], { kind: "ones" }, false);
    return this;
  }

  /** LayerNorm: `<name>.weight` (ones), `<name>.bias` (zeros). */
  layerNorm(name: string, features: number): this {
    checkDim(`${name} features`, features);
    this.add(`${name}.weight`, [features], { kind: "ones" });
    this.add(`${name}.bias`, [features], { kind: "zeros" });
    return this;
  }

  /** The collected specs, in insertion order. */
  build(): VariableSpec[] {
    return this.#specs.map((s) => ({ ...s, shape: [...s.shape] }));
  }
}
