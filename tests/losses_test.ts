import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert";
import { useBackend } from "../backend/mod.ts";
import {
  adversarialInputs,
  adversarialTrainingLoss,
  alignmentNorm,
  ardLoss,
  crossEntropy,
  detach,
  inputGradientAlignment,
  kdigaArdaLoss,
  kdigaArdcLoss,
  kdigaFiniteDifferenceGrads,
  kdigaLoss,
  kdLoss,
  klDivergence,
  logitsAndInputGradient,
  resolveAlignmentOptions,
  tradesAdversarialInputs,
  tradesLoss,
} from "../losses/mod.ts";
import type { Classifier } from "../models/types.ts";
import { seededRandom } from "../util/rng.ts";

await useBackend();

// ---------- float64 reference maths, independent of the code under test ----------

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
function logSoftmax(z: number[]): number[] {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}
function ce(z: number[], y: number): number {
  return -logSoftmax(z)[y];
}
/** Σ_k p_t (log p_t - log p_s) at temperature T. */
function kl(s: number[], t: number[], T = 1): number {
  const ls = logSoftmax(s.map((v) => v / T));
  const lt = logSoftmax(t.map((v) => v / T));
  return lt.reduce((a, l, k) => a + Math.exp(l) * (l - ls[k]), 0);
}
/** Linear classifier logits: flat(x_i) · W, W is D×C (row-major). */
function linearLogits(x: number[][], w: number[][]): number[][] {
  return x.map((xi) => w[0].map((_, c) => xi.reduce((a, v, d) => a + v * w[d][c], 0)));
}
/** ∇_x CE_i for a linear classifier: W (p_i - e_y) (per example, unscaled). */
function linearInputGrad(xi: number[], w: number[][], y: number): number[] {
  const p = softmax(w[0].map((_, c) => xi.reduce((a, v, d) => a + v * w[d][c], 0)));
  p[y] -= 1;
  return w.map((row) => row.reduce((a, wc, c) => a + wc * p[c], 0));
}
function randomMatrix(rows: number, cols: number, seed: number, scale = 1): number[][] {
  const r = seededRandom(seed);
  return Array.from(
    { length: rows },
    () => Array.from({ length: cols }, () => scale * (2 * r() - 1)),
  );
}
function close(actual: number, expected: number, rtol = 1e-4, atol = 1e-6, what = ""): void {
  assert.ok(
    Math.abs(actual - expected) <= atol + rtol * Math.abs(expected),
    `${what}: got ${actual}, expected ${expected}`,
  );
}
function num(t: tf.Tensor): number {
  return t.dataSync()[0];
}

// A batch of B=3 examples of 2x2x1 images (D=4), C=3 classes.
const B = 3, D = 4, C = 3;
const xRows = randomMatrix(B, D, 1, 0.5).map((r) => r.map((v) => v + 0.5)); // in [0, 1]
const labels = [0, 2, 1];
const wS = randomMatrix(D, C, 2, 2);
const wT = randomMatrix(D, C, 3, 2);
const xT = tf.tensor4d(xRows.flat(), [B, 2, 2, 1]);
const yT = tf.tensor1d(labels, "int32");
function linear(w: number[][]): Classifier {
  const wt = tf.tensor2d(w);
  return (x) => tf.matMul(tf.reshape(x, [x.shape[0], D]) as tf.Tensor2D, wt);
}
const student = linear(wS), teacher = linear(wT);
const sLogits = linearLogits(xRows, wS), tLogits = linearLogits(xRows, wT);

