/**
 * ResNet-18/34/50/101 (He et al., 2016) with torchvision's layout and parameter names
 * (`conv1`, `bn1`, `layer<s>.<b>.conv1`, `layer<s>.<b>.downsample.0/1`, `fc`), stride on the
 * 3x3 convolution of bottleneck blocks (ResNet v1.5).
 *
 * Stems:
 * - `"cifar"` (small inputs): 3x3 stride-1 convolution, BN, ReLU, no pooling (as the CIFAR
 *   ResNets of the robustness literature).
 * - `"imagenet"`: 7x7 stride-2 convolution, BN, ReLU, then a 3x3 stride-2 convolution + BN +
 *   ReLU (`pool_conv`, `pool_bn`) INSTEAD of torchvision's 3x3 stride-2 max-pool: max-pool has
 *   no second-order gradient in tfjs, and KDIGA differentiates input gradients. This adds
 *   `64*64*9 + 128` parameters (at width 1) over torchvision's count.
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
  scaledWidth,
  type SpecModel,
} from "./model_base.ts";
import type { ForwardScope } from "./scope.ts";
import { SpecBuilder } from "./variables.ts";

/** Config of {@link createResNet}. */
export interface ResNetConfig extends BaseConfig {
  /** Residual block type: basic (two 3x3 convs) or bottleneck (1x1, 3x3, 1x1, expansion 4). */
  block: "basic" | "bottleneck";
  /** Blocks per stage, e.g. [2, 2, 2, 2] for ResNet-18. */
  layers: number[];
  /** Scales every width (64, 128, 256, 512 at 1). */
  widthMultiplier: number;
  stem: "cifar" | "imagenet";
  /**
   * Start each residual block's last BatchNorm scale at 0, so every block starts as the identity
   * (torchvision's `zero_init_residual`; Goyal et al. 2017). Default false. It speeds up plain
   * training of deep ResNets, but made a KDIGA ResNet-101 with a large λ_IGA diverge (see
   * `experiments/presets.ts`).
   */
  zeroInitResidual: boolean;
}

/** The standard depths: block type and blocks per stage. */
export const RESNET_DEPTHS: Record<18 | 34 | 50 | 101, Pick<ResNetConfig, "block" | "layers">> = {
  18: { block: "basic", layers: [2, 2, 2, 2] },
  34: { block: "basic", layers: [3, 4, 6, 3] },
  50: { block: "bottleneck", layers: [3, 4, 6, 3] },
  101: { block: "bottleneck", layers: [3, 4, 23, 3] },
};

/** Defaults of {@link ResNetConfig}: ResNet-18 with the CIFAR stem. */
export const RESNET_DEFAULTS: ResNetConfig = {
  ...BASE_DEFAULTS,
  ...RESNET_DEPTHS[18],
  widthMultiplier: 1,
  stem: "cifar",
  zeroInitResidual: false,
};

interface BlockPlan {
  prefix: string;
  inChannels: number;
  width: number;
  outChannels: number;
  stride: number;
  downsample: boolean;
}

/**
 * A ResNet. The stage widths are `round(64 * widthMultiplier) * 2^stage`.
 *
 * @example
 * ```ts
 * import { createResNet, RESNET_DEPTHS } from "./resnet.ts";
 * const resnet18 = createResNet({ ...RESNET_DEPTHS[18], inputShape: [32, 32, 3] });
 * const tiny = createResNet({ layers: [1, 1, 1, 1], widthMultiplier: 0.125 }); // widths 8..64
 * ```
 */
