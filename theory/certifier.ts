/**
 * A complete (exact) delta-robustness certifier for piecewise-linear toy nets (ReLU MLPs), and
 * the certified radius by bisection on delta.
 *
 * Branch and bound over ReLU activation patterns, layer by layer. A node fixes the phase of
 * every neuron in the layers before `l` (plus some of layer `l`), so on its polytope
 * `P = box ∩ {phase constraints}` the pre-activations of layer `l` are an exact affine map of
 * x. Their range over the box prunes stable neurons (no LP needed); an unstable neuron is split
 * into its two half-spaces, and a child whose polytope is empty (checked by an LP) is dropped.
 * Interval bounds propagated from layer `l` bound the margin `f_c - f_j` from below and prune
 * whole subtrees. At a leaf every neuron is fixed, the net is affine on `P`, and one LP per
 * class `j` gives the exact minimum of `f_c - f_j` over `P`. So the answer is exact up to the
 * LP's float64 tolerance (1e-9); every counterexample is re-checked by a float64 forward pass.
 *
 * Definition 1 of the paper perturbs with `e ∈ [0, δ]^D`, a ONE-SIDED box; the standard notion
 * (and our default, `box: "symmetric"`) is the Linf ball `[-δ, δ]^D`. `box: "one-sided"` gives
 * the paper's literal definition. The one-sided box is a subset of the symmetric one, so its
 * certified radius is never smaller.
 * @module
 */
import type { DenseLayer64, ToyMlp } from "./toy_mlp.ts";
import { evaluateLayers64, toyMlpSizes, toyMlpToFloat64 } from "./toy_mlp.ts";
import { type LinearConstraint, solveLinearProgram } from "./lp.ts";
import { assertRadius } from "./ball.ts";

/** Which box the perturbation lives in: `[-δ, δ]^D` (default) or the paper's `[0, δ]^D`. */
export type CertifyBox = "symmetric" | "one-sided";

/** Options shared by the certifier functions. */
export interface CertifyOptions {
  /** Perturbation box (default "symmetric"). */
  box?: CertifyBox;
  /** Give up with an error after this many branch-and-bound nodes (default 200_000). */
  maxNodes?: number;
  /** Refuse nets with more hidden ReLUs than this (default 512). */
  maxHiddenNeurons?: number;
}

/** Result of {@link certifyRobustness}. */
export interface CertifyResult {
  /** True iff `argmax f(x + e) = argmax f(x)` for every e in the box (ties count as flips). */
  robust: boolean;
  /** `argmax f(x)` (float64 forward pass). */
  label: number;
  /** A point `x + e` of the box where another class reaches the label's logit (non-robust). */
  counterexample?: Float64Array;
  /** `f_label - max_{j != label} f_j` at the counterexample (<= 0, float64). */
  counterexampleMargin?: number;
  /** Branch-and-bound nodes visited and LPs solved. */
  nodes: number;
  lps: number;
}

/** Result of {@link exactMinimumMargin}. */
export interface MinimumMarginResult {
  label: number;
  /** `min over the box of f_label - max_{j != label} f_j`; robust iff > 0. */
  minMargin: number;
  /** A minimiser (a point of the box). */
  argmin: Float64Array;
  nodes: number;
  lps: number;
}

/** Result of {@link certifiedRadius}. */
export interface CertifiedRadiusResult {
  label: number;
  /** Largest delta certified robust (the bisection's lower end). */
  radius: number;
  /** Smallest delta with a counterexample found (`Infinity` if none up to `maxRadius`). */
  upperBound: number;
  /** True when the net was robust at `maxRadius` itself (the radius is then capped). */
  capped: boolean;
  /** Certifier calls made. */
  calls: number;
}

/** Options of {@link certifiedRadius}. */
export interface CertifiedRadiusOptions extends CertifyOptions {
  /** Stop when `upperBound - radius <= tolerance` (default 1e-4). */
  tolerance?: number;
  /** Largest delta tried (default 1). */
  maxRadius?: number;
}

const BOXES: readonly CertifyBox[] = ["symmetric", "one-sided"];

interface Prepared {
  layers: DenseLayer64[];
  x0: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
  label: number;
  maxNodes: number;
}

