/**
 * Training kernels for the tfjs `wasm` backend, composed from the backend's own XNNPACK kernels.
 *
 * tfjs-backend-wasm 4.22 ships inference kernels only: it lacks `Conv2DBackpropFilter` and the
 * depthwise-convolution backprop kernels, and its `Conv2DBackpropInput` is a naive scalar loop
 * (measured: two thirds of a training step). Every kernel here rewrites the backward pass as
 * forward convolutions, which XNNPACK runs fast:
 *
 * - `Conv2DBackpropFilter`: a convolution over the batch axis, with `dy` as a filter dilated by
 *   the stride.
 * - `Conv2DBackpropInput`: one stride-1 convolution per output phase (sub-pixel decomposition),
 *   interleaved; no zero insertion, so no wasted multiply-adds.
 * - `DepthwiseConv2dNativeBackpropInput`: zero insertion, then a depthwise convolution with the
 *   flipped filter.
 * - `DepthwiseConv2dNativeBackpropFilter`: batch folded into channels, `dy` as a dilated
 *   depthwise filter, then a sum over the batch.
 *
 * - `BatchMatMul` with a transpose flag: transposes that operand explicitly first; the stock
 *   kernel's strided path for the flags is several times slower than a copy plus the plain GEMM
 *   (it is how every dense layer's gradient is computed).
 * - `Identity`: shares its input's buffer (tfjs tensors are immutable) instead of copying it. The
 *   engine clones every tensor it saves for the backward pass through `Identity`; the stock wasm
 *   copy was a fifth of a training step. `Cast` to the dtype a tensor already has shares it too.
 *
 * - `DepthwiseConv2dNativeBackpropFilter` (undilated): a direct loop (`depthwise_kernels.ts`),
 *   faster than the composition above, which stays as its fallback.
 * - `Sum` and `Mean` over leading axes (batch-norm statistics, bias gradients): a product with a
 *   row of ones (`reduction_kernels.ts`) instead of the stock transpose-then-sum.
 * - `Multiply`, `Add`, `Sub`, `RealDiv` with a per-channel operand: the channel vector tiled to
 *   ~1,024 values (`broadcast_kernels.ts`), so the stock broadcast runs over long rows.
 *
 * Shapes XNNPACK cannot take this way (dilated forward convolutions, NCHW) fall back to the stock
 * kernel, or to a clear error where tfjs has none. `tests/wasm_kernels_test.ts` checks every
 * kernel against the `cpu` backend.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

import { convInfo, type KernelFunc, replaceWasmKernel, Scratch } from "./wasm_scratch.ts";
import { registerLeadingReductionKernels } from "./reduction_kernels.ts";
import { registerTiledBroadcastKernels } from "./broadcast_kernels.ts";
import { depthwiseBackpropFilterDirect } from "./depthwise_kernels.ts";

type Info = tf.TensorInfo;

function isNHWC(dataFormat: string | undefined): boolean {
  return dataFormat == null || dataFormat === "NHWC";
}

/** dW[i,j,ci,co] = sum_{n,p,q} x[n, p*s+i-pt, q*s+j-pl, ci] dy[n,p,q,co]. */
const conv2DBackpropFilter: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (!isNHWC(dataFormat)) {
    throw new Error(`kdiga's wasm Conv2DBackpropFilter supports NHWC only; got ${dataFormat}`);
  }
  const info = convInfo(x.shape, filterShape, strides, pad, dimRoundingMode);
  const [kh, kw, cin, cout] = filterShape as number[];
  const s = new Scratch(backend);
  // Batch becomes the channel axis and input channels the batch axis: [Cin, H, W, N].
  const xT = s.transpose(x, [3, 1, 2, 0]);
  // dy as a filter [Ho, Wo, N, Cout], dilated by the stride.
  const dyT = s.transpose(dy, [1, 2, 0, 3]);
  const { top, bottom, left, right } = info.padInfo;
  const out = s.conv(xT, dyT, [top, bottom, left, right], [info.strideHeight, info.strideWidth]);
  // The valid convolution can overshoot kh x kw when the forward conv dropped trailing rows.
  const cropped = s.slice(out, [0, 0, 0, 0], [cin, kh, kw, cout]);
  return s.finish(s.transpose(cropped, [1, 2, 0, 3]));
};

