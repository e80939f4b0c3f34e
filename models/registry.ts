/**
 * Models by name: `createModel("resnet18", {inputShape: [32, 32, 3]})`, plus the helpers every
 * caller needs (`asClassifier`, `parameterCount`, `variablesSignature`).
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { BaseConfig, SpecModel } from "./model_base.ts";
import { createMlp } from "./mlp.ts";
import { createMobileNetV2 } from "./mobilenet_v2.ts";
import { createResNet, RESNET_DEPTHS } from "./resnet.ts";
import { createSmallCnn } from "./small_cnn.ts";
import type { Classifier, Model, NamedTensors, Variables } from "./types.ts";
import { signatureOfSpecs, type VariablesSignature } from "./variables.ts";
import { createVit } from "./vit.ts";
import { createWideResNet } from "./wide_resnet.ts";

/**
 * Options of {@link createModel}: the common fields, plus any field of the family's config
 * (e.g. `widthMultiplier`, `stem`, `depth`, `patchSize`); unknown fields are an error that lists
 * the allowed ones.
 */
export type ModelOptions = Partial<BaseConfig> & Record<string, unknown>;

type Factory = (options: Record<string, unknown>, name: string) => SpecModel<any>;

/** Presets: a family factory and the defaults the name stands for (overridable by options). */
const PRESETS: Record<
  string,
  { factory: Factory; defaults: Record<string, unknown>; about: string }
> = {
  "mlp": { factory: createMlp, defaults: {}, about: "MLP, hidden [256, 256]" },
  "small-cnn": {
    factory: createSmallCnn,
    defaults: {},
    about: "the benchmark CNN (28x28x1 default)",
  },
  "resnet18": { factory: createResNet, defaults: { ...RESNET_DEPTHS[18] }, about: "ResNet-18" },
  "resnet34": { factory: createResNet, defaults: { ...RESNET_DEPTHS[34] }, about: "ResNet-34" },
  "resnet50": { factory: createResNet, defaults: { ...RESNET_DEPTHS[50] }, about: "ResNet-50" },
  "resnet101": { factory: createResNet, defaults: { ...RESNET_DEPTHS[101] }, about: "ResNet-101" },
  "mobilenetv2": { factory: createMobileNetV2, defaults: {}, about: "MobileNetV2, width 1" },
  "wide-resnet": { factory: createWideResNet, defaults: {}, about: "WRN-34-10 (TRADES)" },
  "vit": { factory: createVit, defaults: {}, about: "ViT with ViT-S geometry" },
  "mlp-tiny": {
    factory: createMlp,
    defaults: { hidden: [32] },
    about: "MLP, one hidden layer of 32",
  },
  "resnet-tiny": {
    factory: createResNet,
    defaults: { block: "basic", layers: [1, 1, 1, 1], widthMultiplier: 0.125 },
    about: "ResNet, one basic block per stage, widths 8..64",
  },
  "mobilenetv2-tiny": {
    factory: createMobileNetV2,
    defaults: {
      widthMultiplier: 0.25,
      roundNearest: 4,
      settings: [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 2, 2]],
      lastChannels: 64,
    },
    about: "MobileNetV2, 3 stages at width 0.25, head 64",
  },
  "wide-resnet-tiny": {
    factory: createWideResNet,
    defaults: { depth: 10, widenFactor: 1, widthMultiplier: 0.5 },
    about: "WRN-10-1 at half width",
  },
  "vit-tiny": {
    factory: createVit,
    defaults: { width: 32, depth: 2, heads: 2, mlpRatio: 2 },
    about: "ViT, width 32, depth 2, 2 heads",
  },
};

/** Every name {@link createModel} accepts. */
export const MODEL_NAMES: readonly string[] = Object.keys(PRESETS);

/**
 * Creates a model by name (see {@link MODEL_NAMES}). `model.name` is the preset name and
 * `model.config` the full resolved config, so `createModel(model.name, model.config)` rebuilds
 * the same model (checkpoints store both).
 *
 * @example
 * ```ts
 * import { createModel } from "./registry.ts";
 * const model = createModel("resnet18", { inputShape: [28, 28, 1], widthMultiplier: 0.25 });
 * ```
 */
export function createModel(name: string, options: ModelOptions = {}): SpecModel<any> {
  const preset = PRESETS[name];
  if (preset === undefined) {
    throw new Error(`unknown model '${name}': valid models are ${MODEL_NAMES.join(", ")}`);
  }
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new Error(`options of model '${name}' must be an object; got ${JSON.stringify(options)}`);
  }
  return preset.factory({ ...preset.defaults, ...options }, name);
}

/**
 * The model as a {@link Classifier} in eval mode (BatchNorm on running statistics), for losses
 * and attacks.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { asClassifier, createModel } from "./registry.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const model = createModel("small-cnn");
 * const f = asClassifier(model, model.init(0));
 * const logits = f(tf.zeros([2, 28, 28, 1])); // [2, 10]
 * ```
 */
export function asClassifier(model: Model, variables: Variables): Classifier {
  return (x: tf.Tensor4D) => model.apply(variables, x, { training: false }).logits;
}

function countTensors(tensors: NamedTensors): number {
  let n = 0;
  for (const t of Object.values(tensors)) n += t.size;
  return n;
}

/**
 * Number of trainable scalars in `variables.params` (plus the state, e.g. BN running
 * statistics, if `includeState`).
 *
 * @example
 * ```ts
 * import { createModel, parameterCount } from "./registry.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const model = createModel("small-cnn");
 * parameterCount(model.init(0)); // 50186
 * ```
 */
export function parameterCount(variables: Variables, includeState = false): number {
  return countTensors(variables.params) + (includeState ? countTensors(variables.state) : 0);
}

/**
 * Names, shapes and dtypes of a model's variables, without allocating them when the model lists
 * its specs (every kdiga family does); for checking checkpoints.
 *
 * @example
 * ```ts
 * import { createModel, variablesSignature } from "./registry.ts";
 * const sig = variablesSignature(createModel("resnet101"));
 * // sig.params["fc.weight"] = { shape: [2048, 10], dtype: "float32" }
 * ```
 */
export function variablesSignature(model: Model): VariablesSignature {
  const specs = (model as Partial<SpecModel>).variableSpecs?.();
  if (specs !== undefined) return signatureOfSpecs(specs);
  const vars = model.init(0);
  const sig: VariablesSignature = { params: {}, state: {} };
  for (const section of ["params", "state"] as const) {
    for (const [name, t] of Object.entries(vars[section])) {
      sig[section][name] = { shape: [...t.shape], dtype: t.dtype };
      t.dispose();
    }
  }
  return sig;
}

/**
 * A one-line description of every preset, for `--help` texts.
 *
 * @example
 * ```ts
 * import { describeModels } from "./registry.ts";
 * console.log(describeModels());
 * ```
 */
export function describeModels(): string {
  return MODEL_NAMES.map((n) => `${n}: ${PRESETS[n].about}`).join("\n");
}
