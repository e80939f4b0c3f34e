/**
 * The options and results shared by kdiga's training losses, with the paper's defaults
 * (section 4.1: T = 1, λ_CE = λ_KL = 0.5) and the checks every loss runs up front.
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { Classifier } from "../models/types.ts";

/**
 * How the KL-divergence term is reduced over the batch.
 *
 * - `"mean"` (default): PyTorch's `nn.KLDivLoss()` default, the mean over batch *and* classes,
 *   `sum / (B * C)`. ARD's code and the KDIGA authors' code use it, so the paper's loss weights
 *   were tuned with it.
 * - `"batchmean"`: the mathematically proper KL per example, averaged over the batch
 *   (`sum / B`); `C` times larger than `"mean"`. TRADES uses it.
 * - `"sum"`, `"none"` (per-example vector [B]).
 */
export type KlReduction = "mean" | "batchmean" | "sum" | "none";

/** The valid {@link KlReduction}s. */
export const KL_REDUCTIONS: readonly KlReduction[] = ["mean", "batchmean", "sum", "none"];

/**
 * Which input-gradient alignment term (KDIGA, Eq. 5).
 *
 * - `"batch"` (default, the authors' code): the input gradients `S = ∇_x CE(f_s(x), y)` and
 *   `T = ∇_x CE(f_t(x), y)` of the *batch-mean* cross-entropy, and one Frobenius norm
 *   `||S - T||_2` over the whole batch. Its default weight is `λ_IGA = γ / B`, γ = 0.5.
 * - `"per-example"`: the per-example gradients `d_i = ∇_x CE_i(f_s) - ∇_x CE_i(f_t)` and the mean
 *   of their norms, `(1/B) Σ_i ||d_i||_2`. Its default weight is `λ_IGA = γ / B^{3/2}`, which gives
 *   the same value as `"batch"` when every `||d_i||` is equal (`"batch"` is then
 *   `(γ/B) (1/B) sqrt(B) d`); otherwise `"batch"` weighs large differences more.
 */
export type AlignmentMode = "batch" | "per-example";

/** The valid {@link AlignmentMode}s. */
export const ALIGNMENT_MODES: readonly AlignmentMode[] = ["batch", "per-example"];

/** Options of the distillation losses (KD, ARD, KDIGA and its variants). */
export interface DistillationOptions {
  /** λ_CE, weight of the student's cross-entropy on clean inputs (default 0.5, §4.1). */
  lambdaCe?: number;
  /** λ_KL (λ_KD in Eq. 1), weight of the KL term (default 0.5, §4.1). */
  lambdaKl?: number;
  /** Temperature T (default 1, §4.1). The KL term is scaled by T² as in Eq. 1. */
  temperature?: number;
  /** Reduction of the KL term (default `"mean"`, see {@link KlReduction}). */
  klReduction?: KlReduction;
}

/** Options of the losses with input gradient alignment (Eqs. 5-7). */
export interface AlignmentOptions {
  /** Which alignment term (default `"batch"`, see {@link AlignmentMode}). */
  alignment?: AlignmentMode;
  /** γ: λ_IGA = γ / B (`"batch"`) or γ / B^{3/2} (`"per-example"`). Default 0.5 (authors' CIFAR-10). */
  gamma?: number;
  /** λ_IGA given directly; overrides `gamma`. */
  lambdaIga?: number;
}

/** The inputs of a distillation loss. */
export interface DistillationInputs {
  /** The student, differentiable in the parameters being trained. */
  student: Classifier;
  /** The frozen teacher. */
  teacher: Classifier;
  /** Clean inputs [B, H, W, C] in [0, 1]. */
  x: tf.Tensor4D;
  /** Integer labels [B]. */
  y: tf.Tensor1D;
}

/** The inputs of a loss that also needs adversarial inputs `x + δ` (Eq. 3). */
export interface AdversarialInputs extends DistillationInputs {
  /**
   * `x + δ`, δ from Eq. 3 (PGD on the student's cross-entropy), held constant. Make it with
   * `adversarialInputs` *outside* any gradient computation, so the attack is not taped.
   */
  xAdv: tf.Tensor4D;
}

