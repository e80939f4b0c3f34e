/**
 * The Local Linearity Measure of Definition 2 (Qin et al., 2019):
 * `LLM(f, x, δ) = max_{e ∈ B(δ)} |CE(f(x+e), y) - CE(f(x), y) - e · ∇_x CE(f(x), y)|`,
 * per example, estimated by projected gradient ascent on the residual with random restarts.
 *
 * Two variants:
 * - `"paper"` (default): Definition 2 as written. Ascends |r(e)| (r is the residual above) from
 *   `restarts` uniform random starts (e = 0 is a stationary point of r: r(0) = 0 and
 *   ∇r(0) = 0), with step sizes decaying from δ/2 to δ/200 (cosine), and keeps the best |r| over
 *   every iterate of every restart.
 * - `"authors"`: what the issue reports the authors' code does: ONE uniform random start, 50
 *   sign-ascent steps of absolute size 0.1 on the SIGNED residual r (no absolute value), and the
 *   residual of the last iterate is reported. It can therefore be negative, misses a maximum of
 *   |r| reached with r < 0 (e.g. where CE is locally concave), and with δ = 8/255 a step of 0.1
 *   jumps straight to a corner of the Linf box.
 *
 * An ascent only ever finds a LOWER estimate of the max (a non-concave maximisation): any bound
 * built on it (Proposition 2) is not guaranteed. See `prop2.ts` for how the checks stay
 * rigorous.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Norm } from "../attacks/validate.ts";
import { seededRandom } from "../util/rng.ts";
import { ascentStep, assertNorm, assertRadius, randomPerturbation } from "./ball.ts";
import {
  assertLabels,
  classifierCrossEntropy,
  perExampleDot,
  classifierInputGradient,
  type TensorClassifier,
} from "./loss_surface.ts";

/** The two LLM estimators (see the module doc). */
export const LLM_VARIANTS = ["paper", "authors"] as const;
/** One of {@link LLM_VARIANTS}. */
export type LlmVariant = typeof LLM_VARIANTS[number];

/** Options of {@link localLinearityMeasure}. */
export interface LocalLinearityOptions {
  /** Perturbation ball norm, "Linf" (default) or "L2". */
  norm?: Norm;
  /** Ascent steps per restart (default 50). */
  steps?: number;
  /** Random restarts (default 4 for "paper", 1 for "authors"). */
  restarts?: number;
  /** Seed of the random starts (default 0). */
  seed?: number;
  /** "paper" (default) or "authors". */
  variant?: LlmVariant;
  /** Step size: the initial one for "paper" (default δ/2), the fixed one for "authors" (0.1). */
  stepSize?: number;
}

/** Result of {@link localLinearityMeasure}. */
export interface LocalLinearityResult {
  /** Per-example LLM estimate: max |r| found ("paper") or the last signed r ("authors"). */
  values: number[];
  /** The perturbation e reaching each value, the shape of x (caller disposes). */
  perturbations: tf.Tensor;
  /** Mean of `values`. */
  mean: number;
}

/**
 * Throws unless the ascent options are valid; returns them with defaults filled in.
 *
 * @example
 * ```ts
 * import { resolveAscentOptions } from "./llm.ts";
 * resolveAscentOptions({ steps: 10 }, 0.1); // { norm: "Linf", steps: 10, restarts: 4, ... }
 * ```
 */
export function resolveAscentOptions(
  options: LocalLinearityOptions,
  delta: number,
): Required<LocalLinearityOptions> {
  assertRadius(delta);
  const norm = options.norm ?? "Linf";
  assertNorm(norm);
  const variant = options.variant ?? "paper";
  if (!(LLM_VARIANTS as readonly string[]).includes(variant)) {
    throw new Error(`unknown LLM variant '${variant}': allowed are ${LLM_VARIANTS.join(", ")}`);
  }
  const steps = options.steps ?? 50;
  const restarts = options.restarts ?? (variant === "paper" ? 4 : 1);
  if (!Number.isInteger(steps) || steps < 1) {
    throw new Error(`steps must be an integer >= 1; got ${steps}`);
  }
  if (!Number.isInteger(restarts) || restarts < 1) {
    throw new Error(`restarts must be an integer >= 1; got ${restarts}`);
  }
  const stepSize = options.stepSize ?? (variant === "paper" ? delta / 2 : 0.1);
  assertRadius(stepSize, "stepSize");
  return { norm, steps, restarts, seed: options.seed ?? 0, variant, stepSize };
}

