/**
 * The small CNN of kdiga's step benchmark (the PyTorch reference net):
 * `Conv(c->32, 3x3, stride 2, pad 1) - ReLU - Conv(32->64, 3x3, stride 2, pad 1) - ReLU -
 * Flatten - Linear(64 * h/4 * w/4 -> classes)`; on 28x28x1 the linear layer is 3136 -> 10.
 *
 * Padding is PyTorch's (1 pixel on every side), not tfjs "same" (which pads 0 before and 1 after
 * at stride 2 on even sizes): same shapes and cost, and weights transfer exactly. The flatten
 * order is NHWC (PyTorch flattens CHW), so a PyTorch `fc.weight` needs its input axis permuted.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  BASE_DEFAULTS,
  type BaseConfig,
  checkBaseConfig,
  defineModel,
  resolveConfig,
  scaledWidth,
  type SpecModel,
} from "./model_base.ts";
import { SpecBuilder } from "./variables.ts";

/** Config of {@link createSmallCnn}. */
export interface SmallCnnConfig extends BaseConfig {
  /** Scales the 32 and 64 channels (default 1: the benchmark net). */
  widthMultiplier: number;
}

/** Defaults of {@link SmallCnnConfig}: the benchmark net on 28x28x1, 10 classes. */
export const SMALL_CNN_DEFAULTS: SmallCnnConfig = {
  ...BASE_DEFAULTS,
  inputShape: [28, 28, 1],
  widthMultiplier: 1,
};

/** Output size of a 3x3, stride-2, pad-1 convolution (PyTorch's formula). */
function downsampled(size: number): number {
  return Math.floor((size + 2 - 3) / 2) + 1;
}

/**
 * The benchmark CNN. Parameters `conv1.*`, `conv2.*`, `fc.*` with PyTorch default
 * initialisation.
 *
 * @example
 * ```ts
 * import { createSmallCnn } from "./small_cnn.ts";
 * const model = createSmallCnn(); // 28x28x1 -> 10 logits, 50,186 parameters
 * ```
 */
export function createSmallCnn(
  options: Partial<SmallCnnConfig> = {},
  name = "small-cnn",
): SpecModel<SmallCnnConfig> {
  const config = resolveConfig(name, SMALL_CNN_DEFAULTS, options as Record<string, unknown>);
  checkBaseConfig(name, config);
  if (!(config.widthMultiplier > 0)) {
    throw new Error(`${name}: widthMultiplier must be > 0; got ${config.widthMultiplier}`);
  }
  const [h, w, c] = config.inputShape;
  const c1 = scaledWidth(32, config.widthMultiplier);
  const c2 = scaledWidth(64, config.widthMultiplier);
  const flat = downsampled(downsampled(h)) * downsampled(downsampled(w)) * c2;
  const specs = new SpecBuilder()
    .conv2d("conv1", {
      kernelSize: 3,
      inChannels: c,
      outChannels: c1,
      bias: true,
      init: "pytorch-default",
    })
    .conv2d("conv2", {
      kernelSize: 3,
      inChannels: c1,
      outChannels: c2,
      bias: true,
      init: "pytorch-default",
    })
    .dense("fc", { inFeatures: flat, outFeatures: config.numClasses })
    .build();
  return defineModel({
    name,
    config,
    specs,
    forward(scope, x) {
      let y = tf.relu(scope.conv2d("conv1", x, { stride: 2, padding: 1 }));
      y = tf.relu(scope.conv2d("conv2", y, { stride: 2, padding: 1 }));
      return scope.dense("fc", tf.reshape(y, [y.shape[0], flat]) as tf.Tensor2D);
    },
  });
}
