/**
 * Shared by the kernel tests (`wasm_kernels_test.ts`, `native_kernels_test.ts`,
 * `reduction_kernels_test.ts`, `broadcast_kernels_test.ts`): convolution cases, seeded random
 * data, running one computation on a named backend, and memory checks.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";

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

/**
 * Runs `step` once to warm up, then `repeats` times, and asserts that tensors, bytes and data
 * buffers are where they were after the warm-up (kernels free their intermediates).
 */
export function assertMemoryFlat(step: () => void, repeats = 10): void {
  step();
  const before = tf.memory() as tf.MemoryInfo & { numDataBuffers: number };
  for (let i = 0; i < repeats; i++) step();
  const after = tf.memory() as tf.MemoryInfo & { numDataBuffers: number };
  assert.equal(after.numTensors, before.numTensors, "tensors");
  assert.equal(after.numBytes, before.numBytes, "bytes");
  assert.equal(after.numDataBuffers, before.numDataBuffers, "data buffers");
}
