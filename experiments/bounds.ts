/**
 * The terms of Table 4 (Proposition 2's bound) for a student, averaged over test points:
 * `llm` (Definition 2, estimated by projected ascent, `theory/llm.ts`) at each radius, the
 * student's cross-entropy, and `||g_s - g_t||_2` (per-example input gradients of the CE, the
 * teacher as reference).
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  type Classifier,
  deriveSeed,
  type ImageDataset,
  localLinearityMeasure,
  makeBatch,
  classifierCrossEntropy,
  classifierInputGradient,
  Progress,
} from "./common.ts";

/** Options of {@link boundTerms}. */
export interface BoundTermsOptions {
  /** Radii of the llm columns (Table 4: 4/255 and 8/255). */
  radii: readonly number[];
  /** Ascent steps and restarts of the llm estimate (defaults 20 and 1). */
  llmSteps?: number;
  llmRestarts?: number;
  /** Batch size (default 100). */
  batchSize?: number;
  seed?: number;
  label?: string;
  quiet?: boolean;
}

/** Means over the test points. */
export interface BoundTermsResult {
  /** Mean llm estimate per radius. */
  llm: number[];
  /** Mean cross-entropy of the student. */
  ce: number;
  /** Mean per-example `||∇_x CE_s - ∇_x CE_t||_2`. */
  gradientDifference: number;
  count: number;
  seconds: number;
}

/**
 * Table 4's terms for `student` against `teacher` on every point of `dataset`. The llm values
 * are lower estimates of Definition 2's max (an ascent), as `theory/llm.ts` explains.
 *
 * @example
 * ```ts
 * import { asClassifier, createModel, loadDataset, useBackend } from "./common.ts";
 * import { boundTerms } from "./bounds.ts";
 * await useBackend();
 * const { test } = await loadDataset("mnist");
 * const m = createModel("mlp-tiny", { inputShape: [28, 28, 1] });
 * const t = boundTerms(asClassifier(m, m.init(0)), asClassifier(m, m.init(1)), test.slice(0, 20),
 *   { radii: [0.1], llmSteps: 3 });
 * ```
 */
export function boundTerms(
  student: Classifier,
  teacher: Classifier,
  dataset: ImageDataset,
  options: BoundTermsOptions,
): BoundTermsResult {
  const started = performance.now();
  const batchSize = options.batchSize ?? 100;
  const steps = options.llmSteps ?? 20;
  const restarts = options.llmRestarts ?? 1;
  const seed = options.seed ?? 0;
  if (options.radii.length === 0) throw new Error("bound terms need at least one llm radius");
  const n = dataset.length;
  const llmSums = options.radii.map(() => 0);
  let ceSum = 0, diffSum = 0;
  const batches = Math.ceil(n / batchSize);
  const progress = new Progress(`${options.label ?? "bound terms"} (${n} points)`, batches, {
    quiet: options.quiet,
  });
  for (let b = 0; b < batches; b++) {
    const idx = Array.from(
      { length: Math.min(batchSize, n - b * batchSize) },
      (_, i) => b * batchSize + i,
    );
    const { x, y } = makeBatch(dataset, idx);
    options.radii.forEach((delta, k) => {
      const r = localLinearityMeasure(student, x, y, delta, {
        steps,
        restarts,
        seed: deriveSeed(seed, `llm-${k}-${b}`),
      });
      r.perturbations.dispose();
      llmSums[k] += r.values.reduce((s, v) => s + v, 0);
    });
    const [ce, diff] = tf.tidy(() => {
      const d = tf.sub(
        classifierInputGradient(student, x, y),
        classifierInputGradient(teacher, x, y),
      );
      const norms = tf.sqrt(tf.sum(tf.reshape(tf.square(d), [idx.length, -1]), 1));
      return [tf.sum(classifierCrossEntropy(student, x, y)), tf.sum(norms)];
    });
    ceSum += ce.dataSync()[0];
    diffSum += diff.dataSync()[0];
    tf.dispose([x, y, ce, diff]);
    progress.tick(1);
  }
  progress.done();
  return {
    llm: llmSums.map((s) => s / n),
    ce: ceSum / n,
    gradientDifference: diffSum / n,
    count: n,
    seconds: (performance.now() - started) / 1000,
  };
}
