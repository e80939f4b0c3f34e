/**
 * Convolution and matrix-product kernels for the tfjs `wasm` backend that run their arithmetic in
 * a native BLAS GEMM (`native_gemm.ts`) instead of XNNPACK, reading and writing the wasm heap in
 * place.
 *
 * Convolutions with enough work per image row of the filter ({@link BATCH_ROWS_MIN_WORK}) and a
 * batch of at least {@link BATCH_ROWS_MIN_BATCH} (at batch 128, nearly all) run as one GEMM per output position and filter row, with the batch as
 * the GEMM's rows, reading and writing the tensors where they lie:
 * - `Conv2D`: `out[:, p] += x[:, run] @ W[run]`;
 * - `Conv2DBackpropInput`: `dx[:, run] += dy[:, p] @ W[run]^T` (no col2im);
 * - `Conv2DBackpropFilter`: `dW[run] += x[:, run]^T @ dy[:, p]`.
 *
 * The others go through column form: im2col of the input then `cols @ W`; `dy @ W^T` then col2im
 * (scatter-add); `cols^T @ dy` accumulated over batch chunks. Of those, thin ones (fewer than
 * {@link THIN_CONV_CHANNELS} output channels) stay on XNNPACK, which is faster there.
 * `BatchMatMul`: one GEMM per batch entry, transposes done by the GEMM itself.
 * A 1x1, stride-1, unpadded convolution is a plain GEMM on the NHWC tensor itself (no im2col).
 * The column buffer is cut into batch chunks of at most {@link MAX_COLUMN_ELEMENTS} floats, so
 * large layers do not need a large scratch buffer. Anything else (NCHW, non-float32 data,
 * batch shapes that do not broadcast simply) goes to the kernel registered before, so the
 * replacement never narrows what the backend accepts. `tests/native_kernels_test.ts` checks each
 * kernel against tfjs' `cpu` backend.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NativeGemm } from "./native_gemm.ts";
import { convInfo, replaceWasmKernel } from "./wasm_scratch.ts";

type Info = tf.TensorInfo;
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(info: Info): Float32Array | Int32Array | Uint8Array;
}
type KernelArgs = { inputs: Record<string, Info>; attrs: any; backend: WasmBackend };
type KernelFunc = (args: KernelArgs) => Info;

/** Largest im2col scratch buffer, in floats (16 MiB): layers beyond it are done in batch chunks. */
export const MAX_COLUMN_ELEMENTS = 4 * 1024 * 1024;

let scratch = new Float32Array(0);
function columns(elements: number): Float32Array {
  if (scratch.length < elements) scratch = new Float32Array(elements);
  return scratch.subarray(0, elements);
}

function heap(backend: WasmBackend, info: Info): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** The geometry of an NHWC convolution, from tfjs' own shape computation. */
interface Geometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  fh: number;
  fw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  top: number;
  left: number;
}

function geometry(
  xShape: number[],
  filterShape: number[],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: any,
  dimRoundingMode: any,
): Geometry {
  const i = convInfo(xShape, filterShape, strides, pad, dimRoundingMode, false, dilations);
  return {
    batch: i.batchSize,
    inH: i.inHeight,
    inW: i.inWidth,
    inC: i.inChannels,
    outH: i.outHeight,
    outW: i.outWidth,
    outC: i.outChannels,
    fh: i.filterHeight,
    fw: i.filterWidth,
    sh: i.strideHeight,
    sw: i.strideWidth,
    dh: i.dilationHeight,
    dw: i.dilationWidth,
    top: i.padInfo.top,
    left: i.padInfo.left,
  };
}

/** True when the convolution is a GEMM on the input as it lies in memory. */
function isPointwise(g: Geometry): boolean {
  return g.fh === 1 && g.fw === 1 && g.sh === 1 && g.sw === 1 && g.top === 0 && g.left === 0 &&
    g.outH === g.inH && g.outW === g.inW;
}