export function createResNet(
  options: Partial<ResNetConfig> = {},
  name = "resnet",
): SpecModel<ResNetConfig> {
  const config = resolveConfig(name, RESNET_DEFAULTS, options as Record<string, unknown>);
  checkBaseConfig(name, config);
  if (config.block !== "basic" && config.block !== "bottleneck") {
    throw new Error(`${name}: block must be "basic" or "bottleneck"; got "${config.block}"`);
  }
  if (config.stem !== "cifar" && config.stem !== "imagenet") {
    throw new Error(`${name}: stem must be "cifar" or "imagenet"; got "${config.stem}"`);
  }
  if (config.layers.length < 1 || !config.layers.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new Error(
      `${name}: layers must be a non-empty list of positive integers; got ${
        JSON.stringify(config.layers)
      }`,
    );
  }
  if (!(config.widthMultiplier > 0)) {
    throw new Error(`${name}: widthMultiplier must be > 0; got ${config.widthMultiplier}`);
  }

  const expansion = config.block === "basic" ? 1 : 4;
  const base = scaledWidth(64, config.widthMultiplier);
  const specs = new SpecBuilder();
  const inChannels = config.inputShape[2];
  if (config.stem === "cifar") {
    specs.conv2d("conv1", { kernelSize: 3, inChannels, outChannels: base }).batchNorm("bn1", base);
  } else {
    specs.conv2d("conv1", { kernelSize: 7, inChannels, outChannels: base }).batchNorm("bn1", base);
    specs.conv2d("pool_conv", { kernelSize: 3, inChannels: base, outChannels: base }).batchNorm(
      "pool_bn",
      base,
    );
  }

  const plans: BlockPlan[] = [];
  let channels = base;
  config.layers.forEach((count, stage) => {
    const width = base * 2 ** stage;
    for (let b = 0; b < count; b++) {
      const stride = stage > 0 && b === 0 ? 2 : 1;
      const outChannels = width * expansion;
      plans.push({
        prefix: `layer${stage + 1}.${b}`,
        inChannels: channels,
        width,
        outChannels,
        stride,
        downsample: stride !== 1 || channels !== outChannels,
      });
      channels = outChannels;
    }
  });
  for (const p of plans) {
    if (config.block === "basic") {
      specs.conv2d(`${p.prefix}.conv1`, {
        kernelSize: 3,
        inChannels: p.inChannels,
        outChannels: p.width,
      })
        .batchNorm(`${p.prefix}.bn1`, p.width)
        .conv2d(`${p.prefix}.conv2`, { kernelSize: 3, inChannels: p.width, outChannels: p.width })
        .batchNorm(`${p.prefix}.bn2`, p.width, config.zeroInitResidual);
    } else {
      specs.conv2d(`${p.prefix}.conv1`, {
        kernelSize: 1,
        inChannels: p.inChannels,
        outChannels: p.width,
      })
        .batchNorm(`${p.prefix}.bn1`, p.width)
        .conv2d(`${p.prefix}.conv2`, { kernelSize: 3, inChannels: p.width, outChannels: p.width })
        .batchNorm(`${p.prefix}.bn2`, p.width)
        .conv2d(`${p.prefix}.conv3`, {
          kernelSize: 1,
          inChannels: p.width,
          outChannels: p.outChannels,
        })
        .batchNorm(`${p.prefix}.bn3`, p.outChannels, config.zeroInitResidual);
    }
    if (p.downsample) {
      specs.conv2d(`${p.prefix}.downsample.0`, {
        kernelSize: 1,
        inChannels: p.inChannels,
        outChannels: p.outChannels,
      })
        .batchNorm(`${p.prefix}.downsample.1`, p.outChannels);
    }
  }
  specs.dense("fc", { inFeatures: channels, outFeatures: config.numClasses });

  const block = (scope: ForwardScope, p: BlockPlan, x: tf.Tensor4D): tf.Tensor4D => {
    let y: tf.Tensor4D;
    if (config.block === "basic") {
      y = tf.relu(
        scope.batchNorm(
          `${p.prefix}.bn1`,
          scope.conv2d(`${p.prefix}.conv1`, x, { stride: p.stride, padding: 1 }),
        ),
      );
      y = scope.batchNorm(`${p.prefix}.bn2`, scope.conv2d(`${p.prefix}.conv2`, y, { padding: 1 }));
    } else {
      y = tf.relu(scope.batchNorm(`${p.prefix}.bn1`, scope.conv2d(`${p.prefix}.conv1`, x)));
      y = tf.relu(
        scope.batchNorm(
          `${p.prefix}.bn2`,
          scope.conv2d(`${p.prefix}.conv2`, y, { stride: p.stride, padding: 1 }),
        ),
      );
      y = scope.batchNorm(`${p.prefix}.bn3`, scope.conv2d(`${p.prefix}.conv3`, y));
    }
    const shortcut = p.downsample
      ? scope.batchNorm(
        `${p.prefix}.downsample.1`,
        scope.conv2d(`${p.prefix}.downsample.0`, x, { stride: p.stride }),
      )
      : x;
    return tf.relu(tf.add(y, shortcut));
  };

  return defineModel({
    name,
    config,
    specs: specs.build(),
    forward(scope, x) {
      let y: tf.Tensor4D;
      if (config.stem === "cifar") {
        y = tf.relu(scope.batchNorm("bn1", scope.conv2d("conv1", x, { padding: 1 })));
      } else {
        y = tf.relu(scope.batchNorm("bn1", scope.conv2d("conv1", x, { stride: 2, padding: 3 })));
        y = tf.relu(
          scope.batchNorm("pool_bn", scope.conv2d("pool_conv", y, { stride: 2, padding: 1 })),
        );
      }
      for (const p of plans) y = block(scope, p, y);
      return scope.dense("fc", globalAveragePool(y));
    },
  });
}