function prepare(
  net: ToyMlp,
  x: ArrayLike<number>,
  delta: number,
  options: CertifyOptions,
): Prepared {
  if (typeof net === "function") {
    throw new Error(
      "the exact certifier needs the net's weights (a ToyMlp {params, activation}), not a " +
        "black-box classifier function: completeness rests on enumerating its linear regions",
    );
  }
  const sizes = toyMlpSizes(net);
  if (net.activation !== "relu") {
    throw new Error(
      `the exact certifier needs a piecewise-linear net (activation 'relu'); got '${net.activation}', ` +
        "whose decision regions are not polytopes, so branch and bound with LPs is not exact",
    );
  }
  assertRadius(delta);
  const box = options.box ?? "symmetric";
  if (!BOXES.includes(box)) {
    throw new Error(`unknown box '${box}': allowed are ${BOXES.join(", ")}`);
  }
  const hidden = sizes.slice(1, -1).reduce((a, b) => a + b, 0);
  const maxHidden = options.maxHiddenNeurons ?? 512;
  if (hidden > maxHidden) {
    throw new Error(
      `net has ${hidden} hidden ReLUs, more than maxHiddenNeurons=${maxHidden}: the exact ` +
        "certifier's branch and bound is exponential in the unstable neurons; use a smaller net " +
        "or raise maxHiddenNeurons",
    );
  }
  if (x.length !== sizes[0]) {
    throw new Error(`x has ${x.length} coordinates but the net takes ${sizes[0]} inputs`);
  }
  if (sizes[sizes.length - 1] < 2) throw new Error("robustness needs at least 2 classes");
  const x0 = Float64Array.from(x);
  if (x0.some((v) => !Number.isFinite(v))) throw new Error(`x must be finite; got [${x0}]`);
  const lower = x0.map((v) => (box === "symmetric" ? v - delta : v));
  const upper = x0.map((v) => v + delta);
  const layers = toyMlpToFloat64(net);
  const logits = evaluateLayers64(layers, "relu", x0);
  let label = 0;
  for (let j = 1; j < logits.length; j++) if (logits[j] > logits[label]) label = j;
  const maxNodes = options.maxNodes ?? 200_000;
  return { layers, x0, lower, upper, label, maxNodes };
}

/** `f_label(x) - max_{j != label} f_j(x)` in float64. */
function marginAt(layers: DenseLayer64[], label: number, x: ArrayLike<number>): number {
  const z = evaluateLayers64(layers, "relu", x);
  let other = -Infinity;
  for (let j = 0; j < z.length; j++) if (j !== label) other = Math.max(other, z[j]);
  return z[label] - other;
}

interface SearchNode {
  layer: number;
  /** Pre-activations of `layer` as `A x + a`: A is [out, D] row-major. */
  A: Float64Array;
  a: Float64Array;
  /** Phase per neuron of `layer`: 1 active, -1 inactive, 0 undecided. */
  phases: Int8Array;
  constraints: LinearConstraint[];
  /** A point of the node's polytope (its Chebyshev centre) and that ball's radius. */
  point: Float64Array;
  inradius: number;
}

type SearchMode = "decide" | "minimum" | "regions";

interface SearchOutcome {
  /** decide: some point has margin <= 0. */
  flipped: boolean;
  best: number;
  bestPoint: Float64Array;
  regions: number;
  nodes: number;
  lps: number;
}

/** Range of each row of `A x + a` over the box [lower, upper]. */
function rowRanges(A: Float64Array, a: Float64Array, lower: Float64Array, upper: Float64Array) {
  const rows = a.length, d = lower.length;
  const lo = new Float64Array(rows), hi = new Float64Array(rows);
  for (let k = 0; k < rows; k++) {
    let l = a[k], h = a[k];
    for (let i = 0; i < d; i++) {
      const w = A[k * d + i];
      if (w >= 0) {
        l += w * lower[i];
        h += w * upper[i];
      } else {
        l += w * upper[i];
        h += w * lower[i];
      }
    }
    lo[k] = l;
    hi[k] = h;
  }
  return { lo, hi };
}

