/**
 * Auto-PGD (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble
 * of diverse parameter-free attacks"): APGD-CE, APGD-DLR and the targeted APGD-T.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Classifier } from "../models/types.ts";
import { deriveSeed } from "../util/rng.ts";
import {
  ascentDirection,
  clipToBounds,
  linfBounds,
  perExample,
  projectToBall,
  randomInBall,
} from "./geometry.ts";
import {
  dlrLoss,
  misclassified,
  oneHotRows,
  perExampleCrossEntropy,
  targetedDlrLoss,
} from "./losses.ts";
import { gatherRows, maskIndices, scatterRows, selectRows } from "./rows.ts";
import { type AttackOptions, type Norm, validateAttack } from "./validate.ts";

/** Options of {@link apgd}. */
export interface ApgdOptions extends AttackOptions {
  /** The loss to maximise: cross-entropy ("ce", default) or the DLR loss ("dlr", >= 3 classes). */
  loss?: "ce" | "dlr";
  /** Step-size halving threshold on the fraction of successful steps (default 0.75). */
  rho?: number;
  /** Momentum alpha of the update (default 0.75). */
  momentum?: number;
}

/** Options of {@link apgdTargeted}. */
export interface ApgdTargetedOptions extends AttackOptions {
  /** Number of target classes: the top ones other than the true class (default 9). */
  targets?: number;
  /** Step-size halving threshold (default 0.75). */
  rho?: number;
  /** Momentum alpha (default 0.75). */
  momentum?: number;
}

/** APGD's options with defaults filled in. */
interface ResolvedApgd {
  eps: number;
  norm: Norm;
  steps: number;
  stepSize: number;
  randomStart: boolean;
  restarts: number;
  seed: number;
  rho: number;
  momentum: number;
}

function resolveApgd(opts: AttackOptions & { rho?: number; momentum?: number }): ResolvedApgd {
  const rho = opts.rho ?? 0.75;
  const momentum = opts.momentum ?? 0.75;
  if (!(rho > 0 && rho <= 1)) throw new Error(`rho must be in (0, 1]; got ${rho}`);
  if (!(momentum >= 0 && momentum <= 1)) {
    throw new Error(`momentum must be in [0, 1]; got ${momentum}`);
  }
  return {
    eps: opts.eps,
    norm: opts.norm ?? "Linf",
    steps: opts.steps ?? 100,
    stepSize: opts.stepSize ?? 2 * opts.eps,
    randomStart: opts.randomStart ?? true,
    restarts: opts.restarts ?? 1,
    seed: opts.seed ?? 0,
    rho,
    momentum,
  };
}

/**
 * The iterations after which APGD checks whether to halve its step size, as in the paper:
 * `w_j = ceil(p_j * steps)` with `p_0 = 0`, `p_1 = 0.22` and
 * `p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)`, for every `p_j <= 1` (duplicates dropped).
 *
 * @example
 * ```ts
 * import { apgdCheckpoints } from "./apgd.ts";
 * apgdCheckpoints(100); // [22, 41, 57, 70, 80, 87, 93, 99]
 * ```
 */
export function apgdCheckpoints(steps: number): number[] {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new Error(`steps must be an integer >= 1; got ${steps}`);
  }
  // In hundredths, so that 0.22 + 0.19 is exactly 0.41.
  let prev = 0;
  let p = 22;
  const out: number[] = [];
  while (p <= 100) {
    const w = Math.ceil(p * steps / 100);
    if (w >= 1 && w <= steps && w !== out[out.length - 1]) out.push(w);
    const next = p + Math.max(p - prev - 3, 6);
    prev = p;
    p = next;
  }
  return out;
}

/** Everything APGD carries from one iteration to the next (all per example). */
type ApgdState = {
  /** Current iterate and its gradient. */
  xa: tf.Tensor4D;
  grad: tf.Tensor4D;
  /** Previous iterate (for the momentum term). */
  xOld: tf.Tensor4D;
  /** Loss at the current iterate. */
  loss: tf.Tensor1D;
  /** Highest-loss point, its gradient and loss. */
  xBest: tf.Tensor4D;
  gradBest: tf.Tensor4D;
  lossBest: tf.Tensor1D;
  /** Step size per example. */
  eta: tf.Tensor1D;
  /** Steps since the last checkpoint that increased the loss. */
  successes: tf.Tensor1D;
  /** Best loss at the last checkpoint, and whether the step size was halved there. */
  lossBestAtCheck: tf.Tensor1D;
  reducedAtCheck: tf.Tensor1D;
  /** Misclassification found (bool) and the first misclassifying point. */
  fooled: tf.Tensor1D;
  adv: tf.Tensor4D;
};

