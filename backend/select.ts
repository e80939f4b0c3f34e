/**
 * Choosing the tensor engine. `wasm` (XNNPACK, with kdiga's training kernels) is the default;
 * `cpu` is tfjs' pure-JS reference; `tensorflow` is tfjs-node(-gpu) where the user installed it;
 * `webgpu` where Deno exposes `navigator.gpu`. There is never a silent fallback: the chosen
 * backend runs, or a clear error says why not.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { installSecondOrderGradients } from "./gradients.ts";
import { registerWasmTrainingKernels, type WasmKernelSet } from "./wasm_kernels.ts";
import { loadNativeGemm, NATIVE_GEMM_INSTALL_HINT, type NativeGemm } from "./native_gemm.ts";
import { registerNativeKernels } from "./native_kernels.ts";
import { prepareWasmThreads, unrefWasmWorkers } from "./wasm_threads.ts";

/** The backends kdiga can run on. */
export const BACKEND_NAMES = ["wasm", "cpu", "tensorflow", "webgpu"] as const;
/** One of {@link BACKEND_NAMES}. */
export type BackendName = typeof BACKEND_NAMES[number];

/** Options of {@link useBackend}. */
export interface UseBackendOptions {
  /** Print which backend runs, on stderr (default false). */
  verbose?: boolean;
  /**
   * XNNPACK threads of the `wasm` backend (default: `KDIGA_THREADS`, else 1 with the native GEMM,
   * every logical core with XNNPACK), and the native GEMM's unless `blasThreads` says otherwise.
   * More than one starts tfjs' threaded wasm build (see `wasm_threads.ts`). Fixed when the wasm
   * backend first starts.
   */
  threads?: number;
  /**
   * Threads of the native GEMM's large products (`KDIGA_BLAS_THREADS` wins over it; default:
   * `threads` when given, else every logical core). Products below `PARALLEL_GEMM_MIN_WORK`
   * multiply-adds always run on one. Fixed when the wasm backend first starts.
   */
  blasThreads?: number;
  /**
   * `"all"` (default) or `"missing"`: only the wasm kernels tfjs lacks, keeping its stock
   * (slower) ones; for measuring what kdiga's replacements buy. Fixed at the first wasm start.
   */
  wasmKernels?: WasmKernelSet;
  /**
   * Where the `wasm` backend does its convolutions and matrix products (default: `KDIGA_GEMM`,
   * else `"auto"`): `"native"` = a native BLAS `cblas_sgemm` through Deno's FFI (OpenBLAS, or the
   * library in `KDIGA_BLAS`; an error if none loads); `"xnnpack"` = tfjs' wasm XNNPACK kernels
   * (with kdiga's training kernels); `"auto"` = native when a library loads and FFI is allowed,
   * else XNNPACK. `nativeGemmLibrary()` says which ran. Fixed at the first wasm start.
   */
  gemm?: GemmChoice;
}

/** The choices of {@link UseBackendOptions.gemm}. */
export const GEMM_CHOICES = ["auto", "native", "xnnpack"] as const;
/** One of {@link GEMM_CHOICES}. */
export type GemmChoice = typeof GEMM_CHOICES[number];

/** Throws unless `name` is a known backend, listing the valid names. */
export function assertBackendName(name: string): asserts name is BackendName {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new Error(
      `unknown backend '${name}': valid backends are ${BACKEND_NAMES.join(", ")}`,
    );
  }
}

