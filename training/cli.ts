/**
 * The training command line:
 * `deno task train --method kdiga --teacher runs/teacher/checkpoint.safetensors --student resnet18 --data mnist`.
 * Run with `--help` for every option.
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import type { AttackOptions } from "../attacks/validate.ts";
import { assertDatasetName, DATASET_NAMES, loadDataset } from "../data/load.ts";
import {
  ALIGNMENT_MODES,
  type AlignmentMode,
  KL_REDUCTIONS,
  type KlReduction,
} from "../losses/options.ts";
import { loadModelCheckpoint } from "../models/checkpoint.ts";
import { createModel, describeModels } from "../models/registry.ts";
import { useBackend } from "../backend/mod.ts";
import { assertMethodName, METHOD_NAMES, methodAdversary, methodNeedsTeacher } from "./methods.ts";
import { NonFiniteLossError } from "./step.ts";
import { train, type TrainOptions } from "./train.ts";
import type { AlignmentGradient } from "./step.ts";

/** The `--help` text. */
export const TRAIN_USAGE = `Usage: deno task train --method <method> --student <model> [options]

Trains a model on a dataset; distillation methods distil from a teacher checkpoint.

Required:
  --method <name>          ${METHOD_NAMES.join(", ")}
  --student <model>        model to train (see the list below); --model is a synonym
  --teacher <checkpoint>   teacher checkpoint (kd, ard, kdiga, kdiga-ardc, kdiga-arda)

Data:
  --data <name>            ${DATASET_NAMES.join(", ")} (default mnist)
  --data-path <dir>        cifar10: the binary batches; fashion-mnist: the IDX files
  --train-size <n>         train on the first n training images (default all)
  --eval-size <n>          held-out test images for the per-epoch accuracy (default 500; 0: none)
  --augment                random crop (pad 4) and horizontal flip (default on for cifar10)
  --no-augment             no augmentation

Optimisation (paper §4.1 CIFAR-10 defaults):
  --epochs <n>             (default 200)
  --batch-size <n>         (default 128)
  --lr <x>                 initial learning rate (default 0.1)
  --momentum <x>           (default 0.9)
  --weight-decay <x>       (default 2e-4)
  --milestones <a,b,...>   epochs where lr is multiplied by --lr-gamma (default 100,150)
  --lr-gamma <x>           (default 0.1)
  --warmup-epochs <x>      linear lr warm-up from 0 over these epochs (default 0)
  --seed <n>               (default 0)

Losses (defaults: the paper's T = 1, lambda_CE = lambda_KL = 0.5):
  --lambda-ce <x>  --lambda-kl <x>  --temperature <x>
  --kl-reduction <r>       ${
  KL_REDUCTIONS.join(", ")
} (default mean: PyTorch KLDivLoss, as ARD/KDIGA code)
  --alignment <mode>       ${ALIGNMENT_MODES.join(", ")} (default batch: authors' code)
  --iga-gamma <x>          lambda_IGA = gamma / B (default 0.5)
  --lambda-iga <x>         lambda_IGA directly (overrides --iga-gamma)
  --alignment-gradient <g> exact (double backprop, default) or finite-difference (kdiga only)
  --trades-beta <x>        TRADES beta (default 6)

Attacks (training PGD for at, trades, ard, kdiga-ardc, kdiga-arda; evaluation PGD per epoch):
  --eps <x>                Linf radius (default 0.3 for mnist/fashion-mnist, 8/255 for cifar10)
  --attack-steps <n>       (default 10)
  --attack-step-size <x>   (default 2.5 eps / steps)
  --eval-eps <x>           (default --eps)   --eval-steps <n> (default 20)

Output:
  --out <dir>              checkpoint.safetensors and log.csv (default runs/<method>-<student>-<data>)
  --resume                 continue from <out>/checkpoint.safetensors if it exists
  --student-options <json> model options, e.g. '{"widthMultiplier":0.5}'
  --quiet                  no progress lines
  --help

Models:
${describeModels().split("\n").map((l) => `  ${l}`).join("\n")}
`;

