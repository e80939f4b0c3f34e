/**
 * Projected gradient descent (Madry et al. 2018), Linf and L2.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Classifier } from "../models/types.ts";
import { deriveSeed } from "../util/rng.ts";
import {
  ascentDirection,
  clipToBounds,
  linfBounds,
  projectToBall,
  randomInBall,
} from "./geometry.ts";
import { misclassified, oneHotRows, perExampleCrossEntropy } from "./losses.ts";
import { gatherRows, maskIndices, scatterRows, selectRows } from "./rows.ts";
import { type AttackOptions, type Norm, validateAttack } from "./validate.ts";

/** Re-exported so that importers of PGD alone get the shared option type. */
export type { AttackOptions } from "./validate.ts";

/** Options of {@link pgd}. */
export interface PgdOptions extends AttackOptions {
  /**
   * The loss to MAXIMISE, from logits and int labels: a scalar or a per-example vector [batch].
   * Default: per-example softmax cross-entropy. With a per-example loss each example keeps its
   * own highest-loss iterate; with a scalar loss the per-example bookkeeping uses cross-entropy.
   */
  loss?: (logits: tf.Tensor2D, y: tf.Tensor1D) => tf.Tensor;
}

/** PGD's options with every default filled in. */
export interface ResolvedPgdOptions {
  eps: number;
  norm: Norm;
  steps: number;
  stepSize: number;
  randomStart: boolean;
  restarts: number;
  seed: number;
}

/**
 * PGD's defaults: Linf, 10 steps, step size `2.5 * eps / steps`, random start, 1 restart, seed 0.
 *
 * @example
 * ```ts
 * import { resolvePgdOptions } from "./pgd.ts";
 * resolvePgdOptions({ eps: 0.1 }).stepSize; // 0.025
 * ```
 */
export function resolvePgdOptions(opts: AttackOptions): ResolvedPgdOptions {
  const steps = opts.steps ?? 10;
  return {
    eps: opts.eps,
    norm: opts.norm ?? "Linf",
    steps,
    stepSize: opts.stepSize ?? 2.5 * opts.eps / steps,
    randomStart: opts.randomStart ?? true,
    restarts: opts.restarts ?? 1,
    seed: opts.seed ?? 0,
  };
}

/** The per-example best found so far. */
type Tracked = {
  /** Best point per example [batch, h, w, c]. */
  best: tf.Tensor4D;
  /** Its loss [batch] (-Infinity before any iterate was evaluated). */
  bestLoss: tf.Tensor1D;
  /** Whether a misclassifying point was found [batch] (bool); then `best` is the first one. */
  fooled: tf.Tensor1D;
};

/** Disposes the tensors of `old` that `next` does not reuse. */
function disposeReplaced(old: Record<string, tf.Tensor>, next: Record<string, tf.Tensor>): void {
  const keep = new Set(Object.values(next));
  for (const t of Object.values(old)) if (!keep.has(t)) t.dispose();
}

/** Folds one evaluated iterate into the tracked best (pure; call inside a tidy). */
function track(s: Tracked, xAt: tf.Tensor4D, loss: tf.Tensor1D, mis: tf.Tensor1D): Tracked {
  // A fooled example keeps its first misclassifying point; the others keep the highest loss.
  const update = tf.logicalAnd(
    tf.logicalNot(s.fooled),
    tf.logicalOr(mis, tf.greater(loss, s.bestLoss)),
  );
  return {
    best: selectRows(update as tf.Tensor1D, xAt, s.best),
    bestLoss: tf.where(update, loss, s.bestLoss) as tf.Tensor1D,
    fooled: tf.logicalOr(s.fooled, mis) as tf.Tensor1D,
  };
}

/** One PGD run from `start` (already in the ball), continuing the tracked state `init`. */
function pgdRun(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  oneHot: tf.Tensor2D,
  loss: PgdOptions["loss"],
  o: ResolvedPgdOptions,
  start: tf.Tensor4D,
  init: Tracked,
): Tracked {
  const [batch, classes] = oneHot.shape;
  // The objective returns [logits | loss] so one forward+backward gives the iterate's logits
  // (for the bookkeeping), its loss and the loss gradient; dy zeroes the logits' columns.
  let scalarLoss = false;
  const objective = (xa: tf.Tensor) => {
    const logits = model(xa as tf.Tensor4D);
    const l = loss ? loss(logits, y) : perExampleCrossEntropy(logits, oneHot);
    if (l.rank === 0) {
      scalarLoss = true;
      return tf.concat([logits, tf.mul(tf.ones([batch, 1]), l)], 1);
    }
    if (l.rank !== 1 || l.shape[0] !== batch) {
      throw new Error(
        `the PGD loss must return a scalar or a per-example [${batch}] vector; got shape [${l.shape}]`,
      );
    }
    return tf.concat([logits, tf.reshape(l, [batch, 1])], 1);
  };
  const valueAndGrad = tf.valueAndGrads(objective);
  // Weight 1 on the loss column: for a scalar loss broadcast over the rows this scales the
  // gradient by `batch`, which neither sign() nor L2 normalisation sees.
  const dy = tf.tidy(() => tf.concat([tf.zeros([batch, classes]), tf.ones([batch, 1])], 1));

  // Linf: the ball-and-box bounds once, then two ops per projection.
  const bounds = o.norm === "Linf" ? linfBounds(x, o.eps) : null;
  const project = (p: tf.Tensor4D) =>
    bounds ? clipToBounds(p, bounds) : projectToBall(p, x, o.eps, o.norm);
  let s: Tracked = init;
  let xa = start;
  const evaluated = (value: tf.Tensor, at: tf.Tensor4D): Tracked => {
    const logits = tf.slice(value, [0, 0], [batch, classes]) as tf.Tensor2D;
    const l = scalarLoss
      ? perExampleCrossEntropy(logits, oneHot)
      : tf.reshape(tf.slice(value, [0, classes], [batch, 1]), [batch]) as tf.Tensor1D;
    return track(s, at, l, misclassified(logits, y));
  };
  for (let step = 0; step < o.steps; step++) {
    const next = tf.tidy(() => {
      const { value, grads } = valueAndGrad([xa], dy);
      const tracked = evaluated(value, xa);
      const moved = tf.add(
        xa,
        tf.mul(o.stepSize, ascentDirection(grads[0] as tf.Tensor4D, o.norm)),
      );
      return { ...tracked, xa: project(moved as tf.Tensor4D) };
    });
    disposeReplaced(
      { ...s, xa } as Record<string, tf.Tensor>,
      next as unknown as Record<string, tf.Tensor>,
    );
    ({ xa } = next);
    s = { best: next.best, bestLoss: next.bestLoss, fooled: next.fooled };
  }
  // The last iterate still needs its loss and prediction.
  const final = tf.tidy(() => {
    const value = objective(xa);
    return evaluated(value, xa);
  });
  disposeReplaced(
    s as unknown as Record<string, tf.Tensor>,
    final as unknown as Record<string, tf.Tensor>,
  );
  xa.dispose();
  dy.dispose();
  if (bounds) tf.dispose([bounds.lo, bounds.hi]);
  return final;
}

