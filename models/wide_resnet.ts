/**
 * Wide ResNet WRN-d-k (Zagoruyko & Komodakis, 2016) as in TRADES' `wideresnet.py` (the KDIGA
 * CIFAR-10 teacher is WRN-34-10): pre-activation basic blocks `BN-ReLU-conv3x3-BN-ReLU-conv3x3`,
 * a 1x1 `convShortcut` where the width or stride changes, `(d - 4) / 6` blocks per group,
 * widths `16, 16k, 32k, 64k`, final BN-ReLU, global average pooling and `fc`.
 *
 * Parameter names follow TRADES (`conv1`, `block<g>.layer.<i>.bn1|conv1|bn2|conv2|convShortcut`,
 * `bn1`, `fc`). TRADES also defines a `sub_block1` that its forward pass never uses; it is left
 * out here, so the count is that of the network that actually runs. Dropout is not implemented
 * (TRADES trains with dropRate 0).
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
import { SpecBuilder } from "./variables.ts";

/** Config of {@link createWideResNet}. */
export interface WideResNetConfig extends BaseConfig {
  /** Total depth d; (d - 4) must be a positive multiple of 6. */
  depth: number;
  /** Widen factor k. */
  widenFactor: number;
  /** Scales every width on top of k (16, 16k, 32k, 64k at 1). */
  widthMultiplier: number;
}

/** Defaults of {@link WideResNetConfig}: WRN-34-10 on CIFAR-10. */
export const WIDE_RESNET_DEFAULTS: WideResNetConfig = {
  ...BASE_DEFAULTS,
  depth: 34,
  widenFactor: 10,
  widthMultiplier: 1,
};

/**
 * A Wide ResNet.
 *
 * @example
 * ```ts
 * import { createWideResNet } from "./wide_resnet.ts";
 * const wrn = createWideResNet(); // WRN-34-10, 32x32x3 -> 10
 * const tiny = createWideResNet({ depth: 10, widenFactor: 1, widthMultiplier: 0.5 });
 * ```
 */
export function createWideResNet(
  options: Partial<WideResNetConfig> = {},
  name = "wide-resnet",
): SpecModel<WideResNetConfig> {
  const config = resolveConfig(name, WIDE_RESNET_DEFAULTS, options as Record<string, unknown>);
  checkBaseConfig(name, config);
  const { depth, widenFactor, widthMultiplier } = config;
  if (!Number.isInteger(depth) || depth < 10 || (depth - 4) % 6 !== 0) {
    throw new Error(
      `${name}: depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, 34, ...); got ${depth}`,
    );
  }
  if (!Number.isInteger(widenFactor) || widenFactor < 1) {
    throw new Error(`${name}: widenFactor must be a positive integer; got ${widenFactor}`);
  }
  if (!(widthMultiplier > 0)) {
    throw new Error(`${name}: widthMultiplier must be > 0; got ${widthMultiplier}`);
  }
  const n = (depth - 4) / 6;
  const widths = [16, 16 * widenFactor, 32 * widenFactor, 64 * widenFactor].map((w) =>
    scaledWidth(w, widthMultiplier)
  );
  interface Plan {
    prefix: string;
    inChannels: number;
    outChannels: number;
    stride: number;
    shortcut: boolean;
  }
  const plans: Plan[] = [];
  const specs = new SpecBuilder().conv2d("conv1", {
    kernelSize: 3,
    inChannels: config.inputShape[2],
    outChannels: widths[0],
  });
  for (let g = 0; g < 3; g++) {
    for (let i = 0; i < n; i++) {
      const inChannels = i === 0 ? widths[g] : widths[g + 1];
      const outChannels = widths[g + 1];
      const stride = i === 0 && g > 0 ? 2 : 1;
      const p = {
        prefix: `block${g + 1}.layer.${i}`,
        inChannels,
        outChannels,
        stride,
        shortcut: inChannels !== outChannels || stride !== 1,
      };
      plans.push(p);
      specs.batchNorm(`${p.prefix}.bn1`, inChannels)
        .conv2d(`${p.prefix}.conv1`, { kernelSize: 3, inChannels, outChannels })
        .batchNorm(`${p.prefix}.bn2`, outChannels)
        .conv2d(`${p.prefix}.conv2`, { kernelSize: 3, inChannels: outChannels, outChannels });
      if (p.shortcut) {
        specs.conv2d(`${p.prefix}.convShortcut`, { kernelSize: 1, inChannels, outChannels });
      }
    }
  }
  specs.batchNorm("bn1", widths[3])
    // TRADES zeroes the fc bias and keeps PyTorch's default weight.
    .add("fc.weight", [widths[3], config.numClasses], {
      kind: "uniform",
      limit: 1 / Math.sqrt(widths[3]),
    })
    .add("fc.bias", [config.numClasses], { kind: "zeros" });

  return defineModel({
    name,
    config,
    specs: specs.build(),
    forward(scope, x) {
      let y = scope.conv2d("conv1", x, { padding: 1 });
      for (const p of plans) {
        // As TRADES: when the shape changes, the shortcut also sees the pre-activated input.
        const activated = tf.relu(scope.batchNorm(`${p.prefix}.bn1`, y));
        let out = scope.conv2d(`${p.prefix}.conv1`, activated, { stride: p.stride, padding: 1 });
        out = tf.relu(scope.batchNorm(`${p.prefix}.bn2`, out));
        out = scope.conv2d(`${p.prefix}.conv2`, out, { padding: 1 });
        const shortcut = p.shortcut
          ? scope.conv2d(`${p.prefix}.convShortcut`, activated, { stride: p.stride })
          : y;
        y = tf.add(shortcut, out);
      }
      y = tf.relu(scope.batchNorm("bn1", y));
      return scope.dense("fc", globalAveragePool(y));
    },
  });
}
