/**
 * What every model family shares: the common config fields (input shape, classes, input
 * normalisation), config validation, and {@link defineModel}, which turns a variable list and a
 * forward function into a {@link Model}.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { checkNormalization, type InputNormalization, normalizeInput } from "./layers.ts";
import { type BatchNormSettings, ForwardScope } from "./scope.ts";
import type { ApplyOptions, ApplyResult, Model, Variables } from "./types.ts";
import { initVariables, type VariableSpec } from "./variables.ts";

export type { InputNormalization } from "./layers.ts";

/** MNIST pixel statistics. */
export const MNIST_NORMALIZATION: InputNormalization = { mean: [0.1307], std: [0.3081] };
/** CIFAR-10 per-channel statistics (training set). */
export const CIFAR10_NORMALIZATION: InputNormalization = {
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.2470, 0.2435, 0.2616],
};
/** ImageNet per-channel statistics (torchvision). */
export const IMAGENET_NORMALIZATION: InputNormalization = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/** Config fields every family has. */
export interface BaseConfig {
  /** [height, width, channels] of one input. */
  inputShape: [number, number, number];
  numClasses: number;
  /** Per-channel `(x - mean) / std` inside the model; null feeds [0, 1] inputs as they are. */
  normalization: InputNormalization | null;
}

/** Defaults of {@link BaseConfig}: CIFAR-sized RGB inputs, 10 classes, no normalisation. */
export const BASE_DEFAULTS: BaseConfig = {
  inputShape: [32, 32, 3],
  numClasses: 10,
  normalization: null,
};

/** A {@link Model} that also lists its variables (for counts and checkpoint checks). */
export interface SpecModel<Config = unknown> extends Model<Config> {
  /** Every parameter and state tensor, without allocating. */
  variableSpecs(): readonly VariableSpec[];
}

/**
 * Merges `overrides` into `defaults`, rejecting keys the family does not have and values whose
 * JSON type differs from the default's (arrays vs numbers vs strings).
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./model_base.ts";
 * const c = resolveConfig("mlp", { hidden: [8], numClasses: 10 }, { numClasses: 3 }); // {hidden: [8], numClasses: 3}
 * ```
 */
export function resolveConfig<C extends object>(
  family: string,
  defaults: C,
  overrides: Record<string, unknown> = {},
): C {
  const allowed = Object.keys(defaults);
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (!allowed.includes(key)) {
      throw new Error(`unknown option '${key}' for ${family}: allowed are ${allowed.join(", ")}`);
    }
    const d = (defaults as Record<string, unknown>)[key];
    const kind = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
    const nullable = key === "normalization";
    if (d !== null && kind(d) !== kind(value) && !(nullable && value === null)) {
      throw new Error(
        `option '${key}' of ${family} must be ${
          kind(d) === "object" ? "an object" : `a ${kind(d)}`
        }; ` +
          `got ${JSON.stringify(value)}`,
      );
    }
    out[key] = value;
  }
  return out as C;
}

/**
 * Throws unless `value` is an integer >= `min`, naming `what`.
 *
 * @example
 * ```ts
 * import { checkInteger } from "./model_base.ts";
 * checkInteger("depth", 12); // ok; checkInteger("depth", 0) throws "depth must be an integer >= 1; got 0"
 * ```
 */
