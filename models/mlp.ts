/**
 * Multi-layer perceptron on flattened inputs: `hidden.0 -> act -> ... -> head`.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { gelu } from "./layers.ts";
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

/** Config of {@link createMlp}. */
export interface MlpConfig extends BaseConfig {
  /** Widths of the hidden layers (before `widthMultiplier`). */
  hidden: number[];
  /** Scales every hidden width (rounded, at least 1). */
  widthMultiplier: number;
  activation: "relu" | "gelu";
}

/** Defaults of {@link MlpConfig}: two hidden layers of 256, ReLU. */
export const MLP_DEFAULTS: MlpConfig = {
  ...BASE_DEFAULTS,
  hidden: [256, 256],
  widthMultiplier: 1,
  activation: "relu",
};

/**
 * An MLP classifier. Parameters: `hidden.<i>.weight` [in, out], `hidden.<i>.bias`,
 * `head.weight`, `head.bias` (PyTorch default initialisation).
 *
 * @example
 * ```ts
 * import { createMlp } from "./mlp.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const model = createMlp({ inputShape: [28, 28, 1], hidden: [64] });
 * const vars = model.init(0); // hidden.0.weight: [784, 64], head.weight: [64, 10]
 * ```
 */
export function createMlp(options: Partial<MlpConfig> = {}, name = "mlp"): SpecModel<MlpConfig> {
  const config = resolveConfig(name, MLP_DEFAULTS, options as Record<string, unknown>);
  checkBaseConfig(name, config);
  if (!config.hidden.every((h) => Number.isInteger(h) && h >= 1)) {
    throw new Error(
      `${name}: hidden must be a list of positive integers; got ${JSON.stringify(config.hidden)}`,
    );
  }
  if (!(config.widthMultiplier > 0)) {
    throw new Error(`${name}: widthMultiplier must be > 0; got ${config.widthMultiplier}`);
  }
  if (config.activation !== "relu" && config.activation !== "gelu") {
    throw new Error(`${name}: activation must be "relu" or "gelu"; got "${config.activation}"`);
  }
  const widths = config.hidden.map((h) => scaledWidth(h, config.widthMultiplier));
  const inFeatures = config.inputShape[0] * config.inputShape[1] * config.inputShape[2];
  const specs = new SpecBuilder();
  let previous = inFeatures;
  widths.forEach((w, i) => {
    specs.dense(`hidden.${i}`, { inFeatures: previous, outFeatures: w });
    previous = w;
  });
  specs.dense("head", { inFeatures: previous, outFeatures: config.numClasses });
  const activate = config.activation === "relu" ? tf.relu : gelu;
  return defineModel({
    name,
    config,
    specs: specs.build(),
    forward(scope, x) {
      let h = tf.reshape(x, [x.shape[0], inFeatures]) as tf.Tensor2D;
      for (let i = 0; i < widths.length; i++) h = activate(scope.dense(`hidden.${i}`, h));
      return scope.dense("head", h);
    },
  });
}
