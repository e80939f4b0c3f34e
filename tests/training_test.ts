import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert";
import { join } from "node:path";
import { useBackend } from "../backend/mod.ts";
import { type DatasetSplits, loadDataset, makeBatch } from "../data/mod.ts";
import { crossEntropy } from "../losses/mod.ts";
import { decodeCheckpoint, saveModelCheckpoint } from "../models/checkpoint.ts";
import { asClassifier, createModel } from "../models/registry.ts";
import type { Model, Variables } from "../models/types.ts";
import {
  formatLogCsv,
  METHOD_NAMES,
  multiStepLr,
  NonFiniteLossError,
  parseLogCsv,
  runTrainCli,
  sgdUpdate,
  train,
  trainOptionsFromArgs,
  trainStep,
  warmupFactor,
} from "../training/mod.ts";

await useBackend();
Deno.env.set("KDIGA_QUIET", "1");

const mnist: DatasetSplits = await loadDataset("mnist");
const small = (widthMultiplier = 0.25) =>
  createModel("small-cnn", { inputShape: [28, 28, 1], widthMultiplier });
/** A model with BatchNorm, so resumption must restore running statistics too. */
const withBatchNorm = () => createModel("resnet-tiny", { inputShape: [28, 28, 1] });

function meanLoss(model: Model, variables: Variables, indices: number[]): number {
  const { x, y } = makeBatch(mnist.train, indices);
  const v = tf.tidy(() => crossEntropy(asClassifier(model, variables)(x), y).dataSync()[0]);
  tf.dispose([x, y]);
  return v;
}

function disposeVariables(v: Variables): void {
  tf.dispose([...Object.values(v.params), ...Object.values(v.state)]);
}

Deno.test("sgdUpdate follows torch.optim.SGD: weight decay into the gradient, v = mu v + g, p -= lr v", () => {
  // By hand: p=1, g=0.5, wd=0.1, mu=0.9, lr=0.1.
  // step 1: g' = 0.6, v = 0.6, p = 0.94; step 2: g' = 0.5 + 0.094 = 0.594, v = 1.134, p = 0.8266.
  const o = { lr: 0.1, momentum: 0.9, weightDecay: 0.1 };
  const s1 = sgdUpdate({ w: tf.tensor1d([1]) }, { w: tf.tensor1d([0.5]) }, {}, o);
  assert.ok(Math.abs(s1.params.w.dataSync()[0] - 0.94) < 1e-6);
  const s2 = sgdUpdate(s1.params, { w: tf.tensor1d([0.5]) }, s1.momentum, o);
  assert.ok(Math.abs(s2.momentum.w.dataSync()[0] - 1.134) < 1e-6);
  assert.ok(Math.abs(s2.params.w.dataSync()[0] - 0.8266) < 1e-6);
  assert.throws(() => sgdUpdate({ w: tf.scalar(1) }, {}, {}, o), /no gradient for parameter 'w'/);
  assert.throws(() => sgdUpdate({}, {}, {}, { lr: -1 }), /lr must be a finite number > 0; got -1/);
});

Deno.test("warm-up: linear from 1/steps to 1, then 1; checked options and CLI flag", async () => {
  assert.strictEqual(warmupFactor(1, 4), 0.25);
  assert.strictEqual(warmupFactor(3, 4), 0.75);
  assert.strictEqual(warmupFactor(4, 4), 1);
  assert.strictEqual(warmupFactor(9, 4), 1);
  assert.strictEqual(warmupFactor(1, 0), 1);
  assert.throws(() => warmupFactor(1, -2), /warm-up steps must be an integer >= 0; got -2/);
  assert.throws(() => warmupFactor(0, 4), /step must be an integer >= 1; got 0/);
  const model = small();
  await assert.rejects(
    () => train({ model, method: "st", train: mnist.train.slice(0, 8), epochs: 1, warmupEpochs: -1 }),
    /warmupEpochs must be a number >= 0; got -1/,
  );
  const parsed = await trainOptionsFromArgs(["--method", "st", "--student", "mlp", "--warmup-epochs", "2"]);
  assert.strictEqual(parsed.warmupEpochs, 2);
});

