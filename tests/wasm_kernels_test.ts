/**
 * kdiga's wasm training kernels against tfjs' `cpu` backend on random shapes: strides 1 and 2,
 * same / valid / explicit padding, odd sizes, batch 1, non-square inputs and filters.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { depthwiseBackpropFilterComposed, useBackend } from "../backend/mod.ts";
import { seededRandom } from "../util/rng.ts";
import { assertMemoryFlat, type ConvCase, randomArray, runOn } from "./conv_cases.ts";

await useBackend("cpu");
await useBackend("wasm", { gemm: "xnnpack" }); // the XNNPACK kernels; native ones: native_kernels_test.ts

type Case = ConvCase;

/** Runs `f` on the named backend, returning its values. */
async function on(backend: string, f: () => tf.Tensor): Promise<Float32Array> {
  return (await runOn(backend, f)).values;
}

function assertClose(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let scale = 1e-6;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(worst <= 1e-4 * scale + 1e-5, `${label}: max abs error ${worst} (scale ${scale})`);
}

const CASES: Case[] = [
  { batch: 2, h: 7, w: 7, cin: 3, cout: 4, kh: 3, kw: 3, stride: [1, 1], pad: "same" },
  { batch: 2, h: 8, w: 8, cin: 3, cout: 5, kh: 3, kw: 3, stride: [2, 2], pad: "same" },
  { batch: 1, h: 9, w: 6, cin: 2, cout: 3, kh: 3, kw: 2, stride: [2, 2], pad: "valid" },
  { batch: 3, h: 11, w: 13, cin: 4, cout: 2, kh: 5, kw: 3, stride: [2, 3], pad: "same" },
  { batch: 2, h: 10, w: 7, cin: 2, cout: 3, kh: 3, kw: 3, stride: [2, 1], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { batch: 1, h: 5, w: 5, cin: 1, cout: 1, kh: 1, kw: 1, stride: [1, 1], pad: "valid" },
  { batch: 2, h: 28, w: 28, cin: 1, cout: 8, kh: 3, kw: 3, stride: [2, 2], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
];

function convOut(c: Case): [number, number] {
  const info = tf.backend_util.computeConv2DInfo(
    [c.batch, c.h, c.w, c.cin],
    [c.kh, c.kw, c.cin, c.cout],
    c.stride,
    1,
    c.pad as any,
  );
  return [info.outHeight, info.outWidth];
}

Deno.test("Conv2DBackpropFilter and Conv2DBackpropInput on wasm match cpu", async () => {
  const rand = seededRandom(1);
  for (const c of CASES) {
    const [ho, wo] = convOut(c);
    const x = randomArray(c.batch * c.h * c.w * c.cin, rand);
    const dy = randomArray(c.batch * ho * wo * c.cout, rand);
    const filter = randomArray(c.kh * c.kw * c.cin * c.cout, rand);
    const label = JSON.stringify(c);
    const backpropFilter = () =>
      tf.engine().runKernel("Conv2DBackpropFilter", {
        x: tf.tensor4d(x, [c.batch, c.h, c.w, c.cin]),
        dy: tf.tensor4d(dy, [c.batch, ho, wo, c.cout]),
      }, { strides: c.stride, pad: c.pad, dataFormat: "NHWC", filterShape: [c.kh, c.kw, c.cin, c.cout] }) as tf.Tensor;
    const backpropInput = () =>
      tf.conv2dTranspose(
        tf.tensor4d(dy, [c.batch, ho, wo, c.cout]),
        tf.tensor4d(filter, [c.kh, c.kw, c.cin, c.cout]),
        [c.batch, c.h, c.w, c.cin],
        c.stride,
        c.pad as any,
      );
    assertClose(await on("wasm", backpropFilter), await on("cpu", backpropFilter), `filter ${label}`);
    assertClose(await on("wasm", backpropInput), await on("cpu", backpropInput), `input ${label}`);
  }
  await tf.setBackend("wasm");
});

Deno.test("depthwise backprop kernels on wasm match cpu", async () => {
  const rand = seededRandom(2);
  for (const c of CASES.filter((c) => typeof c.pad === "string")) {
    for (const mult of [1, 2]) {
      const filterShape: [number, number, number, number] = [c.kh, c.kw, c.cin, mult];
      const info = tf.backend_util.computeConv2DInfo(
        [c.batch, c.h, c.w, c.cin],
        filterShape,
        c.stride,
        1,
        c.pad as any,
        undefined,
        true,
      );
      const [ho, wo] = [info.outHeight, info.outWidth];
      const x = randomArray(c.batch * c.h * c.w * c.cin, rand);
      const dy = randomArray(c.batch * ho * wo * c.cin * mult, rand);
      const filter = randomArray(c.kh * c.kw * c.cin * mult, rand);
      const attrs = { strides: c.stride, pad: c.pad, dilations: [1, 1] };
      const label = `${JSON.stringify(c)} mult ${mult}`;
      const bpInput = () =>
        tf.engine().runKernel("DepthwiseConv2dNativeBackpropInput", {
          dy: tf.tensor4d(dy, [c.batch, ho, wo, c.cin * mult]),
          filter: tf.tensor4d(filter, filterShape),
        }, { ...attrs, inputShape: [c.batch, c.h, c.w, c.cin] }) as tf.Tensor;
      const bpFilter = () =>
        tf.engine().runKernel("DepthwiseConv2dNativeBackpropFilter", {
          x: tf.tensor4d(x, [c.batch, c.h, c.w, c.cin]),
          dy: tf.tensor4d(dy, [c.batch, ho, wo, c.cin * mult]),
        }, { ...attrs, filterShape }) as tf.Tensor;
      // The composed filter gradient (the "missing" set's kernel) called directly.
      const bpFilterComposed = () =>
        tf.tidy(() => {
          const inputs = {
            x: tf.tensor4d(x, [c.batch, c.h, c.w, c.cin]),
            dy: tf.tensor4d(dy, [c.batch, ho, wo, c.cin * mult]),
          };
          const info = depthwiseBackpropFilterComposed({
            inputs,
            attrs: { ...attrs, filterShape },
            backend: tf.backend() as any,
          });
          return tf.engine().makeTensorFromTensorInfo(info);
        });
      const expectedFilter = await on("cpu", bpFilter);
      assertClose(await on("wasm", bpInput), await on("cpu", bpInput), `dw input ${label}`);
      assertClose(await on("wasm", bpFilter), expectedFilter, `dw filter ${label}`);
      assertClose(await on("wasm", bpFilterComposed), expectedFilter, `dw filter composed ${label}`);
    }
  }
  await tf.setBackend("wasm");
});

Deno.test("wasm training kernels free their intermediates", async () => {
  await tf.setBackend("wasm");
  const x = tf.randomUniform([2, 9, 9, 3], 0, 1, "float32", 3) as tf.Tensor4D;
  const f = tf.randomNormal([3, 3, 3, 4], 0, 1, "float32", 4) as tf.Tensor4D;
  const dw = tf.randomNormal([3, 3, 3, 1], 0, 1, "float32", 5) as tf.Tensor4D;
  const step = () =>
    tf.tidy(() => {
      const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, "same")))
      )([x, f]);
      const [hx, hw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, "same")))
      )([x, dw]);
      return tf.addN([tf.sum(gx), tf.sum(gf), tf.sum(hx), tf.sum(hw)]);
    }).dispose();
  assertMemoryFlat(step, 5);
});

