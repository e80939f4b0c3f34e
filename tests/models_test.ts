/**
 * Model families: output shapes, parameter counts against closed forms and published counts,
 * BatchNorm against hand computations, second-order gradients against finite differences,
 * no tensor leaks.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { useBackend } from "../backend/mod.ts";
import { crossEntropy } from "../losses/cross_entropy.ts";
import {
  asClassifier,
  batchNorm,
  countSpecParameters,
  createModel,
  gelu,
  layerNorm,
  MNIST_NORMALIZATION,
  MODEL_NAMES,
  type ModelOptions,
  multiHeadSelfAttention,
  parameterCount,
  type SpecModel,
  type Variables,
} from "../models/mod.ts";

await useBackend();

// ---------------------------------------------------------------- helpers

const conv = (k: number, cin: number, cout: number, bias = false) =>
  k * k * cin * cout + (bias ? cout : 0);
const bn = (c: number) => 2 * c;
const fc = (i: number, o: number) => i * o + o;

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = "") {
  assert.deepStrictEqual(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert(
      Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])),
      `${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`,
    );
  }
}

/** Replaces BN running statistics by random ones, so that eval-mode BN is not the identity. */
function randomizeState(vars: Variables, seed: number): Variables {
  const state: Record<string, tf.Tensor> = {};
  let s = seed;
  for (const [name, t] of Object.entries(vars.state)) {
    state[name] = name.endsWith("running_var")
      ? tf.randomUniform(t.shape, 0.5, 2, "float32", s++)
      : tf.randomNormal(t.shape, 0, 0.2, "float32", s++);
  }
  return { params: vars.params, state };
}

function disposeVariables(vars: Variables) {
  tf.dispose(Object.values(vars.params));
  tf.dispose(Object.values(vars.state));
}

/** The tiny configs used for shape, gradient and leak tests, one per family. */
const TINY: Array<{ name: string; options: Record<string, unknown> }> = [
  { name: "mlp-tiny", options: {} },
  { name: "small-cnn", options: { widthMultiplier: 0.25 } },
  { name: "resnet-tiny", options: {} },
  { name: "resnet-tiny", options: { block: "bottleneck", stem: "imagenet", layers: [1, 1] } },
  { name: "mobilenetv2-tiny", options: {} },
  { name: "wide-resnet-tiny", options: {} },
  { name: "vit-tiny", options: {} },
  { name: "vit-tiny", options: { pooling: "mean", gelu: "tanh" } },
];

// ---------------------------------------------------------------- shapes

Deno.test("every family maps 28x28x1 and 32x32x3 batches to [batch, classes] in both modes", () => {
  for (const { name, options } of TINY) {
    for (const inputShape of [[28, 28, 1], [32, 32, 3]] as [number, number, number][]) {
      const model = createModel(name, { ...options, inputShape, numClasses: 7 });
      const vars = model.init(0);
      tf.tidy(() => {
        const x = tf.randomUniform([3, ...inputShape], 0, 1, "float32", 1) as tf.Tensor4D;
        for (const training of [false, true]) {
          const { logits, state } = model.apply(vars, x, { training });
          assert.deepStrictEqual(
            logits.shape,
            [3, 7],
            `${name} ${inputShape} training=${training}`,
          );
          assert(Array.from(logits.dataSync()).every(Number.isFinite), `${name}: finite logits`);
          assert.deepStrictEqual(Object.keys(state).sort(), Object.keys(vars.state).sort());
        }
      });
      disposeVariables(vars);
    }
  }
});

Deno.test("full-size presets build for both input sizes (specs only, no allocation)", () => {
  for (const name of MODEL_NAMES) {
    for (const inputShape of [[28, 28, 1], [32, 32, 3]] as [number, number, number][]) {
      const model = createModel(name, { inputShape });
      assert.deepStrictEqual(model.inputShape, inputShape);
      assert(countSpecParameters(model.variableSpecs()) > 0);
    }
  }
});

Deno.test("apply rejects inputs of the wrong shape, naming the expected one", () => {
  const model = createModel("small-cnn");
  const vars = model.init(0);
  const x = tf.zeros([2, 32, 32, 3]) as tf.Tensor4D;
  assert.throws(
    () => model.apply(vars, x, { training: false }),
    /expects inputs \[batch, 28, 28, 1\].*got \[2,32,32,3\]/,
  );
  x.dispose();
  disposeVariables(vars);
});

