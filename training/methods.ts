/**
 * The training methods by name, and the loss each one minimises.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { AttackOptions } from "../attacks/validate.ts";
import {
  adversarialInputs,
  adversarialTrainingLoss,
  ardLoss,
  crossEntropy,
  kdigaArdaLoss,
  kdigaArdcLoss,
  kdigaLoss,
  type KdigaOptions,
  kdLoss,
  type LossParts,
  tradesAdversarialInputs,
  tradesLoss,
} from "../losses/mod.ts";
import type { Classifier } from "../models/types.ts";

/**
 * The training methods: `st` standard training (CE), `at` PGD adversarial training (Madry),
 * `trades` TRADES, `kd` knowledge distillation (Eq. 1), `ard` (Eq. 2), `kdiga` (Eq. 5),
 * `kdiga-ardc` (Eq. 6), `kdiga-arda` (Eq. 7).
 */
export const METHOD_NAMES = [
  "st",
  "at",
  "trades",
  "kd",
  "ard",
  "kdiga",
  "kdiga-ardc",
  "kdiga-arda",
] as const;
/** One of {@link METHOD_NAMES}. */
export type MethodName = typeof METHOD_NAMES[number];

/** Throws unless `name` is a known method, listing the valid names. */
export function assertMethodName(name: string): asserts name is MethodName {
  if (!(METHOD_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown method '${name}': valid methods are ${METHOD_NAMES.join(", ")}`);
  }
}

/**
 * Whether the method distils from a teacher.
 *
 * @example
 * ```ts
 * import { methodNeedsTeacher } from "./methods.ts";
 * methodNeedsTeacher("kdiga"); // true
 * ```
 */
export function methodNeedsTeacher(method: MethodName): boolean {
  return !["st", "at", "trades"].includes(method);
}

/**
 * Which adversarial inputs the method needs per step: `"pgd"` (Eq. 3, PGD on the student's CE),
 * `"trades"` (TRADES' KL maximisation) or none.
 *
 * @example
 * ```ts
 * import { methodAdversary } from "./methods.ts";
 * methodAdversary("ard"); // "pgd"
 * ```
 */
export function methodAdversary(method: MethodName): "pgd" | "trades" | null {
  if (method === "trades") return "trades";
  return ["at", "ard", "kdiga-ardc", "kdiga-arda"].includes(method) ? "pgd" : null;
}

/** Options of the methods' losses. */
export interface MethodOptions {
  /** Loss weights, temperature, KL reduction, alignment (paper defaults when absent). */
  distillation?: KdigaOptions;
  /** The training attack of `at`, `ard`, `kdiga-ardc`, `kdiga-arda` and `trades` (eps, steps, stepSize). */
  attack?: AttackOptions;
  /** TRADES' β (default 6). */
  tradesBeta?: number;
}

/** What a method's loss sees in one step. */
export interface MethodInputs {
  /** The student in training mode, differentiable in its parameters. */
  student: Classifier;
  /** The frozen teacher (eval mode); required by distillation methods. */
  teacher?: Classifier;
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  /** The step's adversarial inputs, when the method needs them (see {@link methodAdversary}). */
  xAdv?: tf.Tensor4D;
}

/**
 * The method's loss and its parts for one batch.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { methodLoss } from "./methods.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([4, 3]) as tf.Tensor2D;
 * const net = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [-1, 4]) as tf.Tensor2D, w) as tf.Tensor2D;
 * const x = tf.randomUniform([2, 2, 2, 1]) as tf.Tensor4D;
 * const { total } = methodLoss("kd", { student: net, teacher: net, x, y: tf.tensor1d([0, 1], "int32") });
 * ```
 */
export function methodLoss(
  method: MethodName,
  inputs: MethodInputs,
  options: MethodOptions = {},
): LossParts {
  assertMethodName(method);
  const { student, teacher, x, y, xAdv } = inputs;
  if (methodNeedsTeacher(method) && teacher === undefined) {
    throw new Error(`method '${method}' distils from a teacher; none given`);
  }
  if (methodAdversary(method) !== null && xAdv === undefined) {
    throw new Error(`method '${method}' needs adversarial inputs xAdv; none given`);
  }
  const d = options.distillation ?? {};
  switch (method) {
    case "st":
      return tf.tidy(() => {
        const ce = crossEntropy(student(x), y) as tf.Scalar;
        return { total: ce, ce: tf.clone(ce) };
      });
    case "at":
      return adversarialTrainingLoss(student, xAdv!, y);
    case "trades":
      return tradesLoss(student, x, xAdv!, y, { beta: options.tradesBeta });
    case "kd":
      return kdLoss({ student, teacher: teacher!, x, y }, d);
    case "ard":
      return ardLoss({ student, teacher: teacher!, x, y, xAdv: xAdv! }, d);
    case "kdiga":
      return kdigaLoss({ student, teacher: teacher!, x, y }, d);
    case "kdiga-ardc":
      return kdigaArdcLoss({ student, teacher: teacher!, x, y, xAdv: xAdv! }, d);
    case "kdiga-arda":
      return kdigaArdaLoss({ student, teacher: teacher!, x, y, xAdv: xAdv! }, d);
  }
}

/**
 * The step's adversarial inputs for the method (detached; call outside the gradient
 * computation), or undefined if it needs none. PGD (Eq. 3) attacks the student in training mode,
 * as ARD's and Madry's code do; TRADES' maximisation uses eval mode, as TRADES' code does.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { methodAdversarialInputs } from "./methods.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([4, 3]) as tf.Tensor2D;
 * const net = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [-1, 4]) as tf.Tensor2D, w) as tf.Tensor2D;
 * const x = tf.randomUniform([2, 2, 2, 1]) as tf.Tensor4D;
 * const xAdv = methodAdversarialInputs("ard", net, net, x, tf.tensor1d([0, 1], "int32"), { eps: 0.1 }, 7);
 * ```
 */
export function methodAdversarialInputs(
  method: MethodName,
  studentTrainMode: Classifier,
  studentEvalMode: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  attack: AttackOptions | undefined,
  seed: number,
): tf.Tensor4D | undefined {
  const kind = methodAdversary(method);
  if (kind === null) return undefined;
  if (attack === undefined) {
    throw new Error(`method '${method}' needs attack options (at least eps); none given`);
  }
  if (kind === "trades") {
    return tradesAdversarialInputs(studentEvalMode, x, {
      eps: attack.eps,
      steps: attack.steps,
      stepSize: attack.stepSize,
      seed,
    });
  }
  return adversarialInputs(studentTrainMode, x, y, { ...attack, seed });
}
