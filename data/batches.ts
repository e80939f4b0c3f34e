/**
 * Float batches on demand from a uint8 {@link ImageDataset}: seeded shuffling per epoch, optional
 * random crop (zero padding) and horizontal flip, NHWC float32 in [0, 1] and int32 labels.
 *
 * Every random choice derives from `(seed, epoch, batch index)` only, so an epoch's batches are
 * the same whether the run was resumed or not.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { deriveSeed, seededPermutation, seededRandom } from "../util/rng.ts";
import type { ImageDataset } from "./dataset.ts";

/** Data augmentation (as in ARD's and TRADES' CIFAR-10 training). */
export interface AugmentOptions {
  /** Zero-pad by this many pixels on each side, then crop a random window of the original size (0 = off; CIFAR uses 4). */
  cropPadding?: number;
  /** Mirror left-right with probability 1/2. */
  flip?: boolean;
}

/** A batch: inputs [B, H, W, C] float32 in [0, 1] and labels [B] int32. */
export interface Batch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

function checkAugment(augment: AugmentOptions, [h, w]: readonly number[]): void {
  const pad = augment.cropPadding ?? 0;
  if (!Number.isInteger(pad) || pad < 0 || pad >= Math.min(h, w)) {
    throw new Error(`cropPadding must be an integer in [0, ${Math.min(h, w) - 1}]; got ${pad}`);
  }
}

/**
 * The images at `indices` as a float batch, augmented if asked (randomness from `seed`).
 *
 * @example
 * ```ts
 * import { ImageDataset } from "./dataset.ts";
 * import { makeBatch } from "./batches.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const d = new ImageDataset("toy", new Uint8Array([0, 255]), new Uint8Array([0, 1]), [1, 1, 1], 2);
 * const { x, y } = makeBatch(d, [1, 0]); // x = [[[[1]]], [[[0]]]], y = [1, 0]
 * ```
 */
export function makeBatch(
  dataset: ImageDataset,
  indices: ArrayLike<number>,
  augment: AugmentOptions = {},
  seed = 0,
): Batch {
  const [h, w, c] = dataset.imageShape;
  checkAugment(augment, dataset.imageShape);
  const pad = augment.cropPadding ?? 0;
  const flip = augment.flip ?? false;
  const rand = seededRandom(seed);
  const size = h * w * c;
  const out = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  const src = dataset.images;
  for (let k = 0; k < indices.length; k++) {
    const n = indices[k];
    if (!Number.isInteger(n) || n < 0 || n >= dataset.length) {
      throw new Error(`batch index ${n} at position ${k} is out of range 0..${dataset.length - 1}`);
    }
    labels[k] = dataset.labels[n];
    const base = n * size, obase = k * size;
    // Crop offset in the padded image: source row = i + dy - pad.
    const dy = pad > 0 ? Math.floor(rand() * (2 * pad + 1)) - pad : 0;
    const dx = pad > 0 ? Math.floor(rand() * (2 * pad + 1)) - pad : 0;
    const mirrored = flip && rand() < 0.5;
    if (dy === 0 && dx === 0 && !mirrored) {
      for (let i = 0; i < size; i++) out[obase + i] = src[base + i] / 255;
      continue;
    }
    for (let i = 0; i < h; i++) {
      const si = i + dy;
      for (let j = 0; j < w; j++) {
        const jj = mirrored ? w - 1 - j : j;
        const sj = jj + dx;
        const o = obase + (i * w + j) * c;
        if (si < 0 || si >= h || sj < 0 || sj >= w) continue; // zero padding
        const s = base + (si * w + sj) * c;
        for (let ch = 0; ch < c; ch++) out[o + ch] = src[s + ch] / 255;
      }
    }
  }
  return {
    x: tf.tensor4d(out, [indices.length, h, w, c]),
    y: tf.tensor1d(labels, "int32"),
  };
}

/** Options of {@link epochBatches}. */
export interface EpochOptions {
  batchSize: number;
  /** 0-based epoch number: with `seed` it fixes the order and the augmentation. */
  epoch: number;
  /** Base seed (default 0). */
  seed?: number;
  /** Shuffle (default true); false keeps the dataset's order. */
  shuffle?: boolean;
  /** Drop a last, smaller batch (default false). */
  dropLast?: boolean;
  augment?: AugmentOptions;
}

/**
 * The order of the examples in epoch `epoch`: a permutation seeded by `(seed, epoch)`.
 *
 * @example
 * ```ts
 * import { epochOrder } from "./batches.ts";
 * const order = epochOrder(10, 0, 3); // same for the same (n, seed, epoch)
 * ```
 */
export function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  return seededPermutation(n, deriveSeed(seed, `shuffle-epoch-${epoch}`));
}

/**
 * Number of batches per epoch.
 *
 * @example
 * ```ts
 * import { batchCount } from "./batches.ts";
 * batchCount(10, 4); // 3
 * batchCount(10, 4, true); // 2
 * ```
 */
export function batchCount(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/**
 * The batches of one epoch, made lazily (the caller disposes each batch's tensors).
 *
 * @example
 * ```ts
 * import { ImageDataset } from "./dataset.ts";
 * import { epochBatches } from "./batches.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const d = new ImageDataset("toy", new Uint8Array(5), new Uint8Array([0, 1, 0, 1, 0]), [1, 1, 1], 2);
 * for (const { x, y } of epochBatches(d, { batchSize: 2, epoch: 0, seed: 1 })) {
 *   x.dispose();
 *   y.dispose();
 * }
 * ```
 */
export function* epochBatches(dataset: ImageDataset, options: EpochOptions): Generator<Batch> {
  const { batchSize, epoch } = options;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be an integer >= 1; got ${batchSize}`);
  }
  if (!Number.isInteger(epoch) || epoch < 0) {
    throw new Error(`epoch must be an integer >= 0; got ${epoch}`);
  }
  checkAugment(options.augment ?? {}, dataset.imageShape);
  const n = dataset.length;
  const order = options.shuffle === false
    ? Int32Array.from({ length: n }, (_, i) => i)
    : epochOrder(n, seed, epoch);
  const count = batchCount(n, batchSize, options.dropLast);
  for (let b = 0; b < count; b++) {
    const indices = order.subarray(b * batchSize, Math.min(n, (b + 1) * batchSize));
    yield makeBatch(dataset, indices, options.augment, deriveSeed(seed, `augment-${epoch}-${b}`));
  }
}
