/**
 * Shared by the kernel tests (`wasm_kernels_test.ts`, `native_kernels_test.ts`): convolution
 * cases, seeded random data, and running one computation on a named backend.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** tfjs' padding argument: a mode, or explicit NHWC pads. */
export type Pad = "same" | "valid" | [[number, number], [number, number], [number, number], [number, number]];

/** One NHWC convolution: input batch x h x w x cin, filter kh x kw x cin x cout. */
export interface ConvCase {
  batch: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  kh: number;
  kw: number;
  stride: [number, number];
  pad: Pad;
  dilation?: [number, number];
}

/** n uniform values in [-1, 1) from `rand`. */
export function randomArray(n: number, rand: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand() * 2 - 1;
  return a;
}

/** Runs `f` on the named backend and returns its shape and values as plain arrays (so nothing crosses backends). */
export async function runOn(
  backend: string,
  f: () => tf.Tensor,
): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backend);
  const t = f();
  const result = { shape: t.shape, values: Float32Array.from(t.dataSync() as Float32Array) };
  t.dispose();
  return result;
}