Deno.test("klDivergence: mean / batchmean / sum against a hand computation, with temperature", () => {
  const s = tf.tensor2d(sLogits), t = tf.tensor2d(tLogits);
  for (const T of [1, 4]) {
    const per = sLogits.map((z, i) => kl(z, tLogits[i], T));
    const sum = per.reduce((a, b) => a + b, 0);
    close(num(klDivergence(s, t, { temperature: T })), sum / (B * C), 1e-4, 1e-7, `mean T=${T}`);
    close(
      num(klDivergence(s, t, { temperature: T, reduction: "batchmean" })),
      sum / B,
      1e-4,
      1e-7,
      "batchmean",
    );
    close(num(klDivergence(s, t, { temperature: T, reduction: "sum" })), sum, 1e-4, 1e-7, "sum");
    const none = klDivergence(s, t, { temperature: T, reduction: "none" }).dataSync();
    per.forEach((v, i) => close(none[i], v, 1e-4, 1e-7, `none[${i}]`));
  }
  close(num(klDivergence(s, s)), 0, 0, 1e-7, "KL(p||p)");
  assert.throws(
    () => klDivergence(s, t, { reduction: "avg" as any }),
    /unknown KL reduction 'avg'/,
  );
  assert.throws(() => klDivergence(s, t, { temperature: 0 }), /temperature must be .*> 0; got 0/);
});

Deno.test("kdLoss (Eq. 1) against a hand computation; paper defaults and custom weights", () => {
  const ceRef = sLogits.reduce((a, z, i) => a + ce(z, labels[i]), 0) / B;
  const klRef = sLogits.reduce((a, z, i) => a + kl(z, tLogits[i]), 0) / (B * C);
  const d = kdLoss({ student, teacher, x: xT, y: yT });
  close(num(d.ce!), ceRef, 1e-4, 1e-7, "ce");
  close(num(d.kl!), klRef, 1e-4, 1e-7, "kl");
  close(num(d.total), 0.5 * ceRef + 0.5 * klRef, 1e-4, 1e-7, "total");
  // T = 2, λ_CE = 0.3, λ_KD = 0.9, batchmean: the KL term carries T².
  const T = 2;
  const klT = sLogits.reduce((a, z, i) => a + kl(z, tLogits[i], T), 0) / B;
  const e = kdLoss({ student, teacher, x: xT, y: yT }, {
    temperature: T,
    lambdaCe: 0.3,
    lambdaKl: 0.9,
    klReduction: "batchmean",
  });
  close(num(e.total), 0.3 * ceRef + 0.9 * T * T * klT, 1e-4, 1e-7, "total T=2");
  assert.throws(
    () => kdLoss({ student, teacher, x: xT, y: yT }, { lambdaCe: -1 }),
    /lambdaCe must be .*>= 0; got -1/,
  );
});

Deno.test("input gradients and the alignment norm against the closed form of a linear model", () => {
  const gs = xRows.map((xi, i) => linearInputGrad(xi, wS, labels[i]));
  const gt = xRows.map((xi, i) => linearInputGrad(xi, wT, labels[i]));
  const { logits, inputGradient } = logitsAndInputGradient(student, xT, yT);
  const g = inputGradient.dataSync();
  gs.flat().forEach((v, k) => close(g[k], v / B, 1e-4, 1e-7, `grad[${k}] (batch-mean CE)`));
  logits.dataSync().forEach((v, k) => close(v, sLogits.flat()[k], 1e-5, 1e-6, "logits"));
  const diff = gs.map((r, i) => r.map((v, d) => v - gt[i][d]));
  const norms = diff.map((r) => Math.hypot(...r));
  const batchRef = Math.hypot(...norms) / B; // ||S - T||_F with S, T of the batch-mean CE
  const perExampleRef = norms.reduce((a, b) => a + b, 0) / B;
  close(
    num(inputGradientAlignment(student, teacher, xT, yT).alignment),
    batchRef,
    1e-4,
    1e-7,
    "batch",
  );
  close(
    num(inputGradientAlignment(student, teacher, xT, yT, { alignment: "per-example" }).alignment),
    perExampleRef,
    1e-4,
    1e-7,
    "per-example",
  );
  close(
    num(alignmentNorm(tf.zeros([1, 1, 1, 2]), tf.tensor4d([3, 4], [1, 1, 1, 2]))),
    5,
    1e-6,
    0,
    "3-4-5",
  );
});

