/**
 * The native-GEMM wasm kernels (`backend/native_kernels.ts`) against tfjs' `cpu` backend, on
 * random shapes: strides 1 and 2 (and 2x3), same / valid / explicit padding, dilation, odd sizes,
 * batch 1, non-square, 1x1 convolutions, a layer large enough to be cut into batch chunks, and
 * BatchMatMul with every transpose flag and broadcast batch. Ignored (and reported as ignored)
 * where no BLAS library loads.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import {
  BATCH_ROWS_MIN_BATCH,
  BATCH_ROWS_MIN_WORK,
  describeBackend,
  gemmThreads,
  loadNativeGemm,
  MAX_COLUMN_ELEMENTS,
  NATIVE_GEMM_INSTALL_HINT,
  nativeGemmLibrary,
  openblasCoreTypeFor,
  PARALLEL_GEMM_MIN_WORK,
  resolveOpenblasCoreType,
  setBatchRowsMinBatch,
  setBatchRowsMinWork,
  setThinConvChannels,
  THIN_CONV_CHANNELS,
  useBackend,
} from "../backend/mod.ts";
import { seededRandom } from "../util/rng.ts";
import { assertMemoryFlat, type ConvCase, randomArray, runOn } from "./conv_cases.ts";

const available = loadNativeGemm() != null;
const AVX512_CORE_NAMES = ["skylakex", "cooperlake", "sapphirerapids"];
if (!available) console.error(`native kernel tests ignored: no BLAS library loads (${NATIVE_GEMM_INSTALL_HINT})`);

await useBackend("cpu");
if (available) await useBackend("wasm", { gemm: "native" });
// Thin convolutions normally go to XNNPACK; these tests check the native path on every shape.
setThinConvChannels(0);

type Case = ConvCase;
const on = runOn;

async function assertSameOnBoth(f: () => tf.Tensor, label: string): Promise<void> {
  const expected = await on("cpu", f);
  const actual = await on("wasm", f);
  assert.deepEqual(actual.shape, expected.shape, `${label}: shape`);
  let scale = 1e-6;
  for (const v of expected.values) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < actual.values.length; i++) {
    worst = Math.max(worst, Math.abs(actual.values[i] - expected.values[i]));
  }
  assert.ok(worst <= 1e-5 * scale + 1e-6, `${label}: max abs error ${worst} (scale ${scale})`);
}

const CASES: Case[] = [
  { batch: 2, h: 7, w: 7, cin: 3, cout: 4, kh: 3, kw: 3, stride: [1, 1], pad: "same" },
  { batch: 2, h: 8, w: 8, cin: 3, cout: 5, kh: 3, kw: 3, stride: [2, 2], pad: "same" },
  { batch: 1, h: 9, w: 6, cin: 2, cout: 3, kh: 3, kw: 2, stride: [2, 2], pad: "valid" },
  { batch: 3, h: 11, w: 13, cin: 4, cout: 2, kh: 5, kw: 3, stride: [2, 3], pad: "same" },
  { batch: 2, h: 10, w: 7, cin: 2, cout: 3, kh: 3, kw: 3, stride: [2, 1], pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { batch: 1, h: 5, w: 5, cin: 1, cout: 1, kh: 1, kw: 1, stride: [1, 1], pad: "valid" },
  { batch: 3, h: 6, w: 5, cin: 40, cout: 7, kh: 1, kw: 1, stride: [1, 1], pad: "same" },
  { batch: 2, h: 9, w: 9, cin: 6, cout: 4, kh: 1, kw: 1, stride: [2, 2], pad: "valid" },
  { batch: 2, h: 28, w: 28, cin: 1, cout: 8, kh: 3, kw: 3, stride: [2, 2], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  { batch: 2, h: 9, w: 8, cin: 3, cout: 2, kh: 3, kw: 3, stride: [1, 1], pad: "same", dilation: [2, 2] },
  // Maps narrower than the kernel: patch rows reach into the padding on both sides.
  { batch: 3, h: 2, w: 1, cin: 5, cout: 4, kh: 3, kw: 3, stride: [1, 1], pad: "same" },
  { batch: 2, h: 2, w: 2, cin: 32, cout: 32, kh: 3, kw: 3, stride: [1, 1], pad: "same" },
  { batch: 2, h: 3, w: 2, cin: 4, cout: 3, kh: 3, kw: 5, stride: [1, 1], pad: [[0, 0], [1, 1], [3, 1], [0, 0]] },
];

function outSize(c: Case): [number, number] {
  const info = tf.backend_util.computeConv2DInfo(
    [c.batch, c.h, c.w, c.cin],
    [c.kh, c.kw, c.cin, c.cout],
    c.stride,
    c.dilation ?? 1,
    c.pad as any,
  );
  return [info.outHeight, info.outWidth];
}

async function checkCase(c: Case, rand: () => number): Promise<void> {
  const [ho, wo] = outSize(c);
  const x = randomArray(c.batch * c.h * c.w * c.cin, rand);
  const dy = randomArray(c.batch * ho * wo * c.cout, rand);
  const filter = randomArray(c.kh * c.kw * c.cin * c.cout, rand);
  const label = JSON.stringify(c);
  const xT = () => tf.tensor4d(x, [c.batch, c.h, c.w, c.cin]);
  const fT = () => tf.tensor4d(filter, [c.kh, c.kw, c.cin, c.cout]);
  const dyT = () => tf.tensor4d(dy, [c.batch, ho, wo, c.cout]);
  await assertSameOnBoth(
    () => tf.tidy(() => tf.conv2d(xT(), fT(), c.stride, c.pad as any, "NHWC", c.dilation ?? 1)),
    `Conv2D ${label}`,
  );
  if (c.dilation) return; // tfjs' backprop kernels take no dilation
  await assertSameOnBoth(
    () =>
      tf.tidy(() =>
        tf.conv2dTranspose(dyT(), fT(), [c.batch, c.h, c.w, c.cin], c.stride, c.pad as any)
      ),
    `Conv2DBackpropInput ${label}`,
  );
  await assertSameOnBoth(
    () =>
      tf.tidy(() => {
        const xx = xT(), dd = dyT();
        return tf.engine().runKernel("Conv2DBackpropFilter", { x: xx, dy: dd }, {
          strides: c.stride,
          pad: c.pad,
          dataFormat: "NHWC",
          filterShape: [c.kh, c.kw, c.cin, c.cout],
        }) as tf.Tensor;
      }),
    `Conv2DBackpropFilter ${label}`,
  );
}

Deno.test({
  name: "the wasm backend runs on the native GEMM when asked to",
  ignore: !available,
  fn() {
    assert.ok(nativeGemmLibrary() != null);
  },
});

Deno.test({
  name: "native Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter match cpu, by im2col and by batch rows",
  ignore: !available,
  async fn() {
    // Infinity: every convolution by im2col + one GEMM; 0: every undilated one by batch-row GEMMs.
    for (const minWork of [Infinity, 0]) {
      const previous = setBatchRowsMinWork(minWork), previousBatch = setBatchRowsMinBatch(0);
      try {
        const rand = seededRandom(3);
        for (const c of CASES) await checkCase(c, rand);
      } finally {
        setBatchRowsMinWork(previous);
        setBatchRowsMinBatch(previousBatch);
      }
    }
  },
});

Deno.test({
  name: "the bench CNN's second layer runs by batch rows by default and matches cpu",
  ignore: !available,
  async fn() {
    const c: Case = { batch: 128, h: 14, w: 14, cin: 32, cout: 64, kh: 3, kw: 3, stride: [2, 2], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] };
    assert.ok(c.batch * c.cout * c.kw * c.cin >= BATCH_ROWS_MIN_WORK && c.batch >= BATCH_ROWS_MIN_BATCH);
    await checkCase(c, seededRandom(7));
    assert.throws(() => setBatchRowsMinWork(-1), /number >= 0 or Infinity; got -1/);
    assert.throws(() => setBatchRowsMinWork(NaN), /got NaN/);
    assert.throws(() => setBatchRowsMinBatch(1.5), /minimum batch must be an integer >= 0; got 1.5/);
  },
});

Deno.test({
  name: "thin convolutions go to XNNPACK by default and still match cpu",
  ignore: !available,
  async fn() {
    const c: Case = { batch: 2, h: 9, w: 9, cin: 8, cout: 8, kh: 3, kw: 3, stride: [1, 1], pad: "same" };
    assert.ok(c.cout < THIN_CONV_CHANNELS);
    const previous = setThinConvChannels(THIN_CONV_CHANNELS);
    try {
      await checkCase(c, seededRandom(6));
    } finally {
      setThinConvChannels(previous);
    }
    assert.throws(() => setThinConvChannels(-1), /integer >= 0; got -1/);
  },
});

Deno.test({
  name: "native convolutions cut a layer larger than the column buffer into batch chunks, exactly",
  ignore: !available,
  async fn() {
    const c: Case = { batch: 8, h: 56, w: 56, cin: 24, cout: 3, kh: 3, kw: 3, stride: [1, 1], pad: "same" };
    // The layer's columns must exceed the buffer, or this would not test the chunking.
    assert.ok(c.batch * c.h * c.w * c.kh * c.kw * c.cin > MAX_COLUMN_ELEMENTS);
    await checkCase(c, seededRandom(4));
  },
});

Deno.test({
  name: "native BatchMatMul matches cpu for every transpose flag and broadcast batch",
  ignore: !available,
  async fn() {
    const rand = seededRandom(5);
    const shapes: [number[], number[]][] = [
      [[7, 5], [5, 3]],
      [[4, 7, 5], [4, 5, 3]],
      [[1, 7, 5], [4, 5, 3]],
      [[4, 7, 5], [5, 3]],
      [[2, 3, 7, 5], [2, 3, 5, 3]],
      [[1, 1, 6, 2], [2, 4]],
    ];
    for (const [sa, sb] of shapes) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const aShape = ta ? [...sa.slice(0, -2), sa.at(-1)!, sa.at(-2)!] : sa;
          const bShape = tb ? [...sb.slice(0, -2), sb.at(-1)!, sb.at(-2)!] : sb;
          const a = randomArray(aShape.reduce((p, d) => p * d, 1), rand);
          const b = randomArray(bShape.reduce((p, d) => p * d, 1), rand);
          await assertSameOnBoth(
            () => tf.tidy(() => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), ta, tb)),
            `BatchMatMul ${JSON.stringify({ aShape, bShape, ta, tb })}`,
          );
        }
      }
    }
  },
});

Deno.test({
  name: "second-order gradients through the native kernels match cpu",
  ignore: !available,
  async fn() {
    const rand = seededRandom(6);
    const x = randomArray(2 * 9 * 9 * 3, rand), w1 = randomArray(3 * 3 * 3 * 4, rand);
    const w2 = randomArray(4 * 4 * 4 * 5, rand); // valid 3x3 stride 2 on 9x9: 4x4 outputs
    // d/dW of ||grad_x f||^2 for a conv -> relu -> dense net: every native kernel, twice.
    const penaltyGrad = () =>
      tf.tidy(() => {
        const xx = tf.tensor4d(x, [2, 9, 9, 3]);
        const f = (w: tf.Tensor) => (input: tf.Tensor) => {
          const h = tf.relu(tf.conv2d(input as tf.Tensor4D, w as tf.Tensor4D, 2, "valid"));
          return tf.sum(tf.matMul(tf.reshape(h, [2, 64]), tf.tensor2d(w2, [64, 5])));
        };
        const penalty = (w: tf.Tensor) => tf.sum(tf.square(tf.grad(f(w))(xx)));
        return tf.grad(penalty)(tf.tensor4d(w1, [3, 3, 3, 4]));
      });
    await assertSameOnBoth(penaltyGrad, "second-order gradient");
  },
});

Deno.test({
  name: "native kernels allocate only their outputs",
  ignore: !available,
  async fn() {
    await tf.setBackend("wasm");
    const x = tf.randomUniform([2, 8, 8, 3], -1, 1, "float32", 1) as tf.Tensor4D;
    const w = tf.randomUniform([3, 3, 3, 4], -1, 1, "float32", 2) as tf.Tensor4D;
    const step = () =>
      tf.tidy(() => {
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, "same")))([x, w]);
        g[1].dataSync();
      });
    assertMemoryFlat(step);
    tf.dispose([x, w]);
  },
});

Deno.test({
  name: "sgemm refuses views shorter than its dimensions address",
  ignore: !available,
  fn() {
    const gemm = loadNativeGemm()!;
    const a = new Float32Array(6), b = new Float32Array(6), c = new Float32Array(3);
    assert.throws(
      () => gemm.sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2),
      /C has 3 elements; m 2 n 2 k 3 address 4/,
    );
    assert.throws(() => gemm.sgemm(false, false, 2, 2, 3, 1, a, 2, b, 2, 0, new Float32Array(4), 2), /leading dimensions/);
  },
});

Deno.test("gemmThreads: every thread for large products, one below PARALLEL_GEMM_MIN_WORK", () => {
  assert.equal(gemmThreads(6272, 64, 288, 2), 2); // the bench CNN's second convolution
  assert.equal(gemmThreads(128, 10, 3136, 2), 1); // its dense layer
  assert.equal(gemmThreads(PARALLEL_GEMM_MIN_WORK, 1, 1, 4), 4);
  assert.equal(gemmThreads(PARALLEL_GEMM_MIN_WORK - 1, 1, 1, 4), 1);
  assert.equal(gemmThreads(6272, 64, 288, 1), 1);
});

Deno.test({
  name: "a two-thread GEMM switches between one and two threads and computes what float64 does",
  ignore: !available,
  fn() {
    const two = loadNativeGemm(undefined, 2)!;
    const rand = seededRandom(8);
    // A small product (one thread) between two large ones (two threads), and again after a
    // second library handle set the shared thread count to 1: each must still be exact.
    assert.equal(gemmThreads(6272, 64, 288, 2), 2);
    const check = (m: number, n: number, k: number) => {
      const a = randomArray(m * k, rand), b = randomArray(k * n, rand);
      const c = new Float32Array(m * n);
      two.sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n);
      let worst = 0;
      for (let i = 0; i < m; i += 97) {
        for (let j = 0; j < n; j++) {
          let ref = 0;
          for (let p = 0; p < k; p++) ref += a[i * k + p] * b[p * n + j];
          worst = Math.max(worst, Math.abs(c[i * n + j] - ref) / (1 + Math.abs(ref)));
        }
      }
      assert.ok(worst < 1e-4, `${m}x${n}x${k}: relative error ${worst}`);
    };
    check(6272, 64, 288);
    check(128, 10, 300);
    check(6272, 64, 288);
    loadNativeGemm(undefined, 1);
    check(6272, 64, 288);
    // Restore the backend's own setting for the tests after this one.
    loadNativeGemm(undefined, navigator.hardwareConcurrency);
  },
});

Deno.test({
  name: "the default native GEMM runs its large products on every core and says so",
  ignore: !available || (navigator.hardwareConcurrency ?? 1) < 2,
  fn() {
    assert.match(describeBackend(), /^wasm \(1 thread, native GEMM .* \((?:\w+ kernels, )?\d+ threads on large products\)\)$/);
  },
});

Deno.test("OpenBLAS' AVX-512 kernels are asked for exactly where the CPU has every flag they need", () => {
  const flags = "fpu sse2 avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl";
  assert.equal(openblasCoreTypeFor(`processor\t: 0\nflags\t\t: ${flags}\nbugs\t: none\n`), "SkylakeX");
  assert.equal(openblasCoreTypeFor(`flags\t: ${flags} avx512_bf16\n`), "Cooperlake");
  for (const missing of ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]) {
    const without = flags.split(" ").filter((f) => f !== missing).join(" ");
    assert.equal(openblasCoreTypeFor(`flags\t: ${without} avx512_bf16\n`), undefined, `without ${missing}`);
  }
  // A flag's name inside another line (e.g. "bugs") does not count; ARM's cpuinfo has no "flags".
  assert.equal(openblasCoreTypeFor(`flags\t: fpu avx2\nbugs\t: ${flags}\n`), undefined);
  assert.equal(openblasCoreTypeFor("Features\t: fp asimd\n"), undefined);
});

Deno.test("KDIGA_BLAS_CORETYPE: auto lifts an inherited pre-AVX-512 pin on an AVX-512 CPU; inherit and names are obeyed", () => {
  const avx512 = "flags\t: avx2 avx512f avx512cd avx512bw avx512dq avx512vl\n", avx2 = "flags\t: avx2 fma\n";
  assert.equal(resolveOpenblasCoreType(undefined, avx512, "Haswell"), "SkylakeX");
  assert.equal(resolveOpenblasCoreType("auto", avx512, undefined), "SkylakeX");
  assert.equal(resolveOpenblasCoreType("auto", avx512, "cooperlake"), undefined, "an AVX-512 pin is kept");
  assert.equal(resolveOpenblasCoreType("auto", avx2, "Haswell"), undefined);
  assert.equal(resolveOpenblasCoreType("auto", undefined, "Haswell"), undefined, "CPU unknown: OpenBLAS chooses");
  assert.equal(resolveOpenblasCoreType("inherit", avx512, "Haswell"), undefined);
  assert.equal(resolveOpenblasCoreType("Zen", avx512, "Haswell"), "Zen");
  assert.throws(() => resolveOpenblasCoreType("Sky lake", avx512, undefined), /KDIGA_BLAS_CORETYPE must be 'auto', 'inherit' or an OpenBLAS core name .*; got 'Sky lake'/);
  assert.throws(() => resolveOpenblasCoreType("", avx512, undefined), /got ''/);
});

/** Runs `code` in a fresh Deno process with `env` added; returns its exit code and output. */
async function runFresh(code: string, env: Record<string, string>): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, output: decode(out.stdout) + decode(out.stderr) };
}