/**
 * dx = conv2d^T(dy, W) as ONE stride-1 convolution followed by a depth-to-space shuffle
 * (sub-pixel decomposition). Output phase c = (cy, cx) in [0, s)^2 of dx satisfies
 * dx[u*s + c] = sum_m dy[u + o_c - m] W[r_c + s*m], with r_c = (c + pad) mod s and
 * o_c = floor((c + pad) / s): a correlation of dy with a flipped sub-filter. All phases read a
 * common window of dy rows, so their sub-filters stack into one filter with s*s*Cin output
 * channels; one XNNPACK call computes every phase, with no zero insertion.
 */
function conv2DBackpropInputFast(
  { inputs, attrs, backend }: Parameters<KernelFunc>[0],
  stock: KernelFunc,
): Info {
  const { dy, filter } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  if (!isNHWC(dataFormat) || filter.dtype !== "float32") return stock({ inputs, attrs, backend });
  const info = convInfo(inputShape, filter.shape, strides, pad, dimRoundingMode);
  const [kh, kw, cin, cout] = filter.shape;
  const [n, h, w] = inputShape as number[];
  const phaseRows = subPixelPhases(kh, info.strideHeight, info.padInfo.top);
  const phaseCols = subPixelPhases(kw, info.strideWidth, info.padInfo.left);
  const merged = mergedPhaseFilter(
    (backend as any).typedArrayFromHeap(filter) as Float32Array,
    [kh, kw, cin, cout],
    phaseRows,
    phaseCols,
  );
  const s = new Scratch(backend);
  const wMerged = (backend as any).makeOutput(merged.shape, "float32", undefined, merged.values) as Info;
  s.track(wMerged);
  const [sh, sw] = [info.strideHeight, info.strideWidth];
  const uh = Math.ceil(h / sh), uw = Math.ceil(w / sw);
  const [ho, wo] = [dy.shape[1], dy.shape[2]];
  const padTop = -phaseRows.lo, padLeft = -phaseCols.lo;
  const padBottom = uh + phaseRows.taps - 1 - ho - padTop;
  const padRight = uw + phaseCols.taps - 1 - wo - padLeft;
  const phases = s.conv(dy, wMerged, [padTop, padBottom, padLeft, padRight], [1, 1]);
  if (sh === 1 && sw === 1) return s.finish(s.slice(phases, [0, 0, 0, 0], [n, h, w, cin]));
  const split = s.reshape(phases, [n, uh, uw, sh, sw, cin]);
  const interleaved = s.reshape(s.transpose(split, [0, 1, 3, 2, 4, 5]), [n, uh * sh, uw * sw, cin]);
  return s.finish(s.slice(interleaved, [0, 0, 0, 0], [n, h, w, cin]));
}

/** Per output phase along one axis: filter phase, offset, tap count; and their common window. */
interface SubPixelPhases {
  stride: number;
  /** For output phase c: first kernel index r, dy offset o, number of taps t. */
  phase: { r: number; o: number; t: number }[];
  /** Window of dy rows read, relative to u: [lo, lo + taps). */
  lo: number;
  taps: number;
}

function subPixelPhases(k: number, stride: number, padBefore: number): SubPixelPhases {
  const phase = [];
  let lo = Infinity, hi = -Infinity;
  for (let c = 0; c < stride; c++) {
    const r = (c + padBefore) % stride, o = Math.floor((c + padBefore) / stride);
    const t = Math.max(0, Math.ceil((k - r) / stride));
    phase.push({ r, o, t });
    if (t > 0) {
      lo = Math.min(lo, o - t + 1);
      hi = Math.max(hi, o);
    }
  }
  return { stride, phase, lo, taps: hi - lo + 1 };
}

