/**
 * Safetensors checkpoints: bit-exact round trips, a header parsed independently of the module,
 * hand-made files read back, and clear errors for tampered or truncated files.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { join } from "node:path";
import { useBackend } from "../backend/mod.ts";
import {
  type Checkpoint,
  CHECKPOINT_FORMAT,
  createModel,
  decodeCheckpoint,
  decodeSafetensors,
  encodeCheckpoint,
  loadCheckpoint,
  loadModelCheckpoint,
  saveCheckpoint,
  saveModelCheckpoint,
  type Variables,
  variablesSignature,
} from "../models/mod.ts";

await useBackend();

const dir = await Deno.makeTempDir({ prefix: "kdiga-checkpoint-test-" });

/** The bit patterns of a tensor's values (so NaN payloads and -0 compare exactly). */
function bits(t: tf.Tensor): number[] {
  const data = t.dataSync();
  if (data instanceof Float32Array) {
    return Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
  }
  return Array.from(data as Int32Array | Uint8Array);
}

/** A tiny ResNet with random BN statistics, optimizer tensors with awkward values, metadata. */
function fixture(): {
  model: ReturnType<typeof createModel>;
  vars: Variables;
  optimizer: Record<string, tf.Tensor>;
} {
  const model = createModel("resnet-tiny", { inputShape: [8, 8, 3] });
  const init = model.init(3);
  const state: Record<string, tf.Tensor> = {};
  let seed = 100;
  for (const [name, t] of Object.entries(init.state)) {
    state[name] = tf.randomUniform(t.shape, 0.1, 3, "float32", seed++);
    t.dispose();
  }
  const optimizer = {
    "momentum.fc.weight": tf.randomNormal(init.params["fc.weight"].shape, 0, 1, "float32", 9),
    "special": tf.tensor1d([NaN, -0, Infinity, -Infinity, 1e-45, 3.4028234663852886e38]),
    "step": tf.scalar(17, "int32"),
    "mask": tf.tensor1d([true, false, true], "bool"),
  };
  return { model, vars: { params: init.params, state }, optimizer };
}

function disposeCheckpoint(c: Partial<Checkpoint>) {
  for (const section of [c.params, c.state, c.optimizer]) {
    if (section) tf.dispose(Object.values(section));
  }
}

Deno.test("round trip is bit-exact for params, state, optimizer tensors and metadata", async () => {
  const { model, vars, optimizer } = fixture();
  const metadata = {
    model: model.name,
    config: JSON.stringify(model.config),
    epoch: "12",
    note: 'unicode ✓ and "quotes"',
    empty: "",
  };
  const path = join(dir, "roundtrip.safetensors");
  await saveCheckpoint(path, { params: vars.params, state: vars.state, optimizer, metadata });
  const expect = {
    ...variablesSignature(model),
    optimizer: Object.fromEntries(
      Object.entries(optimizer).map(([n, t]) => [n, { shape: t.shape, dtype: t.dtype }]),
    ),
  };
  const loaded = await loadCheckpoint(path, expect);
  assert.deepStrictEqual(loaded.metadata, metadata);
  for (const section of ["params", "state", "optimizer"] as const) {
    const original = section === "optimizer" ? optimizer : vars[section];
    assert.deepStrictEqual(
      Object.keys(loaded[section]).sort(),
      Object.keys(original).sort(),
      section,
    );
    for (const [name, t] of Object.entries(original)) {
      const got = loaded[section][name];
      assert.deepStrictEqual(got.shape, t.shape, `${section}.${name} shape`);
      assert.equal(got.dtype, t.dtype, `${section}.${name} dtype`);
      assert.deepStrictEqual(bits(got), bits(t), `${section}.${name} values`);
    }
  }
  // The reloaded variables drive the model exactly like the originals.
  tf.tidy(() => {
    const x = tf.randomUniform([2, 8, 8, 3], 0, 1, "float32", 1) as tf.Tensor4D;
    const a = model.apply(vars, x, { training: false }).logits;
    const b =
      model.apply({ params: loaded.params, state: loaded.state }, x, { training: false }).logits;
    assert.deepStrictEqual(bits(b), bits(a));
  });
  // Atomic write: no temp file is left beside the checkpoint.
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
    n.startsWith("roundtrip")
  );
  assert.deepStrictEqual(names, ["roundtrip.safetensors"]);
  disposeCheckpoint(loaded);
  disposeCheckpoint({ ...vars, optimizer });
});