Deno.test("alignment is 0 when the student is the teacher", () => {
  for (const alignment of ["batch", "per-example"] as const) {
    const a = num(inputGradientAlignment(teacher, teacher, xT, yT, { alignment }).alignment);
    assert.ok(a < 1e-6, `${alignment}: alignment ${a}`);
  }
  // And the total KDIGA loss is then the KD loss exactly (KL 0 too): 0.5 CE.
  const ceRef = tLogits.reduce((a, z, i) => a + ce(z, labels[i]), 0) / B;
  close(
    num(kdigaLoss({ student: teacher, teacher, x: xT, y: yT }).total),
    0.5 * ceRef,
    1e-4,
    1e-6,
    "total",
  );
});

Deno.test("kdigaLoss (Eq. 5), ARDC (Eq. 6), ARDA (Eq. 7), ARD (Eq. 2) against hand computations", () => {
  const xAdvRows = xRows.map((r, i) =>
    r.map((v, d) => Math.min(1, Math.max(0, v + 0.05 * ((i + d) % 2 ? 1 : -1))))
  );
  const xAdvT = tf.tensor4d(xAdvRows.flat(), [B, 2, 2, 1]);
  const sAdv = linearLogits(xAdvRows, wS), tAdv = linearLogits(xAdvRows, wT);
  const ceClean = sLogits.reduce((a, z, i) => a + ce(z, labels[i]), 0) / B;
  const klOf = (s: number[][], t: number[][]) =>
    s.reduce((a, z, i) => a + kl(z, t[i]), 0) / (B * C);
  const alignOf = (rows: number[][]) => {
    const n = rows.map((xi, i) => {
      const a = linearInputGrad(xi, wS, labels[i]), b = linearInputGrad(xi, wT, labels[i]);
      return a.reduce((acc, v, d) => acc + (v - b[d]) ** 2, 0);
    });
    return Math.sqrt(n.reduce((p, q) => p + q, 0)) / B;
  };
  const lambdaIga = 0.5 / B;
  const inputs = { student, teacher, x: xT, y: yT, xAdv: xAdvT };

  const k = kdigaLoss(inputs);
  close(num(k.alignment!), alignOf(xRows), 1e-4, 1e-7, "kdiga alignment");
  close(
    num(k.total),
    0.5 * ceClean + 0.5 * klOf(sLogits, tLogits) + lambdaIga * alignOf(xRows),
    1e-4,
    1e-7,
    "kdiga",
  );

  const c = kdigaArdcLoss(inputs);
  close(
    num(c.total),
    0.5 * ceClean + 0.5 * klOf(sAdv, tLogits) + lambdaIga * alignOf(xRows),
    1e-4,
    1e-7,
    "ardc",
  );

  const a = kdigaArdaLoss(inputs);
  close(num(a.kl!), klOf(sAdv, tAdv), 1e-4, 1e-7, "arda kl");
  close(
    num(a.total),
    0.5 * ceClean + 0.5 * klOf(sAdv, tAdv) + lambdaIga * alignOf(xAdvRows),
    1e-4,
    1e-7,
    "arda",
  );

  const r = ardLoss(inputs);
  close(num(r.total), 0.5 * ceClean + 0.5 * klOf(sAdv, tLogits), 1e-4, 1e-7, "ard");

  // An explicit λ_IGA and γ.
  const g = kdigaLoss(inputs, { gamma: 2 });
  close(num(g.total) - num(k.total), (2 - 0.5) / B * alignOf(xRows), 1e-3, 1e-7, "gamma");
  assert.deepStrictEqual(resolveAlignmentOptions({ alignment: "per-example" }, 4), {
    mode: "per-example",
    lambdaIga: 0.5 / 8,
  });
  assert.throws(() => kdigaLoss(inputs, { alignment: "sum" as any }), /unknown alignment 'sum'/);
  assert.throws(
    () => ardLoss({ ...inputs, xAdv: tf.zeros([1, 2, 2, 1]) }),
    /xAdv must have x's shape/,
  );
});

