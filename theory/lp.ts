/**
 * A small dense linear-programming solver in float64 (two-phase tableau simplex), for the
 * exact robustness certifier of piecewise-linear toy nets: on one linear region the net is
 * affine, and deciding whether a point of `box ∩ region` flips the argmax is an LP.
 *
 * Sizes are tiny (a few input dimensions, at most a few hundred rows), so a dense tableau with
 * Dantzig's rule, falling back to Bland's rule on degenerate streaks (no cycling), is enough.
 * @module
 */

/** One inequality row `a · x <= b`. */
export interface LinearConstraint {
  a: ArrayLike<number>;
  b: number;
}

/** `minimise objective · x` subject to `constraints` and `lower <= x <= upper` (all finite). */
export interface LinearProgram {
  objective: ArrayLike<number>;
  constraints: readonly LinearConstraint[];
  lower: ArrayLike<number>;
  upper: ArrayLike<number>;
}

/** Result of {@link solveLinearProgram}. The domain is a box, so an LP is never unbounded. */
export interface LinearProgramSolution {
  status: "optimal" | "infeasible";
  /** A minimiser (empty when infeasible). */
  x: Float64Array;
  /** `objective · x` at the minimiser (`Infinity` when infeasible). */
  value: number;
  /** Simplex pivots used (both phases). */
  pivots: number;
}

/** Options of {@link solveLinearProgram}. */
export interface SolveLinearProgramOptions {
  /** Pivot and feasibility tolerance (default 1e-9). */
  tolerance?: number;
  /** Give up (throw) after this many pivots (default 50_000). */
  maxPivots?: number;
}

/**
 * Solves a small LP exactly up to float64 round-off: `min c·x  s.t.  A x <= b, lower <= x <= upper`.
 *
 * @example
 * ```ts
 * import { solveLinearProgram } from "./lp.ts";
 * // min -x - y  s.t.  x + y <= 1,  0 <= x, y <= 1   ->  value -1
 * const sol = solveLinearProgram({
 *   objective: [-1, -1],
 *   constraints: [{ a: [1, 1], b: 1 }],
 *   lower: [0, 0],
 *   upper: [1, 1],
 * });
 * console.log(sol.status, sol.value); // "optimal" -1
 * ```
 */
