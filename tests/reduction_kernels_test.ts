/**
 * The wasm backend's leading-axes `Sum` and `Mean` (`backend/reduction_kernels.ts`) against tfjs'
 * `cpu` backend, for every way of naming the axes, with and without keepDims, and the cases that
 * must go to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { leadingReducedAxes, useBackend } from "../backend/mod.ts";
import { seededRandom } from "../util/rng.ts";
import { assertMemoryFlat, randomArray, runOn } from "./conv_cases.ts";

await useBackend("cpu");
await useBackend("wasm");

Deno.test("leadingReducedAxes finds a leading run of axes, and only that", () => {
  const shape = [4, 3, 2, 5];
  assert.equal(leadingReducedAxes([0, 1, 2], shape), 3);
  assert.equal(leadingReducedAxes([2, 0, 1], shape), 3);
  assert.equal(leadingReducedAxes(0, shape), 1);
  assert.equal(leadingReducedAxes([-4, -3], shape), 2);
  assert.equal(leadingReducedAxes([1, 2], shape), 0); // not leading
  assert.equal(leadingReducedAxes([0, 2], shape), 0); // not a run
  assert.equal(leadingReducedAxes([0, 1, 2, 3], shape), 0); // everything: stock kernel
  assert.equal(leadingReducedAxes([], shape), 0);
});

Deno.test("Sum and Mean on wasm match cpu over leading and other axes", async () => {
  const rand = seededRandom(21);
  const cases: { shape: number[]; axis: number | number[] }[] = [
    { shape: [6, 5, 4, 3], axis: [0, 1, 2] },
    { shape: [6, 5, 4, 3], axis: [2, 1, 0] },
    { shape: [6, 5, 4, 3], axis: [0, 1] },
    { shape: [6, 5, 4, 3], axis: 0 },
    { shape: [7, 9], axis: 0 },
    { shape: [7, 9], axis: -2 },
    { shape: [1, 9], axis: 0 },
    { shape: [6, 5, 4, 3], axis: [1, 2] },
    { shape: [6, 5, 4, 3], axis: 3 },
    { shape: [6, 5, 4, 3], axis: [0, 1, 2, 3] },
    { shape: [128, 14, 14, 48], axis: [0, 1, 2] },
  ];
  for (const { shape, axis } of cases) {
    const values = randomArray(tf.util.sizeFromShape(shape), rand);
    for (const keepDims of [false, true]) {
      for (const op of ["sum", "mean"] as const) {
        const f = () => tf.tidy(() => tf[op](tf.tensor(values, shape), axis, keepDims));
        const expected = await runOn("cpu", f);
        const actual = await runOn("wasm", f);
        const label = `${op} ${JSON.stringify({ shape, axis, keepDims })}`;
        assert.deepEqual(actual.shape, expected.shape, `${label}: shape`);
        let scale = 1e-6, worst = 0;
        for (const v of expected.values) scale = Math.max(scale, Math.abs(v));
        for (let i = 0; i < actual.values.length; i++) {
          worst = Math.max(worst, Math.abs(actual.values[i] - expected.values[i]));
        }
        assert.ok(worst <= 2e-5 * scale + 1e-6, `${label}: max abs error ${worst} (scale ${scale})`);
      }
    }
  }
});

Deno.test("Sum of int32 over leading axes stays exact (stock kernel)", async () => {
  await tf.setBackend("wasm");
  const x = tf.tensor3d([[[1, 2]], [[3, 40000000]]], [2, 1, 2], "int32");
  const s = tf.sum(x, [0, 1]);
  assert.equal(s.dtype, "int32");
  assert.deepEqual(Array.from(s.dataSync()), [4, 40000002]);
  tf.dispose([x, s]);
});

Deno.test("leading-axes reductions leak no tensors or buffers", async () => {
  await tf.setBackend("wasm");
  const x = tf.randomNormal([8, 5, 5, 6]);
  const step = () => tf.tidy(() => tf.add(tf.sum(x, [0, 1, 2]), tf.mean(x, [0, 1], true)).dataSync());
  assertMemoryFlat(step);
  x.dispose();
});
