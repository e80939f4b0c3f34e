/**
 * Clean and robust accuracy over a grid of radii (PGD or AutoAttack), attacking at each radius
 * only the points still robust at the previous one.
 *
 * Why that is exact for the reported numbers: the radii are ascending, so a point fooled at
 * radius r is fooled at every r' > r (its adversarial example lies in the larger ball too). The
 * attack at r' can therefore skip it, and each reported robust accuracy is that of "the attack
 * at r', or at any smaller radius of the grid" — never higher than the single attack's.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  autoAttack,
  type Classifier,
  deriveSeed,
  type ImageDataset,
  makeBatch,
  pgd,
  Progress,
} from "./common.ts";

/** Options of {@link robustAccuracyCurve}. */
export interface RobustnessOptions {
  /** Ascending radii (Linf, in [0, 1] pixel units). */
  radii: readonly number[];
  /** "pgd" (default) or "aa" (AutoAttack standard). */
  attack?: "pgd" | "aa";
  /** PGD iterations (default 20), or AutoAttack's APGD/FAB iterations (default 100). */
  steps?: number;
  /** PGD step size as a multiple of the radius (default 2.5 / steps, Madry et al.). */
  stepSizeFactor?: number;
  /** AutoAttack target classes (default 9) and Square queries (default 5000). */
  targets?: number;
  queries?: number;
  /** Batch size of the attack (default 250). */
  batchSize?: number;
  seed?: number;
  /** Progress label (default "attack"). */
  label?: string;
  quiet?: boolean;
}

/** Accuracies in % over `count` test points. */
export interface RobustnessResult {
  clean: number;
  /** Per radius, in the order of `radii`. */
  robust: number[];
  count: number;
  seconds: number;
}

function predictions(
  classifier: Classifier,
  dataset: ImageDataset,
  indices: number[],
  batchSize: number,
): Int32Array {
  const out = new Int32Array(indices.length);
  for (let start = 0; start < indices.length; start += batchSize) {
    const idx = indices.slice(start, start + batchSize);
    const { x, y } = makeBatch(dataset, idx);
    const pred = tf.tidy(() => tf.argMax(classifier(x), 1));
    out.set(pred.dataSync() as Int32Array, start);
    tf.dispose([x, y, pred]);
  }
  return out;
}

/**
 * Clean accuracy and robust accuracy at each radius of `options.radii` on every point of
 * `dataset` (see the module doc for why attacking only the points robust at the previous radius
 * is exact). Pass an eval-mode classifier. Progress with ETA goes to stderr.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { asClassifier, createModel, loadDataset, useBackend } from "./common.ts";
 * import { robustAccuracyCurve } from "./robustness.ts";
 * await useBackend();
 * const { test } = await loadDataset("mnist");
 * const model = createModel("mlp-tiny", { inputShape: [28, 28, 1] });
 * const r = robustAccuracyCurve(asClassifier(model, model.init(0)), test.slice(0, 50), { radii: [0.05, 0.1], steps: 5 });
 * ```
 */
export function robustAccuracyCurve(
  classifier: Classifier,
  dataset: ImageDataset,
  options: RobustnessOptions,
): RobustnessResult {
  const radii = options.radii;
  for (let i = 0; i < radii.length; i++) {
    if (!(Number.isFinite(radii[i]) && radii[i] > 0)) {
      throw new Error(`radii must be finite and > 0; got ${radii[i]}`);
    }
    if (i > 0 && !(radii[i] > radii[i - 1])) {
      throw new Error(`radii must be ascending; got [${radii.join(", ")}]`);
    }
  }
  const attack = options.attack ?? "pgd";
  if (attack !== "pgd" && attack !== "aa") {
    throw new Error(`attack must be "pgd" or "aa"; got '${attack}'`);
  }
  const steps = options.steps ?? (attack === "pgd" ? 20 : 100);
  const batchSize = options.batchSize ?? 250;
  const seed = options.seed ?? 0;
  const started = performance.now();
  const n = dataset.length;
  const all = Array.from({ length: n }, (_, i) => i);
  const pred = predictions(classifier, dataset, all, batchSize);
  let robust = all.filter((i) => pred[i] === dataset.labels[i]);
  const clean = n ? (100 * robust.length) / n : NaN;
  const progress = new Progress(
    `${options.label ?? "attack"} (${attack}, ${radii.length} radii, ${n} points)`,
    radii.length,
    {
      quiet: options.quiet,
    },
  );
  const out: number[] = [];
  for (const [k, eps] of radii.entries()) {
    const still: number[] = [];
    for (let start = 0; start < robust.length; start += batchSize) {
      const idx = robust.slice(start, start + batchSize);
      const { x, y } = makeBatch(dataset, idx);
      const batchSeed = deriveSeed(seed, `${attack}-${k}-${start}`);
      let fooled: Uint8Array;
      if (attack === "pgd") {
        const stepSize = (options.stepSizeFactor ?? 2.5 / steps) * eps;
        const xAdv = pgd(classifier, x, y, { eps, steps, stepSize, seed: batchSeed });
        const wrong = tf.tidy(() => tf.notEqual(tf.argMax(classifier(xAdv), 1), y));
        fooled = wrong.dataSync() as Uint8Array;
        tf.dispose([xAdv, wrong]);
      } else {
        const res = autoAttack(classifier, x, y, {
          eps,
          steps,
          targets: options.targets,
          queries: options.queries,
          seed: batchSeed,
        });
        res.xAdv.dispose();
        fooled = res.robust.map((r) => (r ? 0 : 1));
      }
      idx.forEach((i, j) => fooled[j] || still.push(i));
      tf.dispose([x, y]);
      progress.tick(
        0,
        `radius ${eps.toPrecision(3)}: ${start + idx.length}/${robust.length} attacked`,
      );
    }
    progress.tick(1, `radius ${eps.toPrecision(3)}: ${still.length} of ${n} still robust`);
    robust = still;
    out.push(n ? (100 * robust.length) / n : NaN);
  }
  progress.done();
  return { clean, robust: out, count: n, seconds: (performance.now() - started) / 1000 };
}