Deno.test("the file is valid safetensors, checked by an independent parser", async () => {
  const { vars, optimizer } = fixture();
  const path = join(dir, "format.safetensors");
  await saveCheckpoint(path, { ...vars, optimizer, metadata: { epoch: "1" } });
  const bytes = await Deno.readFile(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  assert.ok(8 + n <= bytes.length, "header fits");
  assert.equal((8 + n) % 8, 0, "data starts 8-byte aligned (reference writer pads the header)");
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.equal(text[0], "{");
  const header = JSON.parse(text);
  assert.deepStrictEqual(header.__metadata__, {
    epoch: "1",
    "kdiga.format": CHECKPOINT_FORMAT,
    "kdiga.layout": header.__metadata__["kdiga.layout"],
  });
  for (const v of Object.values(header.__metadata__)) assert.equal(typeof v, "string");
  const size: Record<string, number> = { F32: 4, I32: 4, BOOL: 1 };
  const entries = Object.entries(header)
    .filter(([k]) => k !== "__metadata__")
    .map(([k, v]) => ({
      name: k,
      ...(v as { dtype: string; shape: number[]; data_offsets: [number, number] }),
    }))
    .sort((a, b) => a.data_offsets[0] - b.data_offsets[0]);
  const expectedNames = [
    ...Object.keys(vars.params).map((k) => `params.${k}`),
    ...Object.keys(vars.state).map((k) => `state.${k}`),
    ...Object.keys(optimizer).map((k) => `optimizer.${k}`),
  ].sort();
  assert.deepStrictEqual(entries.map((e) => e.name).sort(), expectedNames);
  let offset = 0;
  for (const e of entries) {
    assert.ok(e.dtype in size, `${e.name}: dtype ${e.dtype}`);
    assert.equal(e.data_offsets[0], offset, `${e.name} starts where the previous ends`);
    assert.equal(
      e.data_offsets[1] - e.data_offsets[0],
      e.shape.reduce((a, b) => a * b, 1) * size[e.dtype],
    );
    assert.equal(e.data_offsets[0] % size[e.dtype], 0, `${e.name} aligned`);
    offset = e.data_offsets[1];
  }
  assert.equal(offset, bytes.length - 8 - n, "tensors cover the data exactly");
  // Values at the recorded offsets, decoded by hand (little-endian float32).
  const fcWeight = header["params.fc.weight"];
  const expected = vars.params["fc.weight"].dataSync();
  assert.deepStrictEqual(fcWeight.shape, vars.params["fc.weight"].shape);
  for (let i = 0; i < expected.length; i++) {
    assert.equal(view.getFloat32(8 + n + fcWeight.data_offsets[0] + 4 * i, true), expected[i]);
  }
  const step = header["optimizer.step"];
  assert.deepStrictEqual([step.dtype, step.shape], ["I32", []]);
  assert.equal(view.getInt32(8 + n + step.data_offsets[0], true), 17);
  disposeCheckpoint({ ...vars, optimizer });
});

/** A safetensors file built by hand, as another writer (e.g. Python's) would produce it. */
function handMadeFile(header: Record<string, unknown>, data: Uint8Array, pad = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) + " ".repeat(pad));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

