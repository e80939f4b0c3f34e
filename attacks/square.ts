/**
 * Square attack (Andriushchenko et al. 2020, "Square Attack: a query-efficient black-box
 * adversarial attack via random search"), Linf and L2: score-based, no gradients, so gradient
 * masking does not fool it.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Classifier } from "../models/types.ts";
import { deriveSeed, seededRandom } from "../util/rng.ts";
import { type AttackOptions, type Norm, validateAttack } from "./validate.ts";

/** Options of {@link square}. */
export interface SquareOptions extends AttackOptions {
  /**
   * Query budget per example and restart (default: `steps`, else 5000). Each iteration costs
   * one forward pass on the examples still robust.
   */
  queries?: number;
  /** Initial fraction of pixels a square covers, p_init (default 0.8, AutoAttack's value). */
  pInit?: number;
}

/**
 * The schedule of the square size parameter `p` (Andriushchenko et al.): `pInit` halved at
 * 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 of 10000 iterations, rescaled to the
 * query budget.
 *
 * @example
 * ```ts
 * import { squareFraction } from "./square.ts";
 * squareFraction(0, 5000, 0.8); // 0.8
 * squareFraction(100, 5000, 0.8); // 0.2 (iteration 200 of 10000)
 * ```
 */
export function squareFraction(iteration: number, queries: number, pInit: number): number {
  const it = Math.floor(iteration / queries * 10000);
  const bounds = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];
  let halvings = 0;
  for (const b of bounds) if (it > b) halvings++;
  return pInit / 2 ** halvings;
}

/**
 * The pseudo-Gaussian window of the L2 Square attack ([s, s], unit L2 norm): two halves of
 * opposite sign, each a sum of nested rectangles with weights 1/(k+1)^2 around its centre.
 *
 * @example
 * ```ts
 * import { squarePattern } from "./square.ts";
 * const p = squarePattern(5, false); // 25 values, rows 0-1 positive, rows 2-4 negative
 * ```
 */
export function squarePattern(s: number, transpose: boolean): Float64Array {
  const rect = (rows: number, cols: number): Float64Array => {
    const out = new Float64Array(rows * cols);
    if (rows === 0) return out;
    const rc = Math.floor(rows / 2) + 1, cc = Math.floor(cols / 2) + 1;
    let r0 = rc - 1, c0 = cc - 1;
    for (let k = 0; k < Math.max(rc, cc); k++) {
      const w = 1 / (k + 1) ** 2;
      for (let r = Math.max(r0, 0); r < Math.min(r0 + 2 * k + 1, rows); r++) {
        for (let c = Math.max(c0, 0); c < Math.min(c0 + 2 * k + 1, cols); c++) {
          out[r * cols + c] += w;
        }
      }
      r0--;
      c0--;
    }
    return out;
  };
  const top = Math.floor(s / 2);
  const a = rect(top, s), b = rect(s - top, s);
  const unit = (v: Float64Array) => {
    const n = Math.sqrt(v.reduce((acc, t) => acc + t * t, 0)) || 1;
    return v.map((t) => t / n);
  };
  const pattern = new Float64Array(s * s);
  pattern.set(unit(a), 0);
  pattern.set(unit(b).map((t) => -t), top * s);
  const n = Math.sqrt(pattern.reduce((acc, t) => acc + t * t, 0)) || 1;
  const out = new Float64Array(s * s);
  for (let r = 0; r < s; r++) {
    for (let c = 0; c < s; c++) out[transpose ? c * s + r : r * s + c] = pattern[r * s + c] / n;
  }
  return out;
}

interface Geometry {
  h: number;
  w: number;
  c: number;
  d: number;
}

/** Margin `z_y - max_{j != y} z_j` and misclassification from one forward pass. */
function query(
  model: Classifier,
  data: Float32Array,
  n: number,
  g: Geometry,
  labels: Int32Array,
): { margin: Float64Array; fooled: Uint8Array } {
  const logitsT = tf.tidy(() => model(tf.tensor4d(data, [n, g.h, g.w, g.c])));
  const classes = logitsT.shape[1];
  const z = logitsT.dataSync();
  logitsT.dispose();
  const margin = new Float64Array(n);
  const fooled = new Uint8Array(n);
  for (let e = 0; e < n; e++) {
    const off = e * classes;
    const zy = z[off + labels[e]];
    let other = -Infinity;
    let arg = 0;
    for (let k = 0; k < classes; k++) {
      if (k !== labels[e] && z[off + k] > other) other = z[off + k];
      if (z[off + k] > z[off + arg]) arg = k;
    }
    margin[e] = zy - other;
    fooled[e] = arg !== labels[e] ? 1 : 0;
  }
  return { margin, fooled };
}

const idx = (g: Geometry, e: number, r: number, col: number, ch: number) =>
  e * g.d + (r * g.w + col) * g.c + ch;