const OPTIONS = {
  help: { type: "boolean" },
  method: { type: "string" },
  student: { type: "string" },
  model: { type: "string" },
  teacher: { type: "string" },
  data: { type: "string", default: "mnist" },
  "data-path": { type: "string" },
  "train-size": { type: "string" },
  "eval-size": { type: "string", default: "500" },
  augment: { type: "boolean" },
  "no-augment": { type: "boolean" },
  epochs: { type: "string", default: "200" },
  "batch-size": { type: "string", default: "128" },
  lr: { type: "string", default: "0.1" },
  momentum: { type: "string", default: "0.9" },
  "weight-decay": { type: "string", default: "2e-4" },
  milestones: { type: "string", default: "100,150" },
  "lr-gamma": { type: "string", default: "0.1" },
  "warmup-epochs": { type: "string", default: "0" },
  seed: { type: "string", default: "0" },
  "lambda-ce": { type: "string" },
  "lambda-kl": { type: "string" },
  temperature: { type: "string" },
  "kl-reduction": { type: "string" },
  alignment: { type: "string" },
  "iga-gamma": { type: "string" },
  "lambda-iga": { type: "string" },
  "alignment-gradient": { type: "string" },
  "trades-beta": { type: "string" },
  eps: { type: "string" },
  "attack-steps": { type: "string", default: "10" },
  "attack-step-size": { type: "string" },
  "eval-eps": { type: "string" },
  "eval-steps": { type: "string", default: "20" },
  out: { type: "string" },
  resume: { type: "boolean" },
  "student-options": { type: "string" },
  quiet: { type: "boolean" },
} as const;

function number(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === "" || !Number.isFinite(v)) {
    throw new Error(`--${name} must be a number; got '${text}'`);
  }
  return v;
}

function integer(name: string, text: string | undefined): number | undefined {
  const v = number(name, text);
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
    throw new Error(`--${name} must be an integer >= 0; got '${text}'`);
  }
  return v;
}

/**
 * Parses the command line into {@link TrainOptions} (loading the data and the teacher), checking
 * every name and path up front.
 *
 * @example
 * ```ts
 * import { trainOptionsFromArgs } from "./cli.ts";
 * const options = await trainOptionsFromArgs(["--method", "st", "--student", "mlp-tiny", "--epochs", "1"]);
 * ```
 */
