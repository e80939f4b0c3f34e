/**
 * Losses for training robust teachers: PGD adversarial training (Madry et al. 2018) and TRADES
 * (Zhang et al. 2019), with TRADES' own inner maximisation.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { projectToBall } from "../attacks/geometry.ts";
import type { Classifier } from "../models/types.ts";
import { detach } from "./adversarial_inputs.ts";
import { crossEntropy } from "./cross_entropy.ts";
import { klDivergence } from "./kl_divergence.ts";
import { checkBatch, checkNonNegative, checkPositive, type LossParts } from "./options.ts";

/**
 * PGD adversarial training (Madry et al.): `L_CE(f(x + δ), y)` with `x + δ` given as `xAdv`
 * (δ from Eq. 3; make it with `adversarialInputs`). Returns `{total, ce}` (equal).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { adversarialTrainingLoss } from "./robust_teacher.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([4, 3]) as tf.Tensor2D;
 * const net = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [-1, 4]) as tf.Tensor2D, w) as tf.Tensor2D;
 * const xAdv = tf.randomUniform([2, 2, 2, 1]) as tf.Tensor4D;
 * const { total } = adversarialTrainingLoss(net, xAdv, tf.tensor1d([0, 2], "int32"));
 * ```
 */
export function adversarialTrainingLoss(
  classifier: Classifier,
  xAdv: tf.Tensor4D,
  y: tf.Tensor1D,
): LossParts {
  checkBatch(xAdv, y);
  return tf.tidy(() => {
    const ce = crossEntropy(classifier(xAdv), y) as tf.Scalar;
    return { total: ce, ce: tf.clone(ce) };
  });
}

/** Options of {@link tradesLoss}. */
export interface TradesOptions {
  /** β, the weight of the robustness (KL) term (default 6, TRADES' CIFAR-10 setting). */
  beta?: number;
}

/**
 * TRADES: `L_CE(f(x), y) + β KL(f(x) || f(x'))` with the KL per example averaged over the batch
 * (TRADES' code: `KLDivLoss(size_average=False) / B`, i.e. `"batchmean"`), gradient through both
 * `f(x)` and `f(x')`. `x'` (given as `xAdv`) is the inner maximiser, from
 * {@link tradesAdversarialInputs}. Returns `{total, ce, kl}` (`kl` unweighted).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { tradesLoss } from "./robust_teacher.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([4, 3]) as tf.Tensor2D;
 * const net = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [-1, 4]) as tf.Tensor2D, w) as tf.Tensor2D;
 * const x = tf.randomUniform([2, 2, 2, 1], 0.1, 0.9) as tf.Tensor4D;
 * const xAdv = tf.add(x, 0.05) as tf.Tensor4D;
 * const { total, kl } = tradesLoss(net, x, xAdv, tf.tensor1d([0, 2], "int32"), { beta: 6 });
 * ```
 */
export function tradesLoss(
  classifier: Classifier,
  x: tf.Tensor4D,
  xAdv: tf.Tensor4D,
  y: tf.Tensor1D,
  options: TradesOptions = {},
): LossParts {
  const beta = options.beta ?? 6;
  checkNonNegative("beta", beta);
  checkBatch(x, y, xAdv);
  return tf.tidy(() => {
    const clean = classifier(x);
    const ce = crossEntropy(clean, y) as tf.Scalar;
    const kl = klDivergence(classifier(xAdv), clean, { reduction: "batchmean" }) as tf.Scalar;
    return { total: tf.add(ce, tf.mul(kl, beta)) as tf.Scalar, ce, kl };
  });
}

/** Options of {@link tradesAdversarialInputs} (L-infinity, as TRADES). */
export interface TradesAttackOptions {
  /** Radius of the L-infinity ball (e.g. 8/255 on CIFAR-10, 0.3 on MNIST). */
  eps: number;
  /** Ascent steps (default 10). */
  steps?: number;
  /** Step size (default eps / 4). */
  stepSize?: number;
  /** Seed of the random start (default 0). */
  seed?: number;
}

/**
 * TRADES' inner maximisation `x' = argmax_{||x' - x||_∞ <= ε} KL(f(x) || f(x'))`: start at
 * `x + 0.001 N(0, 1)` (seeded), then `steps` signed-gradient ascent steps on the summed KL with
 * `f(x)` held fixed, each projected onto the ε-ball and [0, 1]. Returns `x'` detached.
 * Call it outside the gradient computation of the training step.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { tradesAdversarialInputs } from "./robust_teacher.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([4, 3]) as tf.Tensor2D;
 * const net = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [-1, 4]) as tf.Tensor2D, w) as tf.Tensor2D;
 * const x = tf.randomUniform([2, 2, 2, 1]) as tf.Tensor4D;
 * const xAdv = tradesAdversarialInputs(net, x, { eps: 0.1, steps: 3 });
 * ```
 */
export function tradesAdversarialInputs(
  classifier: Classifier,
  x: tf.Tensor4D,
  options: TradesAttackOptions,
): tf.Tensor4D {
  const { eps } = options;
  const steps = options.steps ?? 10;
  const stepSize = options.stepSize ?? eps / 4;
  const seed = options.seed ?? 0;
  checkNonNegative("eps", eps);
  if (!Number.isInteger(steps) || steps < 0) {
    throw new Error(`steps must be an integer >= 0; got ${steps}`);
  }
  checkPositive("stepSize", stepSize === 0 && eps === 0 ? 1 : stepSize);
  if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number; got ${seed}`);
  if (x.rank !== 4) {
    throw new Error(
      `x must be a batch of images [batch, height, width, channels]; got shape [${x.shape}]`,
    );
  }
  const result = tf.tidy(() => {
    const clean = detach(classifier(x));
    const noise = tf.randomNormal(x.shape, 0, 0.001, "float32", seed);
    let xAdv = projectToBall(tf.add(x, noise) as tf.Tensor4D, x, eps, "Linf");
    const klGrad = tf.grad((xx: tf.Tensor) =>
      klDivergence(classifier(xx as tf.Tensor4D), clean, { reduction: "sum" }) as tf.Scalar
    );
    for (let i = 0; i < steps; i++) {
      const next = tf.tidy(() => {
        const g = klGrad(xAdv) as tf.Tensor4D;
        return projectToBall(
          tf.add(xAdv, tf.mul(tf.sign(g), stepSize)) as tf.Tensor4D,
          x,
          eps,
          "Linf",
        );
      });
      xAdv.dispose();
      xAdv = next;
    }
    return detach(xAdv);
  });
  return result;
}
