/**
 * First- and second-order gradients of every building block against central finite
 * differences, on the `cpu` and `wasm` backends. Second order is tested through
 * h(x) = ||grad_x f(x)||^2 (exactly the shape of the KDIGA penalty): grad h needs the gradient
 * of each op's gradient, which stock tfjs 4.22 gets silently wrong for several ops.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { OUTPUT_SAVING_KERNELS_REPLACED, useBackend } from "../backend/mod.ts";
import { crossEntropy, logSoftmax } from "../losses/cross_entropy.ts";
import { seededRandom } from "../util/rng.ts";

await useBackend("cpu");
await useBackend("wasm");

type Fn = (x: tf.Tensor) => tf.Scalar;

function randomTensor(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  const rand = seededRandom(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * rand();
  return tf.tensor(v, shape);
}

function scalar(t: tf.Tensor): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

/**
 * Relative error between the autodiff directional derivative grad f(x).v and the central
 * difference (f(x+hv) - f(x-hv)) / 2h, best over a few step sizes (float32 round-off vs
 * truncation).
 */
function directionalError(f: Fn, x: tf.Tensor, seed: number): { error: number; ad: number; fd: number } {
  const v = randomTensor(x.shape, seed);
  const ad = scalar(tf.tidy(() => tf.sum(tf.mul(tf.grad(f)(x), v))));
  let best = { error: Infinity, ad, fd: NaN };
  for (const h of [3e-2, 1e-2, 3e-3, 1e-3]) {
    const fd = (scalar(tf.tidy(() => f(tf.add(x, tf.mul(v, h))))) -
      scalar(tf.tidy(() => f(tf.sub(x, tf.mul(v, h)))))) / (2 * h);
    const error = Math.abs(ad - fd) / Math.max(Math.abs(ad), Math.abs(fd), 1e-3);
    if (error < best.error) best = { error, ad, fd };
  }
  v.dispose();
  return best;
}

/** h(x) = ||grad_x f(x)||^2: its gradient is second order in f. */
function gradNormSquared(f: Fn): Fn {
  return (x) => tf.sum(tf.square(tf.grad(f)(x))) as tf.Scalar;
}

const pad1: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 1], [
  1,
  1,
], [0, 0]];
const W = {
  conv: randomTensor([3, 3, 2, 3], 11, -0.5, 0.5) as tf.Tensor4D,
  dw: randomTensor([3, 3, 2, 2], 12, -0.5, 0.5) as tf.Tensor4D,
  dense: randomTensor([18, 4], 13, -0.5, 0.5) as tf.Tensor2D,
  dense3: randomTensor([3, 4], 14, -0.5, 0.5) as tf.Tensor2D,
};
const labels4 = tf.tensor1d([0, 3], "int32");
const soft = tf.tensor2d([[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1]]);

