import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert";
import { useBackend } from "../backend/mod.ts";
import {
  ascentDirection,
  ballViolation,
  clipToBounds,
  linfBounds,
  perExampleNorm,
  projectToBall,
  randomInBall,
} from "../attacks/geometry.ts";
import { gatherRows, maskIndices, scatterRows, selectRows } from "../attacks/rows.ts";

await useBackend();

const close = (a: ArrayLike<number>, b: number[], tol = 1e-6) =>
  a.length === b.length && b.every((v, i) => Math.abs(a[i] - v) <= tol);

Deno.test("perExampleNorm, ascentDirection: hand values", () => {
  const d = tf.tensor4d([3, -4, 0, 0, 1, -1], [2, 1, 3, 1]);
  assert.ok(close(perExampleNorm(d, "L2").dataSync(), [5, Math.SQRT2]));
  assert.ok(close(perExampleNorm(d, "Linf").dataSync(), [4, 1]));
  assert.ok(close(ascentDirection(d, "Linf").dataSync(), [1, -1, 0, 0, 1, -1]));
  assert.ok(
    close(ascentDirection(d, "L2").dataSync(), [0.6, -0.8, 0, 0, Math.SQRT1_2, -Math.SQRT1_2]),
  );
  // A zero gradient gives a zero direction, not NaN.
  assert.ok(close(ascentDirection(tf.zeros([1, 1, 2, 1]) as tf.Tensor4D, "L2").dataSync(), [0, 0]));
});

Deno.test("projectToBall: Linf clips per coordinate, L2 rescales, then the box clips", () => {
  const x = tf.tensor4d([0.5, 0.5, 0.95, 0.05], [2, 1, 2, 1]);
  const far = tf.tensor4d([0.9, 0.2, 1.4, 0.05], [2, 1, 2, 1]);
  // Linf eps 0.1: (0.6, 0.4) and (1.0 clipped from 1.05, 0.05).
  assert.ok(close(projectToBall(far, x, 0.1, "Linf").dataSync(), [0.6, 0.4, 1, 0.05]));
  // L2 eps 0.25: d = (0.4, -0.3), norm 0.5 -> halved: (0.7, 0.35); row 2 d = (0.45, 0) -> 0.25 -> 1.2 -> 1.
  assert.ok(close(projectToBall(far, x, 0.25, "L2").dataSync(), [0.7, 0.35, 1, 0.05]));
  // The precomputed Linf bounds give the same projection.
  const bounds = linfBounds(x, 0.1);
  assert.deepStrictEqual(
    clipToBounds(far, bounds).dataSync(),
    projectToBall(far, x, 0.1, "Linf").dataSync(),
  );
  // Points already inside stay.
  const inside = tf.tensor4d([0.52, 0.49, 0.9, 0.1], [2, 1, 2, 1]);
  assert.ok(close(projectToBall(inside, x, 0.1, "L2").dataSync(), Array.from(inside.dataSync())));
});

Deno.test("randomInBall: inside the ball and the box, seeded, spread out", () => {
  const x = tf.tidy(() =>
    tf.concat([tf.fill([50, 4, 4, 1], 0.5), tf.fill([50, 4, 4, 1], 0.99)]) as tf.Tensor4D
  );
  for (const norm of ["Linf", "L2"] as const) {
    const a = randomInBall(x, 0.2, norm, 3);
    const v = ballViolation(a, x, 0.2, norm);
    assert.ok(v.outsideBall <= 1e-6 && v.outsideBox === 0, `${norm}: ${JSON.stringify(v)}`);
    // Uniform in a 16-dimensional ball/cube: typical norms are close to the radius.
    assert.ok(v.maxNorm > 0.15, `${norm}: max norm ${v.maxNorm}`);
    const b = randomInBall(x, 0.2, norm, 3);
    assert.deepStrictEqual(a.dataSync(), b.dataSync());
    tf.dispose([a, b]);
  }
});

Deno.test("ballViolation: measures distance outside ball and box", () => {
  const x = tf.fill([1, 2, 2, 1], 0.5) as tf.Tensor4D;
  const v = ballViolation(tf.tensor4d([0.7, 0.5, 0.5, 1.2], [1, 2, 2, 1]), x, 0.1, "Linf");
  assert.ok(
    Math.abs(v.maxNorm - 0.7) < 1e-6 && Math.abs(v.outsideBall - 0.6) < 1e-6 &&
      Math.abs(v.outsideBox - 0.2) < 1e-6,
  );
  assert.throws(() => ballViolation(tf.zeros([1, 1, 1, 1]) as tf.Tensor4D, x, 0.1, "L2"), /shape/);
});

Deno.test("rows: gather, scatter (float and bool), mask indices", () => {
  const full = tf.tensor2d([[1, 1], [2, 2], [3, 3]]);
  const merged = scatterRows(full, [2, 0], tf.tensor2d([[9, 9], [7, 7]]));
  assert.deepStrictEqual(Array.from(merged.dataSync()), [7, 7, 2, 2, 9, 9]);
  assert.deepStrictEqual(Array.from(gatherRows(full, [2, 1]).dataSync()), [3, 3, 2, 2]);
  const flags = tf.tensor1d([true, false, false], "bool");
  const b = scatterRows(flags, [1], tf.tensor1d([true], "bool"));
  assert.strictEqual(b.dtype, "bool");
  assert.deepStrictEqual(Array.from(b.dataSync()), [1, 1, 0]);
  assert.deepStrictEqual(maskIndices(b as tf.Tensor1D), [0, 1]);
  assert.deepStrictEqual(maskIndices(b as tf.Tensor1D, false), [2]);
  const picked = selectRows(
    tf.tensor1d([false, true, true], "bool"),
    tf.tensor2d([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]),
    full,
  );
  // Exact copies of the chosen rows (a 0/1 blend loses no bits).
  assert.deepStrictEqual(Array.from(picked.dataSync()), [
    1,
    1,
    Math.fround(0.3),
    Math.fround(0.4),
    Math.fround(0.5),
    Math.fround(0.6),
  ]);
  const before = tf.memory().numTensors;
  scatterRows(full, [1], tf.tensor2d([[5, 5]])).dispose();
  assert.strictEqual(tf.memory().numTensors, before + 1, "only the rows argument remains");
});
