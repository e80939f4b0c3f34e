/**
 * MobileNetV2 (Sandler et al., 2018) as torchvision builds it: a 3x3 stem, inverted residual
 * blocks (1x1 expansion - ReLU6 - 3x3 depthwise - ReLU6 - linear 1x1 projection; residual when
 * stride 1 and widths match; no expansion conv when t = 1), a 1x1 head convolution to 1280
 * channels, global average pooling and a linear classifier. Widths are scaled by the width
 * multiplier and rounded to multiples of `roundNearest` (torchvision's `_make_divisible`).
 *
 * Stems: `"imagenet"` is torchvision's (stride-2 stem); `"cifar"` uses a stride-1 stem and
 * stride 1 in the second stage, as the CIFAR MobileNetV2 of the KD literature, so 32x32 inputs
 * reach a 4x4 map. The classifier dropout of torchvision (0.2) is not implemented.
 *
 * Parameter names: `stem.conv`, `stem.bn`, `blocks.<i>.expand.conv|bn`,
 * `blocks.<i>.depthwise.conv|bn`, `blocks.<i>.project.conv|bn`, `head.conv|bn`, `classifier`.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { globalAveragePool } from "./layers.ts";
import {
  BASE_DEFAULTS,
  type BaseConfig,
  checkBaseConfig,
  defineModel,
  resolveConfig,
  type SpecModel,
} from "./model_base.ts";
import { SpecBuilder } from "./variables.ts";

/** One stage of inverted residual blocks: expansion t, output channels c, repeats n, stride s. */
export type InvertedResidualSetting = [t: number, c: number, n: number, s: number];

/** Config of {@link createMobileNetV2}. */
export interface MobileNetV2Config extends BaseConfig {
  widthMultiplier: number;
  /** Channel counts are rounded to multiples of this (8 in torchvision). */
  roundNearest: number;
  /** The stages (before width scaling); torchvision's table by default. */
  settings: InvertedResidualSetting[];
  /** Stem output channels before scaling (32). */
  stemChannels: number;
  /** Head channels before scaling (1280; scaled only when widthMultiplier > 1, as torchvision). */
  lastChannels: number;
  stem: "cifar" | "imagenet";
}

