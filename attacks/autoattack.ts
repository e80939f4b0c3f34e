/**
 * AutoAttack "standard" (Croce & Hein 2020): APGD-CE, APGD-T, FAB-T and Square in sequence,
 * each only on the points still robust.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Classifier } from "../models/types.ts";
import { deriveSeed } from "../util/rng.ts";
import { apgdCe, apgdTargeted } from "./apgd.ts";
import { fabTargeted } from "./fab.ts";
import { ballViolation } from "./geometry.ts";
import { misclassified } from "./losses.ts";
import { gatherRows, scatterRows, selectRows } from "./rows.ts";
import { square } from "./square.ts";
import { type AttackOptions, validateAttack } from "./validate.ts";

/** The stages of AutoAttack "standard", in order. */
export const AUTOATTACK_STAGES = ["apgd-ce", "apgd-t", "fab-t", "square"] as const;
/** One of {@link AUTOATTACK_STAGES}. */
export type AutoAttackStage = typeof AUTOATTACK_STAGES[number];

/** Options of {@link autoAttack}. */
export interface AutoAttackOptions extends AttackOptions {
  /** Only "standard" is implemented (default). */
  version?: "standard";
  /** Stages to run, in the standard order (default all four). */
  stages?: AutoAttackStage[];
  /** Iterations of APGD-CE, APGD-T and FAB-T (default 100; `steps`). */
  steps?: number;
  /** Target classes of APGD-T and FAB-T (default 9). */
  targets?: number;
  /** Query budget of Square (default 5000). */
  queries?: number;
}

/** Robust accuracy after one stage. */
export interface StageResult {
  attack: AutoAttackStage;
  /** Fraction of all inputs still classified correctly after this and all earlier stages. */
  robustAccuracy: number;
  /** Their number. */
  robustCount: number;
  /** Wall-clock seconds of the stage. */
  seconds: number;
  /** Why the stage did not run, if it did not (e.g. APGD-T on a 2-class model). */
  skipped?: string;
}

/** What {@link autoAttack} returns. */
export interface AutoAttackResult {
  /** Per example the adversarial point of the first stage that fooled it, else the clean input. */
  xAdv: tf.Tensor4D;
  /** Clean accuracy of the batch. */
  cleanAccuracy: number;
  /** Robust accuracy after each stage, in order. */
  robustAfterStage: StageResult[];
  /** Per example: 1 if still robust after all stages. */
  robust: Uint8Array;
  /** Per example: the stage that fooled it, "clean" if misclassified already, null if robust. */
  foolingStage: (AutoAttackStage | "clean" | null)[];
}

/** Float slack allowed when checking that a stage's output lies in the ball. */
const BALL_TOLERANCE = 1e-5;

/**
 * AutoAttack "standard" (Croce & Hein 2020): runs APGD-CE (no restarts), APGD-T (targeted DLR,
 * top-9 targets), FAB-T (top-9 targets) and Square (5000 queries) in sequence; each stage
 * attacks only the points all earlier stages left robust, and a point counts as broken by the
 * first stage whose output (inside the eps-ball and [0, 1]) it misclassifies. The result keeps
 * that worst case per example and reports robust accuracy after every stage. Defaults: Linf,
 * 100 iterations, seed 0. With 2 classes APGD-T is skipped (DLR needs >= 3 classes) and reported
 * as such. Pass an eval-mode classifier.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { autoAttack } from "./autoattack.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([16, 4], 0, 1, "float32", 1);
 * const model = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [x.shape[0], 16]), w) as tf.Tensor2D;
 * const x = tf.fill([2, 4, 4, 1], 0.5) as tf.Tensor4D;
 * const res = autoAttack(model, x, tf.tensor1d([0, 1], "int32"), { eps: 0.03, steps: 10, queries: 50 });
 * res.robustAfterStage; // [{attack: "apgd-ce", robustAccuracy: ...}, ...]
 * ```
 */