Deno.test("warm-up scales the first SGD step by 1/(warm-up steps)", async () => {
  // One batch of 8 images, plain SGD: the first update is -lr * factor * grad, so with warm-up
  // over 4 steps it is exactly a quarter of the update without warm-up.
  const model = small();
  const data = mnist.train.slice(0, 8);
  const start = model.init(3);
  const run = async (warmupEpochs: number) =>
    (await train({
      model, method: "st", train: data, epochs: 1, batchSize: 8, lr: 0.05, momentum: 0,
      weightDecay: 0, warmupEpochs, initial: start, quiet: true,
    })).variables;
  const plain = await run(0), warm = await run(4);
  const w0 = start.params["fc.weight"].dataSync();
  const dPlain = plain.params["fc.weight"].dataSync().map((v, i) => v - w0[i]);
  const dWarm = warm.params["fc.weight"].dataSync().map((v, i) => v - w0[i]);
  let worst = 0, size = 0;
  dPlain.forEach((d, i) => {
    worst = Math.max(worst, Math.abs(dWarm[i] - d / 4));
    size = Math.max(size, Math.abs(d));
  });
  assert.ok(size > 1e-4, `the plain step moved the weights (${size})`);
  assert.ok(worst <= 1e-3 * size, `warm-up step ${worst} off a quarter of the plain one (${size})`);
  disposeVariables(plain);
  disposeVariables(warm);
  disposeVariables(start);
});

Deno.test("multiStepLr and the CSV log", () => {
  assert.strictEqual(multiStepLr(0.1, [100, 150], 0.1, 99), 0.1);
  assert.ok(Math.abs(multiStepLr(0.1, [100, 150], 0.1, 100) - 0.01) < 1e-12);
  assert.ok(Math.abs(multiStepLr(0.1, [100, 150], 0.1, 199) - 0.001) < 1e-12);
  const row = {
    epoch: 1,
    lr: 0.1,
    loss: 2.5,
    ce: 2,
    kl: NaN,
    alignment: 0.125,
    cleanAcc: 0.5,
    pgdAcc: NaN,
    imagesPerSecond: 100,
    seconds: 3,
  };
  const csv = formatLogCsv([row]);
  assert.strictEqual(
    csv.split("\n")[0],
    "epoch,lr,loss,ce,kl,alignment,clean_acc,pgd_acc,images_per_s,seconds",
  );
  assert.strictEqual(csv.split("\n")[1], "1,0.1,2.5,2,,0.125,0.5,,100,3");
  const back = parseLogCsv(csv)[0];
  assert.strictEqual(back.alignment, 0.125);
  assert.ok(Number.isNaN(back.kl));
});

Deno.test("two short epochs lower the loss (st teacher, then kdiga and kdiga-arda students)", async () => {
  const probe = Array.from({ length: 256 }, (_, i) => i);
  const teacherModel = small(0.5);
  const before = teacherModel.init(1);
  const teacher = await train({
    model: teacherModel,
    method: "st",
    train: mnist.train.slice(0, 512),
    epochs: 2,
    batchSize: 32,
    lr: 0.05,
    seed: 1,
  });
  const lossBefore = meanLoss(teacherModel, before, probe);
  const lossAfter = meanLoss(teacherModel, teacher.variables, probe);
  assert.ok(lossAfter < lossBefore - 0.3, `st: loss ${lossBefore} -> ${lossAfter}`);
  disposeVariables(before);
  tf.dispose(Object.values(teacher.momentum));
  assert.strictEqual(teacher.log.length, 2);
  assert.ok(teacher.log[1].loss < teacher.log[0].loss);

  for (const method of ["kdiga", "kdiga-arda"] as const) {
    const studentModel = small(0.25);
    const init = studentModel.init(2);
    const r = await train({
      model: studentModel,
      method,
      teacher: { model: teacherModel, variables: teacher.variables },
      train: mnist.train.slice(0, 512),
      epochs: 2,
      batchSize: 32,
      lr: 0.05,
      seed: 2,
      attack: { eps: 0.1, steps: 2 },
      initial: init,
    });
    const a = meanLoss(studentModel, init, probe), b = meanLoss(studentModel, r.variables, probe);
    assert.ok(b < a - 0.2, `${method}: CE ${a} -> ${b}`);
    assert.ok(r.log[1].loss < r.log[0].loss, `${method}: epoch losses ${r.log.map((l) => l.loss)}`);
    assert.ok(r.log[0].alignment > 0, "alignment is logged");
    disposeVariables(init);
    disposeVariables(r.variables);
    tf.dispose(Object.values(r.momentum));
  }
  disposeVariables(teacher.variables);
});