/**
 * Builds the merged filter [tapsY, tapsX, Cout, sy*sx*Cin] from W [kh, kw, Cin, Cout]:
 * window tap a of phase c reads dy row u + lo + a, i.e. kernel row r_c + s*(o_c - lo - a).
 */
function mergedPhaseFilter(
  w: Float32Array,
  [, kw, cin, cout]: number[],
  rows: SubPixelPhases,
  cols: SubPixelPhases,
): { values: Float32Array; shape: number[] } {
  const phases = rows.stride * cols.stride;
  const outC = phases * cin;
  const values = new Float32Array(rows.taps * cols.taps * cout * outC);
  for (let cy = 0; cy < rows.stride; cy++) {
    const py = rows.phase[cy];
    for (let a = 0; a < rows.taps; a++) {
      const my = py.o - rows.lo - a;
      if (my < 0 || my >= py.t) continue;
      const ky = py.r + rows.stride * my;
      for (let cx = 0; cx < cols.stride; cx++) {
        const px = cols.phase[cx];
        const channel0 = (cy * cols.stride + cx) * cin;
        for (let b = 0; b < cols.taps; b++) {
          const mx = px.o - cols.lo - b;
          if (mx < 0 || mx >= px.t) continue;
          const kx = px.r + cols.stride * mx;
          const src = (ky * kw + kx) * cin * cout;
          const dst = (a * cols.taps + b) * cout * outC + channel0;
          for (let ci = 0; ci < cin; ci++) {
            for (let co = 0; co < cout; co++) {
              values[dst + co * outC + ci] = w[src + ci * cout + co];
            }
          }
        }
      }
    }
  }
  return { values, shape: [rows.taps, cols.taps, cout, outC] };
}

