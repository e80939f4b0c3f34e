/**
 * A native single-precision GEMM (`cblas_sgemm`) through Deno's FFI, when the machine has a BLAS
 * library: OpenBLAS (Debian `libopenblas0-pthread`), or a path in `KDIGA_BLAS`.
 *
 * Why: tfjs' wasm backend runs convolutions on XNNPACK with 128-bit WebAssembly SIMD and no fused
 * multiply-add; a native BLAS uses the CPU's AVX2/AVX-512 FMA units. Measured here on the bench
 * CNN's largest GEMM (6272x288 by 288x64): OpenBLAS 3.0 ms against 9.7 ms for XNNPACK's forward
 * convolution of the same size (`deno task bench` measures whole steps side by side).
 *
 * The GEMM reads and writes Float32Array views of any memory, including the wasm backend's heap,
 * so kernels built on it copy nothing in or out (see `native_kernels.ts`).
 * @module
 */

/** Row-major `C = alpha * op(A) op(B) + beta * C`, as `cblas_sgemm` with `CblasRowMajor`. */
export interface NativeGemm {
  /** The library that was loaded (a path or a soname). */
  readonly library: string;
  /**
   * Threads the library runs a large GEMM on (1 where the library cannot say); products of fewer
   * than {@link PARALLEL_GEMM_MIN_WORK} multiply-adds run on one.
   */
  readonly threads: number;
  /** The kernels OpenBLAS runs (`openblas_get_corename`, e.g. "SkylakeX"); `null` if not OpenBLAS. */
  readonly coreName: string | null;
  /**
   * `C[m x n] = alpha * op(A) * op(B) + beta * C`; `op(A)` is m x k, `op(B)` is k x n; leading
   * dimensions in elements (row-major). The views must hold what the dimensions address.
   */
  sgemm(
    transposeA: boolean,
    transposeB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
}

/**
 * Fewest multiply-adds (m * n * k) for which a GEMM runs on more than one thread. Measured inside
 * training steps on this 2-core machine, A/B interleaved in one process: the bench CNN's
 * convolution products (6,272 x 64 x 288 = 1.2e8) on two threads and the rest on one made its
 * steps ~10% faster than one thread throughout (two threads for every product made them slower);
 * but two threads for the Table 3 networks' products of 2e7-6e7 made the TRADES teacher's step 6%
 * and KDIGA-ARDA's 7% slower, although the same products alone ran up to 2x faster on two
 * threads. So only products of 1e8 and more (the bench CNN's; the paper preset's full-size
 * networks') take the second thread.
 */
export const PARALLEL_GEMM_MIN_WORK = 1e8;

/**
 * Threads a GEMM of `m x n x k` runs on, given the most the library may use.
 *
 * @example
 * ```ts
 * import { gemmThreads } from "./native_gemm.ts";
 * gemmThreads(6272, 64, 288, 2); // 2
 * gemmThreads(128, 10, 3136, 2); // 1
 * ```
 */
export function gemmThreads(m: number, n: number, k: number, maxThreads: number): number {
  return m * n * k >= PARALLEL_GEMM_MIN_WORK ? maxThreads : 1;
}

const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32", "i32", "i32", "i32", "i32", "i32", "f32", "buffer", "i32", "buffer", "i32", "f32", "buffer", "i32",
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
  openblas_get_num_threads: { parameters: [], result: "i32", optional: true },
  openblas_get_corename: { parameters: [], result: "pointer", optional: true },
} as const;

/** The CPU flags OpenBLAS' SkylakeX kernels need (AVX-512 Foundation, CD, BW, DQ, VL). */
const AVX512_FLAGS = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"] as const;

/** OpenBLAS' core types whose float32 GEMM is its AVX-512 one. */
const AVX512_CORES = ["skylakex", "cooperlake", "sapphirerapids"];