export function autoAttack(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  opts: AutoAttackOptions,
): AutoAttackResult {
  if (opts?.version !== undefined && opts.version !== "standard") {
    throw new Error(`unknown AutoAttack version '${opts.version}': only 'standard' is implemented`);
  }
  const stages = opts?.stages ?? [...AUTOATTACK_STAGES];
  for (const s of stages) {
    if (!(AUTOATTACK_STAGES as readonly string[]).includes(s)) {
      throw new Error(
        `unknown AutoAttack stage '${s}': allowed are ${AUTOATTACK_STAGES.join(", ")}`,
      );
    }
  }
  const { cleanLogits, numClasses } = validateAttack(model, x, y, opts);
  const batch = x.shape[0];
  const norm = opts.norm ?? "Linf";
  const seed = opts.seed ?? 0;
  const yInt = tf.cast(y, "int32") as tf.Tensor1D;
  const mis = misclassified(cleanLogits, yInt);
  cleanLogits.dispose();
  const misData = mis.dataSync();
  mis.dispose();
  const robust = Uint8Array.from(misData, (m) => (m ? 0 : 1));
  const foolingStage: AutoAttackResult["foolingStage"] = Array.from(
    misData,
    (m) => (m ? "clean" : null),
  );
  const count = () => robust.reduce((a, b) => a + b, 0);
  const cleanAccuracy = batch > 0 ? count() / batch : NaN;
  let xAdv = tf.clone(x);
  const results: StageResult[] = [];
  try {
    for (const stage of stages) {
      const started = performance.now();
      const idx: number[] = [];
      robust.forEach((r, i) => r && idx.push(i));
      const report = (skipped?: string) =>
        results.push({
          attack: stage,
          robustAccuracy: batch > 0 ? count() / batch : NaN,
          robustCount: count(),
          seconds: (performance.now() - started) / 1000,
          ...(skipped ? { skipped } : {}),
        });
      if (stage === "apgd-t" && numClasses < 3) {
        report(`APGD-T needs >= 3 classes; the model has ${numClasses}`);
        continue;
      }
      if (idx.length === 0 || opts.eps === 0) {
        report();
        continue;
      }
      const xs = gatherRows(x, idx);
      const ys = gatherRows(yInt, idx);
      const common = {
        eps: opts.eps,
        norm,
        restarts: 1,
        seed: deriveSeed(seed, `autoattack-${stage}`),
      };
      let out: tf.Tensor4D;
      try {
        if (stage === "apgd-ce") {
          out = apgdCe(model, xs, ys, { ...common, steps: opts.steps ?? 100 });
        } else if (stage === "apgd-t") {
          out = apgdTargeted(model, xs, ys, {
            ...common,
            steps: opts.steps ?? 100,
            targets: opts.targets,
          });
        } else if (stage === "fab-t") {
          out = fabTargeted(model, xs, ys, {
            ...common,
            steps: opts.steps ?? 100,
            targets: opts.targets,
          });
        } else out = square(model, xs, ys, { ...common, queries: opts.queries ?? 5000 });
        const v = ballViolation(out, xs, opts.eps, norm);
        if (
          v.outsideBall > BALL_TOLERANCE * Math.max(1, opts.eps) || v.outsideBox > BALL_TOLERANCE
        ) {
          throw new Error(
            `AutoAttack stage ${stage} returned points outside the ${norm} ball of radius ${opts.eps} ` +
              `or the [0, 1] box (by ${Math.max(v.outsideBall, v.outsideBox)}): this is a bug`,
          );
        }
        const foolT = tf.tidy(() => misclassified(model(out), ys));
        const fooled = foolT.dataSync();
        const merged = tf.tidy(() => {
          const rows = selectRows(foolT, out, gatherRows(xAdv, idx));
          return scatterRows(xAdv, idx, rows);
        });
        foolT.dispose();
        xAdv.dispose();
        xAdv = merged;
        idx.forEach((i, k) => {
          if (fooled[k]) {
            robust[i] = 0;
            foolingStage[i] = stage;
          }
        });
        out.dispose();
      } finally {
        tf.dispose([xs, ys]);
      }
      report();
    }
  } catch (e) {
    xAdv.dispose();
    throw e;
  } finally {
    yInt.dispose();
  }
  return { xAdv, cleanAccuracy, robustAfterStage: results, robust, foolingStage };
}
