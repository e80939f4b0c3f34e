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
