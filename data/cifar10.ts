/**
 * CIFAR-10 from its binary version (`cifar-10-batches-bin`): `data_batch_1.bin` ...
 * `data_batch_5.bin` (50,000 training images) and `test_batch.bin` (10,000), each a sequence of
 * 3073-byte records: 1 label byte, then 1024 red, 1024 green and 1024 blue bytes (32x32,
 * row-major).
 * @module
 */
import { join } from "node:path";
import { type DatasetSplits, ImageDataset } from "./dataset.ts";

/** CIFAR-10's class names, by label. */
export const CIFAR10_CLASSES: readonly string[] = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

/** The training batch files, in order. */
export const CIFAR10_TRAIN_FILES: readonly string[] = [1, 2, 3, 4, 5].map((i) =>
  `data_batch_${i}.bin`
);
/** The test batch file. */
export const CIFAR10_TEST_FILE = "test_batch.bin";

const SIDE = 32, PLANE = SIDE * SIDE, RECORD = 1 + 3 * PLANE;

/**
 * Decodes CIFAR-10 binary records (label + planar RGB) into NHWC uint8 images and labels.
 *
 * @example
 * ```ts
 * import { decodeCifarRecords } from "./cifar10.ts";
 * const { images, labels } = decodeCifarRecords(new Uint8Array(3073)); // one black airplane
 * ```
 */
export function decodeCifarRecords(
  bytes: Uint8Array,
  what = "CIFAR-10 batch",
): { images: Uint8Array; labels: Uint8Array } {
  if (bytes.length % RECORD !== 0) {
    throw new Error(
      `${what}: ${bytes.length} bytes is not a whole number of ${RECORD}-byte records`,
    );
  }
  const n = bytes.length / RECORD;
  const images = new Uint8Array(n * 3 * PLANE);
  const labels = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const r = k * RECORD;
    labels[k] = bytes[r];
    if (labels[k] > 9) throw new Error(`${what}: record ${k} has label ${labels[k]}, not in 0..9`);
    const o = k * 3 * PLANE;
    for (let p = 0; p < PLANE; p++) {
      images[o + 3 * p] = bytes[r + 1 + p];
      images[o + 3 * p + 1] = bytes[r + 1 + PLANE + p];
      images[o + 3 * p + 2] = bytes[r + 1 + 2 * PLANE + p];
    }
  }
  return { images, labels };
}

async function resolveDir(path: string): Promise<string> {
  // Accept the directory of the .bin files or its parent (the unpacked archive).
  for (const dir of [path, join(path, "cifar-10-batches-bin")]) {
    try {
      await Deno.stat(join(dir, CIFAR10_TEST_FILE));
      return dir;
    } catch { /* try the next */ }
  }
  return path;
}

async function readBatches(
  dir: string,
  files: readonly string[],
  name: string,
): Promise<ImageDataset> {
  const parts = await Promise.all(
    files.map(async (f) => decodeCifarRecords(await Deno.readFile(join(dir, f)), join(dir, f))),
  );
  const total = parts.reduce((a, p) => a + p.labels.length, 0);
  const images = new Uint8Array(total * 3 * PLANE);
  const labels = new Uint8Array(total);
  let n = 0;
  for (const p of parts) {
    images.set(p.images, n * 3 * PLANE);
    labels.set(p.labels, n);
    n += p.labels.length;
  }
  return new ImageDataset(name, images, labels, [SIDE, SIDE, 3], 10, CIFAR10_CLASSES);
}

/**
 * CIFAR-10 from the binary batches in `path` (the `cifar-10-batches-bin` directory or its
 * parent). A missing path or file is an error naming what is missing.
 *
 * @example
 * ```ts ignore
 * // not run as a doc test: needs the CIFAR-10 binary batches on disk
 * import { loadCifar10 } from "./cifar10.ts";
 * const { train, test } = await loadCifar10("/data/cifar-10-batches-bin"); // 50,000 / 10,000
 * ```
 */
export async function loadCifar10(path: string): Promise<DatasetSplits> {
  if (!path) {
    throw new Error(
      "CIFAR-10 needs the directory of its binary batches (cifar-10-batches-bin); none given",
    );
  }
  try {
    const info = await Deno.stat(path);
    if (!info.isDirectory) throw new Error(`CIFAR-10 path ${path} is not a directory`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`CIFAR-10 directory ${path} does not exist`);
    }
    throw e;
  }
  const dir = await resolveDir(path);
  const missing: string[] = [];
  for (const f of [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE]) {
    try {
      await Deno.stat(join(dir, f));
    } catch {
      missing.push(f);
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `CIFAR-10 binary batches missing in ${dir}: ${missing.join(", ")} ` +
        `(expected data_batch_1.bin ... data_batch_5.bin and test_batch.bin)`,
    );
  }
  return {
    train: await readBatches(dir, CIFAR10_TRAIN_FILES, "cifar10/train"),
    test: await readBatches(dir, [CIFAR10_TEST_FILE], "cifar10/test"),
  };
}