/** Writes `clip(x + eps * delta / ||delta||_2, 0, 1)` for one example (`delta` has `d` entries). */
function l2Normalise(
  delta: Float64Array,
  eps: number,
  x: Float32Array,
  out: Float32Array,
  offset: number,
) {
  let n = 0;
  for (let i = 0; i < delta.length; i++) n += delta[i] * delta[i];
  const scale = eps / (Math.sqrt(n) + 1e-12);
  for (let i = 0; i < delta.length; i++) {
    out[offset + i] = Math.min(Math.max(x[offset + i] + delta[i] * scale, 0), 1);
  }
}

/** One Square run on `n` examples; returns the best points and which are misclassified. */
function squareRun(
  model: Classifier,
  x: Float32Array,
  n: number,
  g: Geometry,
  labels: Int32Array,
  eps: number,
  norm: Norm,
  queries: number,
  pInit: number,
  seed: number,
): { best: Float32Array; fooled: Uint8Array } {
  const rand = seededRandom(seed);
  const sign = () => (rand() < 0.5 ? -1 : 1);
  const randInt = (hi: number) => Math.min(Math.floor(rand() * (hi + 1)), hi); // 0..hi
  const best = new Float32Array(x.length);
  if (norm === "Linf") {
    // Vertical stripes: one random sign per example, column and channel.
    for (let e = 0; e < n; e++) {
      for (let col = 0; col < g.w; col++) {
        for (let ch = 0; ch < g.c; ch++) {
          const s = sign();
          for (let r = 0; r < g.h; r++) {
            const i = idx(g, e, r, col, ch);
            best[i] = Math.min(Math.max(x[i] + eps * s, 0), 1);
          }
        }
      }
    }
  } else {
    // A grid of pseudo-Gaussian tiles with random signs, rescaled to norm eps.
    const s = Math.max(Math.floor(g.h / 5), 1);
    const start = Math.floor((g.h - 5 * s) / 2);
    for (let e = 0; e < n; e++) {
      const delta = new Float64Array(g.d);
      for (let vh = Math.max(start, 0); vh + s <= g.h; vh += s) {
        for (let vw = Math.max(start, 0); vw + s <= g.w; vw += s) {
          const pattern = squarePattern(s, rand() < 0.5);
          for (let ch = 0; ch < g.c; ch++) {
            const sg = sign();
            for (let r = 0; r < s; r++) {
              for (let col = 0; col < s; col++) {
                delta[idx(g, 0, vh + r, vw + col, ch)] += sg * pattern[r * s + col];
              }
            }
          }
        }
      }
      l2Normalise(delta, eps, x, best, e * g.d);
    }
  }
  const { margin, fooled } = query(model, best, n, g, labels);
  const side = Math.min(g.h, g.w);
  for (let it = 0; it < queries - 1; it++) {
    const todo: number[] = [];
    for (let e = 0; e < n; e++) if (!fooled[e]) todo.push(e);
    if (todo.length === 0) break;
    const p = squareFraction(it, queries, pInit);
    let s = Math.max(Math.round(Math.sqrt(p * g.h * g.w)), 1);
    if (norm === "L2") {
      s = Math.max(s, 3);
      if (s % 2 === 0) s++;
    }
    s = Math.min(s, side);
    const vh = randInt(g.h - s), vw = randInt(g.w - s);
    const m = todo.length;
    const cand = new Float32Array(m * g.d);
    const sub = new Float32Array(m * g.d);
    todo.forEach((e, k) => {
      sub.set(x.subarray(e * g.d, (e + 1) * g.d), k * g.d);
      cand.set(best.subarray(e * g.d, (e + 1) * g.d), k * g.d);
    });
    if (norm === "Linf") {
      for (let k = 0; k < m; k++) {
        for (let ch = 0; ch < g.c; ch++) {
          const sg = sign();
          for (let r = vh; r < vh + s; r++) {
            for (let col = vw; col < vw + s; col++) {
              const i = idx(g, k, r, col, ch);
              cand[i] = Math.min(Math.max(sub[i] + eps * sg, 0), 1);
            }
          }
        }
      }
    } else {
      const vh2 = randInt(g.h - s), vw2 = randInt(g.w - s);
      const pattern = squarePattern(s, rand() < 0.5);
      const inW1 = (r: number, col: number) => r >= vh && r < vh + s && col >= vw && col < vw + s;
      const inW2 = (r: number, col: number) =>
        r >= vh2 && r < vh2 + s && col >= vw2 && col < vw2 + s;
      const delta = new Float64Array(g.d);
      for (let k = 0; k < m; k++) {
        let normImage = 0, normWindows = 0;
        const w1Norm = new Float64Array(g.c);
        for (let r = 0; r < g.h; r++) {
          for (let col = 0; col < g.w; col++) {
            for (let ch = 0; ch < g.c; ch++) {
              const i = idx(g, k, r, col, ch);
              const v = cand[i] - sub[i];
              delta[i - k * g.d] = v;
              normImage += v * v;
              if (inW1(r, col) || inW2(r, col)) normWindows += v * v;
              if (inW1(r, col)) w1Norm[ch] += v * v;
            }
          }
        }
        // Move the mass of both windows into window 1, with a fresh pseudo-Gaussian on top,
        // keeping the total norm at most eps.
        const budget = Math.sqrt(Math.max(eps * eps - normImage, 0) / g.c + normWindows);
        const fresh = new Float64Array(s * s);
        for (let ch = 0; ch < g.c; ch++) {
          const sg = sign();
          const wn = Math.sqrt(w1Norm[ch]) + 1e-12;
          let fn = 0;
          for (let r = 0; r < s; r++) {
            for (let col = 0; col < s; col++) {
              const v = pattern[r * s + col] * sg +
                delta[(((vh + r) * g.w) + vw + col) * g.c + ch] / wn;
              fresh[r * s + col] = v;
              fn += v * v;
            }
          }
          fn = Math.sqrt(fn) + 1e-12;
          for (let r = vh2; r < vh2 + s; r++) {
            for (let col = vw2; col < vw2 + s; col++) delta[(r * g.w + col) * g.c + ch] = 0;
          }
          for (let r = 0; r < s; r++) {
            for (let col = 0; col < s; col++) {
              delta[((vh + r) * g.w + vw + col) * g.c + ch] = fresh[r * s + col] / fn * budget;
            }
          }
        }
        l2Normalise(delta, eps, sub, cand, k * g.d);
      }
    }
    const res = query(model, cand, m, g, Int32Array.from(todo, (e) => labels[e]));
    todo.forEach((e, k) => {
      // Accept a candidate that lowers the margin or misclassifies.
      if (res.margin[k] < margin[e] || res.fooled[k]) {
        margin[e] = res.margin[k];
        fooled[e] = res.fooled[k];
        best.set(cand.subarray(k * g.d, (k + 1) * g.d), e * g.d);
      }
    });
  }
  return { best, fooled };
}