/**
 * Below this many output channels a forward convolution that does not run as batch rows
 * ({@link BATCH_ROWS_MIN_WORK}: small batches) runs faster in XNNPACK than as im2col + GEMM: the
 * GEMM's N is the output channel count, so the column copy, done in JavaScript, costs as much as
 * the arithmetic. Measured at batch 128, 1 thread (ms, native /
 * XNNPACK): 8->8 channels 28x28: 10.8 / 3.8; 16->16 14x14: 6.2 / 3.4; 1->16: 3.3 / 1.9;
 * 32->32 7x7: 3.0 / 3.7; 32->64 stride 2: 4.4 / 7.1. The input gradient likewise, where its GEMM's
 * inner dimension (the output channels) is short and the input channels are not (8->8: 11.1 /
 * 3.8; 16->16: 6.0 / 4.2; but 1->16: 2.7 / 7.0). Filter gradients stay native (faster at every
 * measured shape).
 */
export const THIN_CONV_CHANNELS = 32;

let thinChannels = THIN_CONV_CHANNELS;

/**
 * Sets the output-channel count below which convolutions go to XNNPACK (default
 * {@link THIN_CONV_CHANNELS}; 0 sends every convolution to the native GEMM, as the kernel tests
 * do) and returns the previous value.
 *
 * @example
 * ```ts
 * import { setThinConvChannels, THIN_CONV_CHANNELS } from "./native_kernels.ts";
 * const previous = setThinConvChannels(0); // all convolutions native
 * setThinConvChannels(previous);
 * console.log(previous === THIN_CONV_CHANNELS); // true
 * ```
 */
export function setThinConvChannels(channels: number): number {
  if (!Number.isInteger(channels) || channels < 0) {
    throw new Error(`thin-convolution channel count must be an integer >= 0; got ${channels}`);
  }
  const previous = thinChannels;
  thinChannels = channels;
  return previous;
}

/** Whether a forward convolution goes to XNNPACK (see {@link THIN_CONV_CHANNELS}). */
function thinForward(g: Geometry): boolean {
  return g.outC < thinChannels && !isPointwise(g) && !batchRows(g);
}

/** Whether an input gradient goes to XNNPACK (see {@link THIN_CONV_CHANNELS}). */
function thinBackpropInput(g: Geometry): boolean {
  return g.outC < thinChannels && g.inC >= 8 && !isPointwise(g) && !batchRows(g);
}

/** Images per chunk so that one chunk's columns fit {@link MAX_COLUMN_ELEMENTS}. */
function imagesPerChunk(g: Geometry): number {
  const perImage = g.outH * g.outW * g.fh * g.fw * g.inC;
  return Math.max(1, Math.min(g.batch, Math.floor(MAX_COLUMN_ELEMENTS / Math.max(1, perImage))));
}

function copy(src: Float32Array, from: number, dst: Float32Array, to: number, n: number): void {
  if (n >= 32) {
    dst.set(src.subarray(from, from + n), to);
  } else {
    for (let i = 0; i < n; i++) dst[to + i] = src[from + i];
  }
}

/**
 * Moves patches between an NHWC image batch and column form: rows (b, oh, ow) x columns
 * (kh, kw, ci) for images [b0, b0 + nb), the column order of the filter's HWIO layout read as a
 * (fh*fw*inC) x outC matrix. `"gather"` is im2col (zeros where a patch reaches into the padding);
 * `"scatterAdd"` is its adjoint col2im, adding each column entry back where it came from.
 */
