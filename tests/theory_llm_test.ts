// Definition 2's LLM against closed forms and a dense grid.
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../backend/mod.ts";
import {
  disposeToyMlp,
  evaluateLayers64,
  initToyMlp,
  localLinearityMeasure,
  toyMlpClassifier,
  toyMlpToFloat64,
} from "../theory/mod.ts";
import { classifierInputGradient } from "../theory/loss_surface.ts";

await useBackend();

/**
 * Logits `[0, log(exp(s(x)) - 1)]`: for label 0, CE = logsumexp - z_0 = log(1 + exp(s) - 1) = s(x)
 * exactly (where s > 0). So the CE of this model is whatever s is: linear or quadratic in x.
 */
function ceEquals(s: (x: tf.Tensor2D) => tf.Tensor) {
  return (x: tf.Tensor2D) =>
    tf.tidy(() => {
      const v = tf.reshape(s(x), [-1, 1]);
      return tf.concat([tf.zerosLike(v), tf.log(tf.sub(tf.exp(v), 1))], 1) as tf.Tensor2D;
    });
}

const softplus = (v: number) => (v > 30 ? v : Math.log1p(Math.exp(v)));
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

Deno.test("LLM is 0 when CE is linear in x (both norms, both variants)", () => {
  const a = tf.tensor2d([[0.8], [-1.7]]);
  const model = ceEquals((x) => tf.add(tf.matMul(x, a), 3)); // CE = 0.8 x0 - 1.7 x1 + 3 > 0
  const x = tf.tensor2d([[0.1, 0.2], [-0.3, 0.4], [0.5, -0.5]]);
  const y = tf.tensor1d([0, 0, 0], "int32");
  for (const norm of ["Linf", "L2"] as const) {
    for (const variant of ["paper", "authors"] as const) {
      const r = localLinearityMeasure(model, x, y, 0.3, { norm, variant });
      r.values.forEach((v) => assert(Math.abs(v) < 2e-5, `${norm}/${variant}: ${v}`));
      r.perturbations.dispose();
    }
  }
  tf.dispose([a, x, y]);
});

Deno.test("LLM of affine 2-class logits equals the convex closed form at the ball's extremes", () => {
  // CE = softplus(-d(x)), d = u·x + c. The residual is r(t) = softplus(-d0 - t) - softplus(-d0)
  // + sigmoid(-d0) t with t = u·e: convex, so its max over the ball is at t = ±delta ||u||_*.
  const u = [1.5, -0.5, 2.0].map(Math.fround);
  const c = Math.fround(0.3);
  const W = tf.tensor2d(u.map((v) => [0, v]));
  const model = (x: tf.Tensor2D) => tf.add(tf.matMul(x, W), tf.tensor1d([0, c])) as tf.Tensor2D;
  const pts = [[0.1, 0.2, -0.1], [-0.4, 0.3, 0.2]];
  const x = tf.tensor2d(pts);
  const y = tf.tensor1d([1, 1], "int32");
  const delta = 0.25;
  for (const norm of ["Linf", "L2"] as const) {
    const T = delta * (norm === "Linf" ? u.reduce((s, v) => s + Math.abs(v), 0) : Math.hypot(...u));
    const r = localLinearityMeasure(model, x, y, delta, { norm });
    pts.forEach((p, i) => {
      const d0 = u.reduce((s, v, k) => s + v * p[k], c);
      const res = (t: number) => softplus(-d0 - t) - softplus(-d0) + sigmoid(-d0) * t;
      const expected = Math.max(res(T), res(-T));
      assert(
        Math.abs(r.values[i] - expected) < 1e-4 * (1 + expected),
        `${norm} ${i}: ${r.values[i]} vs ${expected}`,
      );
    });
    r.perturbations.dispose();
  }
  tf.dispose([W, x, y]);
});

Deno.test("LLM equals the closed-form max of a quadratic residual; 'authors' misses |r| with r < 0", () => {
  // CE = 0.5 (x0^2 - 3 x1^2) + 3, so r(e) = 0.5 (e0^2 - 3 e1^2) exactly.
  // Linf: max r = 0.5 δ², min r = -1.5 δ², so LLM = 1.5 δ² (paper), signed max = 0.5 δ².
  // L2: LLM = 0.5 δ² * max|eigenvalue| = 1.5 δ².
  const coef = tf.tensor1d([1, -3]);
  const model = ceEquals((x) => tf.add(tf.mul(0.5, tf.sum(tf.mul(coef, tf.square(x)), 1)), 3));
  const x = tf.tensor2d([[0.1, 0.2], [0.5, -0.3], [-0.2, 0.0]]);
  const y = tf.tensor1d([0, 0, 0], "int32");
  const delta = 0.2;
  for (const norm of ["Linf", "L2"] as const) {
    const paper = localLinearityMeasure(model, x, y, delta, { norm });
    paper.values.forEach((v) =>
      assert(Math.abs(v - 1.5 * delta * delta) < 2e-4, `paper ${norm}: ${v}`)
    );
    paper.perturbations.dispose();
    const authors = localLinearityMeasure(model, x, y, delta, { norm, variant: "authors" });
    authors.values.forEach((v) => assert(v <= 0.5 * delta * delta + 2e-5, `authors ${norm}: ${v}`));
    authors.perturbations.dispose();
  }
  // With a convex quadratic (both coefficients > 0) the authors' sign steps reach a corner: exact.
  const convex = tf.tensor1d([1, 2]);
  const bowl = ceEquals((x) => tf.add(tf.mul(0.5, tf.sum(tf.mul(convex, tf.square(x)), 1)), 3));
  const authors = localLinearityMeasure(bowl, x, y, delta, { variant: "authors" });
  authors.values.forEach((v) =>
    assert(Math.abs(v - 1.5 * delta * delta) < 2e-4, `authors bowl: ${v}`)
  );
  authors.perturbations.dispose();
  tf.dispose([coef, convex, x, y]);
});

