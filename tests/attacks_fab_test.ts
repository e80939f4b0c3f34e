import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert";
import { useBackend } from "../backend/mod.ts";
import { fabTargeted, fabTargetedMinimal } from "../attacks/fab.ts";
import { linearClassifier, linearMinimalDistances } from "../attacks/reference_models.ts";
import {
  assertInBall,
  correctCount,
  exactRobustCount,
  FEATURES,
  linearFixture,
  maskedFixture,
  radiiBetween,
  reluFixture,
} from "./attacks_fixtures.ts";

await useBackend();

const multiLinear = linearFixture(5, 32, 601);
const multiRelu = reluFixture(5, 32, 602);

for (const [label, fx] of [["linear", multiLinear], ["relu", multiRelu]] as const) {
  for (const norm of ["Linf", "L2"] as const) {
    Deno.test(`fab-t minimal: ${label} ${norm} distances are the exact ones, at most 1% above`, () => {
      const { xAdv, distances } = fabTargetedMinimal(fx.model, fx.x, fx.y, {
        eps: 1,
        norm,
        steps: 60,
        targets: 4,
      });
      const exact = fx.distances[norm];
      for (let i = 0; i < exact.length; i++) {
        // FAB cannot beat the exact minimum (up to float32 noise) and should get within 1%.
        assert.ok(
          distances[i] >= exact[i] * (1 - 1e-4),
          `example ${i}: ${distances[i]} < exact ${exact[i]}`,
        );
        assert.ok(
          distances[i] <= exact[i] * 1.01,
          `example ${i}: ${distances[i]} vs exact ${exact[i]}`,
        );
      }
      // Every returned point is misclassified.
      assert.strictEqual(correctCount(fx.model, xAdv, fx.y), 0);
      xAdv.dispose();
    });

    Deno.test(`fab-t: ${label} ${norm} at fixed radii reaches the exact robust accuracy within 1 example`, () => {
      for (const eps of radiiBetween(fx.distances[norm], [0.25, 0.5, 0.75])) {
        const exact = exactRobustCount(fx.distances[norm], eps);
        const xAdv = fabTargeted(fx.model, fx.x, fx.y, { eps, norm, steps: 40, targets: 4 });
        assertInBall(xAdv, fx.x, eps, norm, `fab-t ${norm} eps=${eps}`);
        const robust = correctCount(fx.model, xAdv, fx.y);
        xAdv.dispose();
        assert.ok(
          robust >= exact && robust <= exact + 1,
          `fab-t ${norm}: ${robust} vs exact ${exact}`,
        );
      }
    });
  }
}

Deno.test("fab-t minimal: exact box-constrained distances when the box binds", () => {
  // Inputs at 0.9 and 0.97; reaching class 1 needs the first 4 pixels (weight -3 vs +3) to
  // rise, but they have only 0.1 / 0.03 of room: the unconstrained optimum leaves the box.
  // Margins z0 - z1 = 20 - 18 x = 3.8 and 2.54.
  const w = new Float32Array(FEATURES * 3);
  for (let i = 0; i < FEATURES; i++) {
    w[i * 3 + 0] = i < 4 ? -3 : 0.05;
    w[i * 3 + 1] = i < 4 ? 3 : -0.05;
    w[i * 3 + 2] = 0;
  }
  const weights = tf.tensor2d(w, [FEATURES, 3]);
  const bias = tf.tensor1d([20, 0, -100]);
  const model = linearClassifier(weights, bias);
  const x = tf.tidy(() =>
    tf.concat([tf.fill([3, 8, 8, 1], 0.9), tf.fill([3, 8, 8, 1], 0.97)]) as tf.Tensor4D
  );
  const y = tf.tensor1d([0, 0, 0, 0, 0, 0], "int32");
  for (const norm of ["Linf", "L2"] as const) {
    const free = linearMinimalDistances(weights, bias, x, new Int32Array(6), norm);
    const boxed = linearMinimalDistances(weights, bias, x, new Int32Array(6), norm, {
      inBox: true,
    });
    for (const i of [0, 5]) {
      assert.ok(
        boxed[i] > free[i] * 1.05,
        `${norm}: the box should bind (${boxed[i]} vs ${free[i]})`,
      );
    }
    // By hand, Linf at x = 0.9: 6 * 4 * 0.1 + 0.1 * 60 * t = 3.8 -> t = 1.4 / 6.
    if (norm === "Linf") assert.ok(Math.abs(boxed[0] - 1.4 / 6) < 1e-5, `Linf boxed ${boxed[0]}`);
    const { xAdv, distances } = fabTargetedMinimal(model, x, y, {
      eps: 1,
      norm,
      steps: 60,
      targets: 1,
    });
    for (let i = 0; i < 6; i++) {
      assert.ok(
        distances[i] >= boxed[i] * (1 - 1e-4) && distances[i] <= boxed[i] * 1.01,
        `${norm} ${i}: ${distances[i]} vs ${boxed[i]}`,
      );
    }
    assertInBall(xAdv, x, Math.max(...distances) * (1 + 1e-6), norm, "fab box");
    xAdv.dispose();
  }
  tf.dispose([weights, bias, x, y]);
});

Deno.test("fab-t: fails on a gradient-masked model, memory flat, deterministic", () => {
  const fx = maskedFixture(5, 32, 603);
  const eps = radiiBetween(fx.distances.Linf, [0.6])[0];
  const exact = exactRobustCount(fx.distances.Linf, eps);
  const before = tf.memory().numTensors;
  const a = fabTargeted(fx.model, fx.x, fx.y, { eps, steps: 10, targets: 2 });
  const robust = correctCount(fx.model, a, fx.y);
  assert.ok(robust > exact + 5, `fab-t left ${robust}; exact about ${exact}`);
  const b = fabTargeted(fx.model, fx.x, fx.y, { eps, steps: 10, targets: 2 });
  assert.deepStrictEqual(a.dataSync(), b.dataSync());
  tf.dispose([a, b]);
  assert.strictEqual(tf.memory().numTensors, before);
  const r = fabTargeted(multiLinear.model, multiLinear.x, multiLinear.y, {
    eps: 0.01,
    steps: 5,
    restarts: 2,
    norm: "L2",
  });
  r.dispose();
  assert.strictEqual(tf.memory().numTensors, before);
});

Deno.test("fab-t: option errors name the value", () => {
  const { model, x, y } = multiLinear;
  assert.throws(
    () => fabTargeted(model, x, y, { eps: 0.1, eta: 0.5 }),
    /eta must be a finite number >= 1; got 0.5/,
  );
  assert.throws(
    () => fabTargeted(model, x, y, { eps: 0.1, beta: 0 }),
    /beta must be in \(0, 1\]; got 0/,
  );
  assert.throws(
    () => fabTargeted(model, x, y, { eps: 0.1, alphaMax: 2 }),
    /alphaMax must be in \[0, 1\]; got 2/,
  );
  assert.throws(
    () => fabTargeted(model, x, y, { eps: 0.1, targets: 1.5 }),
    /targets must be an integer >= 1; got 1.5/,
  );
});
