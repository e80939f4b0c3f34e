/**
 * FAB-T, the targeted fast adaptive boundary attack (Croce & Hein 2020, "Minimally distorted
 * adversarial examples with a fast adaptive boundary attack"), Linf and L2.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Classifier } from "../models/types.ts";
import { deriveSeed, seededRandom } from "../util/rng.ts";
import { targetClassesByRank } from "./apgd.ts";
import { projectOntoHyperplaneInBox } from "./hyperplane.ts";
import { type AttackOptions, type Norm, validateAttack } from "./validate.ts";

/** Options of {@link fabTargeted} and {@link fabTargetedMinimal}. */
export interface FabOptions extends AttackOptions {
  /** Number of target classes: the top ones other than the true class (default 9). */
  targets?: number;
  /** Upper bound of the bias towards the clean input, alpha_max (default 0.1). */
  alphaMax?: number;
  /** Extrapolation (overshoot) factor eta of the projection step (default 1.05). */
  eta?: number;
  /** Backward step beta towards the clean input after a success (default 0.9). */
  beta?: number;
}

interface ResolvedFab {
  eps: number;
  norm: Norm;
  steps: number;
  restarts: number;
  randomStart: boolean;
  seed: number;
  targets: number;
  alphaMax: number;
  eta: number;
  beta: number;
}

function resolveFab(opts: FabOptions): ResolvedFab {
  const o = {
    eps: opts.eps,
    norm: opts.norm ?? "Linf",
    steps: opts.steps ?? 100,
    restarts: opts.restarts ?? 1,
    randomStart: opts.randomStart ?? false,
    seed: opts.seed ?? 0,
    targets: opts.targets ?? 9,
    alphaMax: opts.alphaMax ?? 0.1,
    eta: opts.eta ?? 1.05,
    beta: opts.beta ?? 0.9,
  };
  if (!Number.isInteger(o.targets) || o.targets < 1) {
    throw new Error(`targets must be an integer >= 1; got ${o.targets}`);
  }
  if (!(o.alphaMax >= 0 && o.alphaMax <= 1)) {
    throw new Error(`alphaMax must be in [0, 1]; got ${o.alphaMax}`);
  }
  if (!(o.eta >= 1 && Number.isFinite(o.eta))) {
    throw new Error(`eta must be a finite number >= 1; got ${o.eta}`);
  }
  if (!(o.beta > 0 && o.beta <= 1)) throw new Error(`beta must be in (0, 1]; got ${o.beta}`);
  return o;
}

function vectorNorm(
  v: ArrayLike<number>,
  from: number,
  to: number,
  norm: Norm,
  ref?: ArrayLike<number>,
): number {
  let acc = 0;
  for (let i = from; i < to; i++) {
    const d = ref ? v[i] - ref[i] : v[i];
    if (norm === "Linf") acc = Math.max(acc, Math.abs(d));
    else acc += d * d;
  }
  return norm === "Linf" ? acc : Math.sqrt(acc);
}

/** A standard normal draw from a uniform generator (Box-Muller). */
function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-300);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Result of one FAB-T run over a set of examples (flattened, float32 data). */
interface FabRun {
  /** Best adversarial point per example (the clean point where none was found). */
  adv: Float32Array;
  /** Its distance to the clean point (Infinity where none was found). */
  dist: Float64Array;
}

/**
 * One FAB run towards `target` on the examples `clean` ([n, ...shape] flattened). Each iteration:
 * linearise `g = f_t - f_y` at the iterate (one forward+backward), project both the iterate and
 * the clean point onto the linearised boundary inside the box, step to
 * `(1 - alpha)(x + eta d1) + alpha (x0 + eta d2)` with `alpha = min(|d1| / (|d1| + |d2|), alpha_max)`,
 * and after a success (one forward) record it if closer and step back `x <- x0 + beta (x - x0)`.
 */