/** Chebyshev centre of `box ∩ constraints`: a feasible point and its inradius, or null. */
function chebyshevCentre(
  constraints: readonly LinearConstraint[],
  lower: Float64Array,
  upper: Float64Array,
): { point: Float64Array; inradius: number } | null {
  const d = lower.length;
  let maxHalf = 0;
  for (let i = 0; i < d; i++) maxHalf = Math.max(maxHalf, (upper[i] - lower[i]) / 2);
  const rows: LinearConstraint[] = [];
  for (const c of constraints) {
    let norm = 0;
    for (let i = 0; i < d; i++) norm += c.a[i] * c.a[i];
    const a = new Float64Array(d + 1);
    for (let i = 0; i < d; i++) a[i] = c.a[i];
    a[d] = Math.sqrt(norm);
    rows.push({ a, b: c.b });
  }
  for (let i = 0; i < d; i++) {
    const up = new Float64Array(d + 1), down = new Float64Array(d + 1);
    up[i] = 1;
    up[d] = 1;
    down[i] = -1;
    down[d] = 1;
    rows.push({ a: up, b: upper[i] }, { a: down, b: -lower[i] });
  }
  const objective = new Float64Array(d + 1);
  objective[d] = -1;
  const sol = solveLinearProgram({
    objective,
    constraints: rows,
    lower: [...lower, 0],
    upper: [...upper, maxHalf],
  });
  if (sol.status !== "optimal") return null;
  return { point: sol.x.slice(0, d), inradius: sol.x[d] };
}

function search(p: Prepared, mode: SearchMode): SearchOutcome {
  const { layers, x0, lower, upper, label } = p;
  const d = x0.length;
  const last = layers.length - 1;
  let halfWidth = 0;
  for (let i = 0; i < d; i++) halfWidth = Math.max(halfWidth, (upper[i] - lower[i]) / 2);
  const fullDimTol = 1e-9 * Math.max(halfWidth, 1e-12);
  const out: SearchOutcome = {
    flipped: false,
    best: marginAt(layers, label, x0),
    bestPoint: Float64Array.from(x0),
    regions: 0,
    nodes: 0,
    lps: 0,
  };
  // In decide mode, anything with margin <= 0 is a flip; in minimum mode, prune what cannot
  // beat the incumbent.
  const pruneAbove = () => (mode === "decide" ? 0 : mode === "minimum" ? out.best : Infinity);
  const consider = (point: Float64Array) => {
    const m = marginAt(layers, label, point);
    if (m < out.best) {
      out.best = m;
      out.bestPoint = Float64Array.from(point);
    }
    if (mode === "decide" && m <= 0) out.flipped = true;
  };
  if (mode === "decide" && out.best <= 0) {
    out.flipped = true;
    return out;
  }

  // Root: layer 0 pre-activations are W0^T x + b0.
  const l0 = layers[0];
  const A0 = new Float64Array(l0.outSize * d);
  for (let k = 0; k < l0.outSize; k++) {
    for (let i = 0; i < d; i++) A0[k * d + i] = l0.weight[i * l0.outSize + k];
  }
  const stack: SearchNode[] = [{
    layer: 0,
    A: A0,
    a: Float64Array.from(l0.bias),
    phases: new Int8Array(l0.outSize),
    constraints: [],
    point: Float64Array.from(x0),
    inradius: halfWidth,
  }];

  while (stack.length > 0) {
    if (mode === "decide" && out.flipped) break;
    const node = stack.pop()!;
    out.nodes++;
    if (out.nodes > p.maxNodes) {
      const hidden = layers.slice(0, -1).reduce((s, l) => s + l.outSize, 0);
      throw new Error(
        `exact certifier gave up after maxNodes=${p.maxNodes} branch-and-bound nodes (net with ` +
          `${hidden} hidden ReLUs, box half-width ${halfWidth}): too many linear regions for ` +
          "this method; use a smaller net or radius, or raise maxNodes",
      );
    }
    consider(node.point);
    if (mode === "decide" && out.flipped) break;

    if (node.layer === last) {
      // Leaf: the net is affine on the polytope; the margin to each class is an LP.
      if (mode === "regions") {
        if (node.inradius > fullDimTol) out.regions++;
        continue;
      }
      for (let j = 0; j < node.a.length; j++) {
        if (j === label) continue;
        const objective = new Float64Array(d);
        for (let i = 0; i < d; i++) objective[i] = node.A[label * d + i] - node.A[j * d + i];
        let boxLower = node.a[label] - node.a[j];
        for (let i = 0; i < d; i++) {
          boxLower += objective[i] * (objective[i] >= 0 ? lower[i] : upper[i]);
        }
        if (boxLower > pruneAbove()) continue;
        const sol = solveLinearProgram({ objective, constraints: node.constraints, lower, upper });
        out.lps++;
        if (sol.status !== "optimal") break; // empty polytope (round-off); nothing to find
        consider(sol.x);
        const lpValue = sol.value + node.a[label] - node.a[j];
        if (mode === "decide" && lpValue <= 0 && !out.flipped) {
          // The LP says this region reaches a tie; keep its point as the counterexample.
          out.flipped = true;
          out.best = Math.min(out.best, marginAt(layers, label, sol.x));
          out.bestPoint = sol.x;
        }
        if (mode === "decide" && out.flipped) break;
      }
      continue;
    }

    const { lo, hi } = rowRanges(node.A, node.a, lower, upper);
    const phases = Int8Array.from(node.phases);
    let split = -1;
    let splitScore = -Infinity;
    for (let k = 0; k < phases.length; k++) {
      if (phases[k] !== 0) continue;
      if (lo[k] >= 0) phases[k] = 1;
      else if (hi[k] <= 0) phases[k] = -1;
      else {
        const score = Math.min(-lo[k], hi[k]);
        if (score > splitScore) {
          splitScore = score;
          split = k;
        }
      }
    }
    if (
      mode !== "regions" &&
      marginLowerBound(layers, node.layer, lo, hi, phases, label) > pruneAbove()
    ) {
      continue;
    }
    if (split >= 0) {
      for (const phase of [1, -1] as const) {
        // active: -(A_k x + a_k) <= 0; inactive: A_k x + a_k <= 0
        const row = new Float64Array(d);
        for (let i = 0; i < d; i++) row[i] = -phase * node.A[split * d + i];
        const constraints = [...node.constraints, { a: row, b: phase * node.a[split] }];
        const centre = chebyshevCentre(constraints, lower, upper);
        out.lps++;
        if (centre === null) continue;
        const childPhases = Int8Array.from(phases);
        childPhases[split] = phase;
        stack.push({ ...node, phases: childPhases, constraints, ...centre });
      }
      continue;
    }
    // Every neuron of this layer is fixed: compose into the next layer's affine map.
    const next = layers[node.layer + 1];
    const width = phases.length;
    const A = new Float64Array(next.outSize * d);
    const a = Float64Array.from(next.bias);
    for (let k = 0; k < width; k++) {
      if (phases[k] !== 1) continue;
      const row = k * next.outSize;
      for (let o = 0; o < next.outSize; o++) {
        const w = next.weight[row + o];
        if (w === 0) continue;
        a[o] += w * node.a[k];
        for (let i = 0; i < d; i++) A[o * d + i] += w * node.A[k * d + i];
      }
    }
    stack.push({
      ...node,
      layer: node.layer + 1,
      A,
      a,
      phases: new Int8Array(next.outSize),
    });
  }
  return out;
}

