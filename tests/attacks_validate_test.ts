import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert";
import { useBackend } from "../backend/mod.ts";
import { assertAttackInputs, assertAttackOptions, validateAttack } from "../attacks/validate.ts";
import { fgsm } from "../attacks/fgsm.ts";
import { pgd } from "../attacks/pgd.ts";
import { apgdCe, apgdTargeted } from "../attacks/apgd.ts";
import { fabTargeted } from "../attacks/fab.ts";
import { square } from "../attacks/square.ts";
import { autoAttack } from "../attacks/autoattack.ts";
import type { AttackOptions } from "../attacks/validate.ts";
import { linearFixture } from "./attacks_fixtures.ts";

await useBackend();

const fx = linearFixture(4, 6, 1001);
const attacks = {
  fgsm,
  pgd,
  apgdCe,
  apgdTargeted,
  fabTargeted,
  square,
  autoAttack: (m: any, x: any, y: any, o: any) => autoAttack(m, x, y, o).xAdv,
};

Deno.test("every attack rejects bad options with the value named", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ eps: -1 }, /eps must be >= 0; got -1/],
    [{ eps: NaN }, /eps must be a number >= 0; got NaN/],
    [{ eps: Infinity }, /eps must be finite; got Infinity/],
    [{ eps: 0.1, norm: "L1" }, /unknown norm 'L1': allowed are 'Linf', 'L2'/],
    [{ eps: 0.1, steps: 2.5 }, /steps must be an integer >= 1; got 2.5/],
    [{ eps: 0.1, restarts: 0 }, /restarts must be an integer >= 1; got 0/],
    [{ eps: 0.1, stepSize: -0.01 }, /stepSize must be a finite number > 0; got -0.01/],
    [{ eps: 0.1, seed: NaN }, /seed must be a finite number; got NaN/],
  ];
  for (const [name, attack] of Object.entries(attacks)) {
    for (const [opts, message] of cases) {
      assert.throws(
        () => attack(fx.model, fx.x, fx.y, opts as unknown as AttackOptions),
        message,
        `${name} ${JSON.stringify(opts)}`,
      );
    }
  }
  assert.throws(
    () => assertAttackOptions(undefined as unknown as AttackOptions),
    /must be an object with at least eps/,
  );
});

Deno.test("every attack rejects bad inputs with the value named", () => {
  const outside = tf.tidy(() => tf.add(fx.x, 0.5) as tf.Tensor4D);
  const negative = tf.tidy(() => tf.sub(fx.x, 0.5) as tf.Tensor4D);
  const rank3 = tf.zeros([6, 8, 8]) as unknown as tf.Tensor4D;
  const shortY = tf.tensor1d([0, 1, 2], "int32");
  const bigLabel = tf.tensor1d([0, 1, 2, 3, 9, 0], "int32");
  const fractional = tf.tensor1d([0, 1, 2.5, 3, 0, 0], "float32");
  const negLabel = tf.tensor1d([0, -1, 2, 3, 0, 0], "int32");
  const cases: [tf.Tensor4D, tf.Tensor1D, RegExp][] = [
    [outside, fx.y, /x must lie in \[0, 1\]; found value 1\.1/],
    [negative, fx.y, /x must lie in \[0, 1\]; found value -0\.1/],
    [rank3, fx.y, /x must be a 4-D tensor \[batch, height, width, channels\]; got shape \[6,8,8\]/],
    [fx.x, shortY, /batch sizes differ: x has 6 examples .* but y has 3 labels/],
    [
      fx.x,
      bigLabel,
      /label 9 at index 4 is out of range: the model has 4 classes, allowed are 0..3/,
    ],
    [fx.x, fractional, /label 2.5 at index 2 is not a non-negative integer class id/],
    [fx.x, negLabel, /label -1 at index 1 is not a non-negative integer class id/],
  ];
  for (const [name, attack] of Object.entries(attacks)) {
    for (const [x, y, message] of cases) {
      assert.throws(() => attack(fx.model, x, y, { eps: 0.1 }), message, `${name}`);
    }
  }
  const before = tf.memory().numTensors;
  assert.throws(() => validateAttack(fx.model, fx.x, bigLabel, { eps: 0.1 }), /label 9/);
  assert.strictEqual(tf.memory().numTensors, before, "a failed validation leaks nothing");
  assert.throws(
    () =>
      validateAttack((x) => tf.reshape(x, [-1]) as unknown as tf.Tensor2D, fx.x, fx.y, {
        eps: 0.1,
      }),
    /model must return logits \[6, classes\]; got shape \[384\]/,
  );
  assert.deepStrictEqual(Array.from(assertAttackInputs(fx.x, fx.y)), Array.from(fx.labels));
  tf.dispose([outside, negative, rank3, shortY, bigLabel, fractional, negLabel]);
});

Deno.test("eps = 0 returns the inputs unchanged for every attack", () => {
  for (const [name, attack] of Object.entries(attacks)) {
    const xAdv = attack(fx.model, fx.x, fx.y, { eps: 0, steps: 2, queries: 5 } as AttackOptions);
    assert.deepStrictEqual(xAdv.dataSync(), fx.x.dataSync(), name);
    xAdv.dispose();
  }
});
