/**
 * `deno task bench`: one SGD step and one KDIGA step (CE + squared norm of the input gradient,
 * by double backprop) of the small CNN of the PyTorch reference (Conv 1->32 3x3 s2 - ReLU -
 * Conv 32->64 3x3 s2 - ReLU - Linear 3136->10; batch 128; 28x28x1), median of N timed steps after
 * warm-up, on each backend asked for; then the same in PyTorch where `import torch` works, in
 * the same run, and one ratio line per step kind.
 *
 * Each `backend:threads` configuration runs in a fresh process (threads are fixed when a
 * backend starts; memory is measured per configuration).
 *
 * A configuration is `backend:threads[:kernels[:blasThreads]]`; for wasm, `kernels` is `stock` (tfjs' stock wasm
 * kernels where tfjs has one; only the missing training kernels are kdiga's), `xnnpack` (kdiga's
 * XNNPACK training kernels), `native` (convolutions and matrix products on a native BLAS GEMM
 * through FFI; see `backend/native_kernels.ts`) or absent (`auto`: native where a BLAS loads), so
 * one run measures what each layer of kdiga's engine buys, side by side.
 *
 *   deno task bench [--backends wasm:1:stock,wasm:1:xnnpack,wasm:1:native,wasm:1:native:2,wasm:2:xnnpack,wasm:2:native,cpu:1] [--steps 10] [--warmup 3] [--threads 2]
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BACKEND_NAMES, useBackend, wasmThreadsCount } from "../backend/mod.ts";
import { crossEntropy } from "../losses/cross_entropy.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    backends: { type: "string", default: "wasm:1:stock,wasm:1:xnnpack,wasm:1:native,wasm:1:native:2,wasm:2:xnnpack,wasm:2:native,cpu:1" },
    child: { type: "string" },
    steps: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    // tfjs' cpu backend takes ~20 s (plain) and ~60 s (KDIGA) a step here: fewer by default.
    "cpu-steps": { type: "string", default: "3" },
    threads: { type: "string", default: "2" },
    batch: { type: "string", default: "128" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log(
    "usage: deno task bench [--backends wasm:1:stock,wasm:1:xnnpack,wasm:1:native,wasm:1:native:2,wasm:2:xnnpack,wasm:2:native,cpu:1] [--steps 10] [--cpu-steps N] [--warmup 3] [--threads 2 (PyTorch)] [--batch 128]",
  );
  Deno.exit(0);
}
function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer; got '${value}'`);
  return n;
}
const steps = positiveInt("steps", args.steps!);
const warmup = positiveInt("warmup", args.warmup!);
const batch = positiveInt("batch", args.batch!);
interface Config {
  backend: string;
  threads: number;
  /** wasm only: "stock" keeps tfjs' stock kernels where tfjs has one; else the GEMM choice. */
  kernels: "stock" | "xnnpack" | "native" | "auto";
  /** Native GEMM only: threads of its large products (default: `threads`). */
  blasThreads?: number;
}
function parseConfig(text: string): Config {
  const [backend, threads = "1", kernels = "auto", blasThreads] = text.trim().split(":");
  if (!["stock", "xnnpack", "native", "auto"].includes(kernels)) {
    throw new Error(
      `unknown kernel set '${kernels}' in --backends '${text}': use backend:threads[:stock|xnnpack|native|auto[:blasThreads]]`,
    );
  }
  if (!(BACKEND_NAMES as readonly string[]).includes(backend)) {
    throw new Error(`unknown backend '${backend}' in --backends: valid are ${BACKEND_NAMES.join(", ")}`);
  }
  if (blasThreads !== undefined && (backend !== "wasm" || !["native", "auto"].includes(kernels))) {
    throw new Error(`BLAS threads in --backends '${text}' need wasm with native or auto kernels`);
  }
  return {
    backend,
    threads: positiveInt("backends", threads),
    kernels: kernels as Config["kernels"],
    ...(blasThreads !== undefined ? { blasThreads: positiveInt("backends", blasThreads) } : {}),
  };
}
const configs = args.backends!.split(",").filter((s) => s.trim()).map(parseConfig);

type Params = tf.Tensor[];