Deno.test("createModel: unknown names and options fail listing the valid ones", () => {
  assert.throws(
    () => createModel("resnet19"),
    /unknown model 'resnet19': valid models are .*resnet18.*vit/,
  );
  assert.throws(
    () => createModel("resnet18", { depthh: 3 }),
    /unknown option 'depthh' for resnet18: allowed are .*layers/,
  );
  assert.throws(
    () => createModel("vit", { inputShape: [30, 30, 3], patchSize: 4 }),
    /patchSize 4 must divide/,
  );
  assert.throws(() => createModel("wide-resnet", { depth: 33 }), /depth must be 6n \+ 4/);
  const mnist = { inputShape: [28, 28, 1] as [number, number, number] };
  assert.throws(
    () => createModel("mlp", { ...mnist, normalization: { mean: [0.5], std: [0] } }),
    /std > 0; got/,
  );
  assert.throws(
    () => createModel("mlp", { ...mnist, normalization: { mean: [0, 0, 0], std: [1, 1, 1] } }),
    /must each have 1 entries/,
  );
});

Deno.test("createModel(model.name, model.config) rebuilds the same variable list", () => {
  for (const { name, options } of TINY) {
    const a = createModel(name, options);
    const b = createModel(a.name, JSON.parse(JSON.stringify(a.config)));
    assert.deepStrictEqual(b.variableSpecs(), a.variableSpecs());
  }
});

Deno.test("zeroInitResidual starts every block's last BatchNorm scale at 0, others at 1", () => {
  for (const block of ["basic", "bottleneck"] as const) {
    const last = block === "basic" ? "bn2" : "bn3";
    const zero = createModel("resnet-tiny", { block, zeroInitResidual: true }).init(0);
    const plain = createModel("resnet-tiny", { block }).init(0);
    const blocks = Object.keys(zero.params).filter((k) => k.endsWith(`.${last}.weight`));
    assert.ok(blocks.length > 0, `${block}: no ${last} found`);
    for (const k of blocks) {
      assert.deepEqual(Array.from(new Set(zero.params[k].dataSync())), [0], `${block} ${k}`);
      assert.deepEqual(Array.from(new Set(plain.params[k].dataSync())), [1], `${block} ${k} default`);
    }
    assert.deepEqual(Array.from(new Set(zero.params["layer1.0.bn1.weight"].dataSync())), [1]);
    tf.dispose([...Object.values(zero.params), ...Object.values(zero.state)]);
    tf.dispose([...Object.values(plain.params), ...Object.values(plain.state)]);
  }
});

Deno.test("init is deterministic in the seed and differs across seeds", () => {
  const model = createModel("resnet-tiny");
  const a = model.init(5);
  const b = model.init(5);
  const c = model.init(6);
  for (const name of Object.keys(a.params)) {
    assert.deepStrictEqual(a.params[name].dataSync(), b.params[name].dataSync(), name);
  }
  const w = "layer1.0.conv1.weight";
  assert(a.params[w].dataSync().some((v, i) => v !== c.params[w].dataSync()[i]));
  // Kaiming fan-out: std = sqrt(2 / (3*3*8)) for an 8-channel 3x3 conv.
  const values = Array.from(a.params[w].dataSync());
  const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
  assert(Math.abs(std - Math.sqrt(2 / 72)) < 0.2 * Math.sqrt(2 / 72), `std ${std}`);
  [a, b, c].forEach(disposeVariables);
});

// ---------------------------------------------------------------- parameter counts

Deno.test("small CNN: 32*1*9+32 + 64*32*9+64 + 3136*10+10 parameters, allocated and from specs", () => {
  const model = createModel("small-cnn");
  const vars = model.init(0);
  const expected = 32 * 1 * 9 + 32 + 64 * 32 * 9 + 64 + 3136 * 10 + 10;
  assert.deepStrictEqual(parameterCount(vars), expected);
  assert.deepStrictEqual(countSpecParameters(model.variableSpecs()), expected);
  assert.deepStrictEqual(vars.params["fc.weight"].shape, [3136, 10]);
  disposeVariables(vars);
});

