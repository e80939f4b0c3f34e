/**
 * Proposition 2 (the general bound), computed and checked numerically, per example.
 *
 * Statement: for every e in B(δ),
 * `|CE_s(x+e) - CE_t(x+e)| <= γ_s + γ_t + φ`, with `γ = LLM(f, x, δ)` (Definition 2) and
 * `φ = CE_s(x) + CE_t(x) + δ ||g_s - g_t||`, `g = ∇_x CE(f(x), y)`.
 *
 * Proof (the appendix is not in our copy; this is the chain the checks follow). Write
 * `CE(x+e) = CE(x) + e·g + r(e)` with `|r(e)| <= γ` by Definition 2. Subtracting,
 * `CE_s(x+e) - CE_t(x+e) = [CE_s(x) - CE_t(x)] + e·(g_s - g_t) + r_s(e) - r_t(e)`, so by the
 * triangle inequality, `|CE_s(x) - CE_t(x)| <= CE_s(x) + CE_t(x)` (both >= 0) and Hölder
 * `|e·v| <= ||e|| ||v||_* <= δ ||v||_*`, the bound follows.
 *
 * Where the statement needs care:
 * - "`||·||` is a norm" must be the DUAL of the ball's norm: an Linf ball needs the L1 norm of
 *   the gradient difference (up to sqrt(D) times its L2 norm), an L2 ball needs L2. Table 4
 *   reports `||g_s - g_t||_2`, which does not give a valid bound for Linf perturbations.
 * - γ is a max over the ball; an ascent only finds a lower estimate, so a "bound" computed with
 *   estimated γ's is not guaranteed. {@link checkProp2} therefore also reports a rigorous form:
 *   every e it evaluates is a candidate of the max, so `γ* = max(γ_est, |r(e)| over evaluated e)`
 *   is still <= the true γ, and `bound(γ*) >= lhs` at every evaluated e is exactly what the
 *   proposition asserts there (with the true γ the bound is only larger).
 * - All quantities are per example (x, y fixed). Averages over a batch (as in Table 4) bound the
 *   average left side, not each example's; and the input gradient must be that of the
 *   per-example loss, not of the batch-mean loss (which is smaller by the batch size).
 * - `|CE_s(x) - CE_t(x)|` would be a tighter first term than the sum `CE_s(x) + CE_t(x)`.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { deriveSeed, seededRandom } from "../util/rng.ts";
import type { Norm } from "../attacks/validate.ts";
import {
  ascentStep,
  dualNorm,
  perExampleVectorNorm,
  randomPerturbation,
  VECTOR_NORMS,
  type VectorNorm,
} from "./ball.ts";
import { localLinearityMeasure, type LocalLinearityOptions, resolveAscentOptions } from "./llm.ts";
import {
  assertLabels,
  classifierCrossEntropy,
  perExampleDot,
  classifierInputGradient,
  type TensorClassifier,
} from "./loss_surface.ts";

/** Options of {@link prop2Bound}: those of the LLM ascent (variant "paper" is used). */
export type Prop2Options = Omit<LocalLinearityOptions, "variant">;

/** Per-example terms of Proposition 2 (all arrays have one entry per example). */
export interface Prop2Terms {
  delta: number;
  norm: Norm;
  /** The norm used for the gradient term: the dual of `norm`. */
  gradientNorm: VectorNorm;
  /** LLM estimates (lower estimates of the true max). */
  gammaStudent: number[];
  gammaTeacher: number[];
  ceStudent: number[];
  ceTeacher: number[];
  /** `||g_s - g_t||` in each vector norm (keys "L1", "L2", "Linf"). */
  gradientDifference: Record<VectorNorm, number[]>;
  /** `δ ||g_s - g_t||_*` (dual norm). */
  gradientTerm: number[];
  /** `CE_s + CE_t + δ ||g_s - g_t||_*`. */
  phi: number[];
  /** `γ_s + γ_t + φ`. */
  bound: number[];
}

/** Options of {@link checkProp2}. */
export interface CheckProp2Options extends Prop2Options {
  /** Random points e per example at which the left side is evaluated (default 64). */
  randomPoints?: number;
  /** Ascent steps and restarts maximising the left side (defaults: those of the LLM). */
  lhsSteps?: number;
  lhsRestarts?: number;
}

