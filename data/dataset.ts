/**
 * An in-memory image classification dataset: uint8 pixels NHWC, held once; float batches are
 * made on demand (`data/batches.ts`).
 * @module
 */

/** Image shape [height, width, channels]. */
export type ImageShape = readonly [number, number, number];

/**
 * Images as uint8 NHWC (`images[((n * H + i) * W + j) * C + c]`), integer labels, and metadata.
 * Immutable: `slice` returns a view, `subset` a copy.
 *
 * @example
 * ```ts
 * import { ImageDataset } from "./dataset.ts";
 * const d = new ImageDataset("toy", new Uint8Array(2 * 4), new Uint8Array([0, 1]), [2, 2, 1], 2);
 * const first = d.slice(0, 1); // 1 image
 * ```
 */
export class ImageDataset {
  /** Number of images. */
  readonly length: number;

  constructor(
    /** Name, e.g. "mnist/train". */
    readonly name: string,
    /** Pixels, uint8, NHWC. */
    readonly images: Uint8Array,
    /** Labels in [0, numClasses). */
    readonly labels: Uint8Array,
    /** [height, width, channels]. */
    readonly imageShape: ImageShape,
    readonly numClasses: number,
    /** Class names (optional, for reports). */
    readonly classNames: readonly string[] = [],
  ) {
    const [h, w, c] = imageShape;
    if (![h, w, c].every((d) => Number.isInteger(d) && d > 0)) {
      throw new Error(`image shape must be 3 positive integers [h, w, c]; got [${imageShape}]`);
    }
    if (!Number.isInteger(numClasses) || numClasses < 2) {
      throw new Error(`numClasses must be an integer >= 2; got ${numClasses}`);
    }
    const size = h * w * c;
    if (images.length !== labels.length * size) {
      throw new Error(
        `${name}: ${images.length} pixel bytes do not make ${labels.length} images of [${imageShape}] ` +
          `(${labels.length * size} bytes expected)`,
      );
    }
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] >= numClasses) {
        throw new Error(
          `${name}: label ${labels[i]} at index ${i} is out of range 0..${numClasses - 1}`,
        );
      }
    }
    this.length = labels.length;
  }

  /** Bytes per image (h * w * c). */
  get imageSize(): number {
    return this.imageShape[0] * this.imageShape[1] * this.imageShape[2];
  }

  /**
   * Images `start..end-1` as a view (no copy). Negative or out-of-range bounds are errors.
   *
   * @example
   * ```ts
   * import { ImageDataset } from "./dataset.ts";
   * const d = new ImageDataset("toy", new Uint8Array(3), new Uint8Array([0, 1, 0]), [1, 1, 1], 2);
   * d.slice(1, 3).labels; // [1, 0]
   * ```
   */
  slice(start: number, end: number = this.length): ImageDataset {
    if (
      !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > this.length ||
      start > end
    ) {
      throw new Error(`slice [${start}, ${end}) is not inside [0, ${this.length}]`);
    }
    const size = this.imageSize;
    return new ImageDataset(
      `${this.name}[${start}:${end}]`,
      this.images.subarray(start * size, end * size),
      this.labels.subarray(start, end),
      this.imageShape,
      this.numClasses,
      this.classNames,
    );
  }

  /**
   * The images at `indices`, in that order, copied into a new dataset.
   *
   * @example
   * ```ts
   * import { ImageDataset } from "./dataset.ts";
   * const d = new ImageDataset("toy", new Uint8Array([5, 6, 7]), new Uint8Array([0, 1, 0]), [1, 1, 1], 2);
   * d.subset([2, 0]).images; // [7, 5]
   * ```
   */
  subset(indices: ArrayLike<number>, name = `${this.name}[subset]`): ImageDataset {
    const size = this.imageSize;
    const images = new Uint8Array(indices.length * size);
    const labels = new Uint8Array(indices.length);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      if (!Number.isInteger(i) || i < 0 || i >= this.length) {
        throw new Error(`subset index ${i} at position ${k} is out of range 0..${this.length - 1}`);
      }
      images.set(this.images.subarray(i * size, (i + 1) * size), k * size);
      labels[k] = this.labels[i];
    }
    return new ImageDataset(
      name,
      images,
      labels,
      this.imageShape,
      this.numClasses,
      this.classNames,
    );
  }
}

/** A train and a test split. */
export interface DatasetSplits {
  train: ImageDataset;
  test: ImageDataset;
}
