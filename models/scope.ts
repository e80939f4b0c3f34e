/**
 * A forward pass's view of a model's variables: looks up named parameters (with clear errors
 * for missing or misshapen ones), calls the pure blocks of `layers.ts`, and collects the
 * BatchNorm statistics that training mode updates.
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import {
  batchNorm,
  conv2d,
  type ConvOptions,
  dense,
  depthwiseConv2d,
  layerNorm,
  multiHeadSelfAttention,
} from "./layers.ts";
import type { NamedTensors, Variables } from "./types.ts";

/** BatchNorm hyper-parameters shared by a whole model (PyTorch defaults). */
export interface BatchNormSettings {
  momentum: number;
  eps: number;
}

/**
 * Named-layer calls for one forward pass. Create one per `apply`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { ForwardScope } from "./scope.ts";
 * import { initVariables, SpecBuilder } from "./variables.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const vars = initVariables(new SpecBuilder().dense("fc", { inFeatures: 3, outFeatures: 2 }).build(), 0);
 * const scope = new ForwardScope(vars, false);
 * const logits = scope.dense("fc", tf.ones([4, 3])); // [4, 2]
 * ```
 */
export class ForwardScope {
  readonly #variables: Variables;
  readonly #updated: NamedTensors = {};
  readonly #bn: BatchNormSettings;
  /** BatchNorm uses batch statistics (and updates running ones) if true. */
  readonly training: boolean;

  constructor(
    variables: Variables,
    training: boolean,
    batchNormSettings: BatchNormSettings = { momentum: 0.1, eps: 1e-5 },
  ) {
    if (
      variables == null || typeof variables.params !== "object" ||
      typeof variables.state !== "object"
    ) {
      throw new Error("variables must be an object {params, state} of named tensors");
    }
    this.#variables = variables;
    this.training = training;
    this.#bn = batchNormSettings;
  }

  /** The parameter called `name`; throws naming it if it is missing or disposed. */
  param<T extends tf.Tensor = tf.Tensor>(name: string, rank?: number): T {
    return this.#lookup(this.#variables.params, "parameter", name, rank) as T;
  }

  /** The parameter called `name`, or undefined if the model has none by that name. */
  optionalParam<T extends tf.Tensor = tf.Tensor>(name: string, rank?: number): T | undefined {
    if (!(name in this.#variables.params)) return undefined;
    return this.param<T>(name, rank);
  }

  #lookup(from: NamedTensors, what: string, name: string, rank?: number): tf.Tensor {
    const t = from[name];
    if (t === undefined) throw new Error(`missing ${what} '${name}'`);
    if (t.isDisposed) throw new Error(`${what} '${name}' has been disposed`);
    if (rank !== undefined && t.rank !== rank) {
      throw new Error(`${what} '${name}' must have rank ${rank}; got shape [${t.shape}]`);
    }
    return t;
  }

  /** Convolution with `<name>.weight` and, if the model has one, `<name>.bias`. */
  conv2d(name: string, x: tf.Tensor4D, options: ConvOptions = {}): tf.Tensor4D {
    return this.#annotate(name, () =>
      conv2d(
        x,
        this.param<tf.Tensor4D>(`${name}.weight`, 4),
        this.optionalParam<tf.Tensor1D>(`${name}.bias`, 1),
        options,
      ));
  }

  /** Depthwise convolution with `<name>.weight` (and `<name>.bias` if present). */
  depthwiseConv2d(name: string, x: tf.Tensor4D, options: ConvOptions = {}): tf.Tensor4D {
    return this.#annotate(name, () =>
      depthwiseConv2d(
        x,
        this.param<tf.Tensor4D>(`${name}.weight`, 4),
        this.optionalParam<tf.Tensor1D>(`${name}.bias`, 1),
        options,
      ));
  }

  /** Dense layer with `<name>.weight` (and `<name>.bias` if present). */
  dense<T extends tf.Tensor>(name: string, x: T): T {
    return this.#annotate(name, () =>
      dense(
        x,
        this.param<tf.Tensor2D>(`${name}.weight`, 2),
        this.optionalParam<tf.Tensor1D>(`${name}.bias`, 1),
      ));
  }

  /** BatchNorm `<name>`; in training mode its updated running statistics are recorded. */
  batchNorm<T extends tf.Tensor>(name: string, x: T): T {
    return this.#annotate(name, () => {
      const state = this.#variables.state;
      const result = batchNorm(
        x,
        {
          weight: this.param(`${name}.weight`, 1),
          bias: this.param(`${name}.bias`, 1),
          runningMean: this.#lookup(
            state,
            "state tensor",
            `${name}.running_mean`,
            1,
          ) as tf.Tensor1D,
          runningVar: this.#lookup(state, "state tensor", `${name}.running_var`, 1) as tf.Tensor1D,
        },
        { training: this.training, momentum: this.#bn.momentum, eps: this.#bn.eps },
      );
      if (this.training) {
        this.#updated[`${name}.running_mean`] = result.runningMean;
        this.#updated[`${name}.running_var`] = result.runningVar;
      }
      return result.y;
    });
  }

  /** LayerNorm with `<name>.weight` and `<name>.bias`. */
  layerNorm<T extends tf.Tensor>(name: string, x: T, eps = 1e-6): T {
    return this.#annotate(
      name,
      () => layerNorm(x, this.param(`${name}.weight`, 1), this.param(`${name}.bias`, 1), eps),
    );
  }

  /** Self-attention with `<name>.qkv.{weight,bias}` and `<name>.proj.{weight,bias}`. */
  attention(name: string, x: tf.Tensor3D, heads: number): tf.Tensor3D {
    return this.#annotate(name, () =>
      multiHeadSelfAttention(x, {
        qkvWeight: this.param(`${name}.qkv.weight`, 2),
        qkvBias: this.param(`${name}.qkv.bias`, 1),
        projWeight: this.param(`${name}.proj.weight`, 2),
        projBias: this.param(`${name}.proj.bias`, 1),
      }, heads));
  }

  /** The state after this pass: the input state with the recorded BatchNorm updates. */
  stateAfter(): NamedTensors {
    if (!this.training) return this.#variables.state;
    return { ...this.#variables.state, ...this.#updated };
  }

  /** Prefixes shape errors with the layer name, so a bad checkpoint points at its layer. */
  #annotate<T>(name: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      const message = (e as Error).message;
      if (message.includes(`'${name}`)) throw e;
      throw new Error(`layer '${name}': ${message}`);
    }
  }
}