Deno.test("robust-teacher losses: adversarial training and TRADES against hand computations", () => {
  const at = adversarialTrainingLoss(student, xT, yT);
  const ceRef = sLogits.reduce((a, z, i) => a + ce(z, labels[i]), 0) / B;
  close(num(at.total), ceRef, 1e-4, 1e-7, "AT");
  const xAdvRows = xRows.map((r) => r.map((v) => Math.min(1, v + 0.1)));
  const sAdv = linearLogits(xAdvRows, wS);
  const t = tradesLoss(student, xT, tf.tensor4d(xAdvRows.flat(), [B, 2, 2, 1]), yT, { beta: 3 });
  const klRef = sLogits.reduce((a, z, i) => a + kl(sAdv[i], z), 0) / B;
  close(num(t.kl!), klRef, 1e-4, 1e-7, "TRADES kl (batchmean)");
  close(num(t.total), ceRef + 3 * klRef, 1e-4, 1e-7, "TRADES total");
});

Deno.test("adversarial inputs: in the ball, raise the loss, carry no gradient; TRADES inner max too", () => {
  const eps = 0.1;
  const xAdv = adversarialInputs(student, xT, yT, { eps, steps: 5, stepSize: 0.04, seed: 3 });
  const dev = tf.max(tf.abs(tf.sub(xAdv, xT))).dataSync()[0];
  assert.ok(dev <= eps + 1e-6, `Linf deviation ${dev}`);
  assert.ok(tf.min(xAdv).dataSync()[0] >= 0 && tf.max(xAdv).dataSync()[0] <= 1);
  assert.ok(num(crossEntropy(student(xAdv), yT)) > num(crossEntropy(student(xT), yT)) + 1e-3);
  // Same seed, same result.
  const again = adversarialInputs(student, xT, yT, { eps, steps: 5, stepSize: 0.04, seed: 3 });
  assert.deepStrictEqual(Array.from(again.dataSync()), Array.from(xAdv.dataSync()));
  // L2.
  const l2 = adversarialInputs(student, xT, yT, { eps: 0.2, norm: "L2", steps: 5, stepSize: 0.1 });
  const n2 = tf.sqrt(tf.sum(tf.square(tf.sub(l2, xT)), [1, 2, 3])).dataSync();
  n2.forEach((v) => assert.ok(v <= 0.2 + 1e-5, `L2 norm ${v}`));
  // detach cuts the gradient: d/dx (detach(x) * x) = detach(x).
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(detach(x), x)))(tf.tensor1d([3]));
  assert.strictEqual(g.dataSync()[0], 3);
  assert.throws(() => adversarialInputs(student, xT, yT, { eps: -1 }), /eps must be >= 0; got -1/);

  const xt = tradesAdversarialInputs(student, xT, { eps, steps: 5, stepSize: 0.04 });
  const devT = tf.max(tf.abs(tf.sub(xt, xT))).dataSync()[0];
  assert.ok(devT <= eps + 1e-6, `TRADES deviation ${devT}`);
  const klAfter = num(klDivergence(student(xt), student(xT), { reduction: "sum" }));
  assert.ok(klAfter > 1e-3, `TRADES inner max should raise the KL; got ${klAfter}`);
});

// ---------- parameter gradients against central finite differences ----------

