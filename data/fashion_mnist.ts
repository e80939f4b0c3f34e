/**
 * Fashion-MNIST (Xiao et al. 2017) from the IDX files that Debian's `dataset-fashion-mnist`
 * package installs in `/usr/share/datasets/fashion-mnist/`: 60,000 training and 10,000 test
 * images, 28x28 grey, 10 classes.
 * @module
 */
import { join } from "node:path";
import { type DatasetSplits, ImageDataset } from "./dataset.ts";
import { readIdx } from "./idx.ts";

/** Where Debian's `dataset-fashion-mnist` puts the files. */
export const FASHION_MNIST_DEFAULT_PATH = "/usr/share/datasets/fashion-mnist";

/** Fashion-MNIST's class names, by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

const FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
};

async function findFile(dir: string, base: string): Promise<string | undefined> {
  for (const name of [`${base}.gz`, base]) {
    try {
      await Deno.stat(join(dir, name));
      return join(dir, name);
    } catch { /* try the next name */ }
  }
  return undefined;
}

async function readSplit(
  dir: string,
  images: string,
  labels: string,
  name: string,
): Promise<ImageDataset> {
  const [im, lb] = await Promise.all([readIdx(images), readIdx(labels)]);
  if (im.dims.length !== 3 || lb.dims.length !== 1 || im.dims[0] !== lb.dims[0]) {
    throw new Error(`${dir}: ${name} images [${im.dims}] and labels [${lb.dims}] do not match`);
  }
  const [, h, w] = im.dims;
  return new ImageDataset(name, im.data, lb.data, [h, w, 1], 10, FASHION_MNIST_CLASSES);
}

/**
 * Fashion-MNIST from `dir` (default {@link FASHION_MNIST_DEFAULT_PATH}); the four IDX files may
 * be gzipped (`.gz`) or not. A missing file is an error naming it and the apt package.
 *
 * @example
 * ```ts ignore
 * // ignored as a doc test: needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)
 * import { loadFashionMnist } from "./fashion_mnist.ts";
 * const { train, test } = await loadFashionMnist(); // 60,000 / 10,000
 * ```
 */
export async function loadFashionMnist(
  dir: string = FASHION_MNIST_DEFAULT_PATH,
): Promise<DatasetSplits> {
  const paths: Record<string, string> = {};
  const missing: string[] = [];
  for (const [key, base] of Object.entries(FILES)) {
    const p = await findFile(dir, base);
    if (p === undefined) missing.push(`${base}(.gz)`);
    else paths[key] = p;
  }
  if (missing.length > 0) {
    throw new Error(
      `Fashion-MNIST not found in ${dir}: missing ${missing.join(", ")}. ` +
        `Install it with: apt-get install dataset-fashion-mnist (or pass the directory holding the IDX files)`,
    );
  }
  return {
    train: await readSplit(dir, paths.trainImages, paths.trainLabels, "fashion-mnist/train"),
    test: await readSplit(dir, paths.testImages, paths.testLabels, "fashion-mnist/test"),
  };
}