/**
 * OpenBLAS' AVX-512 core type for a CPU, given the text of its `/proc/cpuinfo`: `"Cooperlake"`
 * where it also has `avx512_bf16` (what OpenBLAS itself detects on such CPUs), `"SkylakeX"` where
 * it has the AVX-512 flags those kernels need, else `undefined`.
 *
 * @example
 * ```ts
 * import { openblasCoreTypeFor } from "./native_gemm.ts";
 * openblasCoreTypeFor("flags\t: fpu sse2 avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl\n"); // "SkylakeX"
 * openblasCoreTypeFor("flags\t: fpu sse2 avx2 fma\n"); // undefined
 * ```
 */
export function openblasCoreTypeFor(cpuinfo: string): "Cooperlake" | "SkylakeX" | undefined {
  const line = cpuinfo.split("\n").find((l) => /^flags\s*:/.test(l));
  if (line == null) return undefined;
  const flags = new Set(line.slice(line.indexOf(":") + 1).trim().split(/\s+/));
  if (!AVX512_FLAGS.every((f) => flags.has(f))) return undefined;
  return flags.has("avx512_bf16") ? "Cooperlake" : "SkylakeX";
}

/**
 * The OpenBLAS core type kdiga loads its BLAS with, or `undefined` to leave OpenBLAS' own choice
 * (which follows `OPENBLAS_CORETYPE`, `inherited` here, when that is set). `setting` is
 * `KDIGA_BLAS_CORETYPE`:
 * - `auto` or unset: on a CPU with AVX-512, OpenBLAS' AVX-512 kernels ({@link openblasCoreTypeFor}),
 *   even over an inherited `OPENBLAS_CORETYPE` that names older ones: machines set that to pin a
 *   baseline for every program (this one pins Haswell, whose AVX2 GEMM ran the bench CNN's
 *   6272x64x288 product in 2.91 ms, one thread, against 1.42 ms for SkylakeX's). Otherwise
 *   (no AVX-512, `cpuinfo` unknown, or an AVX-512 core already inherited) OpenBLAS' choice;
 * - `inherit`: OpenBLAS' choice, whatever the CPU;
 * - an OpenBLAS core name (`Haswell`, `SkylakeX`, `Zen`, ...): that one.
 *
 * @example
 * ```ts
 * import { resolveOpenblasCoreType } from "./native_gemm.ts";
 * const avx512 = "flags\t: avx2 avx512f avx512cd avx512bw avx512dq avx512vl\n";
 * resolveOpenblasCoreType(undefined, avx512, "Haswell"); // "SkylakeX"
 * resolveOpenblasCoreType("inherit", avx512, "Haswell"); // undefined
 * resolveOpenblasCoreType("Zen", avx512, undefined); // "Zen"
 * ```
 */
export function resolveOpenblasCoreType(
  setting: string | undefined,
  cpuinfo: string | undefined,
  inherited: string | undefined,
): string | undefined {
  const value = setting ?? "auto";
  if (value === "inherit") return undefined;
  if (value === "auto") {
    if (cpuinfo === undefined) return undefined;
    if (inherited !== undefined && AVX512_CORES.includes(inherited.toLowerCase())) return undefined;
    return openblasCoreTypeFor(cpuinfo);
  }
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(value)) {
    throw new Error(
      `KDIGA_BLAS_CORETYPE must be 'auto', 'inherit' or an OpenBLAS core name (e.g. Haswell, SkylakeX, Zen); got '${value}'`,
    );
  }
  return value;
}

function readCpuinfo(): string | undefined {
  try {
    return Deno.readTextFileSync("/proc/cpuinfo");
  } catch {
    return undefined; // not Linux, or no read permission
  }
}

function envOrUndefined(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no env permission
  }
}

/**
 * Runs `load` with `OPENBLAS_CORETYPE` (read by OpenBLAS when it loads) set to `core`, then puts
 * the variable back as it was (`inherited`), so that processes kdiga starts (e.g. the bench's PyTorch
 * reference) inherit what the user set, not kdiga's choice.
 */
function withCoreType<T>(core: string | undefined, inherited: string | undefined, load: () => T): T {
  if (core === undefined || core === inherited) return load();
  try {
    Deno.env.set("OPENBLAS_CORETYPE", core);
  } catch {
    return load(); // no env permission: OpenBLAS keeps its own choice, which the backend reports
  }
  try {
    return load();
  } finally {
    if (inherited === undefined) Deno.env.delete("OPENBLAS_CORETYPE");
    else Deno.env.set("OPENBLAS_CORETYPE", inherited);
  }
}