/**
 * Square attack: random search over square-shaped updates that minimises the margin
 * `z_y - max_{j != y} z_j` with model queries only (no gradients). Linf: starts from vertical
 * stripes of +-eps and sets a random square (per channel one random sign) to `x +- eps`; L2:
 * starts from a grid of pseudo-Gaussian tiles and moves perturbation mass between two random
 * squares. The square side follows {@link squareFraction} (`p_init = 0.8`, halved on a
 * schedule). A candidate is kept if it lowers the margin or misclassifies; examples stop once
 * misclassified. Later restarts attack only examples not yet fooled.
 *
 * Defaults: Linf, 5000 queries (`queries`, or `steps`), 1 restart, seed 0. Examples the model
 * already misclassifies are returned unchanged; robust ones as their lowest-margin point.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { square } from "./square.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([16, 3], 0, 1, "float32", 1);
 * const model = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [x.shape[0], 16]), w) as tf.Tensor2D;
 * const x = tf.fill([2, 4, 4, 1], 0.5) as tf.Tensor4D;
 * const xAdv = square(model, x, tf.tensor1d([0, 1], "int32"), { eps: 0.05, queries: 100 });
 * ```
 */
export function square(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  opts: SquareOptions,
): tf.Tensor4D {
  const { cleanLogits, labels } = validateAttack(model, x, y, opts);
  const predT = tf.argMax(cleanLogits, 1);
  const pred = predT.dataSync();
  tf.dispose([predT, cleanLogits]);
  const queries = opts.queries ?? opts.steps ?? 5000;
  const pInit = opts.pInit ?? 0.8;
  if (!Number.isInteger(queries) || queries < 1) {
    throw new Error(`queries must be an integer >= 1; got ${queries}`);
  }
  if (!(pInit > 0 && pInit <= 1)) throw new Error(`pInit must be in (0, 1]; got ${pInit}`);
  const norm = opts.norm ?? "Linf";
  const restarts = opts.restarts ?? 1;
  const seed = opts.seed ?? 0;
  const [batch, h, w, c] = x.shape;
  const g: Geometry = { h, w, c, d: h * w * c };
  const data = x.dataSync() as Float32Array;
  const out = Float32Array.from(data);
  // Already misclassified points count as fooled and stay as they are.
  const fooled = Uint8Array.from(labels, (l, i) => (pred[i] !== l ? 1 : 0));
  if (opts.eps > 0) {
    for (let r = 0; r < restarts; r++) {
      const todo: number[] = [];
      for (let i = 0; i < batch; i++) if (!fooled[i]) todo.push(i);
      if (todo.length === 0) break;
      const sub = new Float32Array(todo.length * g.d);
      todo.forEach((i, k) => sub.set(data.subarray(i * g.d, (i + 1) * g.d), k * g.d));
      const run = squareRun(
        model,
        sub,
        todo.length,
        g,
        Int32Array.from(todo, (i) => labels[i]),
        opts.eps,
        norm,
        queries,
        pInit,
        deriveSeed(seed, `square-restart-${r}`),
      );
      todo.forEach((i, k) => {
        // The first restart's point is kept for robust examples; later restarts replace only on success.
        if (r === 0 || run.fooled[k]) out.set(run.best.subarray(k * g.d, (k + 1) * g.d), i * g.d);
        fooled[i] = run.fooled[k];
      });
    }
  }
  return tf.tensor4d(out, x.shape);
}