/** Each block maps x [2, 3, 3, 2] (or given shape) to a scalar, non-linearly in x. */
const BLOCKS: { name: string; shape: number[]; f: Fn }[] = [
  { name: "exp", shape: [2, 5], f: (x) => tf.sum(tf.mul(tf.exp(x), x)) as tf.Scalar },
  { name: "sigmoid", shape: [2, 5], f: (x) => tf.sum(tf.mul(tf.sigmoid(tf.mul(x, 2)), x)) as tf.Scalar },
  { name: "tanh", shape: [2, 5], f: (x) => tf.sum(tf.mul(tf.tanh(tf.mul(x, 2)), x)) as tf.Scalar },
  { name: "softmax", shape: [2, 5], f: (x) => tf.sum(tf.mul(tf.softmax(tf.mul(x, 2)), tf.square(x))) as tf.Scalar },
  { name: "elu", shape: [2, 5], f: (x) => tf.sum(tf.mul(tf.elu(tf.mul(x, 2)), x)) as tf.Scalar },
  { name: "pow", shape: [2, 5], f: (x) => tf.sum(tf.pow(tf.add(tf.abs(x), 0.5), tf.add(x, 2))) as tf.Scalar },
  { name: "max / min", shape: [2, 5], f: (x) => tf.sum(tf.add(tf.square(tf.max(x, 1)), tf.mul(tf.min(x, 1), tf.max(x, 1)))) as tf.Scalar },
  { name: "logSumExp", shape: [2, 5], f: (x) => tf.sum(tf.square(tf.logSumExp(tf.mul(x, 2), 1))) as tf.Scalar },
  { name: "logSoftmax (ours)", shape: [2, 4], f: (x) => tf.sum(tf.mul(logSoftmax(tf.mul(x, 2)), x)) as tf.Scalar },
  { name: "crossEntropy int labels", shape: [2, 4], f: (x) => crossEntropy(tf.mul(x, 2), labels4) as tf.Scalar },
  { name: "crossEntropy soft labels", shape: [2, 4], f: (x) => crossEntropy(tf.mul(x, 2), soft) as tf.Scalar },
  {
    name: "conv2d s1 + relu + CE",
    shape: [2, 3, 3, 2],
    f: (x) => {
      const h = tf.relu(tf.conv2d(x as tf.Tensor4D, W.conv, 1, pad1));
      const flat = tf.reshape(tf.conv2d(h, tf.ones([1, 1, 3, 2]) as tf.Tensor4D, 1, "valid"), [2, 18]);
      return crossEntropy(tf.matMul(flat, W.dense), labels4) as tf.Scalar;
    },
  },
  {
    name: "conv2d s2 same + softplus",
    shape: [2, 5, 5, 2],
    f: (x) => tf.sum(tf.softplus(tf.conv2d(x as tf.Tensor4D, W.conv, 2, "same"))) as tf.Scalar,
  },
  {
    name: "depthwiseConv2d s2 + tanh",
    shape: [2, 5, 5, 2],
    f: (x) => tf.sum(tf.square(tf.tanh(tf.depthwiseConv2d(x as tf.Tensor4D, W.dw, 2, "same")))) as tf.Scalar,
  },
  {
    name: "avgPool + sigmoid",
    shape: [2, 4, 4, 2],
    f: (x) => tf.sum(tf.mul(tf.sigmoid(tf.avgPool(tf.mul(x, 3) as tf.Tensor4D, 2, 2, "valid")), 2)) as tf.Scalar,
  },
  {
    name: "relu6 / clip (piecewise linear) + CE",
    shape: [2, 3],
    f: (x) => {
      const h = tf.add(tf.relu6(tf.mul(x, 4)), tf.clipByValue(tf.mul(x, 3), -1, 1));
      return crossEntropy(tf.matMul(h as tf.Tensor2D, W.dense3), labels4) as tf.Scalar;
    },
  },
  {
    name: "batch-norm style normalisation (moments, rsqrt)",
    shape: [4, 3],
    f: (x) => {
      const { mean, variance } = tf.moments(x, 0, true);
      const y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-3)));
      return tf.sum(tf.mul(tf.tanh(y), x)) as tf.Scalar;
    },
  },
  {
    name: "layer norm + erf GELU",
    shape: [2, 6],
    f: (x) => {
      const { mean, variance } = tf.moments(x, 1, true);
      const y = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-3)));
      const gelu = tf.mul(tf.mul(y, 0.5), tf.add(1, tf.erf(tf.mul(y, Math.SQRT1_2))));
      return tf.sum(tf.mul(gelu, x)) as tf.Scalar;
    },
  },
  {
    name: "attention (matMul + softmax)",
    shape: [3, 4],
    f: (x) => {
      const scores = tf.div(tf.matMul(x, x, false, true), 2);
      return tf.sum(tf.square(tf.matMul(tf.softmax(scores), x))) as tf.Scalar;
    },
  },
];

