/**
 * Multi-threaded XNNPACK for the wasm backend under Deno.
 *
 * tfjs-backend-wasm ships a threaded SIMD build, but under Deno it never uses it: it turns
 * threads off wherever it sees `process` (tfjs issue #3830), starts its pthread workers from
 * blob: URLs that Deno's node:worker_threads refuses, and caps XNNPACK's pool at half the
 * logical cores (one thread on a 2-core machine). {@link prepareWasmThreads} works around all
 * three for the duration of the backend's initialisation only: it writes the worker script and
 * the module factory to temp files, and reports twice the cores so the pool gets `threads`.
 *
 * This leans on tfjs 4.22 internals (the pinned version); `tests/backend_test.ts` checks that the
 * pool really runs the asked number of threads and that results equal the one-thread build's,
 * so an upgrade that breaks it fails loudly.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import os from "node:os";

const FACTORY_PREFIX = "var WasmBackendModuleThreadedSimd = ";
const WORKER_LOAD_CODE =
  'if(typeof e.data.urlOrBlob=="string"){importScripts(e.data.urlOrBlob)}else{var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)}';
const WORKER_LOCATION = "location:{href:__filename},";

/**
 * Lets a process exit while the wasm backend's pthread workers are idle: emscripten keeps its
 * worker pool referenced, which holds Deno's event loop open after the script's last line.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { unrefWasmWorkers } from "./wasm_threads.ts";
 * import { useBackend } from "./mod.ts";
 * await useBackend("cpu");
 * unrefWasmWorkers(tf.backend()); // a no-op on a backend without pthreads
 * ```
 */
export function unrefWasmWorkers(backend: unknown): void {
  const pthread = (backend as any)?.wasm?.PThread;
  if (pthread == null) return;
  for (const worker of [...(pthread.unusedWorkers ?? []), ...(pthread.runningWorkers ?? [])]) {
    worker?.unref?.();
  }
}

/**
 * Prepares tfjs' threaded wasm build to start with `threads` XNNPACK threads under Deno. Call
 * it right before `tf.setBackend("wasm")`, and the returned `restore` right after.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { prepareWasmThreads } from "./wasm_threads.ts";
 * const restore = await prepareWasmThreads(2);
 * try {
 *   await tf.setBackend("wasm");
 * } finally {
 *   restore();
 * }
 * ```
 */
export async function prepareWasmThreads(threads: number): Promise<() => void> {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new Error(`threads must be a positive integer; got ${threads}`);
  }
  const dir = await Deno.makeTempDir({ prefix: "kdiga-wasm-threads-" });
  const factoryPath = `${dir}/factory.cjs`;
  const texts = new WeakMap<object, string>();
  const OriginalBlob = globalThis.Blob;
  const originalCreateObjectURL = URL.createObjectURL;
  const originalCpus = os.cpus;

  // The factory source is posted to each worker as a Blob; keep it as a file instead.
  class RecordingBlob extends OriginalBlob {
    constructor(parts: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      const text = parts.every((p) => typeof p === "string") ? (parts as string[]).join("") : null;
      if (text != null && text.startsWith(FACTORY_PREFIX)) {
        // The factory's source refers to the bundle's CommonJS imports by their bundled names.
        const prelude = 'var require$$0 = require("fs"), require$$1 = require("path"), ' +
          'require$$3 = require("perf_hooks"), require$$4 = require("os"); ' +
          "var commonjsGlobal = globalThis;";
        Deno.writeTextFileSync(
          factoryPath,
          `${prelude}\n${text}\nglobalThis.WasmBackendModuleThreadedSimd = WasmBackendModuleThreadedSimd;\n`,
        );
        // A String object survives postMessage; the rewritten worker ignores it.
        return new String(factoryPath) as unknown as RecordingBlob;
      }
      if (text != null) texts.set(this, text);
    }
  }
  (globalThis as any).Blob = RecordingBlob;
  URL.createObjectURL = (blob: Blob) => {
    const text = texts.get(blob);
    if (text == null) return originalCreateObjectURL(blob);
    if (!text.includes(WORKER_LOAD_CODE) || !text.includes(WORKER_LOCATION)) {
      throw new Error("kdiga: tfjs' wasm worker script is not the one of tfjs 4.22; run with threads 1");
    }
    const path = `${dir}/worker-${crypto.randomUUID().slice(0, 8)}.cjs`;
    const script = text
      .replace(WORKER_LOAD_CODE, `importScripts(${JSON.stringify(factoryPath)});`)
      // Deno's worker scope has a read-only `location`.
      .replace(WORKER_LOCATION, "");
    Deno.writeTextFileSync(path, script);
    return path;
  };
  // XNNPACK's pool gets half the logical cores tfjs sees.
  const cores = Array.from({ length: 2 * threads }, () => originalCpus()[0]);
  (os as any).cpus = () => cores;

  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  wasm.setThreadsCount(threads);
  return () => {
    (globalThis as any).Blob = OriginalBlob;
    URL.createObjectURL = originalCreateObjectURL;
    (os as any).cpus = originalCpus;
  };
}
