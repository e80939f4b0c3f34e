/**
 * Model families (MLP, small CNN, ResNet, Wide ResNet, MobileNetV2, ViT) in the functional
 * `init`/`apply` style of `types.ts`, their building blocks, the registry by name, and
 * safetensors checkpoints.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { useBackend } from "../backend/mod.ts";
 * import { asClassifier, createModel } from "./mod.ts";
 * await useBackend();
 * const model = createModel("resnet-tiny", { inputShape: [32, 32, 3] });
 * const f = asClassifier(model, model.init(0));
 * const logits = f(tf.zeros([1, 32, 32, 3])); // [1, 10]
 * ```
 * @module
 */
export * from "./types.ts";
export * from "./layers.ts";
export * from "./variables.ts";
export * from "./scope.ts";
export {
  BASE_DEFAULTS,
  type BaseConfig,
  CIFAR10_NORMALIZATION,
  defineModel,
  IMAGENET_NORMALIZATION,
  MNIST_NORMALIZATION,
  type ModelDefinition,
  resolveConfig,
  type SpecModel,
} from "./model_base.ts";
export * from "./mlp.ts";
export * from "./small_cnn.ts";
export * from "./resnet.ts";
export * from "./wide_resnet.ts";
export * from "./mobilenet_v2.ts";
export * from "./vit.ts";
export * from "./registry.ts";
export * from "./safetensors.ts";
export * from "./checkpoint.ts";