async function importOptional(specifiers: string[], installHint: string): Promise<void> {
  const errors: string[] = [];
  for (const s of specifiers) {
    try {
      await import(s);
      return;
    } catch (e) {
      errors.push(`${s}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  throw new Error(`${installHint}\n(tried ${errors.join("; ")})`);
}

let wasmInitialised = false;
let nativeGemm: NativeGemm | null = null;
let gemmChosen: GemmChoice | null = null;

/** Loads the native GEMM for `choice`; null for XNNPACK. */
function resolveGemm(choice: GemmChoice, threads: number): NativeGemm | null {
  if (choice === "xnnpack") return null;
  if (choice === "auto" && Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
  const gemm = loadNativeGemm(undefined, threads);
  if (gemm == null && choice === "native") {
    throw new Error(`gemm 'native' asked for, but no BLAS library loads: ${NATIVE_GEMM_INSTALL_HINT}`);
  }
  return gemm;
}
let wasmModule: { getThreadsCount(): number } | null = null;

async function loadBackend(name: BackendName): Promise<void> {
  switch (name) {
    case "cpu":
      // Static imports of two tfjs backends can land in different tfjs-core instances under
      // Deno's CommonJS interop; importing them dynamically after tfjs-core keeps one engine.
      await import("@tensorflow/tfjs-backend-cpu");
      return;
    case "wasm":
      wasmModule = await import("@tensorflow/tfjs-backend-wasm");
      return;
    case "tensorflow": {
      const gpu = Deno.env.get("KDIGA_TFJS_NODE") === "gpu";
      const pkg = gpu ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
      await importOptional(
        [`npm:${pkg}@4.22.0`],
        `backend 'tensorflow' needs ${pkg}, which is not installed (its install downloads ` +
          `libtensorflow). Install it with: npm install ${pkg}@4.22.0`,
      );
      return;
    }
    case "webgpu": {
      if (!("gpu" in navigator) || (navigator as any).gpu == null) {
        throw new Error(
          "backend 'webgpu' needs navigator.gpu, which this Deno process does not have " +
            "(no WebGPU adapter); use 'wasm' or 'cpu'",
        );
      }
      await importOptional(
        ["npm:@tensorflow/tfjs-backend-webgpu@4.22.0"],
        "backend 'webgpu' needs @tensorflow/tfjs-backend-webgpu. Install it with: " +
          "npm install @tensorflow/tfjs-backend-webgpu@4.22.0",
      );
      return;
    }
  }
}

/**
 * Loads and selects a backend, registers kdiga's kernels for it, and installs the gradients
 * that are correct to second order. Call once, before any tensor work.
 *
 * @example
 * ```ts
 * import { useBackend } from "./select.ts";
 * await useBackend("wasm");
 * ```
 */
export async function useBackend(
  name: string = Deno.env.get("KDIGA_BACKEND") ?? "wasm",
  options: UseBackendOptions = {},
): Promise<BackendName> {
  assertBackendName(name);
  const gemmChoice = options.gemm ?? Deno.env.get("KDIGA_GEMM") ?? "auto";
  if (!(GEMM_CHOICES as readonly string[]).includes(gemmChoice)) {
    throw new Error(`unknown gemm '${gemmChoice}' (option gemm or KDIGA_GEMM): allowed are ${GEMM_CHOICES.join(", ")}`);
  }
  await installSecondOrderGradients();
  await loadBackend(name);
  const tfName = name === "tensorflow" ? "tensorflow" : name;
  const envThreads = Deno.env.get("KDIGA_THREADS");
  const asked = options.threads ?? (envThreads != null ? Number(envThreads) : undefined);
  if (asked !== undefined && (!Number.isInteger(asked) || asked < 1)) {
    throw new Error(`threads must be a positive integer; got ${options.threads ?? envThreads}`);
  }
  const blasAsked = options.blasThreads;
  if (blasAsked !== undefined && (!Number.isInteger(blasAsked) || blasAsked < 1)) {
    throw new Error(`blasThreads must be a positive integer; got ${blasAsked}`);
  }
  // The GEMM is chosen once, at the first wasm start, before the thread count: with the native
  // GEMM one XNNPACK thread is the default, because a second one slowed every measured step on
  // this 2-core machine (bench KDIGA step 47.5 -> 60.1 ms; MobileNetV2 ARD step 390 -> 518 ms);
  // the GEMM's large products take every core (see PARALLEL_GEMM_MIN_WORK), its small ones one.
  let pendingGemm: NativeGemm | null = null;
  if (name === "wasm" && gemmChosen == null && options.wasmKernels !== "missing") {
    const blas = blasAsked ?? asked ?? navigator.hardwareConcurrency ?? 1;
    pendingGemm = resolveGemm(gemmChoice as GemmChoice, blas);
  }
  const threads = asked ?? (pendingGemm != null ? 1 : navigator.hardwareConcurrency ?? 1);
  let ok: boolean;
  if (name === "wasm" && !wasmInitialised && threads > 1) {
    const restore = await prepareWasmThreads(threads);
    try {
      ok = await tf.setBackend(tfName);
    } finally {
      restore();
    }
  } else {
    ok = await tf.setBackend(tfName);
  }
  if (name === "wasm") wasmInitialised = true;
  if (!ok || tf.getBackend() !== tfName) {
    throw new Error(`backend '${name}' failed to initialise (tfjs is on '${tf.getBackend()}')`);
  }
  await tf.ready();
  if (name === "wasm") {
    registerWasmTrainingKernels(options.wasmKernels ?? "all");
    const choice = gemmChoice as GemmChoice;
    if (gemmChosen == null) {
      // The stock-kernel bench configuration measures tfjs as shipped: no native kernels.
      nativeGemm = pendingGemm;
      if (nativeGemm) registerNativeKernels(nativeGemm);
      gemmChosen = choice;
    } else if (choice !== gemmChosen) {
      throw new Error(`the wasm backend already runs with gemm '${gemmChosen}'; cannot switch to '${choice}'`);
    }
    unrefWasmWorkers(tf.backend());
  }
  if (options.verbose) {
    const detail = name === "wasm" ? ` (${wasmThreadsCount()} thread(s), ${gemmDescription()})` : "";
    console.error(`kdiga: running on backend '${name}'${detail}`);
  }
  return name;
}

/**
 * XNNPACK threads the wasm backend actually runs (1 before it is initialised).
 *
 * @example
 * ```ts
 * import { useBackend, wasmThreadsCount } from "./select.ts";
 * await useBackend("wasm", { threads: 2 });
 * console.log(wasmThreadsCount()); // 2
 * ```
 */
export function wasmThreadsCount(): number {
  return wasmInitialised && wasmModule != null ? wasmModule.getThreadsCount() : 1;
}

/**
 * The BLAS library the `wasm` backend's convolutions and matrix products run on, or `null` when
 * they run on XNNPACK (see {@link UseBackendOptions.gemm}).
 *
 * @example
 * ```ts
 * import { nativeGemmLibrary, useBackend } from "./select.ts";
 * await useBackend("wasm");
 * console.log(nativeGemmLibrary() ?? "XNNPACK");
 * ```
 */
export function nativeGemmLibrary(): string | null {
  return nativeGemm?.library ?? null;
}

/** Where the wasm backend's products run, e.g. "native GEMM libopenblas.so.0 (2 threads on large products)". */
function gemmDescription(): string {
  if (nativeGemm == null) return "XNNPACK";
  const t = nativeGemm.threads;
  const details = [
    ...(nativeGemm.coreName ? [`${nativeGemm.coreName} kernels`] : []),
    ...(t > 1 ? [`${t} threads on large products`] : []),
  ];
  return `native GEMM ${nativeGemm.library}${details.length ? ` (${details.join(", ")})` : ""}`;
}

/**
 * One line naming the engine that runs, for logs and result files: the backend, and on `wasm`
 * its threads and where convolutions and matrix products run.
 *
 * @example
 * ```ts
 * import { describeBackend, useBackend } from "./select.ts";
 * await useBackend("wasm", { threads: 1, gemm: "xnnpack" });
 * console.log(describeBackend()); // "wasm (1 thread, XNNPACK)"
 * ```
 */
export function describeBackend(): string {
  const name = tf.getBackend();
  if (name !== "wasm") return name;
  const threads = wasmThreadsCount();
  return `wasm (${threads} thread${threads === 1 ? "" : "s"}, ${gemmDescription()})`;
}
