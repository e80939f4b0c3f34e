/**
 * Composing wasm kernels from other wasm kernels: {@link callKernel} runs a registered kernel
 * from inside a kernel, {@link Scratch} tracks the intermediate results so that a composed
 * kernel frees all of them and keeps only its output, {@link replaceWasmKernel} wraps the kernel
 * registered under a name, and {@link convInfo} is tfjs' NHWC convolution geometry.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

type Info = tf.TensorInfo;
/** The wasm backend as a composed kernel sees it. */
export type Backend = tf.KernelBackend & { disposeData(dataId: unknown): boolean };
/** A wasm kernel function. */
export type KernelFunc = (args: { inputs: Record<string, Info>; attrs: any; backend: Backend }) => Info;

/**
 * Runs the wasm kernel registered as `name` (whatever replaced the stock one) from inside a
 * kernel.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { callKernel } from "./wasm_scratch.ts";
 * import { useBackend } from "./mod.ts";
 * await useBackend("wasm");
 * const x = tf.tensor1d([1, -2]);
 * const info = callKernel(tf.backend() as any, "Abs", { x });
 * console.log(tf.engine().makeTensorFromTensorInfo(info).arraySync()); // [1, 2]
 * ```
 */
export function callKernel(backend: Backend, name: string, inputs: Record<string, Info>, attrs: any = {}): Info {
  const kernel = tf.getKernel(name, "wasm");
  if (kernel == null) throw new Error(`kdiga needs the wasm kernel '${name}', which is missing`);
  return (kernel.kernelFunc as unknown as KernelFunc)({ inputs, attrs, backend });
}

/**
 * Tracks intermediate results so a composed kernel frees them all, keeping only its output.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { Scratch } from "./wasm_scratch.ts";
 * import { useBackend } from "./mod.ts";
 * await useBackend("wasm");
 * const x = tf.tensor2d([[1, 2], [3, 4]]);
 * const s = new Scratch(tf.backend() as any);
 * const out = s.finish(s.transpose(s.reshape(x, [2, 2]), [1, 0]));
 * console.log(tf.engine().makeTensorFromTensorInfo(out).arraySync()); // [[1, 3], [2, 4]]
 * ```
 */
export class Scratch {
  readonly #infos: Info[] = [];
  constructor(readonly backend: Backend) {}
  run(name: string, inputs: Record<string, Info>, attrs: any = {}): Info {
    const out = callKernel(this.backend, name, inputs, attrs);
    this.#infos.push(out);
    return out;
  }
  reshape(x: Info, shape: number[]): Info {
    return this.run("Reshape", { x }, { shape });
  }
  transpose(x: Info, perm: number[]): Info {
    return this.run("Transpose", { x }, { perm });
  }
  slice(x: Info, begin: number[], size: number[]): Info {
    const whole = begin.every((b) => b === 0) && size.every((s, i) => s === x.shape[i]);
    return whole ? x : this.run("Slice", { x }, { begin, size });
  }
  pad(x: Info, paddings: [number, number][]): Info {
    return paddings.every(([a, b]) => a === 0 && b === 0)
      ? x
      : this.run("PadV2", { x }, { paddings, constantValue: 0 });
  }
  /** Pads (non-negative parts) and crops (negative parts) the given spatial axes 1 and 2. */
  padOrCrop(x: Info, top: number, bottom: number, left: number, right: number): Info {
    const cropped = this.slice(
      x,
      [0, Math.max(0, -top), Math.max(0, -left), 0],
      [
        x.shape[0],
        x.shape[1] - Math.max(0, -top) - Math.max(0, -bottom),
        x.shape[2] - Math.max(0, -left) - Math.max(0, -right),
        x.shape[3],
      ],
    );
    return this.pad(cropped, [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [
      Math.max(0, left),
      Math.max(0, right),
    ], [0, 0]]);
  }
  /** Takes ownership of a result made outside `run`. */
  track(info: Info): Info {
    this.#infos.push(info);
    return info;
  }
  /**
   * Stride-1 NHWC convolution with explicit padding [top, bottom, left, right]; negative
   * padding crops the input first (XNNPACK pads for free, but cannot crop).
   */
  conv(x: Info, filter: Info, [top, bottom, left, right]: number[], dilations: [number, number]): Info {
    const xc = this.padOrCrop(x, Math.min(top, 0), Math.min(bottom, 0), Math.min(left, 0), Math.min(right, 0));
    return this.run("Conv2D", { x: xc, filter }, {
      strides: [1, 1],
      pad: [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]],
      dataFormat: "NHWC",
      dilations,
      dimRoundingMode: undefined,
    });
  }
  /** Concatenates along `axis` (a single input is returned as is). */
  concat(xs: Info[], axis: number): Info {
    if (xs.length === 1) return xs[0];
    // Concat takes its inputs as an array, not a name map.
    return this.run("Concat", xs as unknown as Record<string, Info>, { axis });
  }
  /**
   * Releases every intermediate except `keep`. Reshapes share their input's data and take a
   * reference on it, so each result is released once, by identity, not by data id.
   */
  finish(keep: Info): Info {
    for (const info of this.#infos) {
      if (info !== keep) this.backend.disposeData(info.dataId);
    }
    return keep;
  }
}

/**
 * Replaces the wasm kernel registered as `name` by `make(previous)`, which falls back on the
 * previous kernel for what it does not take. An error if there is none to replace.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { replaceWasmKernel } from "./wasm_scratch.ts";
 * import { useBackend } from "./mod.ts";
 * await useBackend("wasm");
 * let calls = 0;
 * replaceWasmKernel("Neg", (previous) => (args) => (calls++, previous(args)));
 * tf.neg(tf.scalar(1)).dataSync();
 * console.log(calls); // 1
 * ```
 */
export function replaceWasmKernel<F extends (args: any) => Info = KernelFunc>(
  name: string,
  make: (previous: F) => F,
): void {
  const previous = tf.getKernel(name, "wasm");
  if (previous == null) throw new Error(`the wasm backend has no '${name}' kernel to replace`);
  tf.unregisterKernel(name, "wasm");
  tf.registerKernel({
    kernelName: name,
    backendName: "wasm",
    kernelFunc: make(previous.kernelFunc as unknown as F) as any,
  });
}

/**
 * tfjs' geometry of an NHWC convolution (`depthwise`: a depthwise filter; dilation 1 unless
 * given).
 *
 * @example
 * ```ts
 * import { convInfo } from "./wasm_scratch.ts";
 * convInfo([2, 8, 8, 3], [3, 3, 3, 4], 2, "same", undefined).outHeight; // 4
 * ```
 */
export function convInfo(
  xShape: number[],
  filterShape: number[],
  strides: number | [number, number],
  pad: any,
  dimRoundingMode: any,
  depthwise = false,
  dilations: number | [number, number] = 1,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    depthwise,
    "channelsLast",
  );
}