for (const backend of ["cpu", "wasm"]) {
  Deno.test(`first- and second-order gradients match finite differences on ${backend}`, async () => {
    await tf.setBackend(backend);
    const failures: string[] = [];
    BLOCKS.forEach((block, i) => {
      const x = randomTensor(block.shape, 100 + i);
      try {
        const first = directionalError(block.f, x, 200 + i);
        const second = directionalError(gradNormSquared(block.f), x, 300 + i);
        if (first.error > 1e-2) failures.push(`${block.name} first order: ${JSON.stringify(first)}`);
        if (second.error > 2e-2) failures.push(`${block.name} second order: ${JSON.stringify(second)}`);
      } catch (e) {
        failures.push(`${block.name}: ${(e as Error).message}`);
      }
      x.dispose();
    });
    assert.deepEqual(failures, []);
  });
}

Deno.test("second-order gradients agree across backends", async () => {
  const results: Record<string, number[]> = {};
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    results[backend] = BLOCKS.map((block, i) => {
      const x = randomTensor(block.shape, 100 + i);
      const g = tf.grad(gradNormSquared(block.f))(x);
      const v = scalar(tf.sum(tf.square(g)));
      tf.dispose([x, g]);
      return v;
    });
  }
  BLOCKS.forEach((block, i) => {
    const [a, b] = [results.cpu[i], results.wasm[i]];
    assert.ok(Math.abs(a - b) <= 1e-3 * Math.max(Math.abs(a), 1e-3), `${block.name}: cpu ${a} vs wasm ${b}`);
  });
});

Deno.test("the KDIGA penalty of a linear model matches finite differences in its weights", async () => {
  // The example: d/dA ||grad_x CE(xA, y)||^2, where stock tfjs gets -0.156 against 0.0095.
  await tf.setBackend("wasm");
  const x = randomTensor([4, 3], 7);
  const y = tf.tensor1d([0, 1, 2, 1], "int32");
  const penalty: Fn = (a) =>
    tf.sum(tf.square(tf.grad((xx: tf.Tensor) => crossEntropy(tf.matMul(xx, a as tf.Tensor2D), y))(x))) as tf.Scalar;
  const a = randomTensor([3, 3], 8);
  const r = directionalError(penalty, a, 9);
  assert.ok(r.error < 1e-2, JSON.stringify(r));
});

Deno.test("no gradient the models use saves kernel outputs (tfjs issue #3252)", () => {
  const used = [
    ...OUTPUT_SAVING_KERNELS_REPLACED,
    "Relu", "Relu6", "Conv2D", "Conv2DBackpropInput", "DepthwiseConv2dNative", "MatMul", "BatchMatMul",
    "Add", "Sub", "Multiply", "RealDiv", "Sum", "Mean", "Sqrt", "Rsqrt", "Square", "Log", "Erf",
    "AvgPool", "Reshape", "Transpose", "Concat", "Slice", "PadV2", "ClipByValue", "Softplus",
  ];
  for (const name of used) {
    const g = tf.getGradient(name);
    if (g == null) continue;
    assert.ok(!(g.outputsToSave ?? []).some(Boolean), `gradient of ${name} saves outputs`);
  }
});

Deno.test("second-order gradient computation leaks no tensors", async () => {
  await tf.setBackend("wasm");
  const x = randomTensor([2, 5, 5, 2], 1);
  const f = gradNormSquared(BLOCKS.find((b) => b.name.startsWith("conv2d s2"))!.f);
  const step = () => tf.tidy(() => tf.grad(f)(x)).dispose();
  step();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 10; i++) step();
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});

Deno.test("ReLU and ReLU6 gradients are their masks, with 0 at the kinks, on both backends", async () => {
  const x = [-1, 0, 0.5, 5.5, 6, 7];
  for (const backend of ["cpu", "wasm"]) {
    await tf.setBackend(backend);
    const xs = tf.tensor1d(x);
    const dy = tf.tensor1d([2, 2, 2, 2, 2, 2]);
    const relu = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.relu(z), dy)))(xs);
    const relu6 = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.relu6(z), dy)))(xs);
    assert.deepEqual(Array.from(relu.dataSync()), [0, 0, 2, 2, 2, 2], `relu on ${backend}`);
    assert.deepEqual(Array.from(relu6.dataSync()), [0, 0, 2, 2, 0, 0], `relu6 on ${backend}`);
    tf.dispose([xs, dy, relu, relu6]);
  }
});