export async function trainOptionsFromArgs(args: string[]): Promise<TrainOptions> {
  const { values: v } = parseArgs({
    args,
    options: OPTIONS,
    strict: true,
    allowPositionals: false,
  });
  if (!v.method) throw new Error(`--method is required: one of ${METHOD_NAMES.join(", ")}`);
  assertMethodName(v.method);
  const method = v.method;
  const studentName = v.student ?? v.model;
  if (!studentName) throw new Error("--student is required (the model to train)");
  assertDatasetName(v.data);
  let studentOptions: Record<string, unknown> = {};
  if (v["student-options"]) {
    try {
      studentOptions = JSON.parse(v["student-options"]);
    } catch (e) {
      throw new Error(`--student-options must be JSON: ${(e as Error).message}`);
    }
  }
  if (methodNeedsTeacher(method) && !v.teacher) {
    throw new Error(`method '${method}' distils from a teacher: give --teacher <checkpoint>`);
  }
  // Model names first: cheap, and a typo should not wait for the data.
  createModel(studentName, {});
  if (v.data === "cifar10" && !v["data-path"]) {
    throw new Error(
      "--data cifar10 needs --data-path: the directory of its binary batches (cifar-10-batches-bin)",
    );
  }
  const splits = await loadDataset(v.data, { path: v["data-path"] });
  const trainSize = integer("train-size", v["train-size"]);
  const evalSize = integer("eval-size", v["eval-size"])!;
  const trainData = trainSize !== undefined
    ? splits.train.slice(0, Math.min(trainSize, splits.train.length))
    : splits.train;
  const evalData = evalSize > 0
    ? splits.test.slice(0, Math.min(evalSize, splits.test.length))
    : undefined;
  const model = createModel(studentName, {
    inputShape: [...splits.train.imageShape],
    numClasses: splits.train.numClasses,
    ...studentOptions,
  });
  let teacher: TrainOptions["teacher"];
  if (methodNeedsTeacher(method)) {
    const t = await loadModelCheckpoint(v.teacher!);
    if (t.model.numClasses !== splits.train.numClasses) {
      throw new Error(
        `teacher ${v.teacher} has ${t.model.numClasses} classes but dataset '${v.data}' has ${splits.train.numClasses}`,
      );
    }
    if (t.model.inputShape.some((d, i) => d !== splits.train.imageShape[i])) {
      throw new Error(
        `teacher ${v.teacher} takes inputs [${t.model.inputShape}] but dataset '${v.data}' has [${splits.train.imageShape}]`,
      );
    }
    teacher = { model: t.model, variables: t.variables };
  }
  const eps = number("eps", v.eps) ?? (v.data === "cifar10" ? 8 / 255 : 0.3);
  const steps = integer("attack-steps", v["attack-steps"])!;
  const attack: AttackOptions = {
    eps,
    norm: "Linf",
    steps,
    stepSize: number("attack-step-size", v["attack-step-size"]),
  };
  const evalEps = number("eval-eps", v["eval-eps"]) ?? eps;
  const evalAttack: AttackOptions | null = evalEps > 0
    ? { eps: evalEps, norm: "Linf", steps: integer("eval-steps", v["eval-steps"]) }
    : null;
  const klReduction = v["kl-reduction"] as KlReduction | undefined;
  if (klReduction !== undefined && !KL_REDUCTIONS.includes(klReduction)) {
    throw new Error(
      `unknown --kl-reduction '${klReduction}': allowed are ${KL_REDUCTIONS.join(", ")}`,
    );
  }
  const alignment = v.alignment as AlignmentMode | undefined;
  if (alignment !== undefined && !ALIGNMENT_MODES.includes(alignment)) {
    throw new Error(
      `unknown --alignment '${alignment}': allowed are ${ALIGNMENT_MODES.join(", ")}`,
    );
  }
  const alignmentGradient = v["alignment-gradient"] as AlignmentGradient | undefined;
  if (
    alignmentGradient !== undefined && !["exact", "finite-difference"].includes(alignmentGradient)
  ) {
    throw new Error(
      `unknown --alignment-gradient '${alignmentGradient}': allowed are exact, finite-difference`,
    );
  }
  const milestones = v.milestones.trim() === ""
    ? []
    : v.milestones.split(",").map((m) => integer("milestones", m.trim())!);
  const augment = v["no-augment"] ? false : v.augment ?? v.data === "cifar10";
  return {
    model,
    method,
    train: trainData,
    eval: evalData,
    teacher,
    epochs: integer("epochs", v.epochs)!,
    batchSize: integer("batch-size", v["batch-size"]),
    lr: number("lr", v.lr),
    momentum: number("momentum", v.momentum),
    weightDecay: number("weight-decay", v["weight-decay"]),
    milestones,
    gamma: number("lr-gamma", v["lr-gamma"]),
    warmupEpochs: number("warmup-epochs", v["warmup-epochs"]),
    seed: integer("seed", v.seed),
    augment: augment ? { cropPadding: 4, flip: true } : undefined,
    distillation: {
      lambdaCe: number("lambda-ce", v["lambda-ce"]),
      lambdaKl: number("lambda-kl", v["lambda-kl"]),
      temperature: number("temperature", v.temperature),
      klReduction,
      alignment,
      gamma: number("iga-gamma", v["iga-gamma"]),
      lambdaIga: number("lambda-iga", v["lambda-iga"]),
    },
    attack: methodAdversary(method) !== null ? attack : undefined,
    tradesBeta: number("trades-beta", v["trades-beta"]),
    alignmentGradient,
    evalAttack,
    outDir: v.out ?? join("runs", `${method}-${studentName}-${v.data}`),
    resume: v.resume ?? false,
    quiet: v.quiet,
  };
}

/**
 * Runs the training command line; returns the exit code (0 done, 1 error, 2 non-finite loss).
 *
 * @example
 * ```ts
 * import { runTrainCli } from "./cli.ts";
 * const code = await runTrainCli(["--help"]); // prints the usage, returns 0
 * ```
 */
export async function runTrainCli(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(TRAIN_USAGE);
    return 0;
  }
  // The backend first: loading a teacher checkpoint creates tensors.
  await useBackend(undefined, { verbose: !args.includes("--quiet") });
  let options: TrainOptions;
  try {
    options = await trainOptionsFromArgs(args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}\n(run with --help for the options)`);
    return 1;
  }
  try {
    const result = await train(options);
    const last = result.log.at(-1);
    console.log(
      `done: ${result.log.length} epochs in ${options.outDir}` +
        (last
          ? `; last epoch loss ${last.loss.toFixed(4)}, clean ${last.cleanAcc}, PGD ${last.pgdAcc}`
          : ""),
    );
    return 0;
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return e instanceof NonFiniteLossError ? 2 : 1;
  }
}

if (import.meta.main) {
  Deno.exit(await runTrainCli(Deno.args));
}