function initParams(): Params {
  const heUniform = (shape: number[], fanIn: number, seed: number) =>
    tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), "float32", seed);
  return [
    heUniform([3, 3, 1, 32], 9, 1),
    tf.zeros([32]),
    heUniform([3, 3, 32, 64], 288, 2),
    tf.zeros([64]),
    heUniform([3136, 10], 3136, 3),
    tf.zeros([10]),
  ];
}

function net(p: Params, x: tf.Tensor4D): tf.Tensor2D {
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [
    1,
    1,
  ], [1, 1], [0, 0]];
  const h1 = tf.relu(tf.add(tf.conv2d(x, p[0] as tf.Tensor4D, 2, pad), p[1]));
  const h2 = tf.relu(tf.add(tf.conv2d(h1 as tf.Tensor4D, p[2] as tf.Tensor4D, 2, pad), p[3]));
  return tf.add(tf.matMul(tf.reshape(h2, [x.shape[0], 3136]), p[4] as tf.Tensor2D), p[5]);
}

interface StepKind {
  name: "plain" | "kdiga";
  loss: (p: Params, x: tf.Tensor4D, y: tf.Tensor1D) => tf.Scalar;
}

const KINDS: StepKind[] = [
  { name: "plain", loss: (p, x, y) => crossEntropy(net(p, x), y) as tf.Scalar },
  {
    name: "kdiga",
    loss: (p, x, y) => {
      const { value: ce, grad: g } = tf.valueAndGrad((xx: tf.Tensor) =>
        crossEntropy(net(p, xx as tf.Tensor4D), y)
      )(x);
      return tf.add(ce, tf.sum(tf.square(g))) as tf.Scalar;
    },
  },
];

/**
 * Median and fastest wall time (ms) of an SGD-with-momentum step, after warm-up; memory must stay
 * flat. The fastest is reported too because this shared machine's load swings step times by 2x.
 */
function timeSteps(kind: StepKind, n: number, warmupSteps: number): { median: number; min: number } {
  const params = initParams();
  const velocity = params.map((p) => tf.zerosLike(p));
  const x = tf.randomUniform([batch, 28, 28, 1], 0, 1, "float32", 7) as tf.Tensor4D;
  const y = tf.tensor1d(Array.from({ length: batch }, (_, i) => (i * 7) % 10), "int32");
  const step = () => {
    const next = tf.tidy(() => {
      const grads = tf.grads((...ps: tf.Tensor[]) => kind.loss(ps, x, y))(params);
      return grads.map((g, i) => {
        const v = tf.add(tf.mul(velocity[i], 0.9), g);
        return [v, tf.sub(params[i], tf.mul(v, 0.01))];
      });
    });
    next.forEach(([v, p], i) => {
      velocity[i].dispose();
      params[i].dispose();
      velocity[i] = v;
      params[i] = p;
    });
    params[5].dataSync(); // wait for the step to finish
  };
  for (let i = 0; i < warmupSteps; i++) step();
  const before = tf.memory().numTensors;
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  if (tf.memory().numTensors !== before) {
    throw new Error(`tensor leak in the ${kind.name} step: ${before} -> ${tf.memory().numTensors}`);
  }
  tf.dispose([...params, ...velocity, x, y]);
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0] };
}