Deno.test("a resumed run continues exactly as an uninterrupted one (bit-exact params, BN state, momentum, log)", async () => {
  const dir = await Deno.makeTempDir();
  const teacherModel = small(0.25);
  const teacherVars = teacherModel.init(5);
  const common = {
    model: withBatchNorm(),
    method: "kdiga-ardc" as const,
    teacher: { model: teacherModel, variables: teacherVars },
    train: mnist.train.slice(0, 32),
    eval: mnist.test.slice(0, 16),
    evalAttack: { eps: 0.1, steps: 2 },
    batchSize: 16,
    lr: 0.05,
    milestones: [1],
    seed: 7,
    augment: { cropPadding: 2, flip: true },
    attack: { eps: 0.1, steps: 2 },
  };
  const straight = await train({ ...common, epochs: 2, outDir: join(dir, "a") });
  const first = await train({ ...common, epochs: 1, outDir: join(dir, "b") });
  disposeVariables(first.variables);
  tf.dispose(Object.values(first.momentum));
  const resumed = await train({ ...common, epochs: 2, outDir: join(dir, "b"), resume: true });
  assert.strictEqual(resumed.startEpoch, 1);
  for (const section of ["params", "state"] as const) {
    const names = Object.keys(straight.variables[section]);
    assert.ok(names.length > 0, `${section} is empty`);
    if (section === "state") {
      assert.ok(names.some((n) => n.includes("bn")), "the model has BatchNorm state");
    }
    for (const n of names) {
      assert.deepStrictEqual(
        Array.from(resumed.variables[section][n].dataSync()),
        Array.from(straight.variables[section][n].dataSync()),
        `${section}.${n} differs`,
      );
    }
  }
  for (const n of Object.keys(straight.momentum)) {
    assert.deepStrictEqual(
      Array.from(resumed.momentum[n].dataSync()),
      Array.from(straight.momentum[n].dataSync()),
    );
  }
  const strip = (rows: typeof straight.log) =>
    rows.map(({ seconds: _s, imagesPerSecond: _i, ...r }) => r);
  assert.deepStrictEqual(strip(resumed.log), strip(straight.log));
  const logB = parseLogCsv(await Deno.readTextFile(join(dir, "b", "log.csv")));
  assert.strictEqual(logB.length, 2);
  assert.ok(logB[1].lr < logB[0].lr, "milestone 1 lowers the learning rate");
  // Resuming with other settings is refused.
  await assert.rejects(
    () => train({ ...common, seed: 8, epochs: 4, outDir: join(dir, "b"), resume: true }),
    /cannot resume .*seed \(checkpoint 7, now 8\)/,
  );
  for (const r of [straight, resumed]) {
    disposeVariables(r.variables);
    tf.dispose(Object.values(r.momentum));
  }
  disposeVariables(teacherVars);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a non-finite loss stops training with the step number and keeps the last good checkpoint", async () => {
  const dir = await Deno.makeTempDir();
  const base = small(0.25);
  // The model's training-mode logits turn to NaN from its 3rd training forward pass on (step 3:
  // "st" runs one training forward per step), i.e. in epoch 2 of 2-step epochs.
  let calls = 0;
  const poisoned: Model = {
    ...base,
    name: base.name,
    config: base.config,
    inputShape: base.inputShape,
    numClasses: base.numClasses,
    init: (seed) => base.init(seed),
    apply: (vars, x, opts) => {
      const r = base.apply(vars, x, opts);
      if (!opts.training || ++calls < 3) return r;
      return { ...r, logits: tf.mul(r.logits, NaN) as tf.Tensor2D };
    },
  };
  const before = tf.memory().numTensors;
  await assert.rejects(
    () =>
      train({
        model: poisoned,
        method: "st",
        train: mnist.train.slice(0, 64),
        epochs: 3,
        batchSize: 32,
        outDir: dir,
      }),
    (e: unknown) => {
      assert.ok(e instanceof NonFiniteLossError);
      assert.strictEqual(e.step, 3);
      assert.match(
        e.message,
        /non-finite loss NaN at step 3 \(epoch 2, batch 1 of 2\); the last good checkpoint is .*checkpoint\.safetensors/,
      );
      return true;
    },
  );
  assert.strictEqual(tf.memory().numTensors, before, "no tensors leak on the error path");
  const ckpt = decodeCheckpoint(await Deno.readFile(join(dir, "checkpoint.safetensors")));
  assert.strictEqual(ckpt.metadata.epoch, "1");
  for (const t of Object.values(ckpt.params)) {
    assert.ok(Array.from(t.dataSync()).every(Number.isFinite));
  }
  tf.dispose([
    ...Object.values(ckpt.params),
    ...Object.values(ckpt.state),
    ...Object.values(ckpt.optimizer),
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("memory is flat across 10 training steps (every method; BatchNorm; finite-difference alignment)", () => {
  const teacherModel = small(0.25);
  const teacherVars = teacherModel.init(3);
  const teacher = asClassifier(teacherModel, teacherVars);
  const { x, y } = makeBatch(mnist.train, [0, 1, 2, 3]);
  const cases: [string, Model, Parameters<typeof trainStep>[0]["method"], object][] = [
    ...METHOD_NAMES.map((m) => [m, small(0.25), m, {}] as [string, Model, typeof m, object]),
    ["kdiga-arda with BatchNorm", withBatchNorm(), "kdiga-arda", {}],
    ["kdiga, finite-difference alignment", withBatchNorm(), "kdiga", {
      alignmentGradient: "finite-difference",
    }],
  ];
  for (const [label, model, method, extra] of cases) {
    let state = { variables: model.init(0), momentum: {} as Record<string, tf.Tensor> };
    const config = { model, method, teacher, attack: { eps: 0.1, steps: 1 }, ...extra };
    const step = (i: number) => {
      const r = trainStep(config, state, { x, y }, { lr: 0.01 }, i, i + 1);
      disposeVariables(state.variables);
      tf.dispose(Object.values(state.momentum));
      state = r.state;
    };
    step(0); // the momentum buffers appear at the first step
    const before = tf.memory().numTensors;
    for (let i = 1; i <= 10; i++) step(i);
    assert.strictEqual(tf.memory().numTensors, before, `${label}: tensors leaked`);
    disposeVariables(state.variables);
    tf.dispose(Object.values(state.momentum));
  }
  disposeVariables(teacherVars);
  tf.dispose([x, y]);
});

Deno.test("CLI: --help, and errors for unknown names, missing data path, teacher class mismatch", async () => {
  const out: string[] = [];
  const log = console.log, err = console.error;
  console.log = (s: string) => out.push(s);
  console.error = (s: string) => out.push(s);
  try {
    assert.strictEqual(await runTrainCli(["--help"]), 0);
    assert.match(out.join("\n"), /Usage: deno task train --method <method> --student <model>/);
    out.length = 0;
    assert.strictEqual(await runTrainCli(["--method", "magic", "--student", "mlp"]), 1);
    assert.match(
      out.join("\n"),
      /unknown method 'magic': valid methods are st, at, trades, kd, ard, kdiga, kdiga-ardc, kdiga-arda/,
    );
  } finally {
    console.log = log;
    console.error = err;
  }
  await assert.rejects(
    () => trainOptionsFromArgs(["--method", "st", "--student", "resnet7"]),
    /unknown model 'resnet7': valid models are/,
  );
  await assert.rejects(
    () => trainOptionsFromArgs(["--method", "st", "--student", "mlp", "--data", "svhn"]),
    /unknown dataset 'svhn': valid datasets are mnist, fashion-mnist, cifar10/,
  );
  await assert.rejects(
    () => trainOptionsFromArgs(["--method", "st", "--student", "mlp", "--data", "cifar10"]),
    /--data cifar10 needs --data-path/,
  );
  await assert.rejects(
    () => trainOptionsFromArgs(["--method", "kd", "--student", "mlp"]),
    /method 'kd' distils from a teacher: give --teacher/,
  );
  await assert.rejects(
    () => trainOptionsFromArgs(["--method", "st", "--student", "mlp", "--bogus"]),
    /bogus/,
  );
  // A teacher with 3 classes for 10-class MNIST.
  const dir = await Deno.makeTempDir();
  const t = createModel("mlp-tiny", { inputShape: [28, 28, 1], numClasses: 3 });
  const tv = t.init(0);
  await saveModelCheckpoint(join(dir, "t.safetensors"), t, tv);
  disposeVariables(tv);
  await assert.rejects(
    () =>
      trainOptionsFromArgs([
        "--method",
        "kdiga",
        "--student",
        "mlp-tiny",
        "--teacher",
        join(dir, "t.safetensors"),
      ]),
    /teacher .*t\.safetensors has 3 classes but dataset 'mnist' has 10/,
  );
  // A good command line parses into the paper's defaults.
  const o = await trainOptionsFromArgs([
    "--method",
    "at",
    "--student",
    "mlp-tiny",
    "--epochs",
    "1",
    "--train-size",
    "64",
  ]);
  assert.strictEqual(o.train.length, 64);
  assert.deepStrictEqual(o.milestones, [100, 150]);
  assert.strictEqual(o.attack?.eps, 0.3);
  assert.strictEqual(o.model.numClasses, 10);
  await Deno.remove(dir, { recursive: true });
});
