/**
 * The columns of the paper's Table 4 for one student/teacher pair: the student's LLM at two (or
 * more) radii, its cross-entropy, and `||g_s - g_t||_2`, each averaged over the given points.
 * Note (see `prop2.ts`): Table 4's L2 gradient norm is the dual norm only for L2 balls; for the
 * Linf balls of the paper's radii (4/255, 8/255) Proposition 2 needs the L1 norm, reported too.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { assertRadius, perExampleVectorNorm } from "./ball.ts";
import { localLinearityMeasure, type LocalLinearityOptions } from "./llm.ts";
import {
  assertLabels,
  classifierCrossEntropy,
  classifierInputGradient,
  type TensorClassifier,
} from "./loss_surface.ts";

/** Options of {@link boundTerms}. */
export interface BoundTermsOptions extends LocalLinearityOptions {
  /** LLM radii (default [4/255, 8/255], as in Table 4). */
  radii?: number[];
}

/** Result of {@link boundTerms}: means over the points. */
export interface BoundTerms {
  radii: number[];
  /** The student's mean LLM at each radius. */
  llm: number[];
  /** The student's mean cross-entropy. */
  ce: number;
  /** Mean `||g_s - g_t||_2` (Table 4) and `||g_s - g_t||_1` (the dual norm of Linf). */
  gradientDifferenceL2: number;
  gradientDifferenceL1: number;
}

/**
 * Table 4's columns (means over the points of `x`).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { initToyMlp, toyMlpClassifier } from "./toy_mlp.ts";
 * import { boundTerms } from "./bound_terms.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const s = toyMlpClassifier(initToyMlp([2, 8, 2], { seed: 1 }));
 * const t = toyMlpClassifier(initToyMlp([2, 8, 2], { seed: 2 }));
 * const row = boundTerms(s, t, tf.tensor2d([[0.2, 0.4]]), tf.tensor1d([1], "int32"));
 * console.log(row.llm, row.ce, row.gradientDifferenceL2);
 * ```
 */
export function boundTerms<X extends tf.Tensor>(
  student: TensorClassifier<X>,
  teacher: TensorClassifier<X>,
  x: X,
  y: tf.Tensor,
  options: BoundTermsOptions = {},
): BoundTerms {
  const radii = options.radii ?? [4 / 255, 8 / 255];
  if (!Array.isArray(radii) || radii.length === 0) {
    throw new Error(`radii must be a non-empty array of radii > 0; got ${radii}`);
  }
  radii.forEach((r, i) => assertRadius(r, `radii[${i}]`));
  assertLabels(x, y);
  const llm = radii.map((r) => {
    const res = localLinearityMeasure(student, x, y, r, options);
    res.perturbations.dispose();
    return res.mean;
  });
  const [ce, l2, l1] = tf.tidy(() => {
    const diff = tf.sub(
      classifierInputGradient(student, x, y),
      classifierInputGradient(teacher, x, y),
    );
    return [
      tf.mean(classifierCrossEntropy(student, x, y)),
      tf.mean(perExampleVectorNorm(diff, "L2")),
      tf.mean(perExampleVectorNorm(diff, "L1")),
    ].map((t) => t.dataSync()[0]);
  });
  return { radii: [...radii], llm, ce, gradientDifferenceL2: l2, gradientDifferenceL1: l1 };
}