/** Per-example selection `mask ? a : b` where mask is [batch] of 0/1 floats. */
function selectRows(mask: tf.Tensor1D, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const m = tf.reshape(mask, [mask.shape[0], ...a.shape.slice(1).map(() => 1)]);
    return tf.add(tf.mul(m, a), tf.mul(tf.sub(1, m), b));
  });
}

/**
 * Estimates Definition 2's LLM per example by projected ascent with restarts.
 *
 * @param model any classifier `x [batch, ...] -> logits [batch, classes]`
 * @param x inputs [batch, ...]
 * @param y int class ids [batch]
 * @param delta ball radius (> 0)
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { initToyMlp, toyMlpClassifier } from "./toy_mlp.ts";
 * import { localLinearityMeasure } from "./llm.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const f = toyMlpClassifier(initToyMlp([2, 8, 2], { seed: 0, activation: "tanh" }));
 * const x = tf.tensor2d([[0.2, 0.4], [0.7, 0.1]]);
 * const llm = localLinearityMeasure(f, x, tf.tensor1d([0, 1], "int32"), 0.1, { norm: "Linf" });
 * console.log(llm.values);
 * llm.perturbations.dispose();
 * ```
 */
export function localLinearityMeasure<X extends tf.Tensor>(
  model: TensorClassifier<X>,
  x: X,
  y: tf.Tensor,
  delta: number,
  options: LocalLinearityOptions = {},
): LocalLinearityResult {
  const o = resolveAscentOptions(options, delta);
  assertLabels(x, y);
  const rand = seededRandom(o.seed);
  const batch = x.shape[0];
  const ce0 = classifierCrossEntropy(model, x, y);
  const g0 = tf.tidy(() => classifierInputGradient(model, x, y));
  const residual = (e: tf.Tensor): tf.Tensor1D =>
    tf.tidy(() =>
      tf.sub(
        tf.sub(classifierCrossEntropy(model, tf.add(x, e) as X, y), ce0),
        perExampleDot(e, g0),
      ) as tf.Tensor1D
    );
  const objective = (e: tf.Tensor) =>
    tf.sum(o.variant === "paper" ? tf.abs(residual(e)) : residual(e)) as tf.Scalar;
  const gradient = tf.grad(objective);

  const best = new Float32Array(batch).fill(-Infinity);
  let bestE: tf.Tensor = tf.zerosLike(x);
  for (let restart = 0; restart < o.restarts; restart++) {
    let e = randomPerturbation(x.shape, o.norm, delta, rand);
    for (let step = 0; step <= o.steps; step++) {
      const r = residual(e);
      const value = o.variant === "paper" ? tf.abs(r) : r;
      const values = value.dataSync() as Float32Array;
      const last = step === o.steps;
      // "paper" keeps the best iterate; "authors" keeps the last iterate of a run (the best
      // such over restarts, if more than one is asked for).
      const take = new Float32Array(batch);
      for (let i = 0; i < batch; i++) {
        const better = values[i] > best[i];
        take[i] = (o.variant === "paper" ? better : last && (restart === 0 || better)) ? 1 : 0;
        if (take[i]) best[i] = values[i];
      }
      const mask = tf.tensor1d(take);
      const nextBest = selectRows(mask, e, bestE);
      tf.dispose([r, value, mask, bestE]);
      bestE = nextBest;
      if (last) break;
      const size = o.variant === "paper"
        ? Math.max(o.stepSize * 0.5 * (1 + Math.cos(Math.PI * step / o.steps)), o.stepSize / 100)
        : o.stepSize;
      const g = gradient(e);
      const next = ascentStep(e, g, o.norm, delta, size);
      tf.dispose([g, e]);
      e = next;
    }
    e.dispose();
  }
  tf.dispose([ce0, g0]);
  const values = Array.from(best);
  return {
    values,
    perturbations: bestE,
    mean: values.reduce((s, v) => s + v, 0) / batch,
  };
}