/** Inserts stride-1 zeros between the rows and columns of x [N, H, W, C]. */
function dilate(s: Scratch, x: Info, sh: number, sw: number): Info {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const r = s.reshape(x, [n, h, 1, w, 1, c]);
  const p = s.pad(r, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  return s.reshape(p, [n, h * sh, w * sw, c]);
}

/** dx = depthwise^T(dy, W): zero-insert dy, then a depthwise correlation with the flipped W. */
const depthwiseBackpropInput: KernelFunc = ({ inputs, attrs, backend }) => {
  const { dy, filter } = inputs;
  const { strides, pad, dilations, dimRoundingMode, inputShape } = attrs;
  if (!tf.backend_util.eitherStridesOrDilationsAreOne(strides, dilations ?? 1)) {
    throw new Error("depthwise conv backprop: strides and dilations cannot both exceed 1");
  }
  if ((Array.isArray(dilations) ? dilations : [dilations ?? 1]).some((d: number) => d !== 1)) {
    throw new Error(`kdiga's wasm DepthwiseConv2dNativeBackpropInput needs dilations 1; got ${dilations}`);
  }
  const info = convInfo(inputShape, filter.shape, strides, pad, dimRoundingMode, true);
  const [kh, kw, c, mult] = filter.shape;
  const [n, h, w] = inputShape as number[];
  const s = new Scratch(backend);
  // With a channel multiplier, treat the C*mult output channels as separate depthwise channels
  // and sum each group of `mult` at the end.
  const flat = s.reshape(filter, [kh, kw, c * mult, 1]);
  const flipped = s.run("Reverse", { x: flat }, { dims: [0, 1] });
  const dyD = dilate(s, dy, info.strideHeight, info.strideWidth);
  const { top, left } = info.padInfo;
  const padTop = kh - 1 - top, padLeft = kw - 1 - left;
  const padBottom = h + kh - 1 - padTop - dyD.shape[1];
  const padRight = w + kw - 1 - padLeft - dyD.shape[2];
  const dyP = s.padOrCrop(dyD, padTop, padBottom, padLeft, padRight);
  const out = s.run("DepthwiseConv2dNative", { x: dyP, filter: flipped }, {
    strides: [1, 1],
    pad: "valid",
    dilations: [1, 1],
    dimRoundingMode: undefined,
    dataFormat: "NHWC",
  });
  if (mult === 1) return s.finish(out);
  const grouped = s.reshape(out, [n, h, w, c, mult]);
  return s.finish(s.run("Sum", { x: grouped }, { axis: [4], keepDims: false }));
};

/**
 * dW[i,j,c,m] = sum_{n,p,q} x[n, p*s+i-pt, q*s+j-pl, c] dy[n,p,q,c*mult+m], composed from XNNPACK
 * kernels (the `"missing"` set's kernel; `"all"` runs the faster direct loop of
 * `depthwise_kernels.ts`). Exported for the tests that keep both right.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { depthwiseBackpropFilterComposed } from "./wasm_kernels.ts";
 * import { useBackend } from "./mod.ts";
 * await useBackend("wasm");
 * const x = tf.ones([1, 3, 3, 2]), dy = tf.ones([1, 3, 3, 2]);
 * const info = depthwiseBackpropFilterComposed({
 *   inputs: { x, dy },
 *   attrs: { strides: 1, pad: "same", dilations: 1, filterShape: [3, 3, 2, 1] },
 *   backend: tf.backend() as any,
 * });
 * console.log(info.shape); // [3, 3, 2, 1]
 * ```
 */
export const depthwiseBackpropFilterComposed: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, dy } = inputs;
  const { strides, pad, dilations, dimRoundingMode, filterShape } = attrs;
  if ((Array.isArray(dilations) ? dilations : [dilations ?? 1]).some((d: number) => d !== 1)) {
    throw new Error(`kdiga's wasm DepthwiseConv2dNativeBackpropFilter needs dilations 1; got ${dilations}`);
  }
  const info = convInfo(x.shape, filterShape, strides, pad, dimRoundingMode, true);
  const [kh, kw, c, mult] = filterShape as number[];
  const [n, h, w] = x.shape;
  const [ho, wo] = [dy.shape[1], dy.shape[2]];
  const s = new Scratch(backend);
  // Fold the batch into channels: x -> [1, H, W, N*C*mult] (x repeated per multiplier),
  // dy -> a depthwise filter [Ho, Wo, N*C*mult, 1] dilated by the stride.
  let xr = s.transpose(x, [1, 2, 0, 3]); // [H, W, N, C]
  if (mult > 1) {
    xr = s.run("Tile", { x: s.reshape(xr, [h, w, n, c, 1]) }, { reps: [1, 1, 1, 1, mult] });
  }
  const xFolded = s.reshape(xr, [1, h, w, n * c * mult]);
  const dyFolded = s.reshape(s.transpose(dy, [1, 2, 0, 3]), [ho, wo, n * c * mult, 1]);
  const { top, bottom, left, right } = info.padInfo;
  const xP = s.padOrCrop(xFolded, top, bottom, left, right);
  const out = s.run("DepthwiseConv2dNative", { x: xP, filter: dyFolded }, {
    strides: [1, 1],
    pad: "valid",
    dilations: [info.strideHeight, info.strideWidth],
    dimRoundingMode: undefined,
    dataFormat: "NHWC",
  });
  const cropped = s.slice(out, [0, 0, 0, 0], [1, kh, kw, n * c * mult]);
  const perBatch = s.reshape(cropped, [kh, kw, n, c * mult]);
  const summed = s.run("Sum", { x: perBatch }, { axis: [2], keepDims: false });
  return s.finish(s.reshape(summed, [kh, kw, c, mult]));
};

/**
 * A kernel that returns a new reference to its input's buffer (tfjs tensors are immutable, as
 * the cpu backend's Identity relies on) where `shares(x, attrs)` holds, else runs `stock`:
 * Identity (the engine clones every tensor it saves for the backward pass) and Cast to the dtype
 * a tensor already has (tfjs' gradients of Multiply and RealDiv cast float32 operands on every
 * call).
 */