/**
 * Projected gradient ascent on the loss (Madry et al. 2018): from a random point of the ball,
 * `steps` steps of `x <- Proj(x + stepSize * dir(grad))` with `dir = sign` (Linf) or
 * `grad / ||grad||_2` (L2), projecting onto the eps-ball and [0, 1]. Per restart and per example
 * it keeps the first misclassifying iterate, else the highest-loss one; restarts after the first
 * run only on the examples not yet fooled. Examples the model already misclassifies stay as
 * they are. One forward+backward per step and no data reads inside a restart.
 *
 * Defaults: Linf, 10 steps, step size `2.5 * eps / steps`, random start, 1 restart, seed 0,
 * cross-entropy loss. Pass an eval-mode classifier (BatchNorm on running statistics, no
 * dropout), and call it outside any gradient scope: the result is a constant.
 *
 * @param model classifier x -> logits (eval mode)
 * @param x clean inputs [batch, h, w, c] in [0, 1]
 * @param y int class ids [batch]
 * @returns adversarial inputs, in the eps-ball around `x` and in [0, 1]
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { pgd } from "./pgd.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([16, 3], 0, 1, "float32", 1);
 * const model = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [x.shape[0], 16]), w) as tf.Tensor2D;
 * const x = tf.fill([2, 4, 4, 1], 0.5) as tf.Tensor4D;
 * const xAdv = pgd(model, x, tf.tensor1d([0, 1], "int32"), { eps: 0.03, steps: 5 });
 * ```
 */
export function pgd(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  opts: PgdOptions,
): tf.Tensor4D {
  const { cleanLogits, numClasses } = validateAttack(model, x, y, opts);
  const o = resolvePgdOptions(opts);
  const yInt = tf.cast(y, "int32") as tf.Tensor1D;
  const oneHot = oneHotRows(yInt, numClasses);
  const batch = x.shape[0];
  let s: Tracked = {
    best: tf.clone(x),
    bestLoss: tf.fill([batch], -Infinity) as tf.Tensor1D,
    fooled: misclassified(cleanLogits, yInt),
  };
  cleanLogits.dispose();
  try {
    if (o.eps === 0) return tf.clone(x);
    for (let r = 0; r < o.restarts; r++) {
      const seed = deriveSeed(o.seed, `pgd-restart-${r}`);
      const idx = maskIndices(s.fooled, false);
      if (idx.length === 0) break;
      const all = idx.length === batch;
      const sub = (t: tf.Tensor) => (all ? tf.clone(t) : gatherRows(t, idx));
      const xs = sub(x) as tf.Tensor4D;
      const ys = sub(yInt) as tf.Tensor1D;
      const hs = sub(oneHot) as tf.Tensor2D;
      const init: Tracked = {
        best: sub(s.best) as tf.Tensor4D,
        bestLoss: sub(s.bestLoss) as tf.Tensor1D,
        fooled: sub(s.fooled) as tf.Tensor1D,
      };
      const start = o.randomStart ? randomInBall(xs, o.eps, o.norm, seed) : tf.clone(xs);
      const out = pgdRun(model, xs, ys, hs, opts.loss, o, start, init);
      const merged: Tracked = {
        best: scatterRows(s.best, idx, out.best),
        bestLoss: scatterRows(s.bestLoss, idx, out.bestLoss),
        fooled: scatterRows(s.fooled, idx, out.fooled),
      };
      tf.dispose([xs, ys, hs, out.best, out.bestLoss, out.fooled, s.best, s.bestLoss, s.fooled]);
      s = merged;
    }
    return tf.clone(s.best);
  } finally {
    tf.dispose([yInt, oneHot, s.best, s.bestLoss, s.fooled]);
  }
}
