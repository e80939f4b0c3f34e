import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert";
import { useBackend } from "../backend/mod.ts";
import {
  dlrLoss,
  largestOtherLogit,
  marginLoss,
  misclassified,
  oneHotRows,
  perExampleCrossEntropy,
  targetedDlrLoss,
} from "../attacks/losses.ts";

await useBackend();

const close = (a: number, b: number, tol = 1e-5) =>
  Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

Deno.test("losses: hand values", () => {
  const z = tf.tensor2d([[3, 1, 2, 0.5], [0, 4, 1, 2]]);
  const y = oneHotRows(tf.tensor1d([0, 2], "int32"), 4);
  const t = oneHotRows(tf.tensor1d([1, 3], "int32"), 4);
  assert.deepStrictEqual(Array.from(largestOtherLogit(z, y).dataSync()), [2, 4]);
  assert.deepStrictEqual(Array.from(marginLoss(z, y).dataSync()), [1, -3]);
  // DLR = -(z_y - max_{j != y} z_j) / (z_pi1 - z_pi3):
  // row 0: sorted 3, 2, 1, 0.5 -> -(3 - 2) / (3 - 1); row 1: sorted 4, 2, 1, 0 -> -(1 - 4) / (4 - 1).
  const dlr = dlrLoss(z, y).dataSync();
  assert.ok(close(dlr[0], -0.5) && close(dlr[1], 1), `${dlr}`);
  // Targeted: -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2):
  // row 0: -(3 - 1) / (3 - 0.75); row 1: -(1 - 2) / (4 - 0.5).
  const tdlr = targetedDlrLoss(z, y, t).dataSync();
  assert.ok(close(tdlr[0], -2 / 2.25) && close(tdlr[1], 1 / 3.5), `${tdlr}`);
  const ce = perExampleCrossEntropy(tf.tensor2d([[0, 0]]), oneHotRows(tf.tensor1d([1], "int32"), 2))
    .dataSync();
  assert.ok(close(ce[0], Math.log(2)));
  assert.deepStrictEqual(Array.from(misclassified(z, tf.tensor1d([0, 2], "int32")).dataSync()), [
    0,
    1,
  ]);
  assert.throws(
    () => dlrLoss(tf.tensor2d([[1, 2]]), oneHotRows(tf.tensor1d([0], "int32"), 2)),
    /needs >= 3 classes/,
  );
});

Deno.test("losses: DLR gradients match central finite differences (sort masks held constant)", () => {
  const z0 = [0.3, 1.7, -0.4, 1.1, 0.9];
  const y = oneHotRows(tf.tensor1d([1], "int32"), 5);
  const t = oneHotRows(tf.tensor1d([3], "int32"), 5);
  const fns: [string, (z: tf.Tensor2D) => tf.Tensor1D][] = [
    ["dlr", (z) => dlrLoss(z, y)],
    ["targeted", (z) => targetedDlrLoss(z, y, t)],
    ["margin", (z) => marginLoss(z, y)],
  ];
  for (const [name, f] of fns) {
    const g = tf.grad((z: tf.Tensor) => tf.sum(f(z as tf.Tensor2D)))(tf.tensor2d([z0])).dataSync();
    for (const h of [1e-2, 3e-3]) {
      for (let i = 0; i < z0.length; i++) {
        const up = z0.slice(), down = z0.slice();
        up[i] += h;
        down[i] -= h;
        const fd = (f(tf.tensor2d([up])).dataSync()[0] - f(tf.tensor2d([down])).dataSync()[0]) /
          (2 * h);
        assert.ok(
          Math.abs(fd - g[i]) <= 1e-2 * Math.max(1, Math.abs(fd)),
          `${name} d/dz${i}: grad ${g[i]} vs fd ${fd} (h=${h})`,
        );
      }
    }
  }
});