function movePatches(
  image: Float32Array,
  g: Geometry,
  b0: number,
  nb: number,
  cols: Float32Array,
  direction: "gather" | "scatterAdd",
): void {
  const { inH, inW, inC, outH, outW, fh, fw, sh, sw, dh, dw, top, left } = g;
  const gather = direction === "gather";
  const run = fw * inC;
  // One contiguous run of n floats between image[i..] and cols[c..].
  const move = (i: number, c: number, n: number) => {
    if (gather) copy(image, i, cols, c, n);
    else for (let k = 0; k < n; k++) image[i + k] += cols[c + k];
  };
  let c = 0;
  for (let b = b0; b < b0 + nb; b++) {
    const imageBase = b * inH * inW * inC;
    for (let oh = 0; oh < outH; oh++) {
      const ih0 = oh * sh - top;
      for (let ow = 0; ow < outW; ow++) {
        const iw0 = ow * sw - left;
        // With no dilation, a patch row inside the image is one contiguous run of fw*inC floats.
        const contiguous = dw === 1 && iw0 >= 0 && iw0 + fw <= inW;
        for (let kh = 0; kh < fh; kh++) {
          const ih = ih0 + kh * dh;
          if (ih < 0 || ih >= inH) {
            if (gather) cols.fill(0, c, c + run);
            c += run;
            continue;
          }
          const rowBase = imageBase + ih * inW * inC;
          if (contiguous) {
            move(rowBase + iw0 * inC, c, run);
            c += run;
            continue;
          }
          for (let kw = 0; kw < fw; kw++) {
            const iw = iw0 + kw * dw;
            if (iw >= 0 && iw < inW) move(rowBase + iw * inC, c, inC);
            else if (gather) cols.fill(0, c, c + inC);
            c += inC;
          }
        }
      }
    }
  }
}

/**
 * Fewest multiply-adds per GEMM (batch x outC x fw x inC) for which a convolution runs as one
 * GEMM per output position and filter row, with the batch as the GEMM's rows
 * ({@link forEachTapRun}), instead of im2col + one large GEMM. Each such GEMM reads the input and
 * writes the output where they lie (leading dimension = one image), so no patch is copied in
 * JavaScript, and its operands fit in cache. Measured one kernel at a time at batch 128, one
 * thread, OpenBLAS' AVX-512 kernels (ms, batch rows / im2col / XNNPACK): the bench CNN's 32->64
 * stride-2 layer (7.9e5 per call) forward 1.3 / 3.0 / 7.0, input gradient 1.7 / 3.4 / 13.2,
 * filter gradient 1.4 / 3.0; 8->8 channels on 28x28 (2.5e4) forward 2.9 / 10.1 / 3.8, input
 * gradient 2.7 / 10.1 / 3.7, filter gradient 3.2 / 11.2. Near the threshold the paths are
 * close: 1->8 channels (3,072 per call, so not batch rows) forward 1.0 / 3.0 / 1.0, input
 * gradient 1.8 / 2.5 / 2.4. Further below, the per-call cost (~0.5-1 us, mostly OpenBLAS'
 * packing) wins: at batch 8, 8->8 channels (1,536 per call) forward 0.54 / 0.59 / 0.22, input
 * gradient 0.82 / 0.55 / 0.25.
 */
export const BATCH_ROWS_MIN_WORK = 4096;

let batchRowsMinWork = BATCH_ROWS_MIN_WORK;

/**
 * Sets {@link BATCH_ROWS_MIN_WORK} (0: every convolution with undilated columns and a batch of at
 * least {@link BATCH_ROWS_MIN_BATCH} runs batch rows; `Infinity`: none does, as the kernel tests
 * use to check both paths) and returns the previous value.
 *
 * @example
 * ```ts
 * import { BATCH_ROWS_MIN_WORK, setBatchRowsMinWork } from "./native_kernels.ts";
 * const previous = setBatchRowsMinWork(Infinity); // im2col everywhere
 * setBatchRowsMinWork(previous);
 * console.log(previous === BATCH_ROWS_MIN_WORK); // true
 * ```
 */
export function setBatchRowsMinWork(work: number): number {
  if (!(work >= 0)) throw new Error(`batch-rows minimum work must be a number >= 0 or Infinity; got ${work}`);
  const previous = batchRowsMinWork;
  batchRowsMinWork = work;
  return previous;
}

/**
 * Smallest batch that runs as batch rows ({@link BATCH_ROWS_MIN_WORK}): a batch is the GEMMs' row
 * count, and with a few rows each GEMM is little more than its call. Measured one kernel at a
 * time, 16x16x64 -> 64 channels (ms, batch rows / im2col; forward, input gradient, filter
 * gradient): batch 1 0.45 / 0.16, 0.67 / 0.23, 0.65 / 0.15; batch 4 0.55 / 0.62, 0.94 / 0.97,
 * 0.85 / 0.64; batch 8 0.95 / 1.24, 2.94 / 2.02, 1.26 / 1.27; batch 16 1.70 / 2.89, 3.73 / 4.10,
 * 2.39 / 2.96.
 */
