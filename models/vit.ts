/**
 * Vision Transformer (Dosovitskiy et al., 2020) with timm's layout and names: a strided
 * convolution patchifies (`patch_embed.proj`), an optional class token (`cls_token`) and learned
 * position embeddings (`pos_embed`) are added, then `depth` pre-norm blocks
 * (`blocks.<i>.norm1`, `.attn.qkv`, `.attn.proj`, `.norm2`, `.mlp.fc1`, `.mlp.fc2`), a final
 * `norm` and the `head`. Pooling is the class token or the mean of the patch tokens. Dropout and
 * stochastic depth are not implemented.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { gelu, type GeluApproximation } from "./layers.ts";
import {
  BASE_DEFAULTS,
  type BaseConfig,
  checkBaseConfig,
  checkInteger,
  defineModel,
  resolveConfig,
  scaledWidth,
  type SpecModel,
} from "./model_base.ts";
import { SpecBuilder } from "./variables.ts";

/** Config of {@link createVit}. */
export interface VitConfig extends BaseConfig {
  /** Side of the square patches; must divide the input height and width. 0: 16 for inputs of
   * at least 64 pixels divisible by 16, else 4. */
  patchSize: number;
  /** Token width (384 for ViT-S), before `widthMultiplier`. */
  width: number;
  depth: number;
  heads: number;
  /** Hidden width of the MLP relative to the token width. */
  mlpRatio: number;
  /** Scales the token width (rounded to a multiple of `heads`). */
  widthMultiplier: number;
  pooling: "cls" | "mean";
  gelu: GeluApproximation;
  layerNormEps: number;
}

/** Defaults of {@link VitConfig}: ViT-S geometry (width 384, depth 12, 6 heads), 32x32x3 -> 10. */
export const VIT_DEFAULTS: VitConfig = {
  ...BASE_DEFAULTS,
  patchSize: 0,
  width: 384,
  depth: 12,
  heads: 6,
  mlpRatio: 4,
  widthMultiplier: 1,
  pooling: "cls",
  gelu: "erf",
  layerNormEps: 1e-6,
};

function defaultPatchSize(h: number, w: number): number {
  if (h >= 64 && w >= 64 && h % 16 === 0 && w % 16 === 0) return 16;
  return 4;
}

/**
 * A Vision Transformer.
 *
 * @example
 * ```ts
 * import { createVit } from "./vit.ts";
 * const vitS16 = createVit({ inputShape: [224, 224, 3], numClasses: 1000 }); // ViT-S/16
 * const tiny = createVit({ inputShape: [28, 28, 1], patchSize: 7, width: 32, depth: 2, heads: 2 });
 * ```
 */
export function createVit(options: Partial<VitConfig> = {}, name = "vit"): SpecModel<VitConfig> {
  const resolved = resolveConfig(name, VIT_DEFAULTS, options as Record<string, unknown>);
  checkBaseConfig(name, resolved);
  const [h, w, c] = resolved.inputShape;
  const config = { ...resolved, patchSize: resolved.patchSize || defaultPatchSize(h, w) };
  const { patchSize: p, depth, heads, mlpRatio } = config;
  checkInteger(`${name}: patchSize`, p);
  if (h % p !== 0 || w % p !== 0) {
    throw new Error(`${name}: patchSize ${p} must divide the input height ${h} and width ${w}`);
  }
  checkInteger(`${name}: depth`, depth);
  checkInteger(`${name}: heads`, heads);
  checkInteger(`${name}: width`, config.width);
  if (!(mlpRatio > 0)) throw new Error(`${name}: mlpRatio must be > 0; got ${mlpRatio}`);
  if (!(config.widthMultiplier > 0)) {
    throw new Error(`${name}: widthMultiplier must be > 0; got ${config.widthMultiplier}`);
  }
  if (config.pooling !== "cls" && config.pooling !== "mean") {
    throw new Error(`${name}: pooling must be "cls" or "mean"; got "${config.pooling}"`);
  }
  if (!(config.layerNormEps >= 0)) {
    throw new Error(`${name}: layerNormEps must be >= 0; got ${config.layerNormEps}`);
  }
  const width = Math.max(1, Math.round(scaledWidth(config.width, config.widthMultiplier) / heads)) *
    heads;
  if (config.widthMultiplier === 1 && width !== config.width) {
    throw new Error(`${name}: heads ${heads} must divide the width ${config.width}`);
  }
  const hiddenWidth = scaledWidth(width, mlpRatio);
  const gridH = h / p;
  const gridW = w / p;
  const patches = gridH * gridW;
  const tokens = patches + (config.pooling === "cls" ? 1 : 0);
  const eps = config.layerNormEps;

  const specs = new SpecBuilder()
    .conv2d("patch_embed.proj", {
      kernelSize: p,
      inChannels: c,
      outChannels: width,
      bias: true,
      init: "truncated-normal-0.02",
    });
  if (config.pooling === "cls") {
    specs.add("cls_token", [1, 1, width], { kind: "truncatedNormal", std: 0.02 });
  }
  specs.add("pos_embed", [1, tokens, width], { kind: "truncatedNormal", std: 0.02 });
  for (let i = 0; i < depth; i++) {
    const b = `blocks.${i}`;
    specs.layerNorm(`${b}.norm1`, width)
      .dense(`${b}.attn.qkv`, {
        inFeatures: width,
        outFeatures: 3 * width,
        init: "truncated-normal-0.02",
      })
      .dense(`${b}.attn.proj`, {
        inFeatures: width,
        outFeatures: width,
        init: "truncated-normal-0.02",
      })
      .layerNorm(`${b}.norm2`, width)
      .dense(`${b}.mlp.fc1`, {
        inFeatures: width,
        outFeatures: hiddenWidth,
        init: "truncated-normal-0.02",
      })
      .dense(`${b}.mlp.fc2`, {
        inFeatures: hiddenWidth,
        outFeatures: width,
        init: "truncated-normal-0.02",
      });
  }
  specs.layerNorm("norm", width)
    .dense("head", {
      inFeatures: width,
      outFeatures: config.numClasses,
      init: "truncated-normal-0.02",
    });

  return defineModel({
    name,
    config,
    specs: specs.build(),
    forward(scope, x) {
      const batch = x.shape[0];
      const grid = scope.conv2d("patch_embed.proj", x, { stride: p, padding: 0 });
      let t = tf.reshape(grid, [batch, patches, width]) as tf.Tensor3D;
      if (config.pooling === "cls") {
        const cls = tf.broadcastTo(scope.param("cls_token", 3), [batch, 1, width]);
        t = tf.concat([cls, t], 1) as tf.Tensor3D;
      }
      t = tf.add(t, scope.param("pos_embed", 3));
      for (let i = 0; i < depth; i++) {
        const b = `blocks.${i}`;
        t = tf.add(t, scope.attention(`${b}.attn`, scope.layerNorm(`${b}.norm1`, t, eps), heads));
        const hidden = gelu(
          scope.dense(`${b}.mlp.fc1`, scope.layerNorm(`${b}.norm2`, t, eps)),
          config.gelu,
        );
        t = tf.add(t, scope.dense(`${b}.mlp.fc2`, hidden));
      }
      t = scope.layerNorm("norm", t, eps);
      const pooled = config.pooling === "cls"
        ? tf.reshape(tf.slice(t, [0, 0, 0], [batch, 1, width]), [batch, width])
        : tf.mean(t, 1);
      return scope.dense("head", pooled as tf.Tensor2D);
    },
  });
}