function bufferSharing(
  stock: KernelFunc,
  shares: (x: Info, attrs: any) => boolean,
): KernelFunc {
  return ({ inputs, attrs, backend }) => {
    const { x } = inputs;
    if (x.dtype === "string" || !shares(x, attrs)) return stock({ inputs, attrs, backend });
    (backend as any).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

/** BatchMatMul with its transpose flags applied as explicit transposes of the operands. */
function batchMatMulExplicitTranspose(
  { inputs, attrs, backend }: Parameters<KernelFunc>[0],
  stock: KernelFunc,
): Info {
  const { a, b } = inputs;
  const { transposeA, transposeB } = attrs;
  if (!transposeA && !transposeB) return stock({ inputs, attrs, backend });
  const s = new Scratch(backend);
  const swapLast = (t: Info) => {
    const perm = t.shape.map((_, i) => i);
    [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
    return s.transpose(t, perm);
  };
  const out = stock({
    inputs: { a: transposeA ? swapLast(a) : a, b: transposeB ? swapLast(b) : b },
    attrs: { ...attrs, transposeA: false, transposeB: false },
    backend,
  });
  return s.finish(s.track(out));
}

/**
 * Which kernels {@link registerWasmTrainingKernels} installs: `"all"` (default), or `"missing"`:
 * only those tfjs' wasm backend lacks, leaving its stock (slower) kernels in place. `"missing"`
 * exists so `deno task bench` can measure what the replacements buy, side by side.
 */
export type WasmKernelSet = "all" | "missing";

let registered: WasmKernelSet | null = null;

/**
 * Registers kdiga's training kernels for the `wasm` backend (and, with `"all"`, replaces its
 * slow `Conv2DBackpropInput`, copying `Identity` and flagged `BatchMatMul`). Once per process;
 * `useBackend("wasm")` calls it.
 *
 * @example
 * ```ts
 * import { useBackend } from "./select.ts";
 * await useBackend("wasm"); // registers these kernels
 * ```
 */
export function registerWasmTrainingKernels(set: WasmKernelSet = "all"): void {
  if (registered === set) return;
  if (registered != null) {
    throw new Error(`wasm kernels are already registered as '${registered}'; cannot switch to '${set}'`);
  }
  if (set !== "all" && set !== "missing") {
    throw new Error(`unknown wasm kernel set '${set}': allowed are 'all', 'missing'`);
  }
  registered = set;
  const stockBackpropInput = tf.getKernel("Conv2DBackpropInput", "wasm")!
    .kernelFunc as unknown as KernelFunc;
  const stockIdentity = tf.getKernel("Identity", "wasm")!.kernelFunc as unknown as KernelFunc;
  const stockCast = tf.getKernel("Cast", "wasm")!.kernelFunc as unknown as KernelFunc;
  const stockBatchMatMul = tf.getKernel("BatchMatMul", "wasm")!.kernelFunc as unknown as KernelFunc;
  const missing: [string, KernelFunc][] = [
    ["Conv2DBackpropFilter", conv2DBackpropFilter],
    ["DepthwiseConv2dNativeBackpropInput", depthwiseBackpropInput],
    ["DepthwiseConv2dNativeBackpropFilter", depthwiseBackpropFilterComposed],
  ];
  const replacements: [string, KernelFunc][] = [
    ["Identity", bufferSharing(stockIdentity, () => true)],
    ["Cast", bufferSharing(stockCast, (x, attrs) => x.dtype === attrs.dtype)],
    ["BatchMatMul", (args) => batchMatMulExplicitTranspose(args, stockBatchMatMul)],
    ["Conv2DBackpropInput", (args) => conv2DBackpropInputFast(args, stockBackpropInput)],
  ];
  for (const [kernelName, kernelFunc] of set === "all" ? [...missing, ...replacements] : missing) {
    if (tf.getKernel(kernelName, "wasm") != null) tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: kernelFunc as any });
  }
  if (set === "all") {
    registerLeadingReductionKernels();
    registerTiledBroadcastKernels();
    // The direct loop is faster than the composition above, which stays as its fallback
    // (non-float32 data; dilated filters get its error) and as the "missing" set's kernel.
    replaceWasmKernel("DepthwiseConv2dNativeBackpropFilter", depthwiseBackpropFilterDirect);
  }
}