function disposeReplaced(old: Record<string, tf.Tensor>, next: Record<string, tf.Tensor>): void {
  const keep = new Set(Object.values(next));
  for (const t of Object.values(old)) if (!keep.has(t)) t.dispose();
}

/** Result of one APGD run on a batch. */
interface ApgdRunResult {
  /** Per example: the first misclassifying point if found, else the highest-loss point. */
  xAdv: tf.Tensor4D;
  fooled: tf.Tensor1D;
  lossBest: tf.Tensor1D;
}

/**
 * One APGD run on a batch from a random start. `lossOf(logits)` is the per-example loss to
 * maximise. One forward+backward per iteration plus one at the start; no data reads.
 */
function apgdRun(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  classes: number,
  lossOf: (logits: tf.Tensor2D) => tf.Tensor1D,
  o: ResolvedApgd,
  seed: number,
): ApgdRunResult {
  const batch = x.shape[0];
  const objective = (xa: tf.Tensor) => {
    const logits = model(xa as tf.Tensor4D);
    return tf.concat([logits, tf.reshape(lossOf(logits), [batch, 1])], 1);
  };
  const valueAndGrad = tf.valueAndGrads(objective);
  const dy = tf.tidy(() => tf.concat([tf.zeros([batch, classes]), tf.ones([batch, 1])], 1));
  const evaluate = (xa: tf.Tensor4D) => {
    const { value, grads } = valueAndGrad([xa], dy);
    const logits = tf.slice(value, [0, 0], [batch, classes]) as tf.Tensor2D;
    const loss = tf.reshape(tf.slice(value, [0, classes], [batch, 1]), [batch]) as tf.Tensor1D;
    return { loss, grad: grads[0] as tf.Tensor4D, mis: misclassified(logits, y) };
  };

  let s: ApgdState = tf.tidy(() => {
    const x0 = o.randomStart ? randomInBall(x, o.eps, o.norm, seed) : tf.clone(x);
    const { loss, grad, mis } = evaluate(x0);
    return {
      xa: x0,
      grad,
      xOld: x0,
      loss,
      xBest: x0,
      gradBest: grad,
      lossBest: loss,
      eta: tf.fill([batch], o.stepSize) as tf.Tensor1D,
      successes: tf.zeros([batch]) as tf.Tensor1D,
      lossBestAtCheck: loss,
      // As in the reference implementation, the first checkpoint counts as "just reduced", so
      // only the oscillation condition can halve the step there.
      reducedAtCheck: tf.ones([batch]) as tf.Tensor1D,
      fooled: mis,
      adv: x0,
    };
  });

  // Linf: the ball-and-box bounds once, then two ops per projection.
  const bounds = o.norm === "Linf" ? linfBounds(x, o.eps) : null;
  const project = (p: tf.Tensor4D) =>
    bounds ? clipToBounds(p, bounds) : projectToBall(p, x, o.eps, o.norm);
  const checkpoints = apgdCheckpoints(o.steps);
  let nextCheck = 0;
  let lastCheckAt = 0;
  for (let i = 0; i < o.steps; i++) {
    const isCheckpoint = checkpoints[nextCheck] === i + 1;
    const prev = s;
    const next: ApgdState = tf.tidy(() => {
      const a = i > 0 ? o.momentum : 1;
      const eta = perExample(prev.eta);
      const z = project(
        tf.add(prev.xa, tf.mul(eta, ascentDirection(prev.grad, o.norm))) as tf.Tensor4D,
      );
      // x_{k+1} = P(x_k + a (z_{k+1} - x_k) + (1 - a)(x_k - x_{k-1}))
      const moved = tf.add(
        tf.add(prev.xa, tf.mul(a, tf.sub(z, prev.xa))),
        tf.mul(1 - a, tf.sub(prev.xa, prev.xOld)),
      ) as tf.Tensor4D;
      const xa = project(moved);
      const { loss, grad, mis } = evaluate(xa);

      const newlyFooled = tf.logicalAnd(mis, tf.logicalNot(prev.fooled)) as tf.Tensor1D;
      const adv = selectRows(newlyFooled, xa, prev.adv);
      const fooled = tf.logicalOr(prev.fooled, mis) as tf.Tensor1D;
      const successes = tf.add(
        prev.successes,
        tf.cast(tf.greater(loss, prev.loss), "float32"),
      ) as tf.Tensor1D;
      const improved = tf.greater(loss, prev.lossBest) as tf.Tensor1D;
      const xBest = selectRows(improved, xa, prev.xBest);
      const gradBest = selectRows(improved, grad, prev.gradBest);
      const lossBest = tf.where(improved, loss, prev.lossBest) as tf.Tensor1D;
      let state: ApgdState = {
        xa,
        grad,
        xOld: prev.xa,
        loss,
        xBest,
        gradBest,
        lossBest,
        eta: prev.eta,
        successes,
        lossBestAtCheck: prev.lossBestAtCheck,
        reducedAtCheck: prev.reducedAtCheck,
        fooled,
        adv,
      };
      if (isCheckpoint) {
        const h = i + 1 - lastCheckAt;
        // Condition 1: fewer than rho * h of the steps since the last checkpoint increased the loss.
        const oscillating = tf.less(successes, o.rho * h);
        // Condition 2: step size not halved at the last checkpoint and best loss not improved since.
        const stalled = tf.logicalAnd(
          tf.equal(prev.reducedAtCheck, 0),
          tf.greaterEqual(prev.lossBestAtCheck, lossBest),
        );
        const halve = tf.logicalOr(oscillating, stalled) as tf.Tensor1D;
        state = {
          ...state,
          // Halving restarts from the best point, with its gradient.
          xa: selectRows(halve, xBest, xa),
          grad: selectRows(halve, gradBest, grad),
          loss: tf.where(halve, lossBest, loss) as tf.Tensor1D,
          eta: tf.where(halve, tf.mul(prev.eta, 0.5), prev.eta) as tf.Tensor1D,
          successes: tf.zerosLike(successes) as tf.Tensor1D,
          lossBestAtCheck: lossBest,
          reducedAtCheck: tf.cast(halve, "float32") as tf.Tensor1D,
        };
      }
      return state;
    });
    disposeReplaced(
      prev as unknown as Record<string, tf.Tensor>,
      next as unknown as Record<string, tf.Tensor>,
    );
    s = next;
    if (isCheckpoint) {
      lastCheckAt = i + 1;
      nextCheck++;
    }
  }
  const result = tf.tidy(() => ({
    xAdv: selectRows(s.fooled, s.adv, s.xBest),
    fooled: tf.clone(s.fooled) as tf.Tensor1D,
    lossBest: tf.clone(s.lossBest) as tf.Tensor1D,
  }));
  tf.dispose([...new Set(Object.values(s))]);
  dy.dispose();
  if (bounds) tf.dispose([bounds.lo, bounds.hi]);
  return result;
}

