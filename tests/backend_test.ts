/** Backend selection: clear errors, no silent fallback, and the threaded wasm build. */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { BACKEND_NAMES, useBackend, wasmThreadsCount } from "../backend/mod.ts";

Deno.test("an unknown backend name is an error listing the valid names", async () => {
  await assert.rejects(() => useBackend("gpu"), (e: Error) => {
    assert.match(e.message, /unknown backend 'gpu'/);
    for (const name of BACKEND_NAMES) assert.ok(e.message.includes(name), e.message);
    return true;
  });
});

Deno.test("'tensorflow' without tfjs-node is an error with the install command", async () => {
  await assert.rejects(() => useBackend("tensorflow"), /npm install @tensorflow\/tfjs-node@4\.22\.0/);
});

Deno.test("'webgpu' without navigator.gpu is an error that says why", async () => {
  if ((navigator as any).gpu != null) return; // a machine with WebGPU: nothing to check here
  await assert.rejects(() => useBackend("webgpu"), /navigator\.gpu/);
});

Deno.test("the chosen backend is the one that runs", async () => {
  for (const name of ["cpu", "wasm"]) {
    assert.equal(await useBackend(name), name);
    assert.equal(tf.getBackend(), name);
  }
});

Deno.test("bad thread counts are rejected", async () => {
  await assert.rejects(() => useBackend("wasm", { threads: 0 }), /threads must be a positive integer; got 0/);
});

async function probe(threads: number): Promise<{ threads: number; values: number[] }> {
  const script = fileURLToPath(new URL("./fixtures/wasm_threads_probe.ts", import.meta.url));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script],
    env: { KDIGA_THREADS: String(threads) },
    stdout: "piped",
    stderr: "piped",
    // The probe must exit on its own; idle wasm pthread workers once kept it alive forever.
    signal: AbortSignal.timeout(120_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert.ok(out.success, `probe with ${threads} threads failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text.split("\n").pop()!);
}

Deno.test("wasm with 2 threads runs 2 XNNPACK threads and computes what 1 thread does", async () => {
  const [one, two] = [await probe(1), await probe(2)];
  assert.equal(one.threads, 1);
  assert.equal(two.threads, 2);
  assert.equal(one.values.length, two.values.length);
  let worst = 0;
  one.values.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - two.values[i]) / Math.max(1, Math.abs(v)))));
  assert.ok(worst < 1e-5, `1 vs 2 threads differ by ${worst}`);
});

Deno.test("threads are reported as 1 before/without the threaded build", () => {
  assert.ok(wasmThreadsCount() >= 1);
});