const CORE_PROBE = `import { loadNativeGemm } from "${new URL("../backend/native_gemm.ts", import.meta.url).href}";
  console.log("core=" + loadNativeGemm().coreName + " env=" + Deno.env.get("OPENBLAS_CORETYPE"));`;

/**
 * Whether this OpenBLAS switches kernels by core type at load (a DYNAMIC_ARCH build on x86, as
 * Debian's): a build for one CPU ignores OPENBLAS_CORETYPE, and the core-type checks do not apply.
 */
async function coreTypesSwitch(): Promise<boolean> {
  if (!available) return false;
  const probe = await runFresh(CORE_PROBE, { KDIGA_BLAS_CORETYPE: "inherit", OPENBLAS_CORETYPE: "Prescott" });
  return /core=Prescott /.test(probe.output);
}
const switchable = await coreTypesSwitch();

Deno.test({
  name: "the loaded OpenBLAS runs the kernels kdiga asked for, and OPENBLAS_CORETYPE is left as it was",
  ignore: !available,
  fn() {
    const inherited = Deno.env.get("OPENBLAS_CORETYPE");
    const gemm = loadNativeGemm()!;
    assert.equal(Deno.env.get("OPENBLAS_CORETYPE"), inherited);
    if (gemm.coreName == null) return; // a BLAS other than OpenBLAS: no core types
    let cpuinfo: string | undefined;
    try {
      cpuinfo = Deno.readTextFileSync("/proc/cpuinfo");
    } catch { /* not Linux */ }
    if (!switchable) return; // a build for one CPU: OPENBLAS_CORETYPE does not apply
    const wanted = resolveOpenblasCoreType(Deno.env.get("KDIGA_BLAS_CORETYPE"), cpuinfo, inherited) ?? inherited;
    if (wanted !== undefined) assert.equal(gemm.coreName.toLowerCase(), wanted.toLowerCase());
    if (cpuinfo !== undefined && openblasCoreTypeFor(cpuinfo) !== undefined && Deno.env.get("KDIGA_BLAS_CORETYPE") === undefined) {
      assert.ok(AVX512_CORE_NAMES.includes(gemm.coreName.toLowerCase()), `an AVX-512 CPU runs ${gemm.coreName}`);
    }
  },
});