Deno.test("MLP parameter count matches the closed form", () => {
  const model = createModel("mlp", { inputShape: [28, 28, 1], hidden: [100, 50], numClasses: 10 });
  const vars = model.init(0);
  assert.deepStrictEqual(parameterCount(vars), fc(784, 100) + fc(100, 50) + fc(50, 10));
  disposeVariables(vars);
});

/** ResNet with basic blocks, CIFAR stem, base width b, 4 stages of 2 blocks. */
function resnet18CifarCount(b: number, inChannels: number, classes: number): number {
  let n = conv(3, inChannels, b) + bn(b);
  const widths = [b, 2 * b, 4 * b, 8 * b];
  let cin = b;
  for (const w of widths) {
    for (let i = 0; i < 2; i++) {
      n += conv(3, cin, w) + bn(w) + conv(3, w, w) + bn(w);
      if (cin !== w) n += conv(1, cin, w) + bn(w);
      cin = w;
    }
  }
  return n + fc(8 * b, classes);
}

Deno.test("ResNet counts: closed form at small width, published counts at full width", () => {
  const small = createModel("resnet18", { widthMultiplier: 0.125 });
  const vars = small.init(0);
  assert.deepStrictEqual(parameterCount(vars), resnet18CifarCount(8, 3, 10));
  disposeVariables(vars);
  // CIFAR ResNet-18 (3x3 stem, 10 classes): the well-known 11,173,962.
  assert.deepStrictEqual(countSpecParameters(createModel("resnet18").variableSpecs()), 11_173_962);
  assert.deepStrictEqual(resnet18CifarCount(64, 3, 10), 11_173_962);
  // torchvision ImageNet counts (1000 classes) plus our stride-2 conv + BN that replaces max-pool.
  const poolConv = 64 * 64 * 9 + 2 * 64;
  const torchvision: Record<string, number> = {
    resnet18: 11_689_512,
    resnet34: 21_797_672,
    resnet50: 25_557_032,
    resnet101: 44_549_160,
  };
  for (const [name, count] of Object.entries(torchvision)) {
    const model = createModel(name, {
      stem: "imagenet",
      numClasses: 1000,
      inputShape: [224, 224, 3],
    });
    assert.deepStrictEqual(countSpecParameters(model.variableSpecs()), count + poolConv, name);
  }
});

Deno.test("Wide ResNet counts: closed form for WRN-10-1, 46,160,474 for TRADES' WRN-34-10", () => {
  // WRN-10-1: one block per group, widths 16, 16, 32, 64.
  const wrn101 = conv(3, 3, 16) +
    (bn(16) + conv(3, 16, 16) + bn(16) + conv(3, 16, 16)) +
    (bn(16) + conv(3, 16, 32) + bn(32) + conv(3, 32, 32) + conv(1, 16, 32)) +
    (bn(32) + conv(3, 32, 64) + bn(64) + conv(3, 64, 64) + conv(1, 32, 64)) +
    bn(64) + fc(64, 10);
  const model = createModel("wide-resnet", { depth: 10, widenFactor: 1 });
  const vars = model.init(0);
  assert.deepStrictEqual(parameterCount(vars), wrn101);
  disposeVariables(vars);
  assert.deepStrictEqual(
    countSpecParameters(createModel("wide-resnet").variableSpecs()),
    46_160_474,
  );
});

Deno.test("MobileNetV2: torchvision's 3,504,872 at ImageNet config; closed form for a tiny one", () => {
  const imagenet = createModel("mobilenetv2", {
    stem: "imagenet",
    numClasses: 1000,
    inputShape: [224, 224, 3],
  });
  assert.deepStrictEqual(countSpecParameters(imagenet.variableSpecs()), 3_504_872);
  // Stem 3->8, block t=1 (8->8, residual), block t=6 (8->48->8, residual), head 8->16.
  const model = createModel("mobilenetv2", {
    settings: [[1, 8, 1, 1], [6, 8, 1, 1]],
    lastChannels: 16,
    stemChannels: 8,
  });
  const expected = conv(3, 3, 8) + bn(8) +
    (conv(3, 1, 8) + bn(8) + conv(1, 8, 8) + bn(8)) +
    (conv(1, 8, 48) + bn(48) + conv(3, 1, 48) + bn(48) + conv(1, 48, 8) + bn(8)) +
    conv(1, 8, 16) + bn(16) + fc(16, 10);
  const vars = model.init(0);
  assert.deepStrictEqual(parameterCount(vars), expected);
  disposeVariables(vars);
});

