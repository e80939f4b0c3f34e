/**
 * Binary ops with a per-channel operand (`x * scale`, `x + bias` of batch norm and every
 * convolution bias) for the tfjs `wasm` backend, without the stock kernels' slow broadcast.
 *
 * tfjs' wasm binary kernels broadcast row by row over the last axis: with 8 channels the loop
 * overhead of each 8-element row dominates (measured: `[128, 28, 28, 8] * [8]` 1.0 ms, against
 * 0.14 ms for two tensors of one shape). Tiling the channel vector k times, to about 1,024 values,
 * and viewing the large operand as rows of that length gives the same result with rows 128x
 * longer: 0.11 ms. Small tensors (fewer than {@link MIN_TILED_ROWS} rows) keep the stock kernel,
 * which is faster there. Only float32 operands whose broadcast is a trailing vector (shape `[C]`,
 * `[1, C]`, `[1, 1, 1, C]`, ... against `[..., C]`) take this path; a one-element operand is
 * passed as a scalar; anything else goes to the stock kernel.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { type Backend, type KernelFunc, replaceWasmKernel, Scratch } from "./wasm_scratch.ts";

type Info = tf.TensorInfo;
type KernelArgs = Parameters<KernelFunc>[0];

/** The binary kernels given the tiled broadcast. */
export const TILED_BROADCAST_KERNELS = ["Multiply", "Add", "Sub", "RealDiv"] as const;

/** Length the channel vector is tiled to, at most. */
const TILE_TARGET = 1024;

/**
 * Fewest rows (elements of the large operand / channels) for which tiling pays. Tiling costs a
 * fixed ~45 µs (the `Tile` kernel and reshapes); the stock broadcast costs ~10 ns per row. Measured
 * per call, tiled vs stock: `[128, 2, 2, 32] + [32]` (512 rows) 55 vs 12 µs; `[128, 4, 4, 16]`
 * (2,048 rows) 73 vs 36 µs; `[128, 7, 7, 32]` (6,272 rows) 83 vs 99 µs; `[128, 14, 14, 8]`
 * (25,088 rows) 80 vs 250 µs. The small late-stage tensors of the quick ResNet-101 made hundreds of
 * such calls per step.
 */
export const MIN_TILED_ROWS = 4096;

let minTiledRows = MIN_TILED_ROWS;

/**
 * Sets the fewest rows for which a broadcast is tiled (default {@link MIN_TILED_ROWS}; 0 tiles
 * every per-channel broadcast, as the kernel tests do) and returns the previous value.
 *
 * @example
 * ```ts
 * import { MIN_TILED_ROWS, setMinTiledRows } from "./broadcast_kernels.ts";
 * const previous = setMinTiledRows(0); // tile every per-channel broadcast
 * setMinTiledRows(previous);
 * console.log(previous === MIN_TILED_ROWS); // true
 * ```
 */
export function setMinTiledRows(rows: number): number {
  if (!Number.isInteger(rows) || rows < 0) {
    throw new Error(`minimum tiled rows must be an integer >= 0; got ${rows}`);
  }
  const previous = minTiledRows;
  minTiledRows = rows;
  return previous;
}

/**
 * How to tile a trailing-vector broadcast of `small` into `large`: the channel count `channels`,
 * the repeat count `k` (a divisor of the number of rows, `channels * k <= 1024`), or null when
 * the shapes are not such a broadcast or tiling would not help (rows already long, or fewer rows
 * than {@link MIN_TILED_ROWS}).
 *
 * @example
 * ```ts
 * import { trailingBroadcastTiling } from "./broadcast_kernels.ts";
 * trailingBroadcastTiling([128, 28, 28, 8], [8]); // { channels: 8, k: 128 }
 * trailingBroadcastTiling([128, 28, 28, 8], [28, 8]); // null: not a per-channel vector
 * trailingBroadcastTiling([128, 2, 2, 32], [32]); // null: 512 rows, the stock kernel is faster
 * ```
 */
export function trailingBroadcastTiling(
  large: number[],
  small: number[],
): { channels: number; k: number } | null {
  if (large.length === 0 || small.length === 0 || small.length > large.length) return null;
  const channels = large[large.length - 1];
  if (small[small.length - 1] !== channels || channels * 2 > TILE_TARGET) return null;
  if (!small.slice(0, -1).every((d) => d === 1)) return null;
  const rows = tf.util.sizeFromShape(large) / channels;
  if (rows < minTiledRows) return null;
  let k = Math.min(rows, Math.floor(TILE_TARGET / channels));
  while (k > 1 && rows % k !== 0) k--;
  return k > 1 ? { channels, k } : null;
}

function tiledBroadcast(args: KernelArgs, stock: KernelFunc): Info {
  const { inputs: { a, b }, backend } = args;
  if (a.dtype !== "float32" || b.dtype !== "float32") return stock(args);
  const aLarge = tf.util.sizeFromShape(a.shape) >= tf.util.sizeFromShape(b.shape);
  const [large, small] = aLarge ? [a, b] : [b, a];
  const s = new Scratch(backend as Backend);
  let largeIn: Info, smallIn: Info;
  if (small.shape.length > 0 && tf.util.sizeFromShape(small.shape) === 1 && large.shape.length >= small.shape.length) {
    // A one-element tensor of rank >= 1 takes the slow broadcast path; as a scalar it takes the
    // stock kernel's fast one ([128, 28, 28, 1] * [1]: 0.66 -> 0.07 ms).
    [largeIn, smallIn] = [large, s.reshape(small, [])];
  } else {
    const tiling = trailingBroadcastTiling(large.shape, small.shape);
    if (tiling == null) return stock(args);
    const width = tiling.channels * tiling.k;
    const row = s.run("Tile", { x: s.reshape(small, [1, tiling.channels]) }, { reps: [tiling.k, 1] });
    smallIn = s.reshape(row, [width]);
    largeIn = s.reshape(large, [tf.util.sizeFromShape(large.shape) / width, width]);
  }
  const out = s.track(stock({
    inputs: aLarge ? { a: largeIn, b: smallIn } : { a: smallIn, b: largeIn },
    attrs: args.attrs,
    backend,
  }));
  return s.finish(largeIn === large ? out : s.reshape(out, [...large.shape]));
}

/**
 * Registers the tiled-broadcast {@link TILED_BROADCAST_KERNELS} for `wasm`, each falling back to
 * the kernel registered before it. `registerWasmTrainingKernels("all")` calls it.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { useBackend } from "./mod.ts";
 * await useBackend("wasm"); // registers these kernels
 * const y = tf.mul(tf.ones([4, 2]), tf.tensor1d([2, 3]));
 * console.log(y.arraySync()); // [[2, 3], [2, 3], [2, 3], [2, 3]]
 * ```
 */
export function registerTiledBroadcastKernels(): void {
  for (const kernelName of TILED_BROADCAST_KERNELS) {
    replaceWasmKernel(kernelName, (stock) => (args) => tiledBroadcast(args, stock));
  }
}
