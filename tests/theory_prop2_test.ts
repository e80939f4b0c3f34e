// Proposition 2's bound: rigorous checks on random pairs, exact-gamma checks on affine nets, and
// cases showing that the gradient term and the dual norm are both needed.
import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "../backend/mod.ts";
import {
  boundTerms,
  checkProp2,
  disposeToyMlp,
  initToyMlp,
  prop2Bound,
  type ToyMlp,
  toyMlpClassifier,
  toyMlpFromArrays,
  toyMlpToFloat64,
} from "../theory/mod.ts";
import { seededRandom } from "../util/rng.ts";

await useBackend();

const FAST = { steps: 25, restarts: 2, randomPoints: 16 };

/** CE and its input gradient of an affine net (one layer) at x, in float64. */
function affineCe(net: ToyMlp, x: number[], y: number) {
  const [l] = toyMlpToFloat64(net);
  const z = Array.from(l.bias);
  x.forEach((v, i) => z.forEach((_, o) => (z[o] += v * l.weight[i * l.outSize + o])));
  const m = Math.max(...z);
  const sum = z.reduce((s, v) => s + Math.exp(v - m), 0);
  const p = z.map((v) => Math.exp(v - m) / sum);
  const ce = m + Math.log(sum) - z[y];
  const grad = x.map((_, i) =>
    p.reduce((s, pk, o) => s + l.weight[i * l.outSize + o] * (pk - (o === y ? 1 : 0)), 0)
  );
  return { ce, grad };
}

/**
 * The exact LLM of an affine net for an Linf ball: CE = logsumexp(Wx + b) - z_y is convex in x,
 * so the residual is convex and its max over the box is at one of the 2^D vertices.
 */