/**
 * Lower bound of `min_j (f_label - f_j)` from the pre-activation ranges of `layer` (interval
 * propagation through the remaining layers; phases fixed by splits are respected).
 */
function marginLowerBound(
  layers: DenseLayer64[],
  layer: number,
  lo: Float64Array,
  hi: Float64Array,
  phases: Int8Array,
  label: number,
): number {
  let hLo = new Float64Array(lo.length), hHi = new Float64Array(lo.length);
  for (let k = 0; k < lo.length; k++) {
    if (phases[k] === -1) continue;
    hLo[k] = Math.max(0, lo[k]);
    hHi[k] = Math.max(0, hi[k]);
  }
  for (let l = layer + 1; l < layers.length - 1; l++) {
    const ly = layers[l];
    const nLo = Float64Array.from(ly.bias), nHi = Float64Array.from(ly.bias);
    for (let i = 0; i < ly.inSize; i++) {
      for (let o = 0; o < ly.outSize; o++) {
        const w = ly.weight[i * ly.outSize + o];
        nLo[o] += w >= 0 ? w * hLo[i] : w * hHi[i];
        nHi[o] += w >= 0 ? w * hHi[i] : w * hLo[i];
      }
    }
    hLo = nLo.map((v) => Math.max(0, v));
    hHi = nHi.map((v) => Math.max(0, v));
  }
  const outL = layers[layers.length - 1];
  let bound = Infinity;
  for (let j = 0; j < outL.outSize; j++) {
    if (j === label) continue;
    let m = outL.bias[label] - outL.bias[j];
    for (let i = 0; i < outL.inSize; i++) {
      const w = outL.weight[i * outL.outSize + label] - outL.weight[i * outL.outSize + j];
      m += w >= 0 ? w * hLo[i] : w * hHi[i];
    }
    bound = Math.min(bound, m);
  }
  return bound;
}

/**
 * Decides exactly whether a ReLU toy net is delta-robust at `x`: no point of the box around `x`
 * makes another class reach the logit of `argmax f(x)`.
 *
 * @example
 * ```ts
 * import { initToyMlp } from "./toy_mlp.ts";
 * import { certifyRobustness } from "./certifier.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const net = initToyMlp([2, 8, 2], { seed: 0 });
 * const r = certifyRobustness(net, [0.3, 0.6], 0.05);
 * console.log(r.robust, r.counterexample);
 * ```
 */
