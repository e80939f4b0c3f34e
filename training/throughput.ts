/**
 * Training throughput (images per second) per method, for comparing KDIGA's cost with KD's.
 * Run `deno run -A training/throughput.ts [--model small-cnn] [--batch 128] [--steps 5]`.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { parseArgs } from "node:util";
import { describeBackend, useBackend } from "../backend/mod.ts";
import { makeBatch } from "../data/batches.ts";
import { loadDataset } from "../data/load.ts";
import { asClassifier, createModel } from "../models/registry.ts";
import type { NamedTensors } from "../models/types.ts";
import { METHOD_NAMES } from "./methods.ts";
import { type StepConfig, type TrainState, trainStep } from "./step.ts";

/** Options of {@link measureStepThroughput}. */
export interface ThroughputOptions {
  /** Untimed steps first (default 1). */
  warmup?: number;
  /** Timed steps (default 5). */
  steps?: number;
}

/**
 * Times `steps` training steps (after `warmup` untimed ones) on one batch and returns images per
 * second at the MEDIAN step time (robust to other processes sharing the CPU). The variables are
 * copied, so the caller's are untouched.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { createModel } from "../models/registry.ts";
 * import { measureStepThroughput } from "./throughput.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const model = createModel("mlp-tiny", { inputShape: [4, 4, 1], numClasses: 3 });
 * const x = tf.randomUniform([8, 4, 4, 1]) as tf.Tensor4D;
 * const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], "int32");
 * const ips = measureStepThroughput({ model, method: "st" }, model.init(0), { x, y }, { steps: 2 });
 * ```
 */
export function measureStepThroughput(
  config: StepConfig,
  variables: TrainState["variables"],
  batch: { x: tf.Tensor4D; y: tf.Tensor1D },
  options: ThroughputOptions = {},
): number {
  const warmup = options.warmup ?? 1, steps = options.steps ?? 5;
  const copy = (t: NamedTensors) =>
    Object.fromEntries(Object.entries(t).map(([k, v]) => [k, tf.clone(v)]));
  let state: TrainState = {
    variables: { params: copy(variables.params), state: copy(variables.state) },
    momentum: {},
  };
  const dispose = (s: TrainState) =>
    tf.dispose([
      ...Object.values(s.variables.params),
      ...Object.values(s.variables.state),
      ...Object.values(s.momentum),
    ]);
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const start = performance.now();
    const r = trainStep(config, state, batch, { lr: 0.01 }, i, i + 1);
    dispose(state);
    state = r.state;
    if (i >= warmup) times.push((performance.now() - start) / 1000);
  }
  dispose(state);
  times.sort((a, b) => a - b);
  const median = times.length % 2
    ? times[(times.length - 1) / 2]
    : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  return batch.x.shape[0] / median;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string", default: "small-cnn" },
      batch: { type: "string", default: "128" },
      steps: { type: "string", default: "5" },
      methods: { type: "string", default: METHOD_NAMES.join(",") },
    },
  });
  await useBackend();
  const { train } = await loadDataset("mnist");
  const batchSize = Number(values.batch);
  const model = createModel(values.model, { inputShape: [28, 28, 1] });
  const teacherModel = createModel(values.model, { inputShape: [28, 28, 1] });
  const teacherVars = teacherModel.init(1);
  const teacher = asClassifier(teacherModel, teacherVars);
  const batch = makeBatch(train, Array.from({ length: batchSize }, (_, i) => i));
  const variables = model.init(0);
  const attack = { eps: 0.3, steps: 10 };
  const results: Record<string, number> = {};
  const runs: [string, StepConfig][] = values.methods.split(",").map((
    m,
  ) => [m, { model, method: m as any, teacher, attack }]);
  if (values.methods.split(",").includes("kdiga")) {
    runs.push(["kdiga (finite-difference)", {
      model,
      method: "kdiga",
      teacher,
      alignmentGradient: "finite-difference",
    }]);
  }
  console.log(
    `backend ${describeBackend()}, model ${values.model}, batch ${batchSize}, training PGD ${attack.steps} steps`,
  );
  for (const [label, config] of runs) {
    results[label] = measureStepThroughput(config, variables, batch, {
      steps: Number(values.steps),
    });
    console.log(`${label.padEnd(28)} ${results[label].toFixed(1)} images/s`);
  }
  if (results.kd && results.kdiga) {
    console.log(`KDIGA step time / KD step time: ${(results.kd / results.kdiga).toFixed(2)}x`);
  }
  Deno.exit(0);
}
