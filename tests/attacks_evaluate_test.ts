import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert";
import { useBackend } from "../backend/mod.ts";
import { evaluate, type EvaluationReport, type LabelledBatch } from "../attacks/evaluate.ts";
import { toCsv, toMarkdown } from "../attacks/report.ts";
import {
  exactRobustCount,
  linearFixture,
  maskedFixture,
  radiiBetween,
} from "./attacks_fixtures.ts";

await useBackend();

const binary = linearFixture(2, 40, 901);
const quiet = { progress: false } as const;

function batchesOf(x: tf.Tensor4D, y: tf.Tensor1D, size: number): LabelledBatch[] {
  const out: LabelledBatch[] = [];
  for (let s = 0; s < x.shape[0]; s += size) {
    const n = Math.min(size, x.shape[0] - s);
    out.push({ x: tf.slice(x, [s, 0, 0, 0], [n, -1, -1, -1]), y: tf.slice(y, [s], [n]) });
  }
  return out;
}

Deno.test("evaluate: exact robust counts per attack and radius, batched or not, with an iterable", async () => {
  const radii = radiiBetween(binary.distances.Linf, [0.3, 0.7]);
  const attacks = [{ name: "pgd", options: { steps: 20 } }, {
    name: "apgd-ce",
    options: { steps: 20 },
  }];
  const whole = await evaluate(binary.model, { x: binary.x, y: binary.y }, {
    attacks,
    radii,
    batchSize: 16,
    ...quiet,
  });
  const parts = batchesOf(binary.x, binary.y, 7);
  const split = await evaluate(binary.model, parts, { attacks, radii, batchSize: 5, ...quiet });
  tf.dispose(parts.flatMap((p) => [p.x, p.y]));
  for (const report of [whole, split]) {
    assert.deepStrictEqual(report.clean, { correct: 40, total: 40, accuracy: 1 });
    assert.strictEqual(report.rows.length, 4);
    for (const row of report.rows) {
      const exact = exactRobustCount(binary.distances.Linf, row.eps);
      assert.ok(
        row.robustCorrect >= exact && row.robustCorrect <= exact + 1,
        `${row.attack} ${row.eps}: ${row.robustCorrect} vs ${exact}`,
      );
      assert.strictEqual(row.total, 40);
      assert.strictEqual(row.robustAccuracy, row.robustCorrect / 40);
    }
    // Robust accuracy does not rise with eps.
    assert.ok(report.rows[1].robustCorrect <= report.rows[0].robustCorrect);
    assert.deepStrictEqual(report.warnings, []);
    assert.strictEqual(report.zeroGradientFraction, 0);
  }
});

Deno.test("evaluate: deterministic under a seed, n limits the examples, async iterables, memory flat", async () => {
  const opts = { attacks: ["pgd" as const], radii: [0.01], batchSize: 8, ...quiet };
  const strip = (r: EvaluationReport) => r.rows.map(({ seconds: _s, ...rest }) => rest);
  const a = await evaluate(binary.model, binary, {
    ...opts,
    seed: 3,
    attacks: [{ name: "pgd", options: { steps: 2 } }],
  });
  const before = tf.memory().numTensors;
  const b = await evaluate(binary.model, binary, {
    ...opts,
    seed: 3,
    attacks: [{ name: "pgd", options: { steps: 2 } }],
  });
  assert.strictEqual(tf.memory().numTensors, before);
  assert.deepStrictEqual(strip(a), strip(b));
  const limited = await evaluate(binary.model, binary, { ...opts, n: 13 });
  assert.strictEqual(limited.clean.total, 13);
  assert.strictEqual(limited.rows[0].total, 13);
  async function* stream() {
    for (const p of batchesOf(binary.x, binary.y, 10)) yield p;
  }
  const streamed = await evaluate(binary.model, stream(), { ...opts, n: 25 });
  assert.strictEqual(streamed.clean.total, 25);
});

Deno.test("evaluate: on a gradient-masked model it reports the masking", async () => {
  const fx = maskedFixture(5, 24, 902);
  const eps = radiiBetween(fx.distances.Linf, [0.6])[0];
  const report = await evaluate(fx.model, fx, {
    attacks: [
      { name: "pgd", options: { steps: 10 } },
      { name: "square", options: { queries: 300 } },
      { name: "autoattack", options: { steps: 5, queries: 300, targets: 2 } },
    ],
    radii: [eps],
    ...quiet,
  });
  const [pgdRow, squareRow, aaRow] = report.rows;
  assert.ok(
    aaRow.robustCorrect <= pgdRow.robustCorrect - 6,
    `autoattack ${aaRow.robustCorrect} vs pgd ${pgdRow.robustCorrect}`,
  );
  assert.ok(
    squareRow.robustCorrect <= pgdRow.robustCorrect - 6,
    `square ${squareRow.robustCorrect} vs pgd ${pgdRow.robustCorrect}`,
  );
  assert.strictEqual(report.zeroGradientFraction, 1);
  assert.ok(
    report.warnings.some((w) => /exactly zero on 100.0%/.test(w)),
    report.warnings.join("\n"),
  );
  assert.ok(
    report.warnings.some((w) => /gradient-free square .* pgd .*gradient masking/.test(w)),
    report.warnings.join("\n"),
  );
  assert.match(toMarkdown(report), /Warnings:\n- the input gradient is exactly zero/);
});