/** torchvision's inverted residual table. */
export const MOBILENET_V2_SETTINGS: InvertedResidualSetting[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** Defaults of {@link MobileNetV2Config}: width 1, CIFAR stem, 32x32x3 -> 10. */
export const MOBILENET_V2_DEFAULTS: MobileNetV2Config = {
  ...BASE_DEFAULTS,
  widthMultiplier: 1,
  roundNearest: 8,
  settings: MOBILENET_V2_SETTINGS,
  stemChannels: 32,
  lastChannels: 1280,
  stem: "cifar",
};

/**
 * torchvision's `_make_divisible`: round to the nearest multiple of `divisor` (at least
 * `divisor`), never going more than 10% below `value`.
 *
 * @example
 * ```ts
 * import { makeDivisible } from "./mobilenet_v2.ts";
 * makeDivisible(32 * 0.35, 8); // 16
 * ```
 */
export function makeDivisible(value: number, divisor: number): number {
  let v = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (v < 0.9 * value) v += divisor;
  return v;
}

/**
 * A MobileNetV2.
 *
 * @example
 * ```ts
 * import { createMobileNetV2 } from "./mobilenet_v2.ts";
 * const student = createMobileNetV2(); // CIFAR-10 student of the KDIGA paper
 * const tiny = createMobileNetV2({ widthMultiplier: 0.25, settings: [[1, 16, 1, 1], [6, 24, 2, 2]], lastChannels: 64 });
 * ```
 */
export function createMobileNetV2(
  options: Partial<MobileNetV2Config> = {},
  name = "mobilenetv2",
): SpecModel<MobileNetV2Config> {
  const config = resolveConfig(name, MOBILENET_V2_DEFAULTS, options as Record<string, unknown>);
  checkBaseConfig(name, config);
  const { widthMultiplier: m, roundNearest } = config;
  if (!(m > 0)) throw new Error(`${name}: widthMultiplier must be > 0; got ${m}`);
  if (!Number.isInteger(roundNearest) || roundNearest < 1) {
    throw new Error(`${name}: roundNearest must be a positive integer; got ${roundNearest}`);
  }
  if (config.stem !== "cifar" && config.stem !== "imagenet") {
    throw new Error(`${name}: stem must be "cifar" or "imagenet"; got "${config.stem}"`);
  }
  if (
    config.settings.length < 1 ||
    !config.settings.every((s) =>
      Array.isArray(s) && s.length === 4 && s.every((v) => Number.isInteger(v) && v >= 1)
    )
  ) {
    throw new Error(
      `${name}: settings must be a non-empty list of [t, c, n, s] positive integers; got ${
        JSON.stringify(config.settings)
      }`,
    );
  }
  const settings = config.settings.map((s) => [...s] as InvertedResidualSetting);
  const stemStride = config.stem === "cifar" ? 1 : 2;
  // The CIFAR variant keeps resolution through the second stage too (kuangliu's pytorch-cifar).
  if (config.stem === "cifar" && settings.length > 1) settings[1][3] = 1;

  const stemChannels = makeDivisible(config.stemChannels * m, roundNearest);
  const lastChannels = makeDivisible(config.lastChannels * Math.max(1, m), roundNearest);
  interface Plan {
    prefix: string;
    inChannels: number;
    hidden: number;
    outChannels: number;
    stride: number;
    expand: boolean;
    residual: boolean;
  }
  const plans: Plan[] = [];
  const specs = new SpecBuilder()
    .conv2d("stem.conv", {
      kernelSize: 3,
      inChannels: config.inputShape[2],
      outChannels: stemChannels,
    })
    .batchNorm("stem.bn", stemChannels);
  let channels = stemChannels;
  for (const [t, c, n, s] of settings) {
    const outChannels = makeDivisible(c * m, roundNearest);
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const hidden = Math.round(channels * t);
      const p: Plan = {
        prefix: `blocks.${plans.length}`,
        inChannels: channels,
        hidden,
        outChannels,
        stride,
        expand: t !== 1,
        residual: stride === 1 && channels === outChannels,
      };
      plans.push(p);
      if (p.expand) {
        specs.conv2d(`${p.prefix}.expand.conv`, {
          kernelSize: 1,
          inChannels: channels,
          outChannels: hidden,
        })
          .batchNorm(`${p.prefix}.expand.bn`, hidden);
      }
      specs.depthwiseConv2d(`${p.prefix}.depthwise.conv`, { kernelSize: 3, channels: hidden })
        .batchNorm(`${p.prefix}.depthwise.bn`, hidden)
        .conv2d(`${p.prefix}.project.conv`, { kernelSize: 1, inChannels: hidden, outChannels })
        .batchNorm(`${p.prefix}.project.bn`, outChannels);
      channels = outChannels;
    }
  }
  specs.conv2d("head.conv", { kernelSize: 1, inChannels: channels, outChannels: lastChannels })
    .batchNorm("head.bn", lastChannels)
    .dense("classifier", {
      inFeatures: lastChannels,
      outFeatures: config.numClasses,
      init: "normal-0.01",
    });

  return defineModel({
    name,
    config,
    specs: specs.build(),
    forward(scope, x) {
      let y = tf.relu6(
        scope.batchNorm(
          "stem.bn",
          scope.conv2d("stem.conv", x, { stride: stemStride, padding: 1 }),
        ),
      );
      for (const p of plans) {
        let h = y;
        if (p.expand) {
          h = tf.relu6(
            scope.batchNorm(`${p.prefix}.expand.bn`, scope.conv2d(`${p.prefix}.expand.conv`, h)),
          );
        }
        h = tf.relu6(scope.batchNorm(
          `${p.prefix}.depthwise.bn`,
          scope.depthwiseConv2d(`${p.prefix}.depthwise.conv`, h, { stride: p.stride, padding: 1 }),
        ));
        h = scope.batchNorm(`${p.prefix}.project.bn`, scope.conv2d(`${p.prefix}.project.conv`, h));
        y = p.residual ? tf.add(y, h) : h;
      }
      y = tf.relu6(scope.batchNorm("head.bn", scope.conv2d("head.conv", y)));
      return scope.dense("classifier", globalAveragePool(y));
    },
  });
}
