/**
 * The adversarial inputs `x + δ` of Eq. 3 (`δ = argmax_{||δ||_p <= ε} L_CE(f_s(x + δ), y)`, by
 * PGD) for the adversarial training losses, cut from the autodiff tape.
 *
 * This is PGD as ARD's and Madry's training code run it: random start, `steps` ascent steps, and
 * the LAST iterate for every example. `attacks/pgd.ts` is the evaluation attack: it keeps the
 * first misclassifying iterate and leaves already-misclassified examples unperturbed, which is
 * right for measuring robust accuracy but would weaken adversarial training (early in training
 * most examples are misclassified and would get δ = 0). Both share `attacks/geometry.ts`.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { ascentDirection, projectToBall, randomInBall } from "../attacks/geometry.ts";
import { assertAttackOptions, type AttackOptions } from "../attacks/validate.ts";
import type { Classifier } from "../models/types.ts";
import { crossEntropy } from "./cross_entropy.ts";
import { checkBatch } from "./options.ts";

/**
 * A copy of `t` that no gradient flows through (PyTorch's `detach()`): its data, as a new
 * tensor with no tape history.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { detach } from "./adversarial_inputs.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(detach(x), x)))(tf.tensor1d([3])); // [3], not [6]
 * ```
 */
export function detach<T extends tf.Tensor>(t: T): T {
  return tf.tensor(t.dataSync(), t.shape, t.dtype) as T;
}

/**
 * `x + δ` with δ from Eq. 3 by training-time PGD on the classifier's cross-entropy: start at a
 * uniform random point of the ε-ball (if `randomStart`, default true), take `steps` steps
 * `x ← Proj(x + stepSize · dir(∇_x CE))` (`dir` = sign for Linf, `g/||g||_2` for L2), return the
 * last iterate, detached. Defaults: Linf, 10 steps, step size `2.5 ε / steps`, seed 0.
 *
 * Call it OUTSIDE the gradient computation of the training step and pass the result as `xAdv`,
 * so the attack's passes never enter the parameter gradient's tape.
 *
 * @param classifier the student (in the mode the attack should see)
 * @param attack e.g. ARD's CIFAR-10 setting `{eps: 8/255, steps: 10, stepSize: 2/255}`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { adversarialInputs } from "./adversarial_inputs.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([4, 3]) as tf.Tensor2D;
 * const net = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [-1, 4]) as tf.Tensor2D, w) as tf.Tensor2D;
 * const x = tf.randomUniform([2, 2, 2, 1]) as tf.Tensor4D;
 * const xAdv = adversarialInputs(net, x, tf.tensor1d([0, 2], "int32"), { eps: 0.1, steps: 3, stepSize: 0.05 });
 * ```
 */
export function adversarialInputs(
  classifier: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  attack: AttackOptions,
): tf.Tensor4D {
  assertAttackOptions(attack);
  checkBatch(x, y);
  const norm = attack.norm ?? "Linf";
  const steps = attack.steps ?? 10;
  const stepSize = attack.stepSize ?? 2.5 * attack.eps / steps;
  const seed = attack.seed ?? 0;
  if (attack.eps === 0) return tf.clone(x);
  return tf.tidy(() => {
    const ceGrad = tf.grad((xx: tf.Tensor) =>
      crossEntropy(classifier(xx as tf.Tensor4D), y, "sum")
    );
    let xAdv = attack.randomStart === false ? tf.clone(x) : randomInBall(x, attack.eps, norm, seed);
    for (let i = 0; i < steps; i++) {
      const next = tf.tidy(() => {
        const g = ceGrad(xAdv) as tf.Tensor4D;
        const moved = tf.add(xAdv, tf.mul(ascentDirection(g, norm), stepSize)) as tf.Tensor4D;
        return projectToBall(moved, x, attack.eps, norm);
      });
      xAdv.dispose();
      xAdv = next;
    }
    return detach(xAdv);
  });
}