function fabRun(
  model: Classifier,
  clean: Float32Array,
  shape: [number, number, number, number],
  labels: Int32Array,
  target: Int32Array,
  classes: number,
  o: ResolvedFab,
  start: Float32Array,
): FabRun {
  const [n] = shape;
  const d = clean.length / n;
  const adv = Float32Array.from(clean);
  const dist = new Float64Array(n).fill(Infinity);
  const x1 = Float32Array.from(start);
  const direction = tf.tidy(() =>
    tf.sub(
      tf.oneHot(tf.tensor1d(target, "int32"), classes),
      tf.oneHot(tf.tensor1d(labels, "int32"), classes),
    )
  );
  // g(x) = f_t(x) - f_y(x) per example, and its input gradient, in one pass.
  const gAndGrad = tf.valueAndGrads((xa: tf.Tensor) =>
    tf.sum(tf.mul(model(xa as tf.Tensor4D), tf.cast(direction, "float32")), 1)
  );
  try {
    for (let it = 0; it < o.steps; it++) {
      const [gVals, grads] = tf.tidy(() => {
        const { value, grads } = gAndGrad([tf.tensor4d(x1, shape)]);
        return [value, grads[0]];
      });
      const g = gVals.dataSync();
      const w = grads.dataSync();
      tf.dispose([gVals, grads]);
      for (let e = 0; e < n; e++) {
        const off = e * d;
        const we = w.subarray(off, off + d);
        const pe = x1.subarray(off, off + d);
        const ce = clean.subarray(off, off + d);
        // Linearised boundary: g(x1) + w . (z - x1) = 0.
        let wDiff = 0;
        for (let i = 0; i < d; i++) wDiff += we[i] * (ce[i] - pe[i]);
        const d1 = projectOntoHyperplaneInBox(pe, we, -g[e], o.norm).step;
        const d2 = projectOntoHyperplaneInBox(ce, we, -(g[e] + wDiff), o.norm).step;
        const a1 = Math.max(vectorNorm(d1, 0, d, o.norm), 1e-8);
        const a2 = Math.max(vectorNorm(d2, 0, d, o.norm), 1e-8);
        const alpha = Math.min(Math.max(a1 / (a1 + a2), 0), o.alphaMax);
        for (let i = 0; i < d; i++) {
          const v = (pe[i] + o.eta * d1[i]) * (1 - alpha) + (ce[i] + o.eta * d2[i]) * alpha;
          pe[i] = Math.min(Math.max(v, 0), 1);
        }
      }
      const predT = tf.tidy(() => tf.argMax(model(tf.tensor4d(x1, shape)), 1));
      const pred = predT.dataSync();
      predT.dispose();
      for (let e = 0; e < n; e++) {
        if (pred[e] === labels[e]) continue;
        const off = e * d;
        const r = vectorNorm(x1, off, off + d, o.norm, clean);
        if (r < dist[e]) {
          dist[e] = r;
          adv.set(x1.subarray(off, off + d), off);
        }
        for (let i = off; i < off + d; i++) x1[i] = clean[i] + o.beta * (x1[i] - clean[i]);
      }
    }
  } finally {
    direction.dispose();
  }
  return { adv, dist };
}

/** A start point: the clean point, or a random point at radius `min(best, eps) / 2` (FAB's restarts). */
function startPoint(
  clean: Float32Array,
  n: number,
  best: Float64Array,
  o: ResolvedFab,
  random: boolean,
  seed: number,
): Float32Array {
  const start = Float32Array.from(clean);
  if (!random) return start;
  const rand = seededRandom(seed);
  const d = clean.length / n;
  const t = new Float64Array(d);
  for (let e = 0; e < n; e++) {
    for (let i = 0; i < d; i++) t[i] = o.norm === "Linf" ? 2 * rand() - 1 : gaussian(rand);
    const tn = Math.max(vectorNorm(t, 0, d, o.norm), 1e-12);
    const radius = 0.5 * Math.min(best[e], o.eps);
    const off = e * d;
    for (let i = 0; i < d; i++) {
      start[off + i] = Math.min(Math.max(clean[off + i] + radius * t[i] / tn, 0), 1);
    }
  }
  return start;
}

