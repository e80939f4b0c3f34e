import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert";
import { useBackend } from "../backend/mod.ts";
import { fgsm } from "../attacks/fgsm.ts";
import { pgd, resolvePgdOptions } from "../attacks/pgd.ts";
import { oneHotRows, perExampleCrossEntropy } from "../attacks/losses.ts";
import {
  assertInBall,
  correctCount,
  exactRobustCount,
  linearFixture,
  maskedFixture,
  radiiBetween,
  reluFixture,
} from "./attacks_fixtures.ts";

await useBackend();

const binaryLinear = linearFixture(2, 48, 101);
const binaryRelu = reluFixture(2, 48, 202);
const multi = linearFixture(5, 48, 303);

for (const [label, fx] of [["linear", binaryLinear], ["relu", binaryRelu]] as const) {
  for (const norm of ["Linf", "L2"] as const) {
    Deno.test(`pgd: binary ${label} ${norm} reaches the exact robust accuracy within 1 example`, () => {
      const radii = radiiBetween(fx.distances[norm], [0.25, 0.5, 0.75]);
      for (const eps of radii) {
        const exact = exactRobustCount(fx.distances[norm], eps);
        const xAdv = pgd(fx.model, fx.x, fx.y, { eps, norm, steps: 40, seed: 1 });
        assertInBall(xAdv, fx.x, eps, norm, `pgd ${norm} eps=${eps}`);
        const robust = correctCount(fx.model, xAdv, fx.y);
        xAdv.dispose();
        // No attack can beat the exact answer; PGD must reach it.
        assert.ok(robust >= exact, `pgd found ${robust} < exact ${exact}: impossible`);
        assert.ok(robust <= exact + 1, `pgd left ${robust} robust, exact is ${exact} (eps ${eps})`);
      }
    });
  }
}

Deno.test("fgsm: one eps-step is the optimal attack on a binary linear model (Linf and L2)", () => {
  for (const norm of ["Linf", "L2"] as const) {
    for (const eps of radiiBetween(binaryLinear.distances[norm], [0.3, 0.7])) {
      const xAdv = fgsm(binaryLinear.model, binaryLinear.x, binaryLinear.y, { eps, norm });
      assertInBall(xAdv, binaryLinear.x, eps, norm, "fgsm");
      const robust = correctCount(binaryLinear.model, xAdv, binaryLinear.y);
      xAdv.dispose();
      assert.strictEqual(robust, exactRobustCount(binaryLinear.distances[norm], eps));
    }
  }
});

Deno.test("fgsm: the step is eps * sign(grad) by hand", () => {
  // logits (x0 - x1, 0) with label 0: CE grows as x0 falls and x1 rises.
  const model = (x: tf.Tensor4D) =>
    tf.tidy(() => {
      const f = tf.reshape(x, [x.shape[0], 2]);
      return tf.matMul(f, tf.tensor2d([[1, 0], [-1, 0]])) as tf.Tensor2D;
    });
  const x = tf.tensor4d([0.6, 0.3], [1, 1, 2, 1]);
  const xAdv = fgsm(model, x, tf.tensor1d([0], "int32"), { eps: 0.1 });
  const v = Array.from(xAdv.dataSync());
  assert.ok(Math.abs(v[0] - 0.5) < 1e-6 && Math.abs(v[1] - 0.4) < 1e-6, `got ${v}`);
});

Deno.test("pgd: on a multiclass model it is an upper bound of the exact robust accuracy, and close", () => {
  for (const norm of ["Linf", "L2"] as const) {
    for (const eps of radiiBetween(multi.distances[norm], [0.3, 0.6])) {
      const exact = exactRobustCount(multi.distances[norm], eps);
      const xAdv = pgd(multi.model, multi.x, multi.y, { eps, norm, steps: 40, restarts: 2 });
      assertInBall(xAdv, multi.x, eps, norm, "pgd multiclass");
      const robust = correctCount(multi.model, xAdv, multi.y);
      xAdv.dispose();
      assert.ok(robust >= exact, `robust ${robust} < exact ${exact}`);
      // Cross-entropy is not the margin: PGD may miss a few multiclass points, not many.
      assert.ok(robust <= exact + 4, `robust ${robust} vs exact ${exact}`);
    }
  }
});