function peakResidentMiB(): number {
  try {
    const m = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/);
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

interface Result {
  plain: number;
  kdiga: number;
  plainMin: number;
  kdigaMin: number;
  threads: number;
  peakMiB: number;
}

if (args.child) {
  // One configuration, in this fresh process; the parent reads the JSON line.
  const config = parseConfig(args.child);
  await useBackend(config.backend, {
    threads: config.threads,
    blasThreads: config.blasThreads,
    wasmKernels: config.kernels === "stock" ? "missing" : "all",
    gemm: config.kernels === "stock" ? "xnnpack" : config.kernels,
  });
  const isCpu = config.backend === "cpu";
  const n = isCpu ? positiveInt("cpu-steps", args["cpu-steps"]!) : steps;
  const w = isCpu ? 1 : warmup;
  const result: Result = { plain: NaN, kdiga: NaN, plainMin: NaN, kdigaMin: NaN, threads: wasmThreadsCount(), peakMiB: NaN };
  for (const kind of KINDS) {
    console.error(`timing ${kind.name} step on ${args.child} (${w} warm-up + ${n} timed)...`);
    const t = timeSteps(kind, n, w);
    result[kind.name] = t.median;
    result[`${kind.name}Min`] = t.min;
  }
  result.peakMiB = peakResidentMiB();
  console.log(JSON.stringify(result));
  Deno.exit(0);
}

const rows: string[] = [
  "| backend | threads | plain step (ms): median (fastest) | KDIGA step (ms): median (fastest) | KDIGA / plain | peak RSS (MiB) |",
  "|---|---|---|---|---|---|",
];
const KERNEL_LABELS: Record<Config["kernels"], string> = {
  stock: "stock tfjs kernels",
  xnnpack: "kdiga's XNNPACK kernels",
  native: "native BLAS GEMM",
  auto: "auto",
};
/** ", 2 BLAS threads on large products" where they differ from the wasm threads. */
function blasLabel(config: Config): string {
  const t = config.blasThreads;
  return t === undefined || t === config.threads ? "" : `, ${t} BLAS thread${t === 1 ? "" : "s"} on large products`;
}
const ours: { label: string; result: Result }[] = [];
for (const config of configs) {
  const label = `${config.backend}:${config.threads}${config.backend === "wasm" ? `:${config.kernels}` : ""}${
    config.blasThreads !== undefined ? `:${config.blasThreads}` : ""
  }`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      fileURLToPath(import.meta.url),
      `--child=${label}`,
      `--steps=${steps}`,
      `--warmup=${warmup}`,
      `--batch=${batch}`,
      `--cpu-steps=${args["cpu-steps"]}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  if (!out.success || !line.startsWith("{")) {
    console.error(`configuration ${label} failed (exit ${out.code}); skipped`);
    continue;
  }
  const result = JSON.parse(line) as Result;
  ours.push({ label, result });
  if (config.backend === "wasm" && result.threads !== config.threads) {
    console.error(`warning: asked for ${config.threads} wasm threads, got ${result.threads}`);
  }
  rows.push(
    `| ${config.backend === "wasm" ? `wasm (${KERNEL_LABELS[config.kernels]}${blasLabel(config)})` : config.backend} | ${result.threads} | ${result.plain.toFixed(1)} (${result.plainMin.toFixed(1)}) | ${
      result.kdiga.toFixed(1)
    } (${result.kdigaMin.toFixed(1)}) | ${
      (result.kdiga / result.plain).toFixed(2)
    }x | ${result.peakMiB.toFixed(0)} |`,
  );
}
console.log(
  `\nSmall CNN, batch ${batch}, 28x28x1, median of ${steps} steps after ${warmup} warm-up ` +
    `(cpu: ${args["cpu-steps"]} after 1):\n`,
);
console.log(rows.join("\n"));

// PyTorch reference, same run, where Debian's python3-torch is installed.
const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, "torch_reference.py");
let torch: Record<string, number> | null = null;
for (const python of ["python3", "/usr/bin/python3"]) {
  try {
    const out = await new Deno.Command(python, {
      args: [script, "--threads", args.threads!, "--batch", String(batch), "--steps", String(steps)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) continue;
    torch = JSON.parse(new TextDecoder().decode(out.stdout));
    break;
  } catch { /* this python is missing */ }
}
if (torch == null) {
  console.log("\nPyTorch reference skipped: `python3 -c 'import torch'` fails here (apt-get install python3-torch libopenblas0-pthread).");
} else {
  console.log(`\nPyTorch ${torch.version} (${args.threads} threads), same run:`);
  const fastest = (kind: "plain" | "kdiga" | "plainMin" | "kdigaMin") =>
    ours.reduce((a, b) => (b.result[kind] < a.result[kind] ? b : a));
  for (const kind of ["plain", "kdiga", "plainMin", "kdigaMin"] as const) {
    if (ours.length === 0) break;
    const best = fastest(kind);
    const stat = kind.endsWith("Min") ? "fastest" : "median";
    console.log(
      `${kind.replace("Min", "")} step (${stat}): ${best.result[kind].toFixed(1)} ms vs PyTorch ${
        torch[kind].toFixed(1)
      } ms: ${(best.result[kind] / torch[kind]).toFixed(2)}x (${best.label})`,
    );
  }
}
