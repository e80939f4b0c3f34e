/**
 * Clean and PGD accuracy of a classifier on a dataset, for the per-epoch training log.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { pgd } from "../attacks/pgd.ts";
import type { AttackOptions } from "../attacks/validate.ts";
import { makeBatch } from "../data/batches.ts";
import type { ImageDataset } from "../data/dataset.ts";
import type { Classifier } from "../models/types.ts";
import { deriveSeed } from "../util/rng.ts";

/** Options of {@link evaluateAccuracy}. */
export interface AccuracyOptions {
  /** Batch size (default 200). */
  batchSize?: number;
  /** PGD (`attacks/pgd.ts`) for robust accuracy; absent or null: clean accuracy only. */
  attack?: AttackOptions | null;
}

/** Accuracies in [0, 1] over `count` examples; `pgd` is NaN when no attack was asked. */
export interface Accuracy {
  clean: number;
  pgd: number;
  count: number;
}

function correct(classifier: Classifier, x: tf.Tensor4D, y: tf.Tensor1D): number {
  const count = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(classifier(x), 1), y), "int32")));
  const n = count.dataSync()[0];
  count.dispose();
  return n;
}

/**
 * Clean accuracy and, if `attack` is given, accuracy under PGD (each batch attacked with a seed
 * derived from `attack.seed` and the batch index), in the dataset's order.
 *
 * @example
 * ```ts
 * import { createModel, asClassifier } from "../models/registry.ts";
 * import { loadDataset } from "../data/load.ts";
 * import { evaluateAccuracy } from "./evaluate.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const { test } = await loadDataset("mnist");
 * const model = createModel("mlp-tiny", { inputShape: [28, 28, 1] });
 * const acc = evaluateAccuracy(asClassifier(model, model.init(0)), test.slice(0, 100), { attack: { eps: 0.1, steps: 5 } });
 * ```
 */
export function evaluateAccuracy(
  classifier: Classifier,
  dataset: ImageDataset,
  options: AccuracyOptions = {},
): Accuracy {
  const batchSize = options.batchSize ?? 200;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be an integer >= 1; got ${batchSize}`);
  }
  let clean = 0, robust = 0;
  const attack = options.attack ?? null;
  for (let start = 0, b = 0; start < dataset.length; start += batchSize, b++) {
    const indices = Array.from(
      { length: Math.min(batchSize, dataset.length - start) },
      (_, i) => start + i,
    );
    const { x, y } = makeBatch(dataset, indices);
    try {
      clean += correct(classifier, x, y);
      if (attack !== null) {
        const xAdv = pgd(classifier, x, y, { ...attack, seed: deriveSeed(attack.seed ?? 0, b) });
        robust += correct(classifier, xAdv, y);
        xAdv.dispose();
      }
    } finally {
      tf.dispose([x, y]);
    }
  }
  const n = dataset.length;
  return { clean: n ? clean / n : NaN, pgd: attack !== null && n ? robust / n : NaN, count: n };
}
