/**
 * The depthwise-convolution filter gradient for the tfjs `wasm` backend as one direct loop over
 * the wasm heap, in place of the composition in `wasm_kernels.ts` (batch folded into channels,
 * `dy` as a dilated depthwise filter: XNNPACK packs that per-call filter anew every time, which
 * made it the slowest kernel of a MobileNetV2 training step, 9-16 ms at batch 128).
 *
 * dW[i, j, c, m] = sum over (n, p, q) of x[n, p*s + i - top, q*s + j - left, c] * dy[n, p, q, c*M + m]
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import { convInfo, type KernelFunc } from "./wasm_scratch.ts";

type Info = tf.TensorInfo;

/**
 * Accumulates the depthwise filter gradient into `dw` [kh, kw, C, M] (float64 sums, written as
 * float32) from NHWC `x` and `dy`, given the forward convolution's geometry.
 *
 * @example
 * ```ts
 * import { depthwiseFilterGradient } from "./depthwise_kernels.ts";
 * // 1 image 2x2, 1 channel, 1x1 filter, stride 1: dW = sum of x * dy.
 * const dw = new Float32Array(1);
 * depthwiseFilterGradient(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 1, 1, 1]), dw, {
 *   batch: 1, inH: 2, inW: 2, channels: 1, multiplier: 1, outH: 2, outW: 2,
 *   kh: 1, kw: 1, sh: 1, sw: 1, top: 0, left: 0,
 * });
 * console.log(dw[0]); // 10
 * ```
 */
export function depthwiseFilterGradient(
  x: Float32Array,
  dy: Float32Array,
  dw: Float32Array,
  g: {
    batch: number;
    inH: number;
    inW: number;
    channels: number;
    multiplier: number;
    outH: number;
    outW: number;
    kh: number;
    kw: number;
    sh: number;
    sw: number;
    top: number;
    left: number;
  },
): void {
  const { batch, inH, inW, channels: c, multiplier: m, outH, outW, kh, kw, sh, sw, top, left } = g;
  const outC = c * m;
  const acc = new Float64Array(kh * kw * outC);
  for (let b = 0; b < batch; b++) {
    for (let p = 0; p < outH; p++) {
      for (let q = 0; q < outW; q++) {
        const dyBase = ((b * outH + p) * outW + q) * outC;
        for (let i = 0; i < kh; i++) {
          const ih = p * sh + i - top;
          if (ih < 0 || ih >= inH) continue;
          for (let j = 0; j < kw; j++) {
            const iw = q * sw + j - left;
            if (iw < 0 || iw >= inW) continue;
            const xBase = ((b * inH + ih) * inW + iw) * c;
            const accBase = (i * kw + j) * outC;
            if (m === 1) {
              for (let k = 0; k < c; k++) acc[accBase + k] += x[xBase + k] * dy[dyBase + k];
            } else {
              for (let k = 0; k < c; k++) {
                const xv = x[xBase + k];
                for (let t = 0; t < m; t++) acc[accBase + k * m + t] += xv * dy[dyBase + k * m + t];
              }
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < acc.length; i++) dw[i] = acc[i];
}

/**
 * `DepthwiseConv2dNativeBackpropFilter` for `wasm` (NHWC, float32, dilation 1); anything else goes
 * to `fallback`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { useBackend } from "./mod.ts";
 * await useBackend("wasm"); // registers it
 * const x = tf.ones([1, 3, 3, 2]), dy = tf.ones([1, 3, 3, 2]);
 * const dw = tf.engine().runKernel("DepthwiseConv2dNativeBackpropFilter", { x, dy }, {
 *   strides: 1, pad: "same", dilations: 1, filterShape: [3, 3, 2, 1],
 * }) as tf.Tensor;
 * console.log(dw.shape); // [3, 3, 2, 1]
 * ```
 */
export function depthwiseBackpropFilterDirect(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs: { x, dy }, attrs, backend } = args;
    const dilations = attrs.dilations ?? 1;
    const dilated = (Array.isArray(dilations) ? dilations : [dilations]).some((d: number) => d !== 1);
    if (dilated || x.dtype !== "float32" || dy.dtype !== "float32") return fallback(args);
    const filterShape = attrs.filterShape as [number, number, number, number];
    const info = convInfo(x.shape, filterShape, attrs.strides, attrs.pad, attrs.dimRoundingMode, true);
    const wasm = backend as unknown as {
      makeOutput(shape: number[], dtype: tf.DataType): Info;
      typedArrayFromHeap(info: Info): Float32Array;
    };
    const out = wasm.makeOutput([...filterShape], "float32");
    // Views after makeOutput: allocating can grow (and move) the wasm heap.
    depthwiseFilterGradient(wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(dy), wasm.typedArrayFromHeap(out), {
      batch: info.batchSize,
      inH: info.inHeight,
      inW: info.inWidth,
      channels: info.inChannels,
      multiplier: filterShape[3],
      outH: info.outHeight,
      outW: info.outWidth,
      kh: info.filterHeight,
      kw: info.filterWidth,
      sh: info.strideHeight,
      sw: info.strideWidth,
      top: info.padInfo.top,
      left: info.padInfo.left,
    });
    return out;
  };
}