export function checkInteger(what: string, value: number, min = 1): void {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${what} must be an integer >= ${min}; got ${value}`);
  }
}

/**
 * Validates the {@link BaseConfig} fields, naming the family and the bad value.
 *
 * @example
 * ```ts
 * import { BASE_DEFAULTS, checkBaseConfig } from "./model_base.ts";
 * checkBaseConfig("mlp", BASE_DEFAULTS); // ok
 * ```
 */
export function checkBaseConfig(family: string, config: BaseConfig): void {
  const s = config.inputShape;
  if (!Array.isArray(s) || s.length !== 3 || !s.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(
      `${family}: inputShape must be [height, width, channels] of positive integers; got ${
        JSON.stringify(s)
      }`,
    );
  }
  checkInteger(`${family}: numClasses`, config.numClasses, 2);
  if (config.normalization !== null) checkNormalization(config.normalization, s[2]);
}

/**
 * Rounds `base * multiplier` to an integer channel count >= 1.
 *
 * @example
 * ```ts
 * import { scaledWidth } from "./model_base.ts";
 * scaledWidth(64, 0.125); // 8
 * ```
 */
export function scaledWidth(base: number, multiplier: number): number {
  return Math.max(1, Math.round(base * multiplier));
}

/** Everything {@link defineModel} needs. */
export interface ModelDefinition<C extends BaseConfig> {
  name: string;
  config: C;
  specs: readonly VariableSpec[];
  /** Logits of normalised inputs; call `scope.*` for named layers. */
  forward: (scope: ForwardScope, x: tf.Tensor4D) => tf.Tensor2D;
  /** BatchNorm momentum/eps (default PyTorch's 0.1 / 1e-5). */
  batchNorm?: BatchNormSettings;
}

/**
 * Builds a {@link SpecModel}: `init` materialises the specs, `apply` checks the input shape,
 * normalises, runs `forward` inside `tf.tidy` and returns the logits with the (updated) state.
 *
 * In training mode the returned state tensors are new; inside `tf.grad`/`tf.variableGrads`,
 * `tf.keep` them (or return them from the tidy) before the gradient's scope disposes them.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { defineModel } from "./model_base.ts";
 * import { SpecBuilder } from "./variables.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const model = defineModel({
 *   name: "linear",
 *   config: { inputShape: [2, 2, 1], numClasses: 3, normalization: null },
 *   specs: new SpecBuilder().dense("fc", { inFeatures: 4, outFeatures: 3 }).build(),
 *   forward: (scope, x) => scope.dense("fc", tf.reshape(x, [x.shape[0], 4]) as tf.Tensor2D),
 * });
 * const { logits } = model.apply(model.init(0), tf.zeros([5, 2, 2, 1]), { training: false }); // [5, 3]
 * ```
 */
export function defineModel<C extends BaseConfig>(definition: ModelDefinition<C>): SpecModel<C> {
  const { name, config, specs, forward } = definition;
  checkBaseConfig(name, config);
  const inputShape = [...config.inputShape] as [number, number, number];
  const frozenSpecs = specs.map((s) => Object.freeze({ ...s, shape: Object.freeze([...s.shape]) }));
  return {
    name,
    config,
    inputShape,
    numClasses: config.numClasses,
    variableSpecs: () => frozenSpecs,
    init: (seed: number) => initVariables(frozenSpecs, seed),
    apply(variables: Variables, x: tf.Tensor4D, options: ApplyOptions): ApplyResult {
      if (options == null || typeof options.training !== "boolean") {
        throw new Error(
          `${name}.apply needs options {training: boolean}; got ${JSON.stringify(options)}`,
        );
      }
      if (
        x.rank !== 4 || x.shape[0] < 1 || x.shape[1] !== inputShape[0] ||
        x.shape[2] !== inputShape[1] ||
        x.shape[3] !== inputShape[2]
      ) {
        throw new Error(
          `${name} expects inputs [batch, ${inputShape.join(", ")}] (NHWC); got [${x.shape}]`,
        );
      }
      const scope = new ForwardScope(variables, options.training, definition.batchNorm);
      return tf.tidy(() => {
        const input = config.normalization === null ? x : normalizeInput(x, config.normalization);
        const logits = forward(scope, input);
        if (logits.rank !== 2 || logits.shape[1] !== config.numClasses) {
          throw new Error(
            `${name} produced logits [${logits.shape}]; expected [batch, ${config.numClasses}]`,
          );
        }
        return { logits, state: scope.stateAfter() };
      });
    },
  };
}
