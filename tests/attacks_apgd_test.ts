import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert";
import { useBackend } from "../backend/mod.ts";
import {
  apgd,
  apgdCe,
  apgdCheckpoints,
  apgdDlr,
  apgdTargeted,
  targetClassesByRank,
} from "../attacks/apgd.ts";
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

Deno.test("apgdCheckpoints: w_j = ceil(p_j N) with p = 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99", () => {
  // Hand-computed from p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06).
  assert.deepStrictEqual(apgdCheckpoints(100), [22, 41, 57, 70, 80, 87, 93, 99]);
  // N = 10: 2.2, 4.1, 5.7, 7.0, 8.0, 8.7, 9.3, 9.9 rounded up, duplicates dropped.
  assert.deepStrictEqual(apgdCheckpoints(10), [3, 5, 6, 7, 8, 9, 10]);
  assert.throws(() => apgdCheckpoints(0), /steps must be an integer >= 1; got 0/);
});

const binaryLinear = linearFixture(2, 48, 111);
const binaryRelu = reluFixture(2, 48, 222);
const multiLinear = linearFixture(5, 48, 333);
const multiRelu = reluFixture(5, 48, 444);

for (const [label, fx] of [["linear", binaryLinear], ["relu", binaryRelu]] as const) {
  for (const norm of ["Linf", "L2"] as const) {
    Deno.test(`apgd-ce: binary ${label} ${norm} reaches the exact robust accuracy within 1 example`, () => {
      for (const eps of radiiBetween(fx.distances[norm], [0.25, 0.5, 0.75])) {
        const exact = exactRobustCount(fx.distances[norm], eps);
        const xAdv = apgdCe(fx.model, fx.x, fx.y, { eps, norm, steps: 30, seed: 3 });
        assertInBall(xAdv, fx.x, eps, norm, `apgd-ce ${norm} eps=${eps}`);
        const robust = correctCount(fx.model, xAdv, fx.y);
        xAdv.dispose();
        assert.ok(
          robust >= exact && robust <= exact + 1,
          `apgd-ce: ${robust} robust, exact ${exact}`,
        );
      }
    });
  }
}

for (const [label, fx] of [["linear", multiLinear], ["relu", multiRelu]] as const) {
  for (const norm of ["Linf", "L2"] as const) {
    Deno.test(`apgd-t: 5-class ${label} ${norm} reaches the exact robust accuracy within 1 example`, () => {
      for (const eps of radiiBetween(fx.distances[norm], [0.25, 0.5, 0.75])) {
        const exact = exactRobustCount(fx.distances[norm], eps);
        const xAdv = apgdTargeted(fx.model, fx.x, fx.y, { eps, norm, steps: 30, targets: 4 });
        assertInBall(xAdv, fx.x, eps, norm, `apgd-t ${norm} eps=${eps}`);
        const robust = correctCount(fx.model, xAdv, fx.y);
        xAdv.dispose();
        assert.ok(
          robust >= exact && robust <= exact + 1,
          `apgd-t: ${robust} robust, exact ${exact}`,
        );
      }
    });
  }
}

Deno.test("apgd-ce and apgd-dlr on 5 classes: upper bounds of the exact robust accuracy, and close", () => {
  for (const norm of ["Linf", "L2"] as const) {
    for (const eps of radiiBetween(multiLinear.distances[norm], [0.3, 0.6])) {
      const exact = exactRobustCount(multiLinear.distances[norm], eps);
      for (const attack of [apgdCe, apgdDlr]) {
        const xAdv = attack(multiLinear.model, multiLinear.x, multiLinear.y, {
          eps,
          norm,
          steps: 30,
        });
        assertInBall(xAdv, multiLinear.x, eps, norm, attack.name);
        const robust = correctCount(multiLinear.model, xAdv, multiLinear.y);
        xAdv.dispose();
        assert.ok(
          robust >= exact && robust <= exact + 4,
          `${attack.name} ${norm}: ${robust} vs exact ${exact}`,
        );
      }
    }
  }
});

Deno.test("targetClassesByRank: the classes with the 2nd, 3rd, ... largest logits", () => {
  const t = targetClassesByRank(tf.tensor2d([[0.1, 3, 2, 1], [5, 0, 1, 2]]), 3);
  assert.deepStrictEqual(t.map((a) => Array.from(a)), [[2, 3], [3, 2], [0, 1]]);
  assert.throws(() => targetClassesByRank(tf.tensor2d([[1, 2]]), 2), /integer in 1..1; got 2/);
});