/**
 * Runs `run` on the examples not yet fooled, `restarts` times, merging into `(xAdv, fooled)`:
 * a fooled example keeps its adversarial point; a robust one keeps the highest-loss point.
 */
function restartLoop(
  x: tf.Tensor4D,
  fooled0: tf.Tensor1D,
  restarts: number,
  run: (indices: number[], restart: number) => ApgdRunResult,
): { xAdv: tf.Tensor4D; fooled: tf.Tensor1D } {
  let xAdv = tf.clone(x);
  let fooled = tf.clone(fooled0);
  let lossBest = tf.fill([x.shape[0]], -Infinity) as tf.Tensor1D;
  for (let r = 0; r < restarts; r++) {
    const idx = maskIndices(fooled, false);
    if (idx.length === 0) break;
    const out = run(idx, r);
    const merged = tf.tidy(() => {
      const prevLoss = gatherRows(lossBest, idx);
      const prevAdv = gatherRows(xAdv, idx);
      // Keep the new point if it fools the model or beats the previous restarts' loss.
      const take = tf.logicalOr(out.fooled, tf.greater(out.lossBest, prevLoss)) as tf.Tensor1D;
      const rows = selectRows(take, out.xAdv, prevAdv);
      return {
        xAdv: scatterRows(xAdv, idx, rows),
        fooled: scatterRows(fooled, idx, out.fooled),
        lossBest: scatterRows(lossBest, idx, tf.where(take, out.lossBest, prevLoss)),
      };
    });
    tf.dispose([xAdv, fooled, lossBest, out.xAdv, out.fooled, out.lossBest]);
    ({ xAdv, fooled, lossBest } = merged);
  }
  lossBest.dispose();
  return { xAdv, fooled };
}