Deno.test("pgd: defaults, determinism under a seed, eps = 0, and flat memory", () => {
  const o = resolvePgdOptions({ eps: 0.1 });
  assert.deepStrictEqual(o, {
    eps: 0.1,
    norm: "Linf",
    steps: 10,
    stepSize: 0.025,
    randomStart: true,
    restarts: 1,
    seed: 0,
  });
  const run = (seed: number) => {
    const a = pgd(multi.model, multi.x, multi.y, { eps: 0.01, steps: 3, seed });
    const d = a.dataSync().slice();
    a.dispose();
    return d;
  };
  assert.deepStrictEqual(run(5), run(5));
  assert.notDeepStrictEqual(run(5), run(6));
  const same = pgd(multi.model, multi.x, multi.y, { eps: 0 });
  assert.deepStrictEqual(same.dataSync(), multi.x.dataSync());
  same.dispose();
  run(1);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) run(i);
  const r = pgd(multi.model, multi.x, multi.y, { eps: 0.02, norm: "L2", steps: 3, restarts: 3 });
  r.dispose();
  assert.strictEqual(tf.memory().numTensors, before);
});

Deno.test("pgd: examples misclassified from the start come back unchanged", () => {
  // Shift every other label, so half the examples start misclassified.
  const labels = Int32Array.from(
    multi.labels,
    (l, i) => (i % 2 === 0 ? (l + 1) % multi.classes : l),
  );
  const y = tf.tensor1d(labels, "int32");
  const xAdv = pgd(multi.model, multi.x, y, { eps: 0.02, steps: 5 });
  const a = xAdv.dataSync(), x = multi.x.dataSync();
  const d = 64;
  let changedCorrect = 0;
  for (let i = 0; i < labels.length; i++) {
    const same = a.subarray(i * d, (i + 1) * d).every((v, k) => v === x[i * d + k]);
    if (i % 2 === 0) assert.ok(same, `misclassified example ${i} was moved`);
    else if (!same) changedCorrect++;
  }
  assert.ok(changedCorrect > 0, "pgd moved none of the correctly classified examples");
  tf.dispose([xAdv, y]);
});

Deno.test("pgd: a custom per-example or scalar loss is maximised", () => {
  const eps = radiiBetween(binaryLinear.distances.Linf, [0.5])[0];
  const exact = exactRobustCount(binaryLinear.distances.Linf, eps);
  const perExample = (logits: tf.Tensor2D, y: tf.Tensor1D) =>
    perExampleCrossEntropy(logits, oneHotRows(y, 2));
  const scalar = (logits: tf.Tensor2D, y: tf.Tensor1D) => tf.mean(perExample(logits, y));
  for (const loss of [perExample, scalar]) {
    const xAdv = pgd(binaryLinear.model, binaryLinear.x, binaryLinear.y, { eps, steps: 20, loss });
    const robust = correctCount(binaryLinear.model, xAdv, binaryLinear.y);
    xAdv.dispose();
    assert.ok(robust <= exact + 1 && robust >= exact, `robust ${robust} vs exact ${exact}`);
  }
  // A loss of the wrong shape is named.
  assert.throws(
    () =>
      pgd(binaryLinear.model, binaryLinear.x, binaryLinear.y, { eps, loss: (l) => tf.sum(l, 0) }),
    /scalar or a per-example \[48\] vector; got shape \[2\]/,
  );
});

Deno.test("pgd: fails on a gradient-masked model (zero gradient), as it must", () => {
  const fx = maskedFixture(2, 48, 404);
  const eps = radiiBetween(fx.distances.Linf, [0.6])[0];
  const exact = exactRobustCount(fx.distances.Linf, eps);
  const xAdv = pgd(fx.model, fx.x, fx.y, { eps, steps: 20 });
  assertInBall(xAdv, fx.x, eps, "Linf", "pgd masked");
  const robust = correctCount(fx.model, xAdv, fx.y);
  xAdv.dispose();
  // Only the random start moves the input: most breakable points stay "robust".
  assert.ok(robust > exact + 10, `pgd left ${robust} robust; exact is about ${exact}`);
});