Deno.test("BatchMatMul with transpose flags on wasm matches cpu", async () => {
  const rand = seededRandom(3);
  const shapes: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[2, 7, 5], [2, 3, 7], true, true],
    [[1, 6, 4], [3, 4, 6], true, true],
  ];
  for (const [sa, sb, ta, tb] of shapes) {
    const a = randomArray(sa.reduce((x, y) => x * y, 1), rand);
    const b = randomArray(sb.reduce((x, y) => x * y, 1), rand);
    const f = () => tf.matMul(tf.tensor(a, sa as any) as tf.Tensor3D, tf.tensor(b, sb as any) as tf.Tensor3D, ta, tb);
    assertClose(await on("wasm", f), await on("cpu", f), `matMul ${sa} ${sb} ${ta} ${tb}`);
  }
  await tf.setBackend("wasm");
});

Deno.test("Identity and same-dtype Cast share the buffer on wasm; other casts convert", async () => {
  await tf.setBackend("wasm");
  const buffers = () => (tf.memory() as any).numDataBuffers as number;
  const before = buffers();
  const x = tf.tensor1d([1.5, -2, 3]);
  const same = tf.cast(x, "float32");
  const copy = tf.clone(x);
  assert.equal(buffers() - before, 1, "one buffer for three tensors");
  assert.ok(same.dataId === x.dataId && copy.dataId === x.dataId);
  x.dispose();
  assert.deepEqual(Array.from(same.dataSync()), [1.5, -2, 3]);
  assert.deepEqual(Array.from(copy.dataSync()), [1.5, -2, 3]);
  const asInt = tf.cast(same, "int32");
  assert.equal(asInt.dtype, "int32");
  assert.deepEqual(Array.from(asInt.dataSync()), [1, -2, 3]);
  tf.dispose([same, copy, asInt]);
  assert.equal(buffers(), before);
});
