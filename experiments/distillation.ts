/**
 * What Tables 3-4, Figure 1 and the demo share: their command-line options, setting up a run of
 * the distillation study (backend, data, settings), and measuring its teacher and student rows.
 * @module
 */
import {
  type CommonArgs,
  commonArgs,
  type OptionSpec,
  parseList,
  type TaskValues,
  UsageError,
} from "./cli.ts";
import { type DatasetSplits, describeBackend, useBackend } from "./common.ts";
import type { StoreContext, TrainedModelSpec } from "./model_store.ts";
import {
  type DistillationStudy,
  distillationStudy,
  STUDENT_METHODS,
  type StudentMethod,
  type StudyOverrides,
} from "./presets.ts";
import { loadStudyData, type MeasuredRow, measureRow } from "./rows.ts";
import { runSection } from "./report.ts";

/**
 * Options of the distillation-study tasks (besides the common ones).
 *
 * @example
 * ```ts
 * import { DISTILLATION_OPTIONS } from "./distillation.ts";
 * Object.keys(DISTILLATION_OPTIONS); // ["methods", "gamma", "student-epochs", "tag"]
 * ```
 */
export const DISTILLATION_OPTIONS: Record<string, OptionSpec> = {
  methods: {
    type: "string",
    default: STUDENT_METHODS.join(","),
    valueName: "LIST",
    description: `students to train and measure, comma-separated from ${
      STUDENT_METHODS.join(", ")
    }`,
  },
  gamma: {
    type: "string",
    valueName: "G",
    description:
      "γ of the KDIGA students' λ_IGA = γ / B (default: the preset's; quick 100, paper 0.5)",
  },
  "student-epochs": {
    type: "string",
    valueName: "N",
    description: "student training epochs (default: the preset's)",
  },
  tag: {
    type: "string",
    valueName: "NAME",
    description: "suffix of the result files (e.g. for a γ sweep)",
  },
};

/** A prepared run: parsed arguments, settings, data and the model store context. */
export interface DistillationRun {
  args: CommonArgs;
  study: DistillationStudy;
  methods: StudentMethod[];
  data: DatasetSplits;
  context: StoreContext;
  /** Suffix of the result file names ("" or "-<tag>"). */
  suffix: string;
  /** performance.now() at the start. */
  started: number;
  backend: string;
}

/**
 * Parses the study overrides (`--gamma`, `--student-epochs`) of parsed values.
 *
 * @example
 * ```ts
 * import { studyOverrides } from "./distillation.ts";
 * studyOverrides({ gamma: "100" }); // { gamma: 100 }
 * ```
 */
export function studyOverrides(values: TaskValues): StudyOverrides {
  const out: StudyOverrides = {};
  if (typeof values.gamma === "string") {
    const g = Number(values.gamma);
    if (values.gamma.trim() === "" || !Number.isFinite(g) || g < 0) {
      throw new UsageError(`--gamma must be a number >= 0; got '${values.gamma}'`);
    }
    out.gamma = g;
  }
  if (typeof values["student-epochs"] === "string") {
    const e = Number(values["student-epochs"]);
    if (!Number.isInteger(e) || e < 1) {
      throw new UsageError(
        `--student-epochs must be an integer >= 1; got '${values["student-epochs"]}'`,
      );
    }
    out.studentEpochs = e;
  }
  return out;
}

/**
 * Parses `--tag` into a file-name suffix ("" or "-<tag>"), allowing letters, digits, `.`, `_`, `-`.
 *
 * @example
 * ```ts
 * import { tagSuffix } from "./distillation.ts";
 * tagSuffix({ tag: "gamma100" }); // "-gamma100"
 * ```
 */
export function tagSuffix(values: TaskValues): string {
  if (typeof values.tag !== "string") return "";
  if (!/^[A-Za-z0-9._-]+$/.test(values.tag)) {
    throw new UsageError(
      `--tag may hold only letters, digits, '.', '_' and '-'; got '${values.tag}'`,
    );
  }
  return `-${values.tag}`;
}

/**
 * Checks the arguments, starts the backend, loads the data and resolves the settings.
 * `fixedMethods` replaces `--methods` for tasks that need particular students.
 *
 * @example
 * ```ts
 * import { prepareDistillationRun } from "./distillation.ts";
 * import { parseTaskArgs } from "./cli.ts";
 * const run = await prepareDistillationRun(parseTaskArgs({ name: "t", summary: "t" }, []), ["kd"]);
 * ```
 */