function exactAffineGammaLinf(net: ToyMlp, x: number[], y: number, delta: number): number {
  const { ce, grad } = affineCe(net, x, y);
  const d = x.length;
  let best = 0;
  for (let mask = 0; mask < 1 << d; mask++) {
    const e = x.map((_, i) => ((mask >> i) & 1 ? delta : -delta));
    const r = affineCe(net, x.map((v, i) => v + e[i]), y).ce - ce -
      e.reduce((s, v, i) => s + v * grad[i], 0);
    best = Math.max(best, Math.abs(r));
  }
  return best;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

Deno.test("Prop. 2 holds at every evaluated e on many seeded random pairs (rigorous chain)", () => {
  const rand = seededRandom(2024);
  const slacks: number[] = [], rigorous: number[] = [];
  let negativeEstimated = 0;
  for (let pair = 0; pair < 16; pair++) {
    const dim = [2, 3, 5][pair % 3];
    const classes = 2 + (pair % 2);
    const activation = pair % 4 < 2 ? "relu" : "tanh";
    const norm = pair % 5 < 3 ? "Linf" : "L2";
    const delta = [0.05, 0.2, 0.5][pair % 3];
    const student = initToyMlp([dim, 8, classes], {
      seed: 2 * pair,
      activation,
      weightScale: 0.5 + 2 * rand(),
    });
    const teacher = initToyMlp([dim, 12, classes], {
      seed: 2 * pair + 1,
      activation,
      weightScale: 0.5 + 2 * rand(),
    });
    const n = 6;
    const x = tf.tensor2d(
      Array.from({ length: n }, () => Array.from({ length: dim }, () => 2 * rand() - 1)),
    );
    const y = tf.tensor1d(Array.from({ length: n }, () => Math.floor(rand() * classes)), "int32");
    const c = checkProp2(toyMlpClassifier(student), toyMlpClassifier(teacher), x, y, delta, {
      norm,
      seed: pair,
      ...FAST,
    });
    c.lhs.forEach((l, i) => {
      const where = `pair ${pair} example ${i}: lhs ${l}, rigorous bound ${l + c.slackRigorous[i]}`;
      assert(c.slackRigorous[i] >= -1e-5 * (1 + l), where);
      assert(c.gammaStudentRigorous[i] >= c.terms.gammaStudent[i]);
    });
    assertEquals(c.terms.gradientNorm, norm === "Linf" ? "L1" : "L2");
    slacks.push(...c.slack);
    rigorous.push(...c.slackRigorous);
    negativeEstimated += c.slack.filter((s) => s < 0).length;
    tf.dispose([x, y]);
    disposeToyMlp(student);
    disposeToyMlp(teacher);
  }
  console.log(
    `Prop. 2 slack (bound - max lhs) over ${slacks.length} examples: estimated-gamma min ` +
      `${Math.min(...slacks).toFixed(4)} median ${median(slacks).toFixed(4)} max ${
        Math.max(...slacks).toFixed(4)
      }` +
      ` (${negativeEstimated} negative); rigorous min ${Math.min(...rigorous).toFixed(4)} median ` +
      `${median(rigorous).toFixed(4)} max ${Math.max(...rigorous).toFixed(4)}`,
  );
});

Deno.test("Prop. 2 with the EXACT gamma (affine nets, Linf): the bound holds; the LLM ascent never overshoots", () => {
  const rand = seededRandom(7);
  for (let pair = 0; pair < 10; pair++) {
    const dim = 2 + (pair % 3);
    const classes = 2 + (pair % 3);
    const delta = [0.1, 0.3, 0.6][pair % 3];
    const student = initToyMlp([dim, classes], { seed: 50 + pair, weightScale: 1 + 2 * rand() });
    const teacher = initToyMlp([dim, classes], { seed: 80 + pair, weightScale: 1 + 2 * rand() });
    const pts = Array.from({ length: 4 }, () => Array.from({ length: dim }, () => 2 * rand() - 1));
    const labels = pts.map(() => Math.floor(rand() * classes));
    const x = tf.tensor2d(pts);
    const y = tf.tensor1d(labels, "int32");
    const c = checkProp2(toyMlpClassifier(student), toyMlpClassifier(teacher), x, y, delta, {
      seed: pair,
      ...FAST,
    });
    pts.forEach((p, i) => {
      const gs = exactAffineGammaLinf(student, p, labels[i], delta);
      const gt = exactAffineGammaLinf(teacher, p, labels[i], delta);
      const bound = gs + gt + c.terms.phi[i];
      assert(
        c.lhs[i] <= bound + 1e-5 * (1 + bound),
        `pair ${pair} ex ${i}: lhs ${c.lhs[i]} > exact bound ${bound}`,
      );
      // An ascent value is |r| at a point of the ball: never above the true max.
      assert(
        c.terms.gammaStudent[i] <= gs + 1e-5 * (1 + gs),
        `gamma_s ${c.terms.gammaStudent[i]} > exact ${gs}`,
      );
      assert(
        c.terms.gammaTeacher[i] <= gt + 1e-5 * (1 + gt),
        `gamma_t ${c.terms.gammaTeacher[i]} > exact ${gt}`,
      );
    });
    tf.dispose([x, y]);
    disposeToyMlp(student);
    disposeToyMlp(teacher);
  }
});

Deno.test("Prop. 2 has teeth: without phi's gradient part a seeded pair violates it (exact gamma)", () => {
  // A steep student and a flat teacher: the first-order change e·(g_s - g_t) is what the bound
  // must pay for. gamma is exact here, so a violation is a true violation.
  let found = "";
  for (let seed = 0; seed < 12 && !found; seed++) {
    const rand = seededRandom(300 + seed);
    const dim = 3;
    const student = initToyMlp([dim, 2], { seed: 400 + seed, weightScale: 3 });
    const teacher = initToyMlp([dim, 2], { seed: 500 + seed, weightScale: 0.2 });
    const pts = Array.from({ length: 6 }, () => Array.from({ length: dim }, () => 2 * rand() - 1));
    const labels = pts.map((_, i) => i % 2);
    const x = tf.tensor2d(pts);
    const y = tf.tensor1d(labels, "int32");
    const delta = 0.5;
    const c = checkProp2(toyMlpClassifier(student), toyMlpClassifier(teacher), x, y, delta, {
      seed,
      ...FAST,
    });
    pts.forEach((p, i) => {
      const gs = exactAffineGammaLinf(student, p, labels[i], delta);
      const gt = exactAffineGammaLinf(teacher, p, labels[i], delta);
      const full = gs + gt + c.terms.phi[i];
      const noGradient = full - c.terms.gradientTerm[i];
      assert(c.lhs[i] <= full + 1e-5 * (1 + full));
      if (!found && c.lhs[i] > noGradient + 1e-3) {
        found = `seed ${seed} ex ${i}: lhs ${c.lhs[i]} > ${noGradient}`;
      }
    });
    tf.dispose([x, y]);
    disposeToyMlp(student);
    disposeToyMlp(teacher);
  }
  assert(
    found,
    "no seeded pair violated the bound without its gradient term: the check has no teeth",
  );
  console.log(`violation without the gradient term: ${found}`);
});

Deno.test("Prop. 2 needs the DUAL norm: an Linf ball with ||g_s - g_t||_2 is violated (D = 16)", () => {
  // Student d_s = u·x with u in {±1}^16 and d_s(x) = 0; teacher logits constant [0, 0].
  // lhs ~ softplus(16 δ) - log 2; with the L2 norm the gradient term is only δ/2 * 4.
  const dim = 16;
  const u = Array.from({ length: dim }, (_, i) => (i % 3 === 0 ? -1 : 1));
  const xp = Array.from({ length: dim }, (_, i) => 0.05 * ((i * 7) % 5 - 2));
  const student = toyMlpFromArrays([{
    weight: u.map((v) => [0, v]),
    bias: [0, -u.reduce((s, v, i) => s + v * xp[i], 0)],
  }]);
  const teacher = toyMlpFromArrays([{ weight: u.map(() => [0, 0]), bias: [0, 0] }]);
  const x = tf.tensor2d([xp]);
  const y = tf.tensor1d([1], "int32");
  const delta = 0.25;
  const c = checkProp2(toyMlpClassifier(student), toyMlpClassifier(teacher), x, y, delta, {
    seed: 1,
    ...FAST,
  });
  const gs = exactAffineGammaLinf(student, xp, 1, delta);
  const gt = exactAffineGammaLinf(teacher, xp, 1, delta);
  assert(gt < 1e-12);
  const ce = c.terms.ceStudent[0] + c.terms.ceTeacher[0];
  const withL1 = gs + gt + ce + delta * c.terms.gradientDifference.L1[0];
  const withL2 = gs + gt + ce + delta * c.terms.gradientDifference.L2[0];
  assert(c.lhs[0] <= withL1 + 1e-5 * withL1, `lhs ${c.lhs[0]} > dual-norm bound ${withL1}`);
  assert(c.lhs[0] > withL2 + 0.05, `lhs ${c.lhs[0]} should exceed the L2-norm 'bound' ${withL2}`);
  // Hand values: lhs = softplus(4) - log 2 = 3.325; gamma_s = 1.325; L2 bound 3.211; L1 bound 4.711.
  assert(Math.abs(c.lhs[0] - (Math.log1p(Math.exp(4)) - Math.LN2)) < 1e-3, `lhs ${c.lhs[0]}`);
  assert(Math.abs(gs - (Math.log1p(Math.exp(4)) - Math.LN2 - 2)) < 1e-9, `gamma ${gs}`);
  tf.dispose([x, y]);
  disposeToyMlp(student);
  disposeToyMlp(teacher);
});

Deno.test("boundTerms matches closed forms on affine 2-class nets", () => {
  // d = u·x + c for label 1: CE = softplus(-d), grad = -sigmoid(-d) u, LLM from the convex residual.
  const us = [[1.2, -0.7], [0.3, 0.9]].map((r) => r.map(Math.fround));
  const cs = [0.1, -0.4].map(Math.fround);
  const [student, teacher] = us.map((u, k) =>
    toyMlpFromArrays([{ weight: u.map((v) => [0, v]), bias: [0, cs[k]] }])
  );
  const pts = [[0.2, 0.1], [-0.5, 0.3], [0.4, -0.6]];
  const x = tf.tensor2d(pts);
  const y = tf.tensor1d([1, 1, 1], "int32");
  const radii = [0.1, 0.3];
  const row = boundTerms(toyMlpClassifier(student), toyMlpClassifier(teacher), x, y, { radii });
  const sp = (v: number) => Math.log1p(Math.exp(v));
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const d = (k: number, p: number[]) => us[k][0] * p[0] + us[k][1] * p[1] + cs[k];
  const mean = (f: (p: number[]) => number) => pts.reduce((s, p) => s + f(p), 0) / pts.length;
  radii.forEach((delta, r) => {
    const T = delta * (Math.abs(us[0][0]) + Math.abs(us[0][1]));
    const llm = mean((p) => {
      const d0 = d(0, p);
      const res = (t: number) => sp(-d0 - t) - sp(-d0) + sig(-d0) * t;
      return Math.max(res(T), res(-T));
    });
    assert(Math.abs(row.llm[r] - llm) < 1e-4, `llm at ${delta}: ${row.llm[r]} vs ${llm}`);
  });
  assert(Math.abs(row.ce - mean((p) => sp(-d(0, p)))) < 1e-5, `ce ${row.ce}`);
  const diff = (p: number[]) =>
    [0, 1].map((i) => -sig(-d(0, p)) * us[0][i] + sig(-d(1, p)) * us[1][i]);
  assert(Math.abs(row.gradientDifferenceL2 - mean((p) => Math.hypot(...diff(p)))) < 1e-5);
  assert(
    Math.abs(row.gradientDifferenceL1 - mean((p) => Math.abs(diff(p)[0]) + Math.abs(diff(p)[1]))) <
      1e-5,
  );
  tf.dispose([x, y]);
  disposeToyMlp(student);
  disposeToyMlp(teacher);
});

Deno.test("Prop. 2 functions reject bad input and leak no tensors", () => {
  const s = initToyMlp([2, 4, 2], { seed: 0 });
  const t = initToyMlp([2, 4, 2], { seed: 1 });
  const [fs, ft] = [toyMlpClassifier(s), toyMlpClassifier(t)];
  const x = tf.tensor2d([[0.1, 0.2], [0.3, -0.1]]);
  const y = tf.tensor1d([1, 0], "int32");
  throws(() => prop2Bound(fs, ft, x, y, 0), /delta must be a finite number > 0; got 0/);
  throws(() => prop2Bound(fs, ft, x, y, 0.1, { norm: "L7" as never }), /unknown norm 'L7'/);
  throws(
    () => checkProp2(fs, ft, x, y, 0.1, { randomPoints: -1 }),
    /randomPoints must be an integer >= 0; got -1/,
  );
  throws(() => boundTerms(fs, ft, x, y, { radii: [] }), /radii must be a non-empty array/);
  throws(
    () => boundTerms(fs, ft, x, y, { radii: [0.1, -2] }),
    /radii\[1\] must be a finite number > 0; got -2/,
  );
  throws(
    () => prop2Bound(fs, ft, x, tf.tensor1d([1], "int32"), 0.1),
    /y must be int class ids \[2\]/,
  );
  const before = tf.memory().numTensors;
  for (let i = 0; i < 2; i++) {
    checkProp2(fs, ft, x, y, 0.1, { steps: 3, restarts: 1, randomPoints: 2 });
  }
  for (let i = 0; i < 2; i++) boundTerms(fs, ft, x, y, { steps: 3, restarts: 1 });
  assertEquals(tf.memory().numTensors, before);
  tf.dispose([x, y]);
  disposeToyMlp(s);
  disposeToyMlp(t);
});