Deno.test({
  name: "KDIGA_BLAS_CORETYPE picks the kernels of a fresh process; a name OpenBLAS does not run is an error",
  ignore: !switchable,
  async fn() {
    const code = CORE_PROBE;
    const haswell = await runFresh(code, { KDIGA_BLAS_CORETYPE: "Haswell", OPENBLAS_CORETYPE: "Prescott" });
    assert.equal(haswell.code, 0, haswell.output);
    // kdiga's choice is for its own load: the variable children inherit is the user's.
    assert.match(haswell.output, /core=Haswell env=Prescott/);
    let cpuinfo: string | undefined;
    try {
      cpuinfo = Deno.readTextFileSync("/proc/cpuinfo");
    } catch { /* not Linux */ }
    const best = cpuinfo === undefined ? undefined : openblasCoreTypeFor(cpuinfo);
    if (best !== undefined) {
      const auto = await runFresh(code, { KDIGA_BLAS_CORETYPE: "auto", OPENBLAS_CORETYPE: "Haswell" });
      assert.equal(auto.code, 0, auto.output);
      assert.match(auto.output, new RegExp(`core=${best} env=Haswell`));
      assert.match(auto.output, new RegExp(`OpenBLAS runs its ${best} kernels, chosen for this CPU, not OPENBLAS_CORETYPE=Haswell`));
    }
    const unknown = await runFresh(code, { KDIGA_BLAS_CORETYPE: "NoSuchCore" });
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.output, /KDIGA_BLAS_CORETYPE=NoSuchCore: .* runs its '\w+' kernels instead/);
  },
});

Deno.test("blasThreads must be a positive integer", async () => {
  await assert.rejects(
    () => useBackend("wasm", { blasThreads: 0 }),
    /blasThreads must be a positive integer; got 0/,
  );
});

Deno.test("a BLAS library that does not load is a clear error naming it", () => {
  assert.throws(() => loadNativeGemm("/nonexistent/libnoblas.so"), /cannot load the BLAS library '\/nonexistent\/libnoblas.so'/);
});

Deno.test("an unknown gemm choice is an error listing the allowed ones", async () => {
  await assert.rejects(
    () => useBackend("wasm", { gemm: "mkl" as never }),
    /unknown gemm 'mkl' \(option gemm or KDIGA_GEMM\): allowed are auto, native, xnnpack/,
  );
});