/** Shared driver of the two public FAB-T variants. */
function fabDriver(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  opts: FabOptions,
  stopAtEps: boolean,
): { xAdv: tf.Tensor4D; distances: Float64Array } {
  const { cleanLogits, numClasses, labels } = validateAttack(model, x, y, opts);
  let o: ResolvedFab;
  let targetsByRank: Int32Array[];
  let correct: Uint8Array;
  try {
    o = resolveFab(opts);
    targetsByRank = targetClassesByRank(cleanLogits, Math.min(o.targets, numClasses - 1));
    const predT = tf.argMax(cleanLogits, 1);
    const pred = predT.dataSync();
    predT.dispose();
    correct = Uint8Array.from(labels, (l, i) => (pred[i] === l ? 1 : 0));
  } finally {
    cleanLogits.dispose();
  }
  const batch = x.shape[0];
  const d = x.size / Math.max(batch, 1);
  const data = x.dataSync() as Float32Array;
  const out = Float32Array.from(data);
  // 0 for points the model already misclassifies, Infinity until an adversarial point is found.
  const distances = Float64Array.from(correct, (c) => (c ? Infinity : 0));
  for (let t = 0; t < targetsByRank.length; t++) {
    for (let r = 0; r < o.restarts; r++) {
      const todo: number[] = [];
      for (let i = 0; i < batch; i++) {
        if (!correct[i]) continue;
        if (stopAtEps && distances[i] <= o.eps) continue;
        todo.push(i);
      }
      if (todo.length === 0 || o.eps === 0 && stopAtEps) break;
      const n = todo.length;
      const clean = new Float32Array(n * d);
      const best = new Float64Array(n);
      todo.forEach((i, k) => {
        clean.set(data.subarray(i * d, (i + 1) * d), k * d);
        best[k] = distances[i];
      });
      const start = startPoint(
        clean,
        n,
        best,
        o,
        r > 0 || o.randomStart,
        deriveSeed(o.seed, `fab-${t}-${r}`),
      );
      const run = fabRun(
        model,
        clean,
        [n, x.shape[1], x.shape[2], x.shape[3]],
        Int32Array.from(todo, (i) => labels[i]),
        Int32Array.from(todo, (i) => targetsByRank[t][i]),
        numClasses,
        o,
        start,
      );
      todo.forEach((i, k) => {
        const found = run.dist[k];
        // FAB-T for a fixed eps only counts points within eps.
        if (stopAtEps && !(found <= o.eps)) return;
        if (found < distances[i]) {
          distances[i] = found;
          out.set(run.adv.subarray(k * d, (k + 1) * d), i * d);
        }
      });
    }
  }
  return { xAdv: tf.tensor4d(out, x.shape), distances };
}

/**
 * FAB-T (Croce & Hein 2020), the minimal-distortion variant: for every correctly classified
 * example and each of the `targets` (default 9) classes with the largest clean logits other
 * than the true one, FAB searches the smallest adversarial perturbation towards that class;
 * returns the closest adversarial point over all targets and restarts, with its distance
 * (`Infinity` where none was found, 0 where the clean point is already misclassified). `eps` only
 * sets the radius of random restarts. Defaults: 100 steps, 1 restart (from the clean point;
 * later restarts start at a random point of radius `min(best, eps) / 2`), alpha_max 0.1,
 * eta 1.05, beta 0.9.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { fabTargetedMinimal } from "./fab.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([16, 4], 0, 1, "float32", 1);
 * const model = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [x.shape[0], 16]), w) as tf.Tensor2D;
 * const x = tf.fill([2, 4, 4, 1], 0.5) as tf.Tensor4D;
 * const { xAdv, distances } = fabTargetedMinimal(model, x, tf.tensor1d([0, 1], "int32"), { eps: 0.1, steps: 20 });
 * ```
 */
export function fabTargetedMinimal(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  opts: FabOptions,
): { xAdv: tf.Tensor4D; distances: Float64Array } {
  return fabDriver(model, x, y, opts, false);
}

/**
 * FAB-T for a fixed radius, as AutoAttack runs it: target classes in turn (default the top 9
 * other than the true class), each only on the examples not yet fooled within `eps`; a result
 * counts only if its distance is <= `eps`. Returns adversarial points in the eps-ball where found,
 * the clean point elsewhere. Defaults as {@link fabTargetedMinimal}. FAB reads data back every
 * iteration (its projection runs on the CPU), so it is slower per step than PGD.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { fabTargeted } from "./fab.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([16, 4], 0, 1, "float32", 1);
 * const model = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [x.shape[0], 16]), w) as tf.Tensor2D;
 * const x = tf.fill([2, 4, 4, 1], 0.5) as tf.Tensor4D;
 * const xAdv = fabTargeted(model, x, tf.tensor1d([0, 1], "int32"), { eps: 0.05, steps: 20, targets: 3 });
 * ```
 */
export function fabTargeted(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  opts: FabOptions,
): tf.Tensor4D {
  return fabDriver(model, x, y, opts, true).xAdv;
}