/**
 * APGD (Croce & Hein 2020) with the cross-entropy ("ce", default) or DLR ("dlr") loss, Linf or
 * L2. Gradient ascent with momentum 0.75 (`x_{k+1} = P(x_k + 0.75 (z_{k+1} - x_k) + 0.25
 * (x_k - x_{k-1}))`, `z_{k+1} = P(x_k + eta_k dir(grad))`); the step size starts at `2 * eps`
 * and is halved at the checkpoints of {@link apgdCheckpoints} where (1) fewer than `rho = 0.75`
 * of the steps since the last checkpoint increased the loss, or (2) the step size was not halved
 * at the last checkpoint and the best loss has not improved since; halving restarts from the
 * best point. Restarts after the first attack only examples not yet fooled.
 *
 * Defaults: Linf, 100 steps, 1 restart, random start, seed 0. Returns, per example, the first
 * misclassifying point found, else the highest-loss point (clean points the model already
 * misclassifies are returned unchanged). Pass an eval-mode classifier.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { apgd } from "./apgd.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([16, 4], 0, 1, "float32", 1);
 * const model = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [x.shape[0], 16]), w) as tf.Tensor2D;
 * const x = tf.fill([2, 4, 4, 1], 0.5) as tf.Tensor4D;
 * const xAdv = apgd(model, x, tf.tensor1d([0, 1], "int32"), { eps: 0.03, steps: 20, loss: "dlr" });
 * ```
 */
export function apgd(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  opts: ApgdOptions,
): tf.Tensor4D {
  const lossName = opts.loss ?? "ce";
  if (lossName !== "ce" && lossName !== "dlr") {
    throw new Error(`unknown APGD loss '${lossName}': allowed are 'ce', 'dlr'`);
  }
  const { cleanLogits, numClasses } = validateAttack(model, x, y, opts);
  const o = resolveApgd(opts);
  if (lossName === "dlr" && numClasses < 3) {
    cleanLogits.dispose();
    throw new Error(`APGD-DLR needs >= 3 classes; the model has ${numClasses}`);
  }
  const yInt = tf.cast(y, "int32") as tf.Tensor1D;
  const fooled0 = misclassified(cleanLogits, yInt);
  cleanLogits.dispose();
  try {
    if (o.eps === 0) return tf.clone(x);
    const { xAdv, fooled } = restartLoop(x, fooled0, o.restarts, (idx, r) => {
      const xs = gatherRows(x, idx);
      const ys = gatherRows(yInt, idx);
      const oneHot = oneHotRows(ys, numClasses);
      const lossOf = (logits: tf.Tensor2D) =>
        lossName === "ce" ? perExampleCrossEntropy(logits, oneHot) : dlrLoss(logits, oneHot);
      try {
        return apgdRun(
          model,
          xs,
          ys,
          numClasses,
          lossOf,
          o,
          deriveSeed(o.seed, `apgd-${lossName}-restart-${r}`),
        );
      } finally {
        tf.dispose([xs, ys, oneHot]);
      }
    });
    fooled.dispose();
    return xAdv;
  } finally {
    tf.dispose([yInt, fooled0]);
  }
}

/**
 * APGD-CE: {@link apgd} with the cross-entropy loss.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { apgdCe } from "./apgd.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const model = (x: tf.Tensor4D) => tf.reshape(x, [x.shape[0], 2]) as tf.Tensor2D;
 * const xAdv = apgdCe(model, tf.fill([1, 1, 1, 2], 0.5) as tf.Tensor4D, tf.tensor1d([0], "int32"), { eps: 0.1, steps: 10 });
 * ```
 */
export function apgdCe(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  opts: AttackOptions,
): tf.Tensor4D {
  return apgd(model, x, y, { ...opts, loss: "ce" });
}

/**
 * APGD-DLR: {@link apgd} with the DLR loss (needs >= 3 classes).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { apgdDlr } from "./apgd.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const model = (x: tf.Tensor4D) => tf.reshape(x, [x.shape[0], 3]) as tf.Tensor2D;
 * const xAdv = apgdDlr(model, tf.fill([1, 1, 1, 3], 0.5) as tf.Tensor4D, tf.tensor1d([0], "int32"), { eps: 0.1, steps: 10 });
 * ```
 */
export function apgdDlr(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  opts: AttackOptions,
): tf.Tensor4D {
  return apgd(model, x, y, { ...opts, loss: "dlr" });
}

/**
 * The classes APGD-T and FAB-T target for each example: the `k` classes with the largest clean
 * logits other than the top one (for a correctly classified example: the top-k classes other
 * than the true one). Returns `k` arrays of class ids (one per rank), each [batch].
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { targetClassesByRank } from "./apgd.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * targetClassesByRank(tf.tensor2d([[0.1, 3, 2, 1]]), 2); // [Int32Array [2], Int32Array [3]]
 * ```
 */
