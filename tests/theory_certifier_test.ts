// The exact certifier against dense grids, closed forms and line-arrangement counts.
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../backend/mod.ts";
import {
  certifiedRadius,
  certifyRobustness,
  countLinearRegions,
  type DenseLayer64,
  disposeToyMlp,
  evaluateLayers64,
  exactMinimumMargin,
  initToyMlp,
  toyMlpClassifier,
  toyMlpFromArrays,
  toyMlpToFloat64,
} from "../theory/mod.ts";
import { seededRandom } from "../util/rng.ts";

await useBackend();

function margin(layers: DenseLayer64[], label: number, x: number[]): number {
  const z = evaluateLayers64(layers, "relu", x);
  let other = -Infinity;
  z.forEach((v, j) => j !== label && (other = Math.max(other, v)));
  return z[label] - other;
}

/** Upper bound on the Linf-Lipschitz constant (sum of |d/dx_i|) of every f_c - f_j. */
function lipschitzBound(layers: DenseLayer64[]): number {
  // |W_L|^T ... |W_0|^T applied to unit vectors, via absolute-value products.
  const d = layers[0].inSize;
  let rows: number[][] = Array.from(
    { length: d },
    (_, i) => Array.from({ length: d }, (_, k) => (i === k ? 1 : 0)),
  );
  for (const l of layers) {
    rows = Array.from({ length: l.outSize }, (_, o) =>
      Array.from({ length: d }, (_, k) => {
        let s = 0;
        for (let i = 0; i < l.inSize; i++) s += Math.abs(l.weight[i * l.outSize + o]) * rows[i][k];
        return s;
      }));
  }
  let best = 0;
  for (let c = 0; c < rows.length; c++) {
    for (let j = 0; j < rows.length; j++) {
      if (j !== c) best = Math.max(best, rows[c].reduce((s, v, k) => s + v + rows[j][k], 0));
    }
  }
  return best;
}

/** Minimum margin over an n x n grid of the box [x + lo, x + hi]^2. */
function gridMinimum(
  layers: DenseLayer64[],
  label: number,
  x: number[],
  lo: number,
  hi: number,
  n: number,
) {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const p = [x[0] + lo + (hi - lo) * i / (n - 1), x[1] + lo + (hi - lo) * j / (n - 1)];
      best = Math.min(best, margin(layers, label, p));
    }
  }
  return best;
}

Deno.test("certifier agrees with a dense grid search on 2-D toy nets, point by point", () => {
  const rand = seededRandom(3);
  const n = 241;
  let robustSeen = 0, flipSeen = 0;
  for (let seed = 0; seed < 8; seed++) {
    const classes = 2 + (seed % 3);
    const net = initToyMlp([2, 8, 8, classes], { seed, weightScale: 1.5 });
    const layers = toyMlpToFloat64(net);
    const lip = lipschitzBound(layers);
    for (let p = 0; p < 4; p++) {
      const x = [2 * rand() - 1, 2 * rand() - 1];
      const delta = 0.05 + 0.4 * rand();
      for (const box of ["symmetric", "one-sided"] as const) {
        const [lo, hi] = box === "symmetric" ? [-delta, delta] : [0, delta];
        const exact = exactMinimumMargin(net, x, delta, { box });
        const decided = certifyRobustness(net, x, delta, { box });
        const grid = gridMinimum(layers, exact.label, x, lo, hi, n);
        const slackOfGrid = lip * ((hi - lo) / (n - 1)) / 2;
        const where = `seed ${seed} point ${p} box ${box}: exact ${exact.minMargin}, grid ${grid}`;
        // The grid sees points of the box only, so it can never go below the exact minimum,
        // and it is within Lipschitz * half-spacing of it.
        assert(grid >= exact.minMargin - 1e-9, where);
        assert(grid - exact.minMargin <= slackOfGrid + 1e-9, where);
        assertEquals(decided.robust, exact.minMargin > 0, where);
        if (grid <= 0) assert(!decided.robust, `grid found a flip the certifier missed: ${where}`);
        if (decided.robust) robustSeen++;
        else {
          flipSeen++;
          const c = decided.counterexample!;
          c.forEach((v, i) =>
            assert(v >= x[i] + lo - 1e-12 && v <= x[i] + hi + 1e-12, "outside box")
          );
          assert(
            decided.counterexampleMargin! <= 1e-9,
            `counterexample margin ${decided.counterexampleMargin}`,
          );
          assert(
            Math.abs(margin(layers, exact.label, [...c]) - decided.counterexampleMargin!) < 1e-12,
          );
        }
        // The minimiser is a point of the box reaching the minimum.
        assert(
          Math.abs(margin(layers, exact.label, [...exact.argmin]) - exact.minMargin) < 1e-9,
          where,
        );
      }
    }
    disposeToyMlp(net);
  }
  assert(
    robustSeen >= 10 && flipSeen >= 10,
    `robust ${robustSeen}, flipped ${flipSeen}: both must occur`,
  );
});