Deno.test("reads safetensors written by another writer (unsorted header, unpadded)", () => {
  const data = new Uint8Array(12);
  const dv = new DataView(data.buffer);
  dv.setInt32(0, -5, true);
  dv.setFloat32(4, 1.5, true);
  dv.setFloat32(8, -2.25, true);
  const file = handMadeFile(
    {
      "state.b": { dtype: "F32", shape: [2, 1], data_offsets: [4, 12] },
      "__metadata__": { format: "pt", "kdiga.format": CHECKPOINT_FORMAT },
      "optimizer.a": { dtype: "I32", shape: [1], data_offsets: [0, 4] },
    },
    data,
    3,
  );
  const ckpt = decodeCheckpoint(file);
  assert.deepStrictEqual(Array.from(ckpt.state.b.dataSync()), [1.5, -2.25]);
  assert.deepStrictEqual(ckpt.state.b.shape, [2, 1]);
  assert.deepStrictEqual(Array.from(ckpt.optimizer.a.dataSync()), [-5]);
  assert.deepStrictEqual(ckpt.metadata, { format: "pt" });
  disposeCheckpoint(ckpt);
  // Plain safetensors (no kdiga metadata) decode with decodeSafetensors, not as a checkpoint.
  const plain = handMadeFile(
    { w: { dtype: "F32", shape: [], data_offsets: [0, 4] } },
    data.subarray(4, 8),
  );
  assert.deepStrictEqual(Array.from(decodeSafetensors(plain).tensors.w.data), [1.5]);
  assert.throws(() => decodeCheckpoint(plain), /not a kdiga checkpoint/);
});

Deno.test("wrong names, shapes and dtypes fail naming the tensor", async () => {
  const model = createModel("resnet-tiny", { inputShape: [8, 8, 3] });
  const expect = variablesSignature(model);
  const vars = model.init(0);
  const encode = (params: Record<string, tf.Tensor>) =>
    encodeCheckpoint({ params, state: vars.state });
  const { "fc.weight": fcWeight, ...rest } = vars.params;

  const missing = await encode(rest);
  assert.throws(
    () => decodeCheckpoint(missing, expect, "ckpt"),
    /ckpt: missing params tensor\(s\) 'params\.fc\.weight'/,
  );

  const renamed = await encode({ ...rest, "fc.weights": fcWeight });
  assert.throws(
    () => decodeCheckpoint(renamed, expect),
    /missing params tensor\(s\) 'params\.fc\.weight'/,
  );

  const extra = await encode({ ...vars.params, "fc2.weight": fcWeight });
  assert.throws(
    () => decodeCheckpoint(extra, expect),
    /unexpected params tensor\(s\) 'params\.fc2\.weight'/,
  );

  const wrongShape = tf.zeros([64, 9]);
  const reshaped = await encode({ ...rest, "fc.weight": wrongShape });
  assert.throws(
    () => decodeCheckpoint(reshaped, expect),
    /tensor 'params\.fc\.weight' has shape \[64,9\] but \[64,10\] is expected/,
  );

  const wrongDtype = tf.zeros([64, 10], "int32");
  const retyped = await encode({ ...rest, "fc.weight": wrongDtype });
  assert.throws(
    () => decodeCheckpoint(retyped, expect),
    /tensor 'params\.fc\.weight' has dtype int32 but float32 is expected/,
  );

  const missingState = await encodeCheckpoint({ params: vars.params, state: {} });
  assert.throws(
    () => decodeCheckpoint(missingState, expect),
    /missing state tensor\(s\) 'state\.bn1\.running_mean'/,
  );

  // A failed check creates no tensors.
  const before = tf.memory().numTensors;
  assert.throws(() => decodeCheckpoint(reshaped, expect));
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([wrongShape, wrongDtype]);
  disposeCheckpoint(vars);
});