export function targetClassesByRank(cleanLogits: tf.Tensor2D, k: number): Int32Array[] {
  const [batch, classes] = cleanLogits.shape;
  if (!Number.isInteger(k) || k < 1 || k > classes - 1) {
    throw new Error(`number of target classes must be an integer in 1..${classes - 1}; got ${k}`);
  }
  const top = tf.topk(cleanLogits, k + 1);
  const ids = top.indices.dataSync() as Int32Array;
  tf.dispose([top.values, top.indices]);
  const out: Int32Array[] = [];
  for (let r = 1; r <= k; r++) {
    const t = new Int32Array(batch);
    for (let i = 0; i < batch; i++) t[i] = ids[i * (k + 1) + r];
    out.push(t);
  }
  return out;
}

/**
 * APGD-T (Croce & Hein 2020): APGD on the targeted DLR loss
 * `-(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2)`, one run per target class `t` among the
 * `targets` (default 9) classes with the largest clean logits other than the true one, each run
 * only on the examples no earlier run fooled. Needs >= 4 classes (>= 3: with 3 classes the
 * denominator falls back to `z_pi1 - z_pi3`). Other defaults as {@link apgd} (100 steps, 1
 * restart per target).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { apgdTargeted } from "./apgd.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([16, 5], 0, 1, "float32", 1);
 * const model = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [x.shape[0], 16]), w) as tf.Tensor2D;
 * const x = tf.fill([2, 4, 4, 1], 0.5) as tf.Tensor4D;
 * const xAdv = apgdTargeted(model, x, tf.tensor1d([0, 1], "int32"), { eps: 0.03, steps: 20, targets: 3 });
 * ```
 */
export function apgdTargeted(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  opts: ApgdTargetedOptions,
): tf.Tensor4D {
  const { cleanLogits, numClasses } = validateAttack(model, x, y, opts);
  const o = resolveApgd(opts);
  const requested = opts.targets ?? 9;
  if (!Number.isInteger(requested) || requested < 1) {
    cleanLogits.dispose();
    throw new Error(`targets must be an integer >= 1; got ${requested}`);
  }
  if (numClasses < 3) {
    cleanLogits.dispose();
    throw new Error(`APGD-T needs >= 3 classes; the model has ${numClasses}`);
  }
  const yInt = tf.cast(y, "int32") as tf.Tensor1D;
  let fooled = misclassified(cleanLogits, yInt);
  const targetsByRank = targetClassesByRank(cleanLogits, Math.min(requested, numClasses - 1));
  cleanLogits.dispose();
  let xAdv = tf.clone(x);
  try {
    if (o.eps === 0) return tf.clone(x);
    for (let t = 0; t < targetsByRank.length; t++) {
      const run = restartLoop(x, fooled, o.restarts, (idx, r) => {
        const xs = gatherRows(x, idx);
        const ys = gatherRows(yInt, idx);
        const oneHot = oneHotRows(ys, numClasses);
        const targetIds = tf.tensor1d(idx.map((i) => targetsByRank[t][i]), "int32");
        const target = oneHotRows(targetIds, numClasses);
        targetIds.dispose();
        const lossOf = (logits: tf.Tensor2D) =>
          numClasses >= 4 ? targetedDlrLoss(logits, oneHot, target) : tf.tidy(() => {
            // 3 classes: no 4th logit; -(z_y - z_t) / (z_pi1 - z_pi3) with z_pi3 the minimum.
            const num = tf.sub(
              tf.sum(tf.mul(logits, oneHot), 1),
              tf.sum(tf.mul(logits, target), 1),
            );
            const den = tf.add(tf.sub(tf.max(logits, 1), tf.min(logits, 1)), 1e-12);
            return tf.neg(tf.div(num, den)) as tf.Tensor1D;
          });
        try {
          return apgdRun(
            model,
            xs,
            ys,
            numClasses,
            lossOf,
            o,
            deriveSeed(o.seed, `apgd-t-${t}-restart-${r}`),
          );
        } finally {
          tf.dispose([xs, ys, oneHot, target]);
        }
      });
      // Only newly fooled examples take this target's point; the others keep earlier results.
      const merged = tf.tidy(() => {
        const newly = tf.logicalAnd(run.fooled, tf.logicalNot(fooled));
        return {
          xAdv: selectRows(newly as tf.Tensor1D, run.xAdv, xAdv),
          fooled: tf.logicalOr(fooled, run.fooled) as tf.Tensor1D,
        };
      });
      tf.dispose([run.xAdv, run.fooled, xAdv, fooled]);
      ({ xAdv, fooled } = merged);
    }
    return tf.clone(xAdv);
  } finally {
    tf.dispose([yInt, fooled, xAdv]);
  }
}
