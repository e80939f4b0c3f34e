/**
 * Adversarial attacks and robustness evaluation.
 *
 * Every attack has one signature, `(model, x, y, opts) -> xAdv`:
 * - `model` is any `Classifier` (`models/types.ts`) `x -> logits`; pass it in **eval mode** (BatchNorm on
 *   running statistics, no dropout), e.g. `(x) => m.apply(vars, x, {training: false}).logits`,
 *   and call attacks outside any gradient scope (their result is a constant).
 * - `x` is [batch, h, w, c] in [0, 1]; `y` int class ids [batch].
 * - `opts` are {@link AttackOptions}: `eps` (>= 0), `norm` ("Linf" default, or "L2"), `steps`,
 *   `stepSize`, `randomStart`, `restarts`, `seed` (default 0; same seed, same result).
 * - `xAdv` lies in the eps-ball around `x` and in [0, 1]. Examples the model already
 *   misclassifies come back unchanged. Restarts after the first attack only the examples not
 *   yet fooled.
 *
 * The attacks:
 * - {@link fgsm}: one step of size eps along `sign(grad)` (Linf) or `grad/||grad||` (L2).
 * - {@link pgd} (Madry et al.): random start, `steps` (10) steps of `2.5 eps / steps`, projected;
 *   keeps per example the first misclassifying iterate, else the highest-loss one. Custom loss
 *   via `opts.loss`.
 * - {@link apgd} / {@link apgdCe} / {@link apgdDlr} (Croce & Hein 2020): 100 steps from a random
 *   start, step size `2 eps` halved at checkpoints ({@link apgdCheckpoints}: p = 0, 0.22, then
 *   intervals shrinking by 0.03 to at least 0.06) when under 75% of the steps since the last one
 *   raised the loss, or when the step size was kept and the best loss did not improve; halving
 *   restarts from the best point; momentum 0.75.
 * - {@link apgdTargeted} (APGD-T): targeted DLR loss, one run per target among the top 9 other
 *   classes.
 * - {@link fabTargeted} (FAB-T, Croce & Hein 2020): minimal-norm search towards each of the top
 *   9 other classes: project the iterate and the clean point onto the linearised decision
 *   boundary inside the box, step to their convex combination with bias alpha <= 0.1 towards
 *   the clean point and overshoot eta = 1.05, step back by beta = 0.9 after each success;
 *   counts a result only within eps ({@link fabTargetedMinimal} returns the minimal distances).
 * - {@link square} (Andriushchenko et al. 2020): gradient-free random search on the margin with a
 *   query budget (5000), square sizes from {@link squareFraction} (p_init 0.8).
 * - {@link autoAttack} "standard": APGD-CE, APGD-T, FAB-T, Square in sequence, each only on the
 *   points all earlier stages left robust; keeps per example the first stage's adversarial
 *   point and returns `robustAfterStage` (robust accuracy after each stage).
 *
 * {@link evaluate} runs attacks over a data set (`{x, y}` or an iterable of such batches) at
 * several radii, batched and seeded, with progress and ETA; {@link toCsv} and
 * {@link toMarkdown} render its report. It warns about gradient masking (zero input gradients,
 * Square beating the gradient attacks, robust accuracy rising with eps).
 * {@link linearClassifier} and {@link linearMinimalDistances} give models with known exact
 * robustness to check attacks against.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { autoAttack, pgd } from "./mod.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([16, 4], 0, 1, "float32", 1);
 * const model = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [x.shape[0], 16]), w) as tf.Tensor2D;
 * const x = tf.fill([2, 4, 4, 1], 0.5) as tf.Tensor4D;
 * const y = tf.tensor1d([0, 1], "int32");
 * const xAdv = pgd(model, x, y, { eps: 8 / 255, steps: 20 });
 * const { robustAfterStage } = autoAttack(model, x, y, { eps: 8 / 255, steps: 20, queries: 100 });
 * ```
 * @module
 */
export * from "./validate.ts";
export * from "./geometry.ts";
export * from "./losses.ts";
export * from "./rows.ts";
export * from "./hyperplane.ts";
export * from "./fgsm.ts";
export * from "./pgd.ts";
export * from "./apgd.ts";
export * from "./fab.ts";
export * from "./square.ts";
export * from "./autoattack.ts";
export * from "./evaluate.ts";
export * from "./report.ts";
export * from "./reference_models.ts";