Deno.test("LLM of a smooth 2-D net matches a dense grid search of the residual", () => {
  const net = initToyMlp([2, 12, 3], { seed: 4, activation: "tanh", weightScale: 2 });
  const layers = toyMlpToFloat64(net);
  const f = toyMlpClassifier(net);
  const pts = [[0.2, -0.3], [0.6, 0.1], [-0.5, 0.5]];
  const labels = [0, 1, 2];
  const x = tf.tensor2d(pts);
  const y = tf.tensor1d(labels, "int32");
  const delta = 0.3;
  const r = localLinearityMeasure(f, x, y, delta, { restarts: 6, steps: 60 });
  const g = classifierInputGradient(f, x, y);
  const grads = g.arraySync() as number[][];
  const ce = (p: number[], c: number) => {
    const z = evaluateLayers64(layers, "tanh", p);
    const m = Math.max(...z);
    return m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0)) - z[c];
  };
  pts.forEach((p, i) => {
    const ce0 = ce(p, labels[i]);
    let best = 0;
    const n = 161;
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) {
        const e = [-delta + 2 * delta * a / (n - 1), -delta + 2 * delta * b / (n - 1)];
        const res = ce([p[0] + e[0], p[1] + e[1]], labels[i]) - ce0 - e[0] * grads[i][0] -
          e[1] * grads[i][1];
        best = Math.max(best, Math.abs(res));
      }
    }
    assert(best > 1e-2, `grid LLM ${best} too small to be a meaningful comparison`);
    assert(
      Math.abs(r.values[i] - best) <= 0.02 * best + 1e-4,
      `point ${i}: ascent ${r.values[i]} vs grid ${best}`,
    );
  });
  tf.dispose([x, y, g, r.perturbations]);
  disposeToyMlp(net);
});

Deno.test("per-example input gradient matches central finite differences", () => {
  const net = initToyMlp([3, 6, 3], { seed: 1, activation: "tanh" });
  const f = toyMlpClassifier(net);
  const pts = [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]];
  const y = tf.tensor1d([2, 0], "int32");
  const g = classifierInputGradient(f, tf.tensor2d(pts), y).arraySync() as number[][];
  const layers = toyMlpToFloat64(net);
  const ce = (p: number[], c: number) => {
    const z = evaluateLayers64(layers, "tanh", p);
    return Math.log(z.reduce((s, v) => s + Math.exp(v), 0)) - z[c];
  };
  pts.forEach((p, i) => {
    for (let k = 0; k < 3; k++) {
      for (const h of [1e-3, 1e-4]) {
        const up = [...p], down = [...p];
        up[k] += h;
        down[k] -= h;
        const fd = (ce(up, [2, 0][i]) - ce(down, [2, 0][i])) / (2 * h);
        assert(
          Math.abs(fd - g[i][k]) < 1e-4 * (1 + Math.abs(fd)),
          `example ${i} coord ${k}: ${g[i][k]} vs ${fd}`,
        );
      }
    }
  });
  y.dispose();
  disposeToyMlp(net);
});

Deno.test("LLM rejects bad input with clear errors and leaks no tensors", () => {
  const net = initToyMlp([2, 4, 2], { seed: 0, activation: "tanh" });
  const f = toyMlpClassifier(net);
  const x = tf.tensor2d([[0.1, 0.2]]);
  const y = tf.tensor1d([1], "int32");
  throws(() => localLinearityMeasure(f, x, y, 0), /delta must be a finite number > 0; got 0/);
  throws(() => localLinearityMeasure(f, x, y, -0.1), /got -0.1/);
  throws(
    () => localLinearityMeasure(f, x, y, 0.1, { norm: "L1" as never }),
    /unknown norm 'L1': allowed are 'Linf', 'L2'/,
  );
  throws(
    () => localLinearityMeasure(f, x, y, 0.1, { variant: "x" as never }),
    /unknown LLM variant 'x'/,
  );
  throws(
    () => localLinearityMeasure(f, x, y, 0.1, { steps: 0 }),
    /steps must be an integer >= 1; got 0/,
  );
  throws(
    () => localLinearityMeasure(f, x, tf.tensor1d([1, 0], "int32"), 0.1),
    /y must be int class ids \[1\]/,
  );
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    localLinearityMeasure(f, x, y, 0.1, { steps: 5, restarts: 2 }).perturbations.dispose();
  }
  assertEquals(tf.memory().numTensors, before);
  tf.dispose([x, y]);
  disposeToyMlp(net);
});