Deno.test("affine nets: minimum margin and certified radius match the closed forms", () => {
  // f = [a·x + b, 0]: margin of class 0 is a·x + b; min over [-δ,δ]^D is m0 - δ||a||_1, and over
  // [0,δ]^D it is m0 - δ * sum(max(-a_i, 0)).
  // float32-exact values, so the closed form sees the weights the net holds.
  const a = [0.7, -1.3, 0.4].map(Math.fround);
  const b = Math.fround(0.2);
  const x = [0.5, 0.1, -0.2];
  const net = toyMlpFromArrays([{ weight: a.map((v) => [v, 0]), bias: [b, 0] }]);
  const m0 = a.reduce((s, v, i) => s + v * x[i], b);
  const l1 = a.reduce((s, v) => s + Math.abs(v), 0);
  const negative = a.reduce((s, v) => s + Math.max(-v, 0), 0);
  assert(m0 > 0);
  const delta = 0.1;
  assert(Math.abs(exactMinimumMargin(net, x, delta).minMargin - (m0 - delta * l1)) < 1e-9);
  assert(
    Math.abs(
      exactMinimumMargin(net, x, delta, { box: "one-sided" }).minMargin - (m0 - delta * negative),
    ) < 1e-9,
  );
  const sym = certifiedRadius(net, x, { tolerance: 1e-6 });
  const one = certifiedRadius(net, x, { tolerance: 1e-6, box: "one-sided", maxRadius: 2 });
  assert(Math.abs(sym.radius - m0 / l1) < 2e-6, `${sym.radius} vs ${m0 / l1}`);
  assert(Math.abs(one.radius - m0 / negative) < 2e-6, `${one.radius} vs ${m0 / negative}`);
  assert(sym.radius <= m0 / l1 && sym.upperBound >= m0 / l1 - 1e-12);
  disposeToyMlp(net);
});

Deno.test("certified radius: robust at the radius, a flip at the upper end, one-sided >= symmetric", () => {
  const net = initToyMlp([2, 10, 10, 3], { seed: 5 });
  const rand = seededRandom(9);
  let uncapped = 0;
  for (let p = 0; p < 6; p++) {
    const x = [2 * rand() - 1, 2 * rand() - 1];
    const sym = certifiedRadius(net, x, { tolerance: 1e-3 });
    const one = certifiedRadius(net, x, { tolerance: 1e-3, box: "one-sided" });
    if (sym.capped) {
      assert(certifyRobustness(net, x, 1).robust);
      continue;
    }
    assert(sym.upperBound - sym.radius <= 1e-3 + 1e-12);
    if (sym.radius > 0) assert(certifyRobustness(net, x, sym.radius).robust);
    assert(!certifyRobustness(net, x, sym.upperBound).robust);
    // [0,δ]^D is inside [-δ,δ]^D, so the one-sided radius can only be larger.
    assert(one.radius >= sym.radius - 1e-3, `one-sided ${one.radius} < symmetric ${sym.radius}`);
    uncapped++;
  }
  assert(uncapped >= 3, `only ${uncapped} points had a finite radius`);
  disposeToyMlp(net);
});