export const BATCH_ROWS_MIN_BATCH = 8;

let batchRowsMinBatch = BATCH_ROWS_MIN_BATCH;

/**
 * Sets {@link BATCH_ROWS_MIN_BATCH} (with {@link setBatchRowsMinWork}(0), 0 sends every
 * undilated convolution to batch rows, as the kernel tests do) and returns the previous value.
 *
 * @example
 * ```ts
 * import { BATCH_ROWS_MIN_BATCH, setBatchRowsMinBatch } from "./native_kernels.ts";
 * const previous = setBatchRowsMinBatch(0);
 * setBatchRowsMinBatch(previous);
 * console.log(previous === BATCH_ROWS_MIN_BATCH); // true
 * ```
 */
export function setBatchRowsMinBatch(batch: number): number {
  if (!Number.isInteger(batch) || batch < 0) throw new Error(`batch-rows minimum batch must be an integer >= 0; got ${batch}`);
  const previous = batchRowsMinBatch;
  batchRowsMinBatch = batch;
  return previous;
}

/** Whether a convolution runs as batch-row GEMMs ({@link BATCH_ROWS_MIN_WORK}, {@link BATCH_ROWS_MIN_BATCH}). */
function batchRows(g: Geometry): boolean {
  // Undilated columns: a filter row's taps inside the image are one contiguous run per image.
  return g.dw === 1 && g.batch >= batchRowsMinBatch && g.batch * g.outC * g.fw * g.inC >= batchRowsMinWork;
}

/**
 * Calls `body` for each output position (index `position` = oh * outW + ow) and each filter row
 * that reaches into the image there: `image` is the offset of the row's first in-image tap within
 * one image, `filterRow` the row of that tap in the filter read as a (fh*fw*inC) x outC matrix,
 * and `k` the number of floats (taps x inC) in the run. Taps in the padding are left out, which
 * is what zeros there would add. Needs `g.dw === 1`.
 */
function forEachTapRun(
  g: Geometry,
  body: (position: number, image: number, filterRow: number, k: number) => void,
): void {
  const { inH, inW, inC, outH, outW, fh, fw, sh, sw, dh, top, left } = g;
  for (let oh = 0; oh < outH; oh++) {
    const ih0 = oh * sh - top;
    for (let ow = 0; ow < outW; ow++) {
      const iw0 = ow * sw - left;
      const kw0 = Math.max(0, -iw0), kw1 = Math.min(fw, inW - iw0);
      if (kw1 <= kw0) continue;
      for (let kh = 0; kh < fh; kh++) {
        const ih = ih0 + kh * dh;
        if (ih < 0 || ih >= inH) continue;
        body(oh * outW + ow, (ih * inW + iw0 + kw0) * inC, (kh * fw + kw0) * inC, (kw1 - kw0) * inC);
      }
    }
  }
}

/**
 * Calls `body` for each batch chunk of at most {@link imagesPerChunk} images: first image `b0`,
 * `nb` images, their `rows` (output positions) and the chunk's column buffer.
 */
function forEachChunk(
  g: Geometry,
  body: (b0: number, nb: number, rows: number, cols: Float32Array) => void,
): void {
  const chunk = imagesPerChunk(g);
  const k = g.fh * g.fw * g.inC;
  for (let b0 = 0; b0 < g.batch; b0 += chunk) {
    const nb = Math.min(chunk, g.batch - b0);
    const rows = nb * g.outH * g.outW;
    body(b0, nb, rows, columns(rows * k));
  }
}

function nhwcFloat(dataFormat: string | undefined, ...infos: Info[]): boolean {
  return (dataFormat == null || dataFormat === "NHWC") &&
    infos.every((i) => i.dtype === "float32" && tf.util.sizeFromShape(i.shape) > 0);
}

