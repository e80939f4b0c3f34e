import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert";
import { useBackend } from "../backend/mod.ts";
import { autoAttack } from "../attacks/autoattack.ts";
import { pgd } from "../attacks/pgd.ts";
import type { Classifier } from "../models/types.ts";
import {
  assertInBall,
  correctCount,
  exactRobustCount,
  type Fixture,
  linearFixture,
  maskedFixture,
  radiiBetween,
  reluFixture,
} from "./attacks_fixtures.ts";

await useBackend();

// Small budgets keep the file fast; they are still enough on these models.
const budget = { steps: 25, queries: 300, targets: 4 };

const fixtures: [string, Fixture][] = [
  ["linear", linearFixture(5, 24, 801)],
  ["relu", reluFixture(5, 24, 802)],
  ["masked", maskedFixture(5, 24, 803)],
];

for (const [label, fx] of fixtures) {
  for (const norm of ["Linf", "L2"] as const) {
    Deno.test(`autoattack ${label} ${norm}: <= PGD, non-increasing in eps, 0 at a radius that flips all, in the ball`, () => {
      const d = fx.distances[norm];
      // The last radius is 3x the largest distance: every point can be flipped, and even the
      // random search (the only working stage on the masked model) finds it.
      const radii = [...radiiBetween(d, [0.3, 0.7]), 3 * Math.max(...d)];
      let previous = Infinity;
      for (const eps of radii) {
        const res = autoAttack(fx.model, fx.x, fx.y, { eps, norm, ...budget });
        assertInBall(res.xAdv, fx.x, eps, norm, `autoattack ${norm} eps=${eps}`);
        const robust = correctCount(fx.model, res.xAdv, fx.y);
        const xp = pgd(fx.model, fx.x, fx.y, { eps, norm, steps: 25 });
        const robustPgd = correctCount(fx.model, xp, fx.y);
        xp.dispose();
        res.xAdv.dispose();
        // The report matches the returned points.
        const last = res.robustAfterStage[res.robustAfterStage.length - 1];
        assert.strictEqual(last.robustCount, robust);
        assert.strictEqual(res.robust.reduce((a, b) => a + b, 0), robust);
        assert.deepStrictEqual(res.robustAfterStage.map((s) => s.attack), [
          "apgd-ce",
          "apgd-t",
          "fab-t",
          "square",
        ]);
        for (let i = 1; i < res.robustAfterStage.length; i++) {
          assert.ok(
            res.robustAfterStage[i].robustCount <= res.robustAfterStage[i - 1].robustCount,
            "stages only remove",
          );
        }
        assert.ok(robust <= robustPgd, `eps ${eps}: autoattack ${robust} > pgd ${robustPgd}`);
        assert.ok(
          robust <= previous,
          `eps ${eps}: robust count rose from ${previous} to ${robust}`,
        );
        previous = robust;
        if (label !== "masked") {
          const exact = exactRobustCount(d, eps);
          assert.ok(
            robust >= exact && robust <= exact + 1,
            `eps ${eps}: autoattack ${robust} vs exact ${exact}`,
          );
        }
      }
      assert.strictEqual(previous, 0, "a radius beyond every distance must leave nothing robust");
    });
  }
}

Deno.test("autoattack on the masked model: the gradient stages fail, Square breaks the points", () => {
  const fx = fixtures[2][1];
  const eps = radiiBetween(fx.distances.Linf, [0.6])[0];
  const res = autoAttack(fx.model, fx.x, fx.y, { eps, ...budget });
  res.xAdv.dispose();
  const [ce, t, fab, sq] = res.robustAfterStage;
  // Only APGD's random start moves the input on a zero gradient: at most a lucky point or two.
  assert.ok(ce.robustCount >= 22, `APGD-CE left ${ce.robustCount} of 24`);
  assert.strictEqual(fab.robustCount, t.robustCount);
  assert.ok(
    sq.robustCount <= fab.robustCount - 8,
    `square stage: ${sq.robustCount} vs ${fab.robustCount}`,
  );
  assert.ok(res.foolingStage.filter((s) => s === "square").length >= 8);
});

Deno.test("autoattack: 2 classes skip APGD-T; clean errors, deterministic, memory flat", () => {
  const fx = linearFixture(2, 16, 804);
  const before = tf.memory().numTensors;
  const a = autoAttack(fx.model, fx.x, fx.y, { eps: 0.01, ...budget, queries: 20 });
  assert.ok(a.robustAfterStage[1].skipped?.includes("needs >= 3 classes"));
  const b = autoAttack(fx.model, fx.x, fx.y, { eps: 0.01, ...budget, queries: 20 });
  assert.deepStrictEqual(a.xAdv.dataSync(), b.xAdv.dataSync());
  tf.dispose([a.xAdv, b.xAdv]);
  assert.strictEqual(tf.memory().numTensors, before);
  const labels = Int32Array.from(fx.labels, (l, i) => (i < 3 ? 1 - l : l));
  const y = tf.tensor1d(labels, "int32");
  const c = autoAttack(fx.model, fx.x, y, { eps: 0.01, ...budget, queries: 20 });
  assert.deepStrictEqual(c.foolingStage.slice(0, 3), ["clean", "clean", "clean"]);
  assert.strictEqual(c.cleanAccuracy, 13 / 16);
  tf.dispose([c.xAdv, y]);
  const model: Classifier = fx.model;
  assert.throws(
    () => autoAttack(model, fx.x, fx.y, { eps: 0.1, version: "plus" as "standard" }),
    /only 'standard'/,
  );
  assert.throws(
    () => autoAttack(model, fx.x, fx.y, { eps: 0.1, stages: ["pgd" as "square"] }),
    /unknown AutoAttack stage 'pgd'/,
  );
});