Deno.test("apgd: deterministic under a seed, flat memory, clean-misclassified unchanged", () => {
  const run = (seed: number) => {
    const a = apgd(multiLinear.model, multiLinear.x, multiLinear.y, {
      eps: 0.01,
      steps: 5,
      seed,
      restarts: 2,
    });
    const d = a.dataSync().slice();
    a.dispose();
    return d;
  };
  assert.deepStrictEqual(run(1), run(1));
  run(2);
  const before = tf.memory().numTensors;
  run(3);
  const t = apgdTargeted(multiLinear.model, multiLinear.x, multiLinear.y, {
    eps: 0.01,
    norm: "L2",
    steps: 5,
    targets: 2,
  });
  t.dispose();
  assert.strictEqual(tf.memory().numTensors, before);

  const labels = Int32Array.from(multiLinear.labels, (l, i) => (i < 10 ? (l + 1) % 5 : l));
  const y = tf.tensor1d(labels, "int32");
  const xAdv = apgdTargeted(multiLinear.model, multiLinear.x, y, {
    eps: 0.05,
    steps: 5,
    targets: 2,
  });
  const a = xAdv.dataSync(), x = multiLinear.x.dataSync();
  for (let k = 0; k < 10 * 64; k++) assert.strictEqual(a[k], x[k]);
  tf.dispose([xAdv, y]);
});

Deno.test("apgd: a zero gradient (gradient masking) defeats it", () => {
  const fx = maskedFixture(5, 48, 555);
  const eps = radiiBetween(fx.distances.Linf, [0.6])[0];
  const exact = exactRobustCount(fx.distances.Linf, eps);
  for (const attack of [apgdCe, apgdTargeted]) {
    const xAdv = attack(fx.model, fx.x, fx.y, { eps, steps: 10 });
    const robust = correctCount(fx.model, xAdv, fx.y);
    xAdv.dispose();
    assert.ok(robust > exact + 10, `${attack.name} left ${robust}, exact about ${exact}`);
  }
});

Deno.test("apgd: option errors name the value", () => {
  const { model, x, y } = multiLinear;
  assert.throws(
    () => apgd(model, x, y, { eps: 0.1, loss: "hinge" as "ce" }),
    /unknown APGD loss 'hinge'/,
  );
  assert.throws(
    () => apgd(model, x, y, { eps: 0.1, rho: 1.5 }),
    /rho must be in \(0, 1\]; got 1.5/,
  );
  assert.throws(
    () => apgdTargeted(model, x, y, { eps: 0.1, targets: 0 }),
    /targets must be an integer >= 1; got 0/,
  );
  const binary = binaryLinear;
  assert.throws(
    () => apgdDlr(binary.model, binary.x, binary.y, { eps: 0.1 }),
    /needs >= 3 classes; the model has 2/,
  );
});

Deno.test("apgd: step-size halving converges onto an interior maximum of the loss", () => {
  // logits (0, -50 ||x - c||^2): the cross-entropy of label 0 peaks at x = c, inside the ball,
  // where the label still wins (a tie goes to class 0). A fixed step of 2 eps would keep
  // jumping across c; the halving schedule must home in on it.
  const c = tf.tensor4d([0.62, 0.41, 0.55, 0.47], [1, 2, 2, 1]);
  const model = (x: tf.Tensor4D) =>
    tf.tidy(() => {
      const q = tf.sum(tf.square(tf.sub(x, c)), [1, 2, 3]);
      return tf.stack([tf.zerosLike(q), tf.mul(-50, q)], 1) as tf.Tensor2D;
    });
  const x = tf.fill([1, 2, 2, 1], 0.5) as tf.Tensor4D;
  const y = tf.tensor1d([0], "int32");
  for (const [norm, eps] of [["Linf", 0.3], ["L2", 0.4]] as const) {
    const xAdv = apgdCe(model, x, y, { eps, norm, steps: 100 });
    const got = xAdv.dataSync();
    const want = c.dataSync();
    const err = Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i])));
    assert.ok(err < 0.01, `${norm}: APGD ended ${err} away from the maximum (${Array.from(got)})`);
    xAdv.dispose();
  }
  tf.dispose([c, x, y]);
});
