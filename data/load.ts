/**
 * Loading a dataset by name.
 * @module
 */
import { loadCifar10 } from "./cifar10.ts";
import type { DatasetSplits } from "./dataset.ts";
import { FASHION_MNIST_DEFAULT_PATH, loadFashionMnist } from "./fashion_mnist.ts";
import { loadMnist } from "./mnist.ts";

/** The datasets kdiga can load. */
export const DATASET_NAMES = ["mnist", "fashion-mnist", "cifar10"] as const;
/** One of {@link DATASET_NAMES}. */
export type DatasetName = typeof DATASET_NAMES[number];

/** Options of {@link loadDataset}. */
export interface LoadDatasetOptions {
  /**
   * Where the files are: required for `cifar10` (the binary batches), optional for
   * `fashion-mnist` (default `/usr/share/datasets/fashion-mnist`), not used by `mnist`
   * (embedded).
   */
  path?: string;
}

/** Throws unless `name` is a known dataset, listing the valid names. */
export function assertDatasetName(name: string): asserts name is DatasetName {
  if (!(DATASET_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown dataset '${name}': valid datasets are ${DATASET_NAMES.join(", ")}`);
  }
}

/**
 * Loads a dataset's train and test splits by name: `mnist` (embedded, 8,000 / 2,000),
 * `fashion-mnist` (60,000 / 10,000), `cifar10` (50,000 / 10,000; needs `path`).
 *
 * @example
 * ```ts
 * import { loadDataset } from "./load.ts";
 * const { train, test } = await loadDataset("mnist");
 * ```
 */
export async function loadDataset(
  name: string,
  options: LoadDatasetOptions = {},
): Promise<DatasetSplits> {
  assertDatasetName(name);
  switch (name) {
    case "mnist":
      return await loadMnist();
    case "fashion-mnist":
      return await loadFashionMnist(options.path ?? FASHION_MNIST_DEFAULT_PATH);
    case "cifar10":
      if (!options.path) {
        throw new Error(
          "dataset 'cifar10' needs a path: the directory of its binary batches (cifar-10-batches-bin)",
        );
      }
      return await loadCifar10(options.path);
  }
}