Deno.test("ViT: timm's 22,050,664 for ViT-S/16; closed form for a tiny one", () => {
  const vitS = createModel("vit", { inputShape: [224, 224, 3], numClasses: 1000 });
  assert.deepStrictEqual(countSpecParameters(vitS.variableSpecs()), 22_050_664);
  const d = 32;
  const block = 2 * d + fc(d, 3 * d) + fc(d, d) + 2 * d + fc(d, 2 * d) + fc(2 * d, d);
  for (const pooling of ["cls", "mean"]) {
    const tokens = 49 + (pooling === "cls" ? 1 : 0);
    const expected = conv(4, 1, d, true) + (pooling === "cls" ? d : 0) + tokens * d + 2 * block +
      2 * d + fc(d, 10);
    const model = createModel("vit-tiny", { inputShape: [28, 28, 1], patchSize: 4, pooling });
    const vars = model.init(0);
    assert.deepStrictEqual(parameterCount(vars), expected, pooling);
    disposeVariables(vars);
  }
});

// ---------------------------------------------------------------- blocks by hand

Deno.test("batchNorm: batch statistics and momentum update in training, running stats in eval", () => {
  tf.tidy(() => {
    // Two examples of 1x1 pixels with 2 channels: channel 0 = {1, 3}, channel 1 = {10, 30}.
    const x = tf.tensor4d([1, 10, 3, 30], [2, 1, 1, 2]);
    const p = {
      weight: tf.tensor1d([2, 0.5]),
      bias: tf.tensor1d([1, -1]),
      runningMean: tf.tensor1d([0, 5]),
      runningVar: tf.tensor1d([1, 4]),
    };
    const train = batchNorm(x, p, { training: true, momentum: 0.1, eps: 0 });
    // means 2, 20; biased variances 1, 100; unbiased 2, 200.
    close(train.y.dataSync(), [
      (1 - 2) / 1 * 2 + 1,
      (10 - 20) / 10 * 0.5 - 1,
      (3 - 2) * 2 + 1,
      (30 - 20) / 10 * 0.5 - 1,
    ]);
    close(train.runningMean.dataSync(), [0.9 * 0 + 0.1 * 2, 0.9 * 5 + 0.1 * 20]);
    close(train.runningVar.dataSync(), [0.9 * 1 + 0.1 * 2, 0.9 * 4 + 0.1 * 200]);
    const evaluation = batchNorm(x, p, { training: false, eps: 0 });
    close(evaluation.y.dataSync(), [
      1 * 2 + 1,
      (10 - 5) / 2 * 0.5 - 1,
      3 * 2 + 1,
      (30 - 5) / 2 * 0.5 - 1,
    ]);
    assert(evaluation.runningMean === p.runningMean && evaluation.runningVar === p.runningVar);
  });
});

Deno.test("model apply: training returns updated BN state, eval returns the given state and uses it", () => {
  const model = createModel("resnet-tiny", { inputShape: [8, 8, 3] });
  const vars = model.init(0);
  tf.tidy(() => {
    const x = tf.randomUniform([4, 8, 8, 3], 0, 1, "float32", 2) as tf.Tensor4D;
    const trained = model.apply(vars, x, { training: true });
    // The first BN sees conv1(x): its new running mean is 0.9 * 0 + 0.1 * batch mean.
    const h = tf.conv2d(x, vars.params["conv1.weight"] as tf.Tensor4D, 1, 1);
    close(
      trained.state["bn1.running_mean"].dataSync(),
      tf.mul(tf.mean(h, [0, 1, 2]), 0.1).dataSync(),
      1e-4,
      "bn1 mean",
    );
    for (const name of Object.keys(vars.state)) {
      assert(trained.state[name] !== vars.state[name], name);
    }
    const evaluated = model.apply(vars, x, { training: false });
    assert(evaluated.state === vars.state);
    const shifted = model.apply({ params: vars.params, state: trained.state }, x, {
      training: false,
    });
    const diff = tf.max(tf.abs(tf.sub(shifted.logits, evaluated.logits))).dataSync()[0];
    assert(diff > 1e-4, "eval output must depend on the running statistics");
  });
  disposeVariables(vars);
});