function conv2D(gemm: NativeGemm, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs: { x, filter }, attrs, backend } = args;
    if (!nhwcFloat(attrs.dataFormat, x, filter)) return fallback(args);
    const g = geometry(x.shape, filter.shape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode);
    if (thinForward(g)) return fallback(args);
    const out = backend.makeOutput([g.batch, g.outH, g.outW, g.outC], "float32");
    // Views after makeOutput: allocating can grow (and move) the wasm heap.
    const [xv, wv, ov] = [heap(backend, x), heap(backend, filter), heap(backend, out)];
    const k = g.fh * g.fw * g.inC;
    if (isPointwise(g)) {
      gemm.sgemm(false, false, g.batch * g.inH * g.inW, g.outC, k, 1, xv, k, wv, g.outC, 0, ov, g.outC);
      return out;
    }
    const rowsPerImage = g.outH * g.outW;
    if (batchRows(g)) {
      // out[:, p, :] = sum over filter rows of x[:, run, :] @ W[run, :]; positions whose every
      // tap is in the padding get no GEMM, so start from zeros.
      ov.fill(0);
      const imageStride = g.inH * g.inW * g.inC, outStride = rowsPerImage * g.outC;
      forEachTapRun(g, (p, image, row, kRun) => {
        gemm.sgemm(false, false, g.batch, g.outC, kRun, 1, xv.subarray(image), imageStride,
          wv.subarray(row * g.outC), g.outC, 1, ov.subarray(p * g.outC), outStride);
      });
      return out;
    }
    forEachChunk(g, (b0, nb, rows, cols) => {
      movePatches(xv, g, b0, nb, cols, "gather");
      gemm.sgemm(false, false, rows, g.outC, k, 1, cols, k, wv, g.outC, 0, ov.subarray(b0 * rowsPerImage * g.outC), g.outC);
    });
    return out;
  };
}

function conv2DBackpropInput(gemm: NativeGemm, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs: { dy, filter }, attrs, backend } = args;
    if (!nhwcFloat(attrs.dataFormat, dy, filter)) return fallback(args);
    const inputShape = attrs.inputShape as number[];
    const g = geometry(inputShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    if (thinBackpropInput(g)) return fallback(args);
    const out = backend.makeOutput([...inputShape], "float32");
    const [dyv, wv, dx] = [heap(backend, dy), heap(backend, filter), heap(backend, out)];
    const k = g.fh * g.fw * g.inC;
    if (isPointwise(g)) {
      gemm.sgemm(false, true, g.batch * g.inH * g.inW, g.inC, g.outC, 1, dyv, g.outC, wv, g.outC, 0, dx, g.inC);
      return out;
    }
    dx.fill(0);
    const rowsPerImage = g.outH * g.outW;
    if (batchRows(g)) {
      // dx[:, run, :] += dy[:, p, :] @ W[run, :]^T, straight into the image: no col2im.
      const imageStride = g.inH * g.inW * g.inC, dyStride = rowsPerImage * g.outC;
      forEachTapRun(g, (p, image, row, kRun) => {
        gemm.sgemm(false, true, g.batch, kRun, g.outC, 1, dyv.subarray(p * g.outC), dyStride,
          wv.subarray(row * g.outC), g.outC, 1, dx.subarray(image), imageStride);
      });
      return out;
    }
    forEachChunk(g, (b0, nb, rows, cols) => {
      gemm.sgemm(false, true, rows, k, g.outC, 1, dyv.subarray(b0 * rowsPerImage * g.outC), g.outC, wv, g.outC, 0, cols, k);
      movePatches(dx, g, b0, nb, cols, "scatterAdd");
    });
    return out;
  };
}