/** A tiny MLP (4 -> 5 tanh -> 3) and a tiny CNN (conv 2x2 -> relu-free softplus -> avgPool -> dense). */
function mlpApply(params: tf.Tensor[], x: tf.Tensor4D): tf.Tensor2D {
  const [w1, b1, w2, b2] = params;
  const h = tf.tanh(
    tf.add(tf.matMul(tf.reshape(x, [x.shape[0], D]) as tf.Tensor2D, w1 as tf.Tensor2D), b1),
  );
  return tf.add(tf.matMul(h as tf.Tensor2D, w2 as tf.Tensor2D), b2) as tf.Tensor2D;
}
function cnnApply(params: tf.Tensor[], x: tf.Tensor4D): tf.Tensor2D {
  const [k, w] = params;
  const conv = tf.conv2d(x, k as tf.Tensor4D, 1, "same");
  const act = tf.log(tf.add(1, tf.exp(conv))); // softplus: smooth, so FD is exact to O(h²)
  const pooled = tf.avgPool(act as tf.Tensor4D, 2, 2, "valid");
  return tf.matMul(tf.reshape(pooled, [x.shape[0], -1]) as tf.Tensor2D, w as tf.Tensor2D);
}
function initParams(shapes: number[][], seed: number): tf.Tensor[] {
  return shapes.map((s, i) => tf.randomNormal(s, 0, 0.8, "float32", seed + i));
}
const nets: [string, typeof mlpApply, number[][]][] = [
  ["MLP", mlpApply, [[D, 5], [5], [5, C], [C]]],
  ["CNN", cnnApply, [[2, 2, 1, 2], [2, C]]],
];

/** Exact (double-backprop) gradient of a loss of the student vs central differences per entry. */
function checkAgainstFiniteDifferences(
  name: string,
  apply: typeof mlpApply,
  params: tf.Tensor[],
  loss: (student: Classifier) => tf.Scalar,
): void {
  const exact = tf.grads((...ps: tf.Tensor[]) => loss((x) => apply(ps, x)))(params);
  const values = params.map((p) => Array.from(p.dataSync()));
  const evalAt = (pi: number, k: number, delta: number) =>
    tf.tidy(() => {
      const v = values[pi].slice();
      v[k] += delta;
      const ps = params.map((p, j) => (j === pi ? tf.tensor(v, p.shape) : p));
      return num(loss((x) => apply(ps, x)));
    });
  for (let pi = 0; pi < params.length; pi++) {
    const g = exact[pi].dataSync();
    for (let k = 0; k < values[pi].length; k++) {
      // Best agreement over a few step sizes: float32 roundoff vs truncation.
      const errors = [1e-2, 3e-3].map((h) => {
        const fd = (evalAt(pi, k, h) - evalAt(pi, k, -h)) / (2 * h);
        return Math.abs(fd - g[k]) / Math.max(Math.abs(fd), Math.abs(g[k]), 1e-3);
      });
      const best = Math.min(...errors);
      assert.ok(
        best < 2e-2,
        `${name}: param ${pi}[${k}]: exact ${g[k]}, relative errors ${errors}`,
      );
    }
  }
  tf.dispose(exact);
}

Deno.test("parameter gradient of kdigaLoss vs central finite differences (MLP, CNN; alignment alone and total)", () => {
  const teacherParamsSeed = 100;
  for (const [name, apply, shapes] of nets) {
    const params = initParams(shapes, 10);
    const tParams = initParams(shapes, teacherParamsSeed);
    const teacherNet: Classifier = (x) => apply(tParams, x);
    // Alignment alone (weight 1): the part that needs second-order gradients.
    for (const alignment of ["batch", "per-example"] as const) {
      checkAgainstFiniteDifferences(
        `${name} ${alignment} alignment`,
        apply,
        params,
        (s) =>
          kdigaLoss({ student: s, teacher: teacherNet, x: xT, y: yT }, {
            lambdaCe: 0,
            lambdaKl: 0,
            lambdaIga: 1,
            alignment,
          }).total,
      );
    }
    // The full default loss.
    checkAgainstFiniteDifferences(
      `${name} default kdiga`,
      apply,
      params,
      (s) => kdigaLoss({ student: s, teacher: teacherNet, x: xT, y: yT }).total,
    );
    // ARDA (alignment at xAdv).
    const xAdv = tf.clipByValue(tf.add(xT, 0.05), 0, 1) as tf.Tensor4D;
    checkAgainstFiniteDifferences(
      `${name} arda`,
      apply,
      params,
      (s) =>
        kdigaArdaLoss({ student: s, teacher: teacherNet, x: xT, y: yT, xAdv }, { lambdaIga: 1 })
          .total,
    );
  }
});

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}
function flatten(ts: tf.Tensor[]): Float32Array {
  return tf.tidy(() => tf.concat(ts.map((t) => tf.reshape(t, [-1]))).dataSync() as Float32Array);
}