export async function prepareDistillationRun(
  values: TaskValues,
  fixedMethods?: StudentMethod[],
): Promise<DistillationRun> {
  const args = commonArgs(values);
  const overrides = studyOverrides(values);
  const suffix = tagSuffix(values);
  const methods = fixedMethods ??
    parseList("methods", String(values.methods ?? STUDENT_METHODS.join(",")), STUDENT_METHODS);
  const started = performance.now();
  await useBackend();
  const data = await loadStudyData(args.data);
  const study = distillationStudy(args, overrides);
  const context: StoreContext = {
    runsDir: args.runsDir,
    data,
    onStart: (spec, dir) =>
      console.error(`[${spec.label}] ${spec.method} ${spec.model.name}: ${dir}`),
  };
  return { args, study, methods, data, context, suffix, started, backend: describeBackend() };
}

/**
 * The paper's row name for our teacher or a student method.
 *
 * @example
 * ```ts
 * import { distillationRowLabel } from "./distillation.ts";
 * import { distillationStudy } from "./presets.ts";
 * const study = distillationStudy({ data: { name: "mnist" }, preset: "quick", seed: 0, resultsDir: "results", runsDir: "runs" });
 * distillationRowLabel(study, "kd"); // "wide-resnet-tiny(TRADES) -KD-> mobilenetv2-tiny"
 * ```
 */
export function distillationRowLabel(
  study: DistillationStudy,
  key: "teacher" | StudentMethod,
): string {
  const t = `${study.teacher.model.name}(TRADES)`;
  const s = study.students.st.model.name;
  if (key === "teacher") return t;
  if (key === "st") return `${s} (ST)`;
  return `${t} -${key.toUpperCase()}-> ${s}`;
}

function request(run: DistillationRun, key: "teacher" | StudentMethod, spec: TrainedModelSpec) {
  return {
    key,
    label: distillationRowLabel(run.study, key),
    spec,
    teacherKey: key === "teacher" || key === "st" ? null : "teacher",
    attack: "pgd" as const,
    evaluation: run.study.evaluation,
  };
}

/**
 * Measures the teacher row and the student rows of `run.methods` (in the paper's order),
 * training what is missing; each row is cached, so a rerun only does what is left.
 *
 * @example
 * ```ts
 * import { measureDistillationRows, prepareDistillationRun } from "./distillation.ts";
 * import { parseTaskArgs } from "./cli.ts";
 * const run = await prepareDistillationRun(parseTaskArgs({ name: "t", summary: "t" }, []), ["kd"]);
 * const rows = await measureDistillationRows(run); // minutes: teacher + KD student
 * ```
 */
export async function measureDistillationRows(run: DistillationRun): Promise<MeasuredRow[]> {
  const out: MeasuredRow[] = [];
  out.push(await measureRow(request(run, "teacher", run.study.teacher), run.context));
  for (const method of STUDENT_METHODS) {
    if (!run.methods.includes(method)) continue;
    out.push(await measureRow(request(run, method, run.study.students[method]), run.context));
  }
  return out;
}

/**
 * The run section (`report.ts`) of a task that reports a run's KD and KDIGA students (the demo
 * and Figure 1): the teacher, both students and the evaluation settings as its config.
 *
 * @example
 * ```ts
 * import { kdPairRunSection, prepareDistillationRun } from "./distillation.ts";
 * import { parseTaskArgs } from "./cli.ts";
 * const run = await prepareDistillationRun(parseTaskArgs({ name: "demo", summary: "demo" }, []), ["kd", "kdiga"]);
 * console.log(kdPairRunSection("demo", run, [])); // "## Run" ...
 * ```
 */
export function kdPairRunSection(task: string, run: DistillationRun, measured: MeasuredRow[]): string {
  return runSection({
    task,
    args: run.args,
    wallSeconds: (performance.now() - run.started) / 1000,
    backend: run.backend,
    config: {
      teacher: run.study.teacher,
      kd: run.study.students.kd,
      kdiga: run.study.students.kdiga,
      evaluation: run.study.evaluation,
    },
    rows: measured,
  });
}