Deno.test("layerNorm, gelu and attention match hand computations", () => {
  tf.tidy(() => {
    close(
      layerNorm(tf.tensor2d([[1, 3]]), tf.tensor1d([2, 2]), tf.tensor1d([0, 1]), 0).dataSync(),
      [-2, 3],
    );
    // GELU(1) = Phi(1) = 0.841345; tanh form 0.841192.
    close(gelu(tf.tensor1d([0, 1, -1])).dataSync(), [0, 0.841345, -0.158655], 1e-5);
    close(gelu(tf.tensor1d([1]), "tanh").dataSync(), [0.841192], 1e-5);
    // One head, identity projections, two tokens: attention = softmax(q k^T / sqrt(2)).
    const x = tf.tensor3d([[[1, 0], [0, 1]]]);
    const eye = tf.eye(2);
    const qkv = tf.concat([eye, eye, eye], 1) as tf.Tensor2D;
    const y = multiHeadSelfAttention(x, {
      qkvWeight: qkv,
      qkvBias: tf.zeros([6]),
      projWeight: eye as tf.Tensor2D,
      projBias: tf.zeros([2]),
    }, 1);
    const a = Math.exp(1 / Math.SQRT2) / (Math.exp(1 / Math.SQRT2) + 1);
    close(y.dataSync(), [a, 1 - a, 1 - a, a], 1e-5);
  });
});

// ---------------------------------------------------------------- second order

/**
 * Checks the gradient w.r.t. one parameter tensor W of `||grad_x CE(f(x), y)||^2` against
 * central differences along a random direction. ReLU kinks make differences over large steps
 * meaningless and float32 rounding spoils tiny ones, so several steps are tried and the best
 * agreement must be within `tol` (a wrong gradient would match none of them).
 */
function checkSecondOrder(
  model: SpecModel,
  paramName: string,
  training: boolean,
  batch = 2,
  tol = 2e-2,
): string {
  const vars = randomizeState(model.init(1), 7);
  const result = tf.tidy(() => {
    const [h, w, c] = model.inputShape;
    const x = tf.randomUniform([batch, h, w, c], 0, 1, "float32", 3) as tf.Tensor4D;
    const labels = tf.tensor1d(
      Array.from({ length: batch }, (_, i) => (3 * i + 1) % model.numClasses),
      "int32",
    );
    const W = vars.params[paramName];
    assert(W !== undefined, `${model.name} has no parameter ${paramName}`);
    const objective = (p: tf.Tensor) =>
      tf.tidy(() => {
        const params = { ...vars.params, [paramName]: p };
        const gx = tf.grad((xx: tf.Tensor) =>
          crossEntropy(
            model.apply({ params, state: vars.state }, xx as tf.Tensor4D, { training }).logits,
            labels,
          )
        )(x);
        return tf.sum(tf.square(gx));
      });
    const raw = tf.randomNormal(W.shape, 0, 1, "float32", 11);
    const direction = tf.mul(raw, tf.div(tf.norm(W), tf.norm(raw)));
    const analytic = tf.sum(tf.mul(tf.grad(objective)(W), direction)).dataSync()[0];
    const errors: string[] = [];
    let best = Infinity;
    for (const step of [1e-2, 3e-3, 1e-3, 3e-4, 1e-4]) {
      const plus = objective(tf.add(W, tf.mul(direction, step))).dataSync()[0];
      const minus = objective(tf.sub(W, tf.mul(direction, step))).dataSync()[0];
      const numeric = (plus - minus) / (2 * step);
      const rel = Math.abs(numeric - analytic) / Math.max(Math.abs(analytic), 1e-30);
      best = Math.min(best, rel);
      errors.push(`h=${step}: ${numeric.toExponential(4)} (rel ${rel.toExponential(1)})`);
    }
    assert(Math.abs(analytic) > 0, `${model.name}/${paramName}: zero second-order gradient`);
    return { analytic, best, report: errors.join(", ") };
  });
  tf.dispose(Object.values(vars.state));
  tf.dispose(Object.values(vars.params));
  assert(
    result.best < tol,
    `${model.name} d/d${paramName} ||grad_x CE||^2 (training=${training}): analytic ${
      result.analytic.toExponential(4)
    }, ` +
      `finite differences ${result.report}`,
  );
  return `${model.name}/${paramName}: best rel ${result.best.toExponential(1)}`;
}