Deno.test("finite-difference alignment gradient agrees with the exact double-backprop gradient", () => {
  for (const [name, apply, shapes] of nets) {
    const params = initParams(shapes, 20);
    const tParams = initParams(shapes, 30);
    const teacherNet: Classifier = (x) => apply(tParams, x);
    for (const alignment of ["batch", "per-example"] as const) {
      const options = { lambdaCe: 0, lambdaKl: 0, lambdaIga: 1, alignment, step: 1e-2 };
      const exact = flatten(
        tf.grads((...ps: tf.Tensor[]) =>
          kdigaLoss({ student: (x) => apply(ps, x), teacher: teacherNet, x: xT, y: yT }, options)
            .total
        )(params),
      );
      const approx = kdigaFiniteDifferenceGrads(apply, params, teacherNet, xT, yT, options);
      const fd = flatten(approx.grads);
      const cos = cosine(exact, fd);
      const rel = Math.hypot(...exact.map((v, i) => v - fd[i])) / Math.hypot(...exact);
      assert.ok(
        cos > 0.999 && rel < 0.05,
        `${name} ${alignment}: cosine ${cos}, relative error ${rel}`,
      );
      // Its loss value is kdigaLoss's.
      const value = num(
        kdigaLoss({ student: (x) => apply(params, x), teacher: teacherNet, x: xT, y: yT }, options)
          .total,
      );
      close(num(approx.parts.total), value, 1e-4, 1e-7, "value");
    }
    // With the default weights the CE and KL gradients dominate; agreement is then closer still
    // (step 1e-2: these tiny smooth nets; the default step 1 is for ReLU nets, see the module docs).
    const exactAll = flatten(
      tf.grads((...ps: tf.Tensor[]) =>
        kdigaLoss({ student: (x) => apply(ps, x), teacher: teacherNet, x: xT, y: yT }).total
      )(params),
    );
    const fdAll = flatten(
      kdigaFiniteDifferenceGrads(apply, params, teacherNet, xT, yT, { step: 1e-2 }).grads,
    );
    assert.ok(
      cosine(exactAll, fdAll) > 0.9999,
      `${name} default weights: cosine ${cosine(exactAll, fdAll)}`,
    );
  }
});

Deno.test("memory is flat across repeated loss + gradient steps", () => {
  const [, apply, shapes] = nets[1];
  const params = initParams(shapes, 40);
  const tParams = initParams(shapes, 50);
  const teacherNet: Classifier = (x) => apply(tParams, x);
  const xAdv = tf.clipByValue(tf.add(xT, 0.05), 0, 1) as tf.Tensor4D;
  const step = () =>
    tf.tidy(() => {
      const parts: Record<string, tf.Tensor> = {};
      const g = tf.grads((...ps: tf.Tensor[]) => {
        const s: Classifier = (x) => apply(ps, x);
        const inputs = { student: s, teacher: teacherNet, x: xT, y: yT, xAdv };
        kdLoss(inputs);
        ardLoss(inputs);
        kdigaArdcLoss(inputs);
        kdigaArdaLoss(inputs);
        const r = kdigaLoss(inputs);
        parts.alignment = tf.keep(r.alignment!);
        return r.total;
      })(params);
      tf.dispose(parts.alignment);
      const fd = kdigaFiniteDifferenceGrads(apply, params, teacherNet, xT, yT);
      tf.dispose([fd.grads, Object.values(fd.parts)] as any);
      return g;
    });
  tf.dispose(step());
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) tf.dispose(step());
  const adv = adversarialInputs((x) => apply(params, x), xT, yT, { eps: 0.1, steps: 2 });
  const tr = tradesAdversarialInputs((x) => apply(params, x), xT, { eps: 0.1, steps: 2 });
  tf.dispose([adv, tr]);
  assert.strictEqual(tf.memory().numTensors, before);
});