/** Result of {@link checkProp2}. */
export interface Prop2Check {
  terms: Prop2Terms;
  /** Max of the left side `|CE_s(x+e) - CE_t(x+e)|` over the random points, per example. */
  lhsRandom: number[];
  /** Max of the left side over the ascent iterates (adversarial e), per example. */
  lhsAdversarial: number[];
  /** Max of both. */
  lhs: number[];
  /** `bound - lhs` with the LLM estimates: NOT guaranteed >= 0 (γ is underestimated). */
  slack: number[];
  /** `γ* = max(γ_est, max |r(e)| over every evaluated e)`: still a lower estimate of γ. */
  gammaStudentRigorous: number[];
  gammaTeacherRigorous: number[];
  /** `γ*_s + γ*_t + φ - lhs`: >= 0 at every evaluated e iff the proposition holds there. */
  slackRigorous: number[];
  /** Minimum over examples of `slack` and of `slackRigorous`. */
  worstSlack: number;
  worstSlackRigorous: number;
  /** Perturbations evaluated per example. */
  evaluated: number;
}

/**
 * The terms and the bound of Proposition 2 per example, with the gradient norm dual to the
 * perturbation norm.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { initToyMlp, toyMlpClassifier } from "./toy_mlp.ts";
 * import { prop2Bound } from "./prop2.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const s = toyMlpClassifier(initToyMlp([2, 8, 2], { seed: 1, activation: "tanh" }));
 * const t = toyMlpClassifier(initToyMlp([2, 8, 2], { seed: 2, activation: "tanh" }));
 * const x = tf.tensor2d([[0.2, 0.4]]);
 * const terms = prop2Bound(s, t, x, tf.tensor1d([1], "int32"), 0.1, { norm: "L2" });
 * console.log(terms.bound, terms.gradientNorm); // gradientNorm "L2" (Linf would pair with "L1")
 * ```
 */
export function prop2Bound<X extends tf.Tensor>(
  student: TensorClassifier<X>,
  teacher: TensorClassifier<X>,
  x: X,
  y: tf.Tensor,
  delta: number,
  options: Prop2Options = {},
): Prop2Terms {
  const o = resolveAscentOptions({ ...options, variant: "paper" }, delta);
  assertLabels(x, y);
  const llmS = localLinearityMeasure(student, x, y, delta, { ...o, seed: deriveSeed(o.seed, "s") });
  const llmT = localLinearityMeasure(teacher, x, y, delta, { ...o, seed: deriveSeed(o.seed, "t") });
  tf.dispose([llmS.perturbations, llmT.perturbations]);
  const [ceS, ceT, diffs] = tf.tidy(() => {
    const diff = tf.sub(
      classifierInputGradient(student, x, y),
      classifierInputGradient(teacher, x, y),
    );
    return [
      classifierCrossEntropy(student, x, y),
      classifierCrossEntropy(teacher, x, y),
      VECTOR_NORMS.map((n) => perExampleVectorNorm(diff, n)),
    ];
  });
  const ceStudent = Array.from(ceS.dataSync());
  const ceTeacher = Array.from(ceT.dataSync());
  const gradientDifference = Object.fromEntries(
    VECTOR_NORMS.map((n, k) => [n, Array.from(diffs[k].dataSync())]),
  ) as Record<VectorNorm, number[]>;
  tf.dispose([ceS, ceT, ...diffs]);
  const gradientNorm = dualNorm(o.norm);
  const gradientTerm = gradientDifference[gradientNorm].map((v) => delta * v);
  const phi = ceStudent.map((c, i) => c + ceTeacher[i] + gradientTerm[i]);
  const bound = phi.map((p, i) => llmS.values[i] + llmT.values[i] + p);
  return {
    delta,
    norm: o.norm,
    gradientNorm,
    gammaStudent: llmS.values,
    gammaTeacher: llmT.values,
    ceStudent,
    ceTeacher,
    gradientDifference,
    gradientTerm,
    phi,
    bound,
  };
}

/**
 * Checks Proposition 2 per example: evaluates the left side at random points of the ball and
 * along projected ascent on it (adversarial e), and reports the slack `bound - lhs` both with
 * the LLM estimates and in the rigorous form (see the module doc).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { initToyMlp, toyMlpClassifier } from "./toy_mlp.ts";
 * import { checkProp2 } from "./prop2.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const s = toyMlpClassifier(initToyMlp([2, 8, 2], { seed: 1 }));
 * const t = toyMlpClassifier(initToyMlp([2, 8, 2], { seed: 2 }));
 * const c = checkProp2(s, t, tf.tensor2d([[0.2, 0.4]]), tf.tensor1d([1], "int32"), 0.1);
 * console.log(c.worstSlackRigorous >= 0);
 * ```
 */