export function certifyRobustness(
  net: ToyMlp,
  x: ArrayLike<number>,
  delta: number,
  options: CertifyOptions = {},
): CertifyResult {
  const p = prepare(net, x, delta, options);
  const s = search(p, "decide");
  const result: CertifyResult = { robust: !s.flipped, label: p.label, nodes: s.nodes, lps: s.lps };
  if (s.flipped) {
    result.counterexample = s.bestPoint;
    result.counterexampleMargin = marginAt(p.layers, p.label, s.bestPoint);
  }
  return result;
}

/**
 * The exact minimum over the box of the margin `f_label - max_{j != label} f_j` (branch and
 * bound with an incumbent), and a minimiser.
 *
 * @example
 * ```ts
 * import { initToyMlp } from "./toy_mlp.ts";
 * import { exactMinimumMargin } from "./certifier.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const r = exactMinimumMargin(initToyMlp([2, 8, 2], { seed: 0 }), [0.3, 0.6], 0.05);
 * console.log(r.minMargin > 0 ? "robust" : "not robust");
 * ```
 */
export function exactMinimumMargin(
  net: ToyMlp,
  x: ArrayLike<number>,
  delta: number,
  options: CertifyOptions = {},
): MinimumMarginResult {
  const p = prepare(net, x, delta, options);
  const s = search(p, "minimum");
  return { label: p.label, minMargin: s.best, argmin: s.bestPoint, nodes: s.nodes, lps: s.lps };
}

/**
 * The number of linear regions (full-dimensional activation patterns) of a ReLU toy net that
 * meet the box around `x`. 1 means the net is affine on the whole box: the local-linearity
 * assumption of Proposition 1 holds there.
 *
 * @example
 * ```ts
 * import { initToyMlp } from "./toy_mlp.ts";
 * import { countLinearRegions } from "./certifier.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const n = countLinearRegions(initToyMlp([2, 8, 2], { seed: 0 }), [0.3, 0.6], 0.01);
 * ```
 */
export function countLinearRegions(
  net: ToyMlp,
  x: ArrayLike<number>,
  delta: number,
  options: CertifyOptions = {},
): number {
  return search(prepare(net, x, delta, options), "regions").regions;
}

/**
 * The certified radius at `x`: the largest delta for which {@link certifyRobustness} proves
 * robustness, by bisection (robustness is monotone in delta since the boxes are nested). Each
 * counterexample also shrinks the upper end to its own distance from `x`.
 *
 * @example
 * ```ts
 * import { initToyMlp } from "./toy_mlp.ts";
 * import { certifiedRadius } from "./certifier.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const r = certifiedRadius(initToyMlp([2, 8, 2], { seed: 0 }), [0.3, 0.6], { tolerance: 1e-3 });
 * console.log(r.radius, r.upperBound);
 * ```
 */
export function certifiedRadius(
  net: ToyMlp,
  x: ArrayLike<number>,
  options: CertifiedRadiusOptions = {},
): CertifiedRadiusResult {
  const tolerance = options.tolerance ?? 1e-4;
  const maxRadius = options.maxRadius ?? 1;
  assertRadius(tolerance, "tolerance");
  assertRadius(maxRadius, "maxRadius");
  const x0 = Float64Array.from(x);
  const distance = (c: Float64Array) => {
    let m = 0;
    for (let i = 0; i < c.length; i++) m = Math.max(m, Math.abs(c[i] - x0[i]));
    return m;
  };
  let calls = 1;
  const top = certifyRobustness(net, x0, maxRadius, options);
  if (top.robust) {
    return { label: top.label, radius: maxRadius, upperBound: Infinity, capped: true, calls };
  }
  let lo = 0;
  let hi = Math.min(maxRadius, distance(top.counterexample!));
  if (top.counterexampleMargin! <= 0 && distance(top.counterexample!) === 0) {
    return { label: top.label, radius: 0, upperBound: 0, capped: false, calls };
  }
  while (hi - lo > tolerance) {
    const mid = (lo + hi) / 2;
    const r = certifyRobustness(net, x0, mid, options);
    calls++;
    if (r.robust) lo = mid;
    else hi = Math.min(mid, Math.max(distance(r.counterexample!), lo));
  }
  return { label: top.label, radius: lo, upperBound: hi, capped: false, calls };
}
