/**
 * The wasm backend's tiled per-channel broadcast for Multiply, Add, Sub and RealDiv
 * (`backend/broadcast_kernels.ts`) against tfjs' `cpu` backend, in both operand orders, and the
 * shapes that must go to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { MIN_TILED_ROWS, setMinTiledRows, trailingBroadcastTiling, useBackend } from "../backend/mod.ts";
import { seededRandom } from "../util/rng.ts";
import { assertMemoryFlat, randomArray, runOn } from "./conv_cases.ts";

await useBackend("cpu");
await useBackend("wasm");
// Small tensors normally keep the stock kernel; these tests check the tiled path on small shapes.
setMinTiledRows(0);

Deno.test("by default, broadcasts over fewer than MIN_TILED_ROWS rows keep the stock kernel", () => {
  const previous = setMinTiledRows(MIN_TILED_ROWS);
  try {
    assert.equal(trailingBroadcastTiling([128, 2, 2, 32], [32]), null); // 512 rows
    assert.equal(trailingBroadcastTiling([MIN_TILED_ROWS - 1, 8], [8]), null);
    assert.deepEqual(trailingBroadcastTiling([MIN_TILED_ROWS, 8], [8]), { channels: 8, k: 128 });
    assert.deepEqual(trailingBroadcastTiling([128, 14, 14, 8], [1, 1, 1, 8]), { channels: 8, k: 128 });
  } finally {
    setMinTiledRows(previous);
  }
  assert.throws(() => setMinTiledRows(-1), /integer >= 0; got -1/);
});

Deno.test("trailingBroadcastTiling takes per-channel vectors only, with a divisor of the rows", () => {
  assert.deepEqual(trailingBroadcastTiling([128, 28, 28, 8], [8]), { channels: 8, k: 128 });
  assert.deepEqual(trailingBroadcastTiling([6, 5, 3], [1, 1, 3]), { channels: 3, k: 30 });
  assert.deepEqual(trailingBroadcastTiling([7, 3], [3]), { channels: 3, k: 7 });
  assert.equal(trailingBroadcastTiling([128, 28, 28, 8], [28, 8]), null);
  assert.equal(trailingBroadcastTiling([4, 3], [1, 1, 3]), null);
  assert.equal(trailingBroadcastTiling([3], [3]), null);
  assert.equal(trailingBroadcastTiling([4, 3], [4, 1]), null);
  assert.equal(trailingBroadcastTiling([2, 600], [600]), null); // rows long enough already
});

Deno.test("Multiply, Add, Sub and RealDiv with a per-channel operand match cpu, in both orders", async () => {
  const rand = seededRandom(22);
  const cases: [number[], number[]][] = [
    [[4, 7, 5, 8], [8]],
    [[4, 7, 5, 8], [1, 1, 1, 8]],
    [[9, 3], [1, 3]],
    [[13, 6], [6]], // 13 rows: prime, so k = 13
    [[2, 3, 3, 5], [3, 5]], // not per-channel: stock kernel
    [[6, 10], [1]], // one element: as a scalar
    [[4, 3, 1], [1, 1]],
  ];
  for (const [large, small] of cases) {
    const x = randomArray(tf.util.sizeFromShape(large), rand);
    const v = randomArray(tf.util.sizeFromShape(small), rand).map((u) => u + 2); // no division by ~0
    for (const op of ["mul", "add", "sub", "div"] as const) {
      for (const swap of [false, true]) {
        const f = () =>
          tf.tidy(() => {
            const [a, b] = [tf.tensor(x, large), tf.tensor(v, small)];
            return swap ? tf[op](b, a) : tf[op](a, b);
          });
        const expected = await runOn("cpu", f);
        const actual = await runOn("wasm", f);
        const label = `${op} ${JSON.stringify({ large, small, swap })}`;
        assert.deepEqual(actual.shape, expected.shape, `${label}: shape`);
        for (let i = 0; i < actual.values.length; i++) {
          const e = expected.values[i];
          assert.ok(Math.abs(actual.values[i] - e) <= 1e-6 * Math.max(1, Math.abs(e)), `${label} at ${i}`);
        }
      }
    }
  }
  await tf.setBackend("wasm");
  const x = tf.randomNormal([8, 5, 5, 6]), v = tf.randomNormal([6]);
  assertMemoryFlat(() => tf.tidy(() => tf.sub(tf.mul(x, v), tf.div(v, tf.add(x, 3))).dataSync()));
  tf.dispose([x, v]);
});