export function solveLinearProgram(
  lp: LinearProgram,
  options: SolveLinearProgramOptions = {},
): LinearProgramSolution {
  const tol = options.tolerance ?? 1e-9;
  const maxPivots = options.maxPivots ?? 50_000;
  const n = lp.objective.length;
  if (lp.lower.length !== n || lp.upper.length !== n) {
    throw new Error(
      `lower and upper must have the objective's length ${n}; got ${lp.lower.length} and ${lp.upper.length}`,
    );
  }
  for (let i = 0; i < n; i++) {
    const lo = lp.lower[i], hi = lp.upper[i];
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
      throw new Error(`bounds of variable ${i} must be finite; got [${lo}, ${hi}]`);
    }
    if (hi < lo - tol) return infeasible(0);
  }
  lp.constraints.forEach((c, r) => {
    if (c.a.length !== n) {
      throw new Error(`constraint ${r} has ${c.a.length} coefficients; expected ${n}`);
    }
    if (!Number.isFinite(c.b)) throw new Error(`constraint ${r} has a non-finite bound ${c.b}`);
  });

  // Shift y = x - lower >= 0; upper bounds become rows y_i <= upper_i - lower_i.
  const rows: { g: Float64Array; h: number }[] = [];
  for (const c of lp.constraints) {
    const g = Float64Array.from(c.a as ArrayLike<number>);
    let h = c.b;
    for (let i = 0; i < n; i++) h -= g[i] * lp.lower[i];
    rows.push({ g, h });
  }
  for (let i = 0; i < n; i++) {
    const g = new Float64Array(n);
    g[i] = 1;
    rows.push({ g, h: Math.max(0, lp.upper[i] - lp.lower[i]) });
  }
  const m = rows.length;
  const needsArtificial = rows.map((r) => r.h < 0);
  const k = needsArtificial.filter(Boolean).length;
  const cols = n + m + k; // y, slacks, artificials; the right-hand side is column `cols`
  const width = cols + 1;
  const t = new Float64Array(m * width);
  const basis = new Int32Array(m);
  let art = n + m;
  for (let r = 0; r < m; r++) {
    const sign = needsArtificial[r] ? -1 : 1;
    const base = r * width;
    for (let j = 0; j < n; j++) t[base + j] = sign * rows[r].g[j];
    t[base + n + r] = sign;
    t[base + cols] = sign * rows[r].h;
    if (needsArtificial[r]) {
      t[base + art] = 1;
      basis[r] = art++;
    } else {
      basis[r] = n + r;
    }
  }
  let pivots = 0;
  const isArtificial = (j: number) => j >= n + m;

  // Reduced costs z_j = c_j - sum_r c_B(r) t[r][j]; z[cols] = -objective value.
  const reducedCosts = (cost: (j: number) => number): Float64Array => {
    const z = new Float64Array(width);
    for (let j = 0; j < cols; j++) z[j] = cost(j);
    for (let r = 0; r < m; r++) {
      const cb = cost(basis[r]);
      if (cb === 0) continue;
      const base = r * width;
      for (let j = 0; j < width; j++) z[j] -= cb * t[base + j];
    }
    return z;
  };

  const pivot = (pr: number, pc: number, z: Float64Array) => {
    const base = pr * width;
    const inv = 1 / t[base + pc];
    for (let j = 0; j < width; j++) t[base + j] *= inv;
    t[base + pc] = 1;
    for (let r = 0; r < m; r++) {
      if (r === pr) continue;
      const f = t[r * width + pc];
      if (f === 0) continue;
      const rb = r * width;
      for (let j = 0; j < width; j++) t[rb + j] -= f * t[base + j];
      t[rb + pc] = 0;
    }
    const fz = z[pc];
    if (fz !== 0) {
      for (let j = 0; j < width; j++) z[j] -= fz * t[base + j];
      z[pc] = 0;
    }
    basis[pr] = pc;
    pivots++;
    if (pivots > maxPivots) {
      throw new Error(
        `LP solver exceeded ${maxPivots} pivots (n=${n}, rows=${m}); raise maxPivots`,
      );
    }
  };

  const runSimplex = (z: Float64Array, allowed: (j: number) => boolean) => {
    let degenerateStreak = 0;
    for (;;) {
      const bland = degenerateStreak > n + m;
      let pc = -1;
      let best = -tol;
      for (let j = 0; j < cols; j++) {
        if (!allowed(j) || z[j] >= -tol) continue;
        if (bland) {
          pc = j;
          break;
        }
        if (z[j] < best) {
          best = z[j];
          pc = j;
        }
      }
      if (pc < 0) return;
      let pr = -1;
      let ratio = Infinity;
      for (let r = 0; r < m; r++) {
        const a = t[r * width + pc];
        if (a <= tol) continue;
        const q = Math.max(0, t[r * width + cols]) / a;
        if (pr < 0 || q < ratio - tol) {
          pr = r;
          ratio = q;
        } else if (q <= ratio + tol && basis[r] < basis[pr]) {
          // Ties go to the smallest basic index (Bland), which rules out cycling.
          pr = r;
          ratio = Math.min(ratio, q);
        }
      }
      if (pr < 0) throw new Error("LP unbounded: impossible on a bounded box (numerical trouble)");
      degenerateStreak = ratio <= tol ? degenerateStreak + 1 : 0;
      pivot(pr, pc, z);
    }
  };

  if (k > 0) {
    const z1 = reducedCosts((j) => (isArtificial(j) ? 1 : 0));
    runSimplex(z1, () => true);
    let scale = 1;
    for (const r of rows) scale = Math.max(scale, Math.abs(r.h));
    if (-z1[cols] > tol * scale * 10) return infeasible(pivots);
    // Drive artificials (at level zero) out of the basis where a real column can replace them.
    for (let r = 0; r < m; r++) {
      if (!isArtificial(basis[r])) continue;
      let pc = -1;
      for (let j = 0; j < n + m; j++) {
        if (Math.abs(t[r * width + j]) > tol) {
          pc = j;
          break;
        }
      }
      if (pc >= 0) pivot(r, pc, z1);
    }
  }
  const z2 = reducedCosts((j) => (j < n ? lp.objective[j] : 0));
  runSimplex(z2, (j) => !isArtificial(j));

  const x = new Float64Array(n);
  for (let r = 0; r < m; r++) {
    if (basis[r] < n) x[basis[r]] = t[r * width + cols];
  }
  let value = 0;
  for (let i = 0; i < n; i++) {
    // Clamp round-off so the minimiser is inside the box it was asked for.
    x[i] = Math.min(lp.upper[i], Math.max(lp.lower[i], x[i] + lp.lower[i]));
    value += lp.objective[i] * x[i];
  }
  return { status: "optimal", x, value, pivots };
}

function infeasible(pivots: number): LinearProgramSolution {
  return { status: "infeasible", x: new Float64Array(0), value: Infinity, pivots };
}
