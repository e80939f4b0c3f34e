/**
 * Seeded pseudo-random numbers for everything that must be reproducible: data shuffling,
 * initialisation seeds, attack restarts.
 * @module
 */

/**
 * A seeded generator of uniform floats in [0, 1) (mulberry32). Same seed, same sequence.
 *
 * @example
 * ```ts
 * import { seededRandom } from "./rng.ts";
 * const rand = seededRandom(42);
 * const u = rand(); // in [0, 1)
 * ```
 */
export function seededRandom(seed: number): () => number {
  if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number; got ${seed}`);
  let a = (Math.floor(seed) >>> 0) ^ 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A seeded permutation of `0..n-1` (Fisher-Yates).
 *
 * @example
 * ```ts
 * import { seededPermutation } from "./rng.ts";
 * const order = seededPermutation(5, 1); // e.g. [3, 0, 4, 1, 2]
 * ```
 */
export function seededPermutation(n: number, seed: number): Int32Array {
  if (!Number.isInteger(n) || n < 0) throw new Error(`n must be a non-negative integer; got ${n}`);
  const rand = seededRandom(seed);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * Derives an independent integer seed from a base seed and a label (for per-layer or
 * per-restart seeds), so one user seed fans out deterministically.
 *
 * @example
 * ```ts
 * import { deriveSeed } from "./rng.ts";
 * const s = deriveSeed(0, "layer1.conv"); // stable integer
 * ```
 */
export function deriveSeed(seed: number, label: string | number): number {
  let h = (Math.floor(seed) ^ 0x811c9dc5) >>> 0;
  const text = String(label);
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return seededRandom(h)() * 2147483647 | 0;
}
