/**
 * The one place `experiments/` imports the kdiga library from. Once the root `mod.ts` re-exports
 * every module, this file becomes `export * from "../mod.ts";` (plus `tf`).
 *
 * @example
 * ```ts
 * import { createModel, useBackend } from "./common.ts";
 * await useBackend();
 * const model = createModel("small-cnn");
 * ```
 * @module
 */
export * from "../backend/mod.ts";
export * from "../models/mod.ts";
export * from "../losses/mod.ts";
export * from "../data/mod.ts";
export * from "../util/mod.ts";
export {
  CHECKPOINT_FILE,
  LOG_FILE,
  train,
  type TrainOptions,
  type TrainResult,
} from "../training/train.ts";
export { assertMethodName, METHOD_NAMES, type MethodName } from "../training/methods.ts";
export type { EpochLogRow } from "../training/log.ts";
export { pgd } from "../attacks/pgd.ts";
export type { AttackOptions } from "../attacks/validate.ts";
export { autoAttack, type AutoAttackOptions } from "../attacks/autoattack.ts";
export { localLinearityMeasure } from "../theory/llm.ts";
export { perExampleCrossEntropy, perExampleInputGradient } from "../theory/loss_surface.ts";