/** Libraries tried, in order, when `KDIGA_BLAS` does not name one. */
export const NATIVE_GEMM_LIBRARIES = [
  "libopenblas.so.0",
  "libopenblas.so",
  "libopenblas.dylib",
  "/System/Library/Frameworks/Accelerate.framework/Accelerate",
] as const;

/** The install hint shown when no library loads. */
export const NATIVE_GEMM_INSTALL_HINT =
  "install OpenBLAS (Debian/Ubuntu: apt-get install libopenblas0-pthread) or set KDIGA_BLAS to a library exporting cblas_sgemm";

function checkDims(m: number, n: number, k: number, lda: number, ldb: number, ldc: number, tA: boolean, tB: boolean) {
  for (const [name, v] of [["m", m], ["n", n], ["k", k], ["lda", lda], ["ldb", ldb], ["ldc", ldc]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0x7fffffff) {
      throw new Error(`sgemm: ${name} must be an integer in [0, 2^31); got ${v}`);
    }
  }
  if (lda < Math.max(1, tA ? m : k) || ldb < Math.max(1, tB ? k : n) || ldc < Math.max(1, n)) {
    throw new Error(`sgemm: leading dimensions too small (lda ${lda}, ldb ${ldb}, ldc ${ldc} for m ${m} n ${n} k ${k})`);
  }
}

/** Elements a row-major `rows x cols` matrix with leading dimension `ld` spans. */
function span(rows: number, cols: number, ld: number): number {
  return rows === 0 || cols === 0 ? 0 : (rows - 1) * ld + cols;
}

// The library writes through raw pointers: a view shorter than the dimensions address would be
// memory corruption, not an exception, so check before every call.
function checkViews(
  m: number, n: number, k: number, tA: boolean, tB: boolean,
  a: Float32Array, lda: number, b: Float32Array, ldb: number, c: Float32Array, ldc: number,
) {
  const need = [
    ["A", a, tA ? span(k, m, lda) : span(m, k, lda)],
    ["B", b, tB ? span(n, k, ldb) : span(k, n, ldb)],
    ["C", c, span(m, n, ldc)],
  ] as const;
  for (const [name, view, elements] of need) {
    if (view.length < elements) {
      throw new Error(`sgemm: ${name} has ${view.length} elements; m ${m} n ${n} k ${k} address ${elements}`);
    }
  }
}

/**
 * The thread count each loaded library was last set to: it is the library's global state, shared
 * by every {@link NativeGemm} loaded from it, so switches are recorded here, not per object.
 */
const openblasThreadsNow = new Map<string, number>();

/** Whether the notice that kdiga's core type overrides `OPENBLAS_CORETYPE` was printed. */
let toldOverride = false;

/**
 * Loads a native `cblas_sgemm`: the library named by `path`, else `KDIGA_BLAS`, else the first of
 * {@link NATIVE_GEMM_LIBRARIES} that loads. OpenBLAS runs large GEMMs on `KDIGA_BLAS_THREADS`
 * threads if set, else `threads`, else its own default, and small ones on one ({@link gemmThreads}),
 * with the kernels {@link resolveOpenblasCoreType} picks (`KDIGA_BLAS_CORETYPE`).
 * Returns `null` when none does and no path was named;
 * throws (naming the path and the error) when a named library fails. Needs `--allow-ffi`.
 *
 * @example
 * ```ts
 * import { loadNativeGemm } from "./native_gemm.ts";
 * const gemm = loadNativeGemm();
 * if (gemm) {
 *   const c = new Float32Array(1);
 *   gemm.sgemm(false, false, 1, 1, 2, 1, new Float32Array([1, 2]), 2, new Float32Array([3, 4]), 1, 0, c, 1);
 *   console.log(c[0]); // 11
 * }
 * ```
 */