Deno.test("truncated and corrupt files fail with clear errors", async () => {
  const model = createModel("small-cnn", { widthMultiplier: 0.25 });
  const vars = model.init(0);
  const path = join(dir, "corrupt.safetensors");
  await saveCheckpoint(path, vars);
  const good = await Deno.readFile(path);
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(good.subarray(8, 8 + n)));
  const cases: Array<[string, Uint8Array, RegExp]> = [
    [
      "4 bytes",
      good.slice(0, 4),
      /truncated: 4 bytes, but a safetensors file starts with an 8-byte header length/,
    ],
    [
      "cut in the header",
      good.slice(0, 8 + Math.floor(n / 2)),
      /header length \d+ exceeds the \d+ bytes after it/,
    ],
    [
      "cut in the data",
      good.slice(0, good.length - 100),
      /tensor '[^']+' ends at byte \d+ of the data, which has only \d+ bytes \(truncated file\)/,
    ],
    ["trailing bytes", new Uint8Array([...good, 0, 0, 0, 0]), /trailing bytes/],
    [
      "garbage header",
      (() => {
        const b = good.slice();
        b[8] = 0xff;
        return b;
      })(),
      /header is not valid UTF-8 JSON/,
    ],
  ];
  // Header edits of the same file: wrong span for a shape, overlapping offsets, unknown dtype.
  const edit = (mutate: (h: any) => void): Uint8Array => {
    const h = structuredClone(header);
    mutate(h);
    return handMadeFile(h, good.subarray(8 + n));
  };
  cases.push(
    [
      "shape does not fit span",
      edit((h) => (h["params.fc.weight"].shape = [10, 10])),
      /tensor 'params\.fc\.weight': shape \[10,10\] of F32 needs 400 bytes but data_offsets/,
    ],
    [
      "unknown dtype",
      edit((h) => (h["params.fc.bias"].dtype = "F33")),
      /tensor 'params\.fc\.bias': unknown dtype "F33"/,
    ],
    [
      "non-kdiga dtype",
      edit((h) => {
        h["params.fc.bias"].dtype = "F16";
        h["params.fc.bias"].shape = [20];
      }),
      /tensor 'params\.fc\.bias' has dtype F16; kdiga reads F32, I32 and BOOL/,
    ],
    [
      "gap in offsets",
      edit((h) => {
        const e = h["params.fc.bias"];
        e.data_offsets = [e.data_offsets[0] + 4, e.data_offsets[1] + 4];
      }),
      /tensor '[^']+' (starts at byte|ends at byte)/,
    ],
    [
      "missing offsets",
      edit((h) => delete h["params.conv1.weight"].data_offsets),
      /tensor 'params\.conv1\.weight': data_offsets must be \[begin, end\]/,
    ],
    [
      "non-string metadata",
      edit((h) => (h.__metadata__.epoch = 3)),
      /__metadata__ 'epoch' must be a string/,
    ],
  );
  for (const [what, bytes, pattern] of cases) {
    await Deno.writeFile(path, bytes);
    await assert.rejects(loadCheckpoint(path), (e: Error) => {
      assert.match(e.message, pattern, what);
      assert.match(e.message, /corrupt\.safetensors/, `${what}: names the file`);
      return true;
    });
  }
  await assert.rejects(
    loadCheckpoint(join(dir, "nope.safetensors")),
    /cannot read checkpoint .*nope\.safetensors/,
  );
  disposeCheckpoint(vars);
});

Deno.test("metadata: reserved keys and non-strings are refused when saving", async () => {
  const params = { w: tf.ones([2]) };
  await assert.rejects(
    encodeCheckpoint({ params, metadata: { "kdiga.format": "x" } }),
    /metadata key 'kdiga\.format' is reserved/,
  );
  await assert.rejects(
    encodeCheckpoint({ params, metadata: { epoch: 3 as unknown as string } }),
    /metadata 'epoch' must be a string; got 3/,
  );
  tf.dispose(Object.values(params));
});

Deno.test("model checkpoints rebuild the model from metadata and validate against it", async () => {
  const { model, vars, optimizer } = fixture();
  const path = join(dir, "model.safetensors");
  await saveModelCheckpoint(path, model, vars, { optimizer, epoch: 4, metadata: { run: "abc" } });
  const loaded = await loadModelCheckpoint(path);
  assert.equal(loaded.model.name, model.name);
  assert.deepStrictEqual(loaded.model.config, model.config);
  assert.equal(loaded.epoch, 4);
  assert.equal(loaded.metadata.run, "abc");
  for (const [name, t] of Object.entries(vars.params)) {
    assert.deepStrictEqual(bits(loaded.variables.params[name]), bits(t), name);
  }
  assert.deepStrictEqual(bits(loaded.optimizer.step), [17]);
  disposeCheckpoint({ ...loaded.variables, optimizer: loaded.optimizer });
  // The same file claimed for a different model fails on its variables.
  const other = variablesSignature(
    createModel("resnet-tiny", { inputShape: [8, 8, 3], widthMultiplier: 0.25 }),
  );
  await assert.rejects(
    loadCheckpoint(path, other),
    /tensor 'params\.[^']+' has shape \[.*\] but \[.*\] is expected/,
  );
  disposeCheckpoint({ ...vars, optimizer });
});

Deno.test({
  name: "clean up the temp directory",
  fn: async () => {
    await Deno.remove(dir, { recursive: true });
  },
});
