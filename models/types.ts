/**
 * The functional model contract shared by every model family, the losses and the attacks.
 *
 * As in JAX/Flax: `init(seed) -> variables` and `apply(variables, x, {training}) -> logits`
 * (plus the updated BatchNorm statistics in training mode). Losses and attacks only ever see a
 * {@link Classifier}: any function `x -> logits`.
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";

/** Named tensors, e.g. `{"stem.conv.weight": ..., "stem.bn.gamma": ...}`. */
export type NamedTensors = Record<string, tf.Tensor>;

/** Everything a model needs to run: trainable `params` and non-trainable `state` (BN stats). */
export interface Variables {
  params: NamedTensors;
  state: NamedTensors;
}

/** Options of {@link Model.apply}. */
export interface ApplyOptions {
  /** Training mode: BatchNorm uses batch statistics and returns updated running statistics. */
  training: boolean;
}

/** What {@link Model.apply} returns. */
export interface ApplyResult {
  /** [batch, classes] */
  logits: tf.Tensor2D;
  /** Updated non-trainable state in training mode; the input state (same tensors) in eval mode. */
  state: NamedTensors;
}

/** A model family instantiated with one config. */
export interface Model<Config = unknown> {
  /** Family name, e.g. "resnet18". */
  readonly name: string;
  readonly config: Config;
  /** Input shape [height, width, channels], NHWC, values in [0, 1]. */
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  /** Fresh variables, deterministic in `seed`. */
  init(seed: number): Variables;
  /** Forward pass. Inputs in [0, 1]; normalisation happens inside the model. */
  apply(variables: Variables, x: tf.Tensor4D, options: ApplyOptions): ApplyResult;
}

/** Any function from a batch of inputs [batch, h, w, c] in [0, 1] to logits [batch, classes]. */
export type Classifier = (x: tf.Tensor4D) => tf.Tensor2D;
