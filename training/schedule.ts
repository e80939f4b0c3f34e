/**
 * Learning-rate schedules.
 * @module
 */

/**
 * PyTorch's `MultiStepLR` stepped once per epoch: the learning rate of 0-based epoch `epoch` is
 * `baseLr · gamma^k`, k = number of milestones `<= epoch`. The paper's CIFAR-10 setting: base
 * 0.1, milestones [100, 150], gamma 0.1.
 *
 * @example
 * ```ts
 * import { multiStepLr } from "./schedule.ts";
 * multiStepLr(0.1, [100, 150], 0.1, 120); // 0.01
 * ```
 */
export function multiStepLr(
  baseLr: number,
  milestones: readonly number[],
  gamma: number,
  epoch: number,
): number {
  if (!Number.isFinite(baseLr) || baseLr <= 0) {
    throw new Error(`lr must be a finite number > 0; got ${baseLr}`);
  }
  if (!Number.isFinite(gamma) || gamma <= 0) {
    throw new Error(`gamma must be a finite number > 0; got ${gamma}`);
  }
  for (const m of milestones) {
    if (!Number.isInteger(m) || m < 0) {
      throw new Error(`milestones must be integers >= 0; got ${m}`);
    }
  }
  const k = milestones.filter((m) => m <= epoch).length;
  return baseLr * gamma ** k;
}

/**
 * Linear learning-rate warm-up (Goyal et al. 2017): the factor of 1-based step `step` is
 * `min(1, step / warmupSteps)`; 1 throughout when `warmupSteps` is 0. It keeps deep networks
 * trained from scratch with the alignment term from diverging in their first steps.
 *
 * @example
 * ```ts
 * import { warmupFactor } from "./schedule.ts";
 * warmupFactor(16, 64); // 0.25
 * warmupFactor(100, 64); // 1
 * ```
 */
export function warmupFactor(step: number, warmupSteps: number): number {
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) {
    throw new Error(`warm-up steps must be an integer >= 0; got ${warmupSteps}`);
  }
  if (!Number.isInteger(step) || step < 1) {
    throw new Error(`step must be an integer >= 1; got ${step}`);
  }
  return warmupSteps === 0 ? 1 : Math.min(1, step / warmupSteps);
}