export function loadNativeGemm(path?: string, threads?: number): NativeGemm | null {
  const named = path ?? Deno.env.get("KDIGA_BLAS");
  const candidates = named ? [named] : [...NATIVE_GEMM_LIBRARIES];
  const errors: string[] = [];
  // OpenBLAS threads spin for a while after each GEMM, starving the wasm backend's own threads
  // on the same cores (measured: KDIGA step 61 -> 50 ms with 2+2 threads); the shortest spin
  // (2^4 cycles) unless the user chose. Read by OpenBLAS when it loads.
  try {
    if (Deno.env.get("OPENBLAS_THREAD_TIMEOUT") === undefined) Deno.env.set("OPENBLAS_THREAD_TIMEOUT", "4");
  } catch { /* no env permission: OpenBLAS keeps its default */ }
  const asked = envOrUndefined("KDIGA_BLAS_CORETYPE");
  const inherited = envOrUndefined("OPENBLAS_CORETYPE");
  const core = resolveOpenblasCoreType(asked, readCpuinfo(), inherited);
  for (const library of candidates) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = withCoreType(core, inherited, () => Deno.dlopen(library, SYMBOLS));
    } catch (e) {
      errors.push(`${library}: ${(e as Error).message.split("\n")[0]}`);
      continue;
    }
    const s = lib.symbols;
    const blasThreads = Deno.env.get("KDIGA_BLAS_THREADS") ?? threads;
    if (blasThreads !== undefined && s.openblas_set_num_threads) {
      const n = Number(blasThreads);
      if (!Number.isInteger(n) || n < 1) throw new Error(`KDIGA_BLAS_THREADS must be a positive integer; got '${blasThreads}'`);
      s.openblas_set_num_threads(n);
    }
    const actualThreads = s.openblas_get_num_threads ? s.openblas_get_num_threads() : 1;
    openblasThreadsNow.set(library, actualThreads);
    const corePointer = s.openblas_get_corename ? s.openblas_get_corename() : null;
    const coreName = corePointer == null ? null : Deno.UnsafePointerView.getCString(corePointer);
    // A name the user asked for must be what runs; `auto` takes what OpenBLAS can give.
    if (coreName != null && core !== undefined && asked !== undefined && asked !== "auto" &&
      coreName.toLowerCase() !== core.toLowerCase()) {
      throw new Error(
        `KDIGA_BLAS_CORETYPE=${asked}: ${library} runs its '${coreName}' kernels instead (an unknown core name, or one this build lacks)`,
      );
    }
    if (coreName != null && inherited !== undefined && coreName.toLowerCase() !== inherited.toLowerCase() && !toldOverride) {
      toldOverride = true;
      console.error(
        `kdiga: OpenBLAS runs its ${coreName} kernels, chosen for this CPU, not OPENBLAS_CORETYPE=${inherited} (KDIGA_BLAS_CORETYPE=inherit keeps that)`,
      );
    }
    return {
      library,
      threads: actualThreads,
      coreName,
      sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
        checkDims(m, n, k, lda, ldb, ldc, tA, tB);
        checkViews(m, n, k, tA, tB, a, lda, b, ldb, c, ldc);
        if (m === 0 || n === 0) return;
        if (actualThreads > 1 && s.openblas_set_num_threads) {
          const want = gemmThreads(m, n, k, actualThreads);
          if (want !== openblasThreadsNow.get(library)) {
            s.openblas_set_num_threads(want);
            openblasThreadsNow.set(library, want);
          }
        }
        s.cblas_sgemm(
          CBLAS_ROW_MAJOR,
          tA ? CBLAS_TRANS : CBLAS_NO_TRANS,
          tB ? CBLAS_TRANS : CBLAS_NO_TRANS,
          m,
          n,
          k,
          alpha,
          a as Float32Array<ArrayBuffer>,
          lda,
          b as Float32Array<ArrayBuffer>,
          ldb,
          beta,
          c as Float32Array<ArrayBuffer>,
          ldc,
        );
      },
    };
  }
  if (named) {
    throw new Error(`cannot load the BLAS library '${named}' (KDIGA_BLAS or gemm path): ${errors.join("; ")}`);
  }
  return null;
}