Deno.test("toCsv and toMarkdown: by hand", () => {
  const report: EvaluationReport = {
    clean: { correct: 9, total: 10, accuracy: 0.9 },
    rows: [
      {
        attack: "pgd",
        norm: "Linf",
        eps: 0.03,
        robustCorrect: 4,
        total: 10,
        robustAccuracy: 0.4,
        seconds: 1.5,
      },
      {
        attack: "pgd",
        norm: "Linf",
        eps: 0.06,
        robustCorrect: 1,
        total: 10,
        robustAccuracy: 0.1,
        seconds: 2,
      },
      {
        attack: "my,attack",
        norm: "L2",
        eps: 0.5,
        robustCorrect: 3,
        total: 10,
        robustAccuracy: 0.3,
        seconds: 0.25,
      },
    ],
    zeroGradientFraction: 0,
    warnings: [],
    seed: 7,
  };
  assert.strictEqual(
    toCsv(report),
    "attack,norm,eps,robust_correct,total,robust_accuracy,clean_correct,clean_accuracy,seconds\n" +
      "pgd,Linf,0.03,4,10,0.4,9,0.9,1.500\n" +
      "pgd,Linf,0.06,1,10,0.1,9,0.9,2.000\n" +
      '"my,attack",L2,0.5,3,10,0.3,9,0.9,0.250\n',
  );
  assert.strictEqual(
    toMarkdown(report),
    "Clean accuracy: 90.0% (9/10), seed 7\n\n" +
      "| attack | Linf eps=0.03 | Linf eps=0.06 | L2 eps=0.5 |\n" +
      "| --- | --- | --- | --- |\n" +
      "| pgd | 40.0% (4/10) | 10.0% (1/10) |  |\n" +
      "| my,attack |  |  | 30.0% (3/10) |\n",
  );
});

Deno.test("evaluate: progress lines with ETA", async () => {
  const lines: string[] = [];
  await evaluate(binary.model, binary, {
    attacks: [{ name: "fgsm" }],
    radii: [0.01, 0.02],
    batchSize: 10,
    progress: { write: (l) => lines.push(l), intervalSeconds: 0 },
  });
  assert.ok(lines.length >= 8, `got ${lines.length} lines`);
  assert.match(lines[0], /^robustness evaluation: 10\/80 \(12\.5%\) .*ETA/);
  assert.match(lines[lines.length - 1], /80\/80 \(100\.0%\) .*done/);
});

Deno.test("evaluate: bad input and bad attacks are named", async () => {
  const base = { attacks: ["pgd" as const], radii: [0.01], ...quiet };
  await assert.rejects(
    evaluate(binary.model, binary, { ...base, attacks: ["cw" as "pgd"] }),
    /unknown attack 'cw'/,
  );
  await assert.rejects(
    evaluate(binary.model, binary, { ...base, radii: [-0.1] }),
    /finite number >= 0; got -0.1/,
  );
  await assert.rejects(
    evaluate(binary.model, binary, { ...base, batchSize: 0 }),
    /batchSize must be an integer >= 1; got 0/,
  );
  await assert.rejects(
    evaluate(binary.model, binary, { ...base, norm: "L1" as "L2" }),
    /unknown norm 'L1'/,
  );
  const badY = tf.tensor1d(Array.from({ length: 40 }, (_, i) => (i === 5 ? 7 : 0)), "int32");
  await assert.rejects(
    evaluate(binary.model, { x: binary.x, y: badY }, base),
    /label 7 at index 5 is out of range/,
  );
  const shortY = tf.tensor1d([0, 1], "int32");
  await assert.rejects(
    evaluate(binary.model, { x: binary.x, y: shortY }, base),
    /batch sizes differ/,
  );
  // An attack that leaves the ball is caught and named.
  const cheat = (_m: unknown, x: tf.Tensor4D) =>
    tf.clipByValue(tf.add(x, 0.2), 0, 1) as tf.Tensor4D;
  await assert.rejects(
    evaluate(binary.model, binary, { ...base, attacks: [{ name: "cheat", attack: cheat }] }),
    /attack 'cheat' at eps 0.01 returned inputs outside the Linf ball/,
  );
  // The identity "attack" leaves clean accuracy.
  const identity = (_m: unknown, x: tf.Tensor4D) => tf.clone(x);
  const r = await evaluate(binary.model, binary, {
    ...base,
    attacks: [{ name: "none", attack: identity }],
  });
  assert.strictEqual(r.rows[0].robustCorrect, r.clean.correct);
  tf.dispose([badY, shortY]);
});