Deno.test("linear regions in the box match the line-arrangement count (1 hidden layer, 2-D)", () => {
  // Lines in general position cut a convex box into 1 + (#lines meeting it) + (#crossings in it).
  let totalCrossings = 0;
  for (let seed = 0; seed < 6; seed++) {
    const net = initToyMlp([2, 7, 2], { seed: 100 + seed });
    const [l0] = toyMlpToFloat64(net);
    const x = [0.1 * seed - 0.2, 0.3];
    const delta = 0.6;
    const inBox = (p: number[]) => p.every((v, i) => Math.abs(v - x[i]) < delta);
    const lines = Array.from({ length: l0.outSize }, (_, k) => ({
      w: [l0.weight[k], l0.weight[l0.outSize + k]],
      b: l0.bias[k],
    }));
    const corners = [[-1, -1], [-1, 1], [1, -1], [1, 1]].map((
      [u, v],
    ) => [x[0] + u * delta, x[1] + v * delta]);
    const meets = lines.filter((l) => {
      const s = corners.map((c) => l.w[0] * c[0] + l.w[1] * c[1] + l.b);
      return Math.min(...s) < 0 && Math.max(...s) > 0;
    }).length;
    let crossings = 0;
    for (let i = 0; i < lines.length; i++) {
      for (let j = i + 1; j < lines.length; j++) {
        const [a, b] = [lines[i], lines[j]];
        const det = a.w[0] * b.w[1] - a.w[1] * b.w[0];
        const p = [(-a.b * b.w[1] + b.b * a.w[1]) / det, (-a.w[0] * b.b + b.w[0] * a.b) / det];
        if (inBox(p)) crossings++;
      }
    }
    assertEquals(countLinearRegions(net, x, delta), 1 + meets + crossings, `seed ${seed}`);
    totalCrossings += crossings;
    disposeToyMlp(net);
  }
  assert(totalCrossings >= 5, `only ${totalCrossings} crossings: the count check is too easy`);
});

Deno.test("certifier refuses what it cannot decide, saying why", () => {
  const net = initToyMlp([2, 4, 2], { seed: 0 });
  throws(() => certifyRobustness(net, [0, 0], 0), /delta must be a finite number > 0; got 0/);
  throws(() => certifyRobustness(net, [0, 0], -1), /got -1/);
  throws(
    () => certifyRobustness(net, [0, 0], 0.1, { box: "diamond" as never }),
    /unknown box 'diamond'/,
  );
  throws(() => certifyRobustness(net, [0, 0, 0], 0.1), /3 coordinates but the net takes 2/);
  const smooth = initToyMlp([2, 4, 2], { seed: 0, activation: "tanh" });
  throws(() => certifyRobustness(smooth, [0, 0], 0.1), /piecewise-linear.*'tanh'/);
  throws(() => certifyRobustness(toyMlpClassifier(net) as never, [0, 0], 0.1), /not a black-box/);
  const big = initToyMlp([2, 300, 300, 2], { seed: 0 });
  throws(
    () => certifyRobustness(big, [0, 0], 0.1),
    /600 hidden ReLUs, more than maxHiddenNeurons=512/,
  );
  const deep = initToyMlp([2, 16, 16, 16, 2], { seed: 1 });
  throws(() => exactMinimumMargin(deep, [0, 0], 3, { maxNodes: 20 }), /gave up after maxNodes=20/);
  [net, smooth, big, deep].forEach(disposeToyMlp);
});

Deno.test("certifier leaks no tensors", () => {
  const net = initToyMlp([2, 6, 2], { seed: 2 });
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) certifiedRadius(net, [0.1 * i, 0.2], { tolerance: 1e-2 });
  assertEquals(tf.memory().numTensors, before);
  disposeToyMlp(net);
});