function conv2DBackpropFilter(gemm: NativeGemm, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs: { x, dy }, attrs, backend } = args;
    if (!nhwcFloat(attrs.dataFormat, x, dy)) return fallback(args);
    const filterShape = attrs.filterShape as number[];
    const g = geometry(x.shape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
    const out = backend.makeOutput([...filterShape], "float32");
    const [xv, dyv, dw] = [heap(backend, x), heap(backend, dy), heap(backend, out)];
    const k = g.fh * g.fw * g.inC;
    if (isPointwise(g)) {
      gemm.sgemm(true, false, k, g.outC, g.batch * g.inH * g.inW, 1, xv, k, dyv, g.outC, 0, dw, g.outC);
      return out;
    }
    const rowsPerImage = g.outH * g.outW;
    if (batchRows(g)) {
      // dW[run, :] += x[:, run, :]^T @ dy[:, p, :]; filter taps no position reaches stay 0.
      dw.fill(0);
      const imageStride = g.inH * g.inW * g.inC, dyStride = rowsPerImage * g.outC;
      forEachTapRun(g, (p, image, row, kRun) => {
        gemm.sgemm(true, false, kRun, g.outC, g.batch, 1, xv.subarray(image), imageStride,
          dyv.subarray(p * g.outC), dyStride, 1, dw.subarray(row * g.outC), g.outC);
      });
      return out;
    }
    forEachChunk(g, (b0, nb, rows, cols) => {
      movePatches(xv, g, b0, nb, cols, "gather");
      const dyChunk = dyv.subarray(b0 * rowsPerImage * g.outC);
      // The first chunk writes dW, later ones add to it.
      gemm.sgemm(true, false, k, g.outC, rows, 1, cols, k, dyChunk, g.outC, b0 === 0 ? 0 : 1, dw, g.outC);
    });
    return out;
  };
}

function batchMatMul(gemm: NativeGemm, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs: { a, b }, attrs, backend } = args;
    const ta = Boolean(attrs.transposeA), tb = Boolean(attrs.transposeB);
    if (a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 || b.shape.length < 2) {
      return fallback(args);
    }
    const outerA = a.shape.slice(0, -2), outerB = b.shape.slice(0, -2);
    const batchA = tf.util.sizeFromShape(outerA), batchB = tf.util.sizeFromShape(outerB);
    // Equal batch shapes, or one side a single matrix; other broadcasts go to the fallback.
    const sameOuter = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
    if (!sameOuter && batchA !== 1 && batchB !== 1) return fallback(args);
    const [ra, ca] = a.shape.slice(-2), [rb, cb] = b.shape.slice(-2);
    const m = ta ? ca : ra, k = ta ? ra : ca, kb = tb ? cb : rb, n = tb ? rb : cb;
    if (k !== kb) return fallback(args); // the stock kernel words the shape error
    const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
    const batch = Math.max(batchA, batchB);
    if (batch * m * n === 0 || k === 0) return fallback(args);
    const out = backend.makeOutput([...outer, m, n], "float32");
    const [av, bv, ov] = [heap(backend, a), heap(backend, b), heap(backend, out)];
    for (let i = 0; i < batch; i++) {
      const ai = batchA === 1 ? 0 : i, bi = batchB === 1 ? 0 : i;
      gemm.sgemm(
        ta, tb, m, n, k, 1,
        av.subarray(ai * m * k), ca,
        bv.subarray(bi * k * n), cb,
        0, ov.subarray(i * m * n), n,
      );
    }
    return out;
  };
}

/** The kernels {@link registerNativeKernels} replaces. */
export const NATIVE_KERNEL_NAMES = ["Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "BatchMatMul"] as const;

/**
 * Registers the native-GEMM kernels for the `wasm` backend over those registered now (which stay
 * as the fallback for what the native ones do not take). `useBackend("wasm")` calls it when a
 * native GEMM is found (option `gemm`).
 *
 * @example
 * ```ts
 * import { useBackend } from "./select.ts";
 * await useBackend("wasm", { gemm: "auto" }); // native kernels if a BLAS library loads
 * ```
 */
export function registerNativeKernels(gemm: NativeGemm): void {
  const makers: Record<typeof NATIVE_KERNEL_NAMES[number], (g: NativeGemm, f: KernelFunc) => KernelFunc> = {
    Conv2D: conv2D,
    Conv2DBackpropInput: conv2DBackpropInput,
    Conv2DBackpropFilter: conv2DBackpropFilter,
    BatchMatMul: batchMatMul,
  };
  for (const name of NATIVE_KERNEL_NAMES) replaceWasmKernel<KernelFunc>(name, (previous) => makers[name](gemm, previous));
}