const tinyResNet: ModelOptions = { inputShape: [8, 8, 1], layers: [1, 1], widthMultiplier: 1 / 16 };
const tinyMobileNet: ModelOptions = {
  inputShape: [8, 8, 1],
  settings: [[1, 8, 1, 1], [2, 8, 1, 2]],
  lastChannels: 8,
};
const tinyWrn: ModelOptions = { inputShape: [8, 8, 1], widthMultiplier: 0.25 };

Deno.test("second order: MLP and small CNN", () => {
  checkSecondOrder(
    createModel("mlp-tiny", { inputShape: [6, 6, 1], hidden: [16] }),
    "hidden.0.weight",
    false,
  );
  checkSecondOrder(
    createModel("small-cnn", {
      inputShape: [8, 8, 1],
      widthMultiplier: 0.125,
      normalization: MNIST_NORMALIZATION,
    }),
    "conv1.weight",
    false,
  );
});

Deno.test("second order: ResNet (basic, bottleneck + ImageNet stem), eval and training BN", () => {
  checkSecondOrder(createModel("resnet-tiny", tinyResNet), "conv1.weight", false);
  checkSecondOrder(createModel("resnet-tiny", tinyResNet), "conv1.weight", true, 4);
  checkSecondOrder(
    createModel("resnet-tiny", {
      ...tinyResNet,
      inputShape: [16, 16, 1],
      block: "bottleneck",
      stem: "imagenet",
    }),
    // Not conv2: along its test direction a ReLU changes state within 3e-4 of W, so no finite
    // difference step is both past float32 rounding and short of the kink (cpu included).
    "layer2.0.conv3.weight",
    false,
  );
});

Deno.test("second order: Wide ResNet, eval and training BN", () => {
  checkSecondOrder(createModel("wide-resnet-tiny", tinyWrn), "block1.layer.0.conv1.weight", false);
  checkSecondOrder(
    createModel("wide-resnet-tiny", tinyWrn),
    "block2.layer.0.convShortcut.weight",
    true,
    4,
  );
});

Deno.test("second order: MobileNetV2 depthwise and expansion convolutions", () => {
  checkSecondOrder(
    createModel("mobilenetv2-tiny", tinyMobileNet),
    "blocks.1.depthwise.conv.weight",
    false,
  );
  checkSecondOrder(
    createModel("mobilenetv2-tiny", tinyMobileNet),
    "blocks.1.expand.conv.weight",
    true,
    4,
  );
});

Deno.test("second order: ViT (class token + erf GELU, mean pooling + tanh GELU)", () => {
  checkSecondOrder(
    createModel("vit-tiny", { inputShape: [8, 8, 1] }),
    "patch_embed.proj.weight",
    false,
  );
  checkSecondOrder(
    createModel("vit-tiny", { inputShape: [8, 8, 1], pooling: "mean", gelu: "tanh" }),
    "blocks.0.attn.qkv.weight",
    false,
  );
  checkSecondOrder(createModel("vit-tiny", { inputShape: [8, 8, 1] }), "pos_embed", false);
});

// ---------------------------------------------------------------- leaks

Deno.test("no tensor leaks across repeated apply calls inside tidy", () => {
  for (const { name, options } of TINY) {
    const model = createModel(name, options);
    const vars = model.init(0);
    const classify = asClassifier(model, vars);
    const [h, w, c] = model.inputShape;
    const x = tf.randomUniform([2, h, w, c]) as tf.Tensor4D;
    const run = () => {
      tf.tidy(() => {
        model.apply(vars, x, { training: true });
        model.apply(vars, x, { training: false });
        classify(x);
      });
    };
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) run();
    assert.deepStrictEqual(tf.memory().numTensors, before, name);
    x.dispose();
    disposeVariables(vars);
  }
});
