import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert";
import { useBackend } from "../backend/mod.ts";
import { pgd } from "../attacks/pgd.ts";
import { square, squareFraction, squarePattern } from "../attacks/square.ts";
import {
  assertInBall,
  correctCount,
  exactRobustCount,
  linearFixture,
  maskedFixture,
  radiiBetween,
} from "./attacks_fixtures.ts";

await useBackend();

Deno.test("squareFraction: p_init halved at 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000 of 10000", () => {
  const q = 10000;
  assert.strictEqual(squareFraction(0, q, 0.8), 0.8);
  assert.strictEqual(squareFraction(10, q, 0.8), 0.8);
  assert.strictEqual(squareFraction(11, q, 0.8), 0.4);
  assert.strictEqual(squareFraction(51, q, 0.8), 0.2);
  assert.strictEqual(squareFraction(201, q, 0.8), 0.1);
  assert.strictEqual(squareFraction(8001, q, 0.8), 0.8 / 512);
  // Rescaled to the budget: iteration 100 of 1000 is 1000 of 10000 (p_init / 16).
  assert.strictEqual(squareFraction(100, 1000, 0.8), 0.05);
});

Deno.test("squarePattern: unit L2 norm, halves of opposite sign, transpose", () => {
  for (const s of [1, 3, 5, 8]) {
    const p = squarePattern(s, false);
    const n = Math.sqrt(p.reduce((a, v) => a + v * v, 0));
    assert.ok(Math.abs(n - 1) < 1e-12, `s=${s}: norm ${n}`);
    if (s > 1) {
      const top = Math.floor(s / 2);
      for (let c = 0; c < s; c++) {
        assert.ok(p[c] > 0, "top half positive");
        assert.ok(p[(s - 1) * s + c] < 0, "bottom half negative");
      }
      const t = squarePattern(s, true);
      for (let r = 0; r < s; r++) {
        for (let c = 0; c < s; c++) assert.strictEqual(t[c * s + r], p[r * s + c]);
      }
      assert.ok(top >= 1);
    }
  }
});

const multi = linearFixture(5, 32, 701);

Deno.test("square: an upper bound of the exact robust accuracy, in the ball, Linf and L2", () => {
  for (const norm of ["Linf", "L2"] as const) {
    for (const eps of radiiBetween(multi.distances[norm], [0.3, 0.7])) {
      const exact = exactRobustCount(multi.distances[norm], eps);
      const xAdv = square(multi.model, multi.x, multi.y, { eps, norm, queries: 300 });
      assertInBall(xAdv, multi.x, eps, norm, `square ${norm}`);
      const robust = correctCount(multi.model, xAdv, multi.y);
      xAdv.dispose();
      const breakable = multi.labels.length - exact;
      assert.ok(robust >= exact, `square ${norm}: ${robust} < exact ${exact}`);
      // A random search with 300 queries finds most (Linf) or many (L2: its squares are at least
      // 3x3, coarse against this model's pixel-wise random weights) adversarial points.
      const slack = norm === "Linf" ? 0.25 : 0.75;
      assert.ok(
        robust - exact <= Math.ceil(slack * breakable),
        `square ${norm}: ${robust} vs exact ${exact}`,
      );
    }
  }
});

Deno.test("square: finds the adversarial examples of a gradient-masked model that PGD misses", () => {
  const fx = maskedFixture(5, 32, 702);
  for (const norm of ["Linf", "L2"] as const) {
    const eps = radiiBetween(fx.distances[norm], [0.6])[0];
    const exact = exactRobustCount(fx.distances[norm], eps);
    const xs = square(fx.model, fx.x, fx.y, { eps, norm, queries: 500 });
    const xp = pgd(fx.model, fx.x, fx.y, { eps, norm, steps: 20 });
    assertInBall(xs, fx.x, eps, norm, "square masked");
    const robustSquare = correctCount(fx.model, xs, fx.y);
    const robustPgd = correctCount(fx.model, xp, fx.y);
    tf.dispose([xs, xp]);
    assert.ok(
      robustPgd - robustSquare >= 8,
      `${norm}: square ${robustSquare} vs pgd ${robustPgd} (exact ~${exact})`,
    );
    assert.ok(
      robustSquare <= exact + Math.ceil(0.5 * (32 - exact)),
      `${norm}: square ${robustSquare}, exact ~${exact}`,
    );
  }
});

Deno.test("square: deterministic under a seed, clean-misclassified unchanged, memory flat, errors", () => {
  const labels = Int32Array.from(multi.labels, (l, i) => (i < 4 ? (l + 1) % 5 : l));
  const y = tf.tensor1d(labels, "int32");
  const before = tf.memory().numTensors;
  const a = square(multi.model, multi.x, y, { eps: 0.02, queries: 30, seed: 4, restarts: 2 });
  const b = square(multi.model, multi.x, y, { eps: 0.02, queries: 30, seed: 4, restarts: 2 });
  assert.deepStrictEqual(a.dataSync(), b.dataSync());
  const c = square(multi.model, multi.x, y, { eps: 0.02, queries: 30, seed: 5 });
  assert.notDeepStrictEqual(a.dataSync(), c.dataSync());
  const av = a.dataSync(), xv = multi.x.dataSync();
  for (let k = 0; k < 4 * 64; k++) assert.strictEqual(av[k], xv[k]);
  tf.dispose([a, b, c]);
  assert.strictEqual(tf.memory().numTensors, before);
  assert.throws(
    () => square(multi.model, multi.x, multi.y, { eps: 0.1, queries: 0 }),
    /queries must be an integer >= 1; got 0/,
  );
  assert.throws(
    () => square(multi.model, multi.x, multi.y, { eps: 0.1, pInit: 2 }),
    /pInit must be in \(0, 1\]; got 2/,
  );
  y.dispose();
});
