import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert";
import { useBackend } from "../backend/mod.ts";
import { projectOntoHyperplaneInBox } from "../attacks/hyperplane.ts";
import {
  linearClassifier,
  linearMinimalDistances,
  robustAccuracyFromDistances,
} from "../attacks/reference_models.ts";

await useBackend();

const close = (a: number, b: number, tol = 1e-9) =>
  Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

Deno.test("linearMinimalDistances: margin / ||w_y - w_j||_dual by hand", () => {
  // 4 features, 3 classes. x = (0.5, 0.5, 0.5, 0.5).
  // w_0 = (1, 0, 0, 0), w_1 = (0, 1, 1, 0), w_2 = (0, 0, 0, 0); b = (0.6, 0, -0.5)
  // z = (1.1, 1.0, -0.5): label 0, margins 0.1 (class 1) and 1.6 (class 2).
  // class 1: w_1 - w_0 = (-1, 1, 1, 0): ||.||_1 = 3, ||.||_2 = sqrt(3)
  // class 2: w_2 - w_0 = (-1, 0, 0, 0): ||.||_1 = 1, ||.||_2 = 1
  const W = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 0]]);
  const b = tf.tensor1d([0.6, 0, -0.5]);
  const x = tf.fill([1, 2, 2, 1], 0.5) as tf.Tensor4D;
  const linf = linearMinimalDistances(W, b, x, new Int32Array([0]), "Linf");
  const l2 = linearMinimalDistances(W, b, x, new Int32Array([0]), "L2");
  assert.ok(close(linf[0], Math.min(0.1 / 3, 1.6 / 1), 1e-6), `Linf ${linf[0]}`);
  assert.ok(close(l2[0], Math.min(0.1 / Math.sqrt(3), 1.6), 1e-6), `L2 ${l2[0]}`);
  // Misclassified: distance 0.
  assert.strictEqual(linearMinimalDistances(W, b, x, new Int32Array([1]), "Linf")[0], 0);
  // The model agrees with the hand logits.
  const z = linearClassifier(W, b)(x).dataSync();
  assert.ok(
    close(z[0], 1.1, 1e-6) && close(z[1], 1.0, 1e-6) && close(z[2], -0.5, 1e-6),
    `logits ${z}`,
  );
  assert.strictEqual(robustAccuracyFromDistances([0, 0.1, 0.3], 0.2), 1 / 3);
  tf.dispose([W, b, x]);
});

Deno.test("projectOntoHyperplaneInBox: hand cases for Linf and L2", () => {
  // Free case: w = (1, 2), c = 0.3 from (0.5, 0.5).
  // Linf: d = t sign(w), t = c / ||w||_1 = 0.1. L2: d = c w / ||w||^2 = (0.06, 0.12).
  let r = projectOntoHyperplaneInBox([0.5, 0.5], [1, 2], 0.3, "Linf");
  assert.ok(close(r.step[0], 0.1) && close(r.step[1], 0.1) && r.feasible);
  r = projectOntoHyperplaneInBox([0.5, 0.5], [1, 2], 0.3, "L2");
  assert.ok(close(r.step[0], 0.06) && close(r.step[1], 0.12));
  // Box binds: from (0.95, 0.5) coordinate 0 can rise by 0.05 only.
  // Linf: 1 * min(t, 0.05) + 2 t = 0.3 -> t = 0.125; step (0.05, 0.125).
  r = projectOntoHyperplaneInBox([0.95, 0.5], [1, 2], 0.3, "Linf");
  assert.ok(close(r.step[0], 0.05) && close(r.step[1], 0.125), `${r.step}`);
  // L2: d0 = min(l, 0.05), d1 = 2 l: free l = 0.06 > 0.05, so d0 = 0.05 and 0.05 + 4 l = 0.3 ->
  // l = 0.0625, d1 = 0.125.
  r = projectOntoHyperplaneInBox([0.95, 0.5], [1, 2], 0.3, "L2");
  assert.ok(close(r.step[0], 0.05) && close(r.step[1], 0.125), `${r.step}`);
  // Negative c moves against w; unreachable planes are reported and go as far as the box allows.
  r = projectOntoHyperplaneInBox([0.5, 0.5], [1, 0], -0.2, "L2");
  assert.ok(close(r.step[0], -0.2) && r.step[1] === 0);
  r = projectOntoHyperplaneInBox([0.5, 0.5], [1, 0], 0.9, "Linf");
  assert.ok(!r.feasible && close(r.step[0], 0.5));
});

Deno.test("projectOntoHyperplaneInBox: optimal against a brute-force search in 2-D", () => {
  // Minimise ||d|| over a fine grid of the line w.d = c inside the box; the solver must match.
  const cases: [number[], number[], number][] = [
    [[0.2, 0.9], [1.5, -0.7], 0.4],
    [[0.8, 0.1], [-0.3, 2.0], 0.5],
    [[0.5, 0.95], [0.4, 1.0], 0.25],
  ];
  for (const norm of ["Linf", "L2"] as const) {
    for (const [p, w, c] of cases) {
      const { step } = projectOntoHyperplaneInBox(p, w, c, norm);
      assert.ok(close(w[0] * step[0] + w[1] * step[1], c, 1e-9), "on the plane");
      const norm2 = (
        a: number,
        b: number,
      ) => (norm === "Linf" ? Math.max(Math.abs(a), Math.abs(b)) : Math.hypot(a, b));
      let best = Infinity;
      for (let k = 0; k <= 200000; k++) {
        const d0 = -p[0] + k / 200000; // p0 + d0 in [0, 1]
        const d1 = (c - w[0] * d0) / w[1];
        if (p[1] + d1 < 0 || p[1] + d1 > 1) continue;
        best = Math.min(best, norm2(d0, d1));
      }
      const got = norm2(step[0], step[1]);
      assert.ok(
        got <= best + 1e-9 && got >= best - 1e-4,
        `${norm} ${p} ${w} ${c}: ${got} vs ${best}`,
      );
      assert.ok(p.every((v, i) => v + step[i] >= -1e-12 && v + step[i] <= 1 + 1e-12), "in the box");
    }
  }
});
