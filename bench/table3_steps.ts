/**
 * `deno task bench:table3`: the time of one training step of each row of Table 3's quick preset
 * (the TRADES WideResNet teacher and the MobileNetV2 students by ST, KD, ARD, KDIGA, KDIGA-ARDC,
 * KDIGA-ARDA), with exactly the models, attacks and losses the task trains, on one MNIST batch of
 * 128; median of N steps after one warm-up step, as a Markdown table. The engine is the one
 * `useBackend()` picks (`KDIGA_BACKEND`, `KDIGA_GEMM`, `KDIGA_THREADS` select another).
 *
 * Where `bench/step_bench.ts` times the issue's small reference CNN, this times the networks the
 * experiments spend their hours on (batch norm, depthwise convolutions, ReLU6, PGD inner loops).
 *
 *   deno task bench:table3 [--steps 5]
 * @module
 */
import { parseArgs } from "node:util";
import { describeBackend, useBackend } from "../backend/mod.ts";
import { loadDataset, makeBatch } from "../data/mod.ts";
import { buildModel } from "../experiments/model_store.ts";
import { distillationStudy, STUDENT_METHODS } from "../experiments/presets.ts";
import { asClassifier } from "../models/registry.ts";
import { measureStepThroughput } from "../training/throughput.ts";
import type { StepConfig } from "../training/step.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { steps: { type: "string", default: "5" }, help: { type: "boolean", default: false } },
});
if (values.help) {
  console.log("usage: deno task bench:table3 [--steps N]  (median of N timed steps per row)");
  Deno.exit(0);
}
const steps = Number(values.steps);
if (!Number.isInteger(steps) || steps < 1) {
  console.error(`--steps must be an integer >= 1; got '${values.steps}'`);
  Deno.exit(2);
}

await useBackend();
const data = await loadDataset("mnist");
const study = distillationStudy({
  data: { name: "mnist" },
  preset: "quick",
  seed: 0,
  resultsDir: "results",
  runsDir: "runs",
});
const batch = makeBatch(data.train, Array.from({ length: 128 }, (_, i) => i));
const teacherModel = buildModel(study.teacher, data);
const teacherVariables = teacherModel.init(1);
const teacher = asClassifier(teacherModel, teacherVariables);

const rows: [string, number][] = [];
for (const key of ["teacher", ...STUDENT_METHODS] as const) {
  const spec = key === "teacher" ? study.teacher : study.students[key];
  const model = key === "teacher" ? teacherModel : buildModel(spec, data);
  const config = {
    model,
    method: spec.method,
    teacher: key === "teacher" ? undefined : teacher,
    attack: spec.attack,
    tradesBeta: spec.tradesBeta,
    distillation: spec.distillation,
  } as StepConfig;
  const variables = key === "teacher" ? teacherVariables : model.init(0);
  const imagesPerSecond = measureStepThroughput(config, variables, batch, { steps });
  rows.push([`${key} (${spec.method}, ${spec.model.name})`, (1000 * 128) / imagesPerSecond]);
  console.error(`${rows.at(-1)![0]}: ${rows.at(-1)![1].toFixed(0)} ms`);
}
console.log(`\nTable 3 quick preset, one training step, batch 128, MNIST; median of ${steps}; ${describeBackend()}\n`);
console.log("| row | step (ms) |\n|---|---|");
for (const [label, ms] of rows) console.log(`| ${label} | ${ms.toFixed(0)} |`);
Deno.exit(0);