export function checkProp2<X extends tf.Tensor>(
  student: TensorClassifier<X>,
  teacher: TensorClassifier<X>,
  x: X,
  y: tf.Tensor,
  delta: number,
  options: CheckProp2Options = {},
): Prop2Check {
  const o = resolveAscentOptions({ ...options, variant: "paper" }, delta);
  const randomPoints = options.randomPoints ?? 64;
  const lhsSteps = options.lhsSteps ?? o.steps;
  const lhsRestarts = options.lhsRestarts ?? o.restarts;
  for (
    const [name, v] of [["randomPoints", randomPoints], ["lhsSteps", lhsSteps], [
      "lhsRestarts",
      lhsRestarts,
    ]] as const
  ) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be an integer >= 0; got ${v}`);
  }
  const terms = prop2Bound(student, teacher, x, y, delta, options);
  const batch = x.shape[0];
  const rand = seededRandom(deriveSeed(o.seed, "lhs"));
  const ceS0 = classifierCrossEntropy(student, x, y);
  const ceT0 = classifierCrossEntropy(teacher, x, y);
  const gS = tf.tidy(() => classifierInputGradient(student, x, y));
  const gT = tf.tidy(() => classifierInputGradient(teacher, x, y));

  const lhsRandom = new Array(batch).fill(0);
  const lhsAdversarial = new Array(batch).fill(0);
  const rS = terms.gammaStudent.slice();
  const rT = terms.gammaTeacher.slice();
  let evaluated = 0;
  // Evaluates lhs and both residuals at e (same CE values, so the proof's chain holds exactly).
  const evaluate = (e: tf.Tensor, into: number[]) => {
    const [lhs, resS, resT] = tf.tidy(() => {
      const cs = classifierCrossEntropy(student, tf.add(x, e) as X, y);
      const ct = classifierCrossEntropy(teacher, tf.add(x, e) as X, y);
      return [
        tf.abs(tf.sub(cs, ct)),
        tf.abs(tf.sub(tf.sub(cs, ceS0), perExampleDot(e, gS))),
        tf.abs(tf.sub(tf.sub(ct, ceT0), perExampleDot(e, gT))),
      ];
    });
    const [l, a, b] = [lhs.dataSync(), resS.dataSync(), resT.dataSync()];
    for (let i = 0; i < batch; i++) {
      into[i] = Math.max(into[i], l[i]);
      rS[i] = Math.max(rS[i], a[i]);
      rT[i] = Math.max(rT[i], b[i]);
    }
    tf.dispose([lhs, resS, resT]);
    evaluated++;
  };
  for (let k = 0; k < randomPoints; k++) {
    const e = randomPerturbation(x.shape, o.norm, delta, rand);
    evaluate(e, lhsRandom);
    e.dispose();
  }
  const gradient = tf.grad((e: tf.Tensor) =>
    tf.sum(tf.abs(tf.sub(
      classifierCrossEntropy(student, tf.add(x, e) as X, y),
      classifierCrossEntropy(teacher, tf.add(x, e) as X, y),
    ))) as tf.Scalar
  );
  for (let restart = 0; restart < lhsRestarts; restart++) {
    let e = randomPerturbation(x.shape, o.norm, delta, rand);
    for (let step = 0; step <= lhsSteps; step++) {
      evaluate(e, lhsAdversarial);
      if (step === lhsSteps) break;
      const size = Math.max(
        o.stepSize * 0.5 * (1 + Math.cos(Math.PI * step / lhsSteps)),
        o.stepSize / 100,
      );
      const g = gradient(e);
      const next = ascentStep(e, g, o.norm, delta, size);
      tf.dispose([g, e]);
      e = next;
    }
    e.dispose();
  }
  tf.dispose([ceS0, ceT0, gS, gT]);

  const lhs = lhsRandom.map((v, i) => Math.max(v, lhsAdversarial[i]));
  const slack = terms.bound.map((b, i) => b - lhs[i]);
  const slackRigorous = terms.phi.map((p, i) => rS[i] + rT[i] + p - lhs[i]);
  return {
    terms,
    lhsRandom,
    lhsAdversarial,
    lhs,
    slack,
    gammaStudentRigorous: rS,
    gammaTeacherRigorous: rT,
    slackRigorous,
    worstSlack: Math.min(...slack),
    worstSlackRigorous: Math.min(...slackRigorous),
    evaluated,
  };
}