/**
 * A loss value and its parts, all scalars, for the optimiser and the logs. `ce` is the
 * student's cross-entropy term, `kl` the (unweighted, T²-scaled) KL term, `alignment` the
 * (unweighted) input gradient alignment norm.
 */
export interface LossParts {
  total: tf.Scalar;
  ce?: tf.Scalar;
  kl?: tf.Scalar;
  alignment?: tf.Scalar;
}

/** The distillation options with every default filled in. */
export interface ResolvedDistillationOptions {
  lambdaCe: number;
  lambdaKl: number;
  temperature: number;
  klReduction: KlReduction;
}

/** Throws unless `value` is a finite number `>= 0`, naming the option. */
export function checkNonNegative(name: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new Error(`${name} must be a finite number >= 0; got ${value}`);
  }
}

/** Throws unless `value` is a finite number `> 0`, naming the option. */
export function checkPositive(name: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} must be a finite number > 0; got ${value}`);
  }
}

/**
 * Fills in the paper's defaults (§4.1) and checks the values.
 *
 * @example
 * ```ts
 * import { resolveDistillationOptions } from "./options.ts";
 * const o = resolveDistillationOptions({ temperature: 4 });
 * // { lambdaCe: 0.5, lambdaKl: 0.5, temperature: 4, klReduction: "mean" }
 * ```
 */
export function resolveDistillationOptions(
  options: DistillationOptions = {},
): ResolvedDistillationOptions {
  const resolved = {
    lambdaCe: options.lambdaCe ?? 0.5,
    lambdaKl: options.lambdaKl ?? 0.5,
    temperature: options.temperature ?? 1,
    klReduction: options.klReduction ?? "mean",
  };
  checkNonNegative("lambdaCe", resolved.lambdaCe);
  checkNonNegative("lambdaKl", resolved.lambdaKl);
  checkPositive("temperature", resolved.temperature);
  if (!KL_REDUCTIONS.includes(resolved.klReduction)) {
    throw new Error(
      `unknown klReduction '${resolved.klReduction}': allowed are ${KL_REDUCTIONS.join(", ")}`,
    );
  }
  return resolved;
}

/**
 * The alignment mode and its weight λ_IGA for a batch of `batchSize` (see {@link AlignmentMode}).
 *
 * @example
 * ```ts
 * import { resolveAlignmentOptions } from "./options.ts";
 * const { mode, lambdaIga } = resolveAlignmentOptions({}, 125); // "batch", 0.5 / 125
 * ```
 */
export function resolveAlignmentOptions(
  options: AlignmentOptions,
  batchSize: number,
): { mode: AlignmentMode; lambdaIga: number } {
  const mode = options.alignment ?? "batch";
  if (!ALIGNMENT_MODES.includes(mode)) {
    throw new Error(`unknown alignment '${mode}': allowed are ${ALIGNMENT_MODES.join(", ")}`);
  }
  if (options.lambdaIga !== undefined) {
    checkNonNegative("lambdaIga", options.lambdaIga);
    return { mode, lambdaIga: options.lambdaIga };
  }
  const gamma = options.gamma ?? 0.5;
  checkNonNegative("gamma", gamma);
  const scale = mode === "batch" ? batchSize : batchSize ** 1.5;
  return { mode, lambdaIga: gamma / scale };
}

/** Checks that `x` is [B, H, W, C] and `y` is [B] (and `xAdv`, when given, has x's shape). */
export function checkBatch(x: tf.Tensor, y: tf.Tensor, xAdv?: tf.Tensor): void {
  if (x.rank !== 4) {
    throw new Error(
      `x must be a batch of images [batch, height, width, channels]; got shape [${x.shape}]`,
    );
  }
  if (y.rank !== 1 || y.shape[0] !== x.shape[0]) {
    throw new Error(`y must be labels [${x.shape[0]}] matching x's batch; got shape [${y.shape}]`);
  }
  if (xAdv !== undefined && (xAdv.rank !== 4 || xAdv.shape.some((d, i) => d !== x.shape[i]))) {
    throw new Error(`xAdv must have x's shape [${x.shape}]; got [${xAdv.shape}]`);
  }
}
