/**
 * The minimal-norm step from a point onto a hyperplane inside the [0, 1] box, exactly, for the
 * Linf and L2 norms: the projection step of the FAB attack.
 *
 * Problem: given `p` in [0, 1]^d, `w` and `c`, find `d` minimising `||d||` subject to
 * `w . d = c` and `0 <= p + d <= 1`. Each coordinate moves in the direction
 * `sign(c) sign(w_i)` by `m_i` in `[0, r_i]` (`r_i` its room to the box) and buys `|w_i| m_i`
 * of `|c|`. The optimum is `m_i = min(s, r_i)` (Linf) or `m_i = min(s |w_i|, r_i)` (L2) for the
 * smallest `s` with `G(s) = sum_i a_i min(s, b_i) = |c|` (Linf: `a = |w|, b = r`; L2:
 * `a = w^2, b = r / |w|`). `G` is concave, increasing and piecewise linear, so Newton's method
 * from `s0 = |c| / sum(a)` (a lower bound) climbs monotonically and lands exactly on the root
 * after at most one step per breakpoint it passes, typically a handful: O(d) per step, no sort.
 * @module
 */
import type { Norm } from "./validate.ts";

/** What {@link projectOntoHyperplaneInBox} returns. */
export interface HyperplaneStep {
  /** The step `d` (length `p.length`). */
  step: Float64Array;
  /** `false` when no point of the box reaches the hyperplane: `step` then goes as far as it can. */
  feasible: boolean;
}

/**
 * The minimal-norm step `d` with `w . d = c` and `p + d` in [0, 1]^d (see the module docs).
 *
 * @param p a point in [0, 1]^d
 * @param w the hyperplane's normal
 * @param c the required change of `w . x`
 * @example
 * ```ts
 * import { projectOntoHyperplaneInBox } from "./hyperplane.ts";
 * // w = (1, 1), need w.d = 0.2 from (0.5, 0.5): Linf step (0.1, 0.1), L2 step (0.1, 0.1).
 * const { step } = projectOntoHyperplaneInBox([0.5, 0.5], [1, 1], 0.2, "Linf");
 * ```
 */
export function projectOntoHyperplaneInBox(
  p: ArrayLike<number>,
  w: ArrayLike<number>,
  c: number,
  norm: Norm,
): HyperplaneStep {
  const n = p.length;
  if (w.length !== n) throw new Error(`p has ${n} coordinates but w has ${w.length}`);
  const step = new Float64Array(n);
  if (c === 0 || !Number.isFinite(c)) return { step, feasible: c === 0 };
  const sc = c > 0 ? 1 : -1;
  const target = Math.abs(c);
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const dir = new Int8Array(n);
  let slope = 0;
  let reach = 0;
  for (let i = 0; i < n; i++) {
    const wi = w[i];
    if (wi === 0 || !Number.isFinite(wi)) continue;
    dir[i] = wi > 0 ? sc : -sc;
    const room = dir[i] > 0 ? 1 - p[i] : p[i];
    const r = Math.max(room, 0);
    const abs = Math.abs(wi);
    a[i] = norm === "Linf" ? abs : abs * abs;
    b[i] = norm === "Linf" ? r : r / abs;
    slope += a[i];
    reach += a[i] * b[i];
  }
  if (slope === 0) return { step, feasible: false };
  const move = (s: number) => {
    for (let i = 0; i < n; i++) {
      if (dir[i] === 0) continue;
      const m = norm === "Linf" ? Math.min(s, b[i]) : Math.min(s, b[i]) * Math.sqrt(a[i]);
      step[i] = dir[i] * m;
    }
  };
  if (reach < target) {
    move(Infinity);
    return { step, feasible: false };
  }
  let s = target / slope;
  for (let iter = 0; iter < 10 * n + 10; iter++) {
    let g = 0;
    let active = 0;
    for (let i = 0; i < n; i++) {
      if (a[i] === 0) continue;
      if (b[i] > s) {
        g += a[i] * s;
        active += a[i];
      } else {
        g += a[i] * b[i];
      }
    }
    const gap = target - g;
    if (gap <= 1e-14 * target || active === 0) break;
    const next = s + gap / active;
    if (!(next > s)) break;
    s = next;
  }
  move(s);
  return { step, feasible: true };
}
