/**
 * Command lines of the experiment tasks (`node:util` parseArgs): the options every task shares
 * (`--data`, `--preset`, `--seed`, `--results`, `--runs`, `--help`), help texts, and errors that
 * say what is allowed.
 * @module
 */
import { parseArgs } from "node:util";
import { DATASET_NAMES, type DatasetName } from "./common.ts";

/**
 * The presets: `quick` (default: minutes on 2 CPU cores) and `paper` (Section 4.1).
 *
 * @example
 * ```ts
 * import { PRESET_NAMES } from "./cli.ts";
 * PRESET_NAMES.includes("paper"); // true
 * ```
 */
export const PRESET_NAMES = ["quick", "paper"] as const;
/** One of {@link PRESET_NAMES}. */
export type PresetName = typeof PRESET_NAMES[number];

/** One command-line option. */
export interface OptionSpec {
  type: "string" | "boolean";
  description: string;
  default?: string | boolean;
  /** Placeholder in the help text, e.g. "N". */
  valueName?: string;
}

/** What a task is called, does, and accepts (besides {@link COMMON_OPTIONS}). */
export interface TaskSpec {
  name: string;
  summary: string;
  options?: Record<string, OptionSpec>;
}

/**
 * A wrong command line: printed with a pointer to `--help`, exit code 2.
 *
 * @example
 * ```ts
 * import { UsageError } from "./cli.ts";
 * const e = new UsageError("unknown preset 'x'");
 * ```
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * The options every task takes.
 *
 * @example
 * ```ts
 * import { COMMON_OPTIONS } from "./cli.ts";
 * COMMON_OPTIONS.data.default; // "mnist"
 * ```
 */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  data: {
    type: "string",
    default: "mnist",
    valueName: "NAME[:PATH]",
    description: `dataset: ${DATASET_NAMES.join(", ")} (mnist is embedded; fashion-mnist reads ` +
      `/usr/share/datasets/fashion-mnist unless a path is given; cifar10 needs the directory of ` +
      `cifar-10-batches-bin, e.g. cifar10:/data/cifar-10-batches-bin)`,
  },
  preset: {
    type: "string",
    default: "quick",
    valueName: "NAME",
    description:
      `${PRESET_NAMES.join(" | ")}: quick = small models and few epochs (minutes on 2 CPU ` +
      `cores); paper = the paper's models, epochs, batch sizes and schedules (Section 4.1)`,
  },
  seed: {
    type: "string",
    default: "0",
    valueName: "N",
    description: "seed of initialisation, data order and attacks",
  },
  results: {
    type: "string",
    default: "results",
    valueName: "DIR",
    description: "where the CSV/Markdown/plots go",
  },
  runs: {
    type: "string",
    default: "runs",
    valueName: "DIR",
    description: "checkpoints and cached rows (resume)",
  },
  help: { type: "boolean", default: false, description: "print this help and exit" },
};

/** Parsed values: strings and booleans by option name. */
export type TaskValues = Record<string, string | boolean>;

function allOptions(spec: TaskSpec): Record<string, OptionSpec> {
  return { ...COMMON_OPTIONS, ...spec.options };
}

/**
 * The help text of a task.
 *
 * @example
 * ```ts
 * import { helpText } from "./cli.ts";
 * console.log(helpText({ name: "table3", summary: "Table 3" }));
 * ```
 */
export function helpText(spec: TaskSpec): string {
  const lines = [
    `${spec.name}: ${spec.summary}`,
    "",
    `usage: deno task ${spec.name} [options]`,
    "",
    "options:",
  ];
  for (const [name, o] of Object.entries(allOptions(spec))) {
    const flag = o.type === "boolean" ? `--${name}` : `--${name} ${o.valueName ?? "VALUE"}`;
    const def = o.type === "string" && o.default !== undefined ? ` (default ${o.default})` : "";
    lines.push(`  ${flag.padEnd(26)} ${o.description}${def}`);
  }
  return lines.join("\n");
}

/**
 * Parses a task's command line; unknown options and positional arguments are a
 * {@link UsageError} listing the valid options.
 *
 * @example
 * ```ts
 * import { parseTaskArgs } from "./cli.ts";
 * const v = parseTaskArgs({ name: "demo", summary: "demo" }, ["--seed", "3"]);
 * v.seed; // "3"
 * ```
 */
export function parseTaskArgs(spec: TaskSpec, args: string[]): TaskValues {
  const options = allOptions(spec);
  const config: Record<string, { type: "string" | "boolean"; default?: string | boolean }> = {};
  for (const [name, o] of Object.entries(options)) {
    config[name] = { type: o.type, default: o.default };
  }
  try {
    const { values } = parseArgs({ args, options: config, strict: true, allowPositionals: false });
    return values as TaskValues;
  } catch (e) {
    const valid = Object.keys(options).map((n) => `--${n}`).join(", ");
    throw new UsageError(
      `${(e as Error).message.split("\n")[0]}; valid options of ${spec.name} are ${valid}`,
    );
  }
}

/** A dataset choice: its name and, for cifar10 / fashion-mnist, where the files are. */
export interface DataChoice {
  name: DatasetName;
  path?: string;
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Parses `--data NAME[:PATH]`, checking the name and that the path is a directory.
 *
 * @example
 * ```ts
 * import { parseDataArg } from "./cli.ts";
 * parseDataArg("mnist"); // { name: "mnist" }
 * ```
 */
export function parseDataArg(value: string): DataChoice {
  const colon = value.indexOf(":");
  const name = colon < 0 ? value : value.slice(0, colon);
  const path = colon < 0 ? undefined : value.slice(colon + 1);
  if (!(DATASET_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(
      `unknown dataset '${name}': allowed are ${DATASET_NAMES.join(", ")} (as NAME or NAME:PATH)`,
    );
  }
  const dataset = name as DatasetName;
  if (dataset === "mnist") {
    if (path !== undefined) {
      throw new UsageError(`mnist is embedded and takes no path; got 'mnist:${path}'`);
    }
    return { name: dataset };
  }
  if (dataset === "cifar10" && !path) {
    throw new UsageError(
      "cifar10 needs the directory of its binary batches: --data cifar10:/path/to/cifar-10-batches-bin",
    );
  }
  const dir = path || "/usr/share/datasets/fashion-mnist";
  if (!isDirectory(dir)) {
    throw new UsageError(`${dataset} data directory '${dir}' does not exist or is not a directory`);
  }
  return path ? { name: dataset, path } : { name: dataset };
}

/**
 * Parses `--preset`, listing the allowed presets on error.
 *
 * @example
 * ```ts
 * import { parsePreset } from "./cli.ts";
 * parsePreset("paper"); // "paper"
 * ```
 */
export function parsePreset(value: string): PresetName {
  if (!(PRESET_NAMES as readonly string[]).includes(value)) {
    throw new UsageError(`unknown preset '${value}': allowed are ${PRESET_NAMES.join(", ")}`);
  }
  return value as PresetName;
}

/**
 * Parses an integer option (e.g. `--seed`) in [min, max].
 *
 * @example
 * ```ts
 * import { parseInteger } from "./cli.ts";
 * parseInteger("seed", "7"); // 7
 * ```
 */
export function parseInteger(name: string, value: string, min = 0, max = 2 ** 31 - 1): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}]; got '${value}'`);
  }
  return n;
}

/**
 * Parses a comma-separated list whose items must be among `allowed`.
 *
 * @example
 * ```ts
 * import { parseList } from "./cli.ts";
 * parseList("methods", "kd,kdiga", ["st", "kd", "kdiga"]); // ["kd", "kdiga"]
 * ```
 */
export function parseList<T extends string>(
  name: string,
  value: string,
  allowed: readonly T[],
): T[] {
  const items = value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) {
    throw new UsageError(`--${name} needs at least one of ${allowed.join(", ")}`);
  }
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      throw new UsageError(`unknown ${name} item '${item}': allowed are ${allowed.join(", ")}`);
    }
  }
  return items as T[];
}

/** The options every task shares, parsed and checked. */
export interface CommonArgs {
  data: DataChoice;
  preset: PresetName;
  seed: number;
  resultsDir: string;
  runsDir: string;
}

/**
 * Checks and converts the {@link COMMON_OPTIONS} of parsed values.
 *
 * @example
 * ```ts
 * import { commonArgs, parseTaskArgs } from "./cli.ts";
 * const spec = { name: "demo", summary: "demo" };
 * commonArgs(parseTaskArgs(spec, [])).data; // { name: "mnist" }
 * ```
 */
export function commonArgs(values: TaskValues): CommonArgs {
  return {
    data: parseDataArg(String(values.data)),
    preset: parsePreset(String(values.preset)),
    seed: parseInteger("seed", String(values.seed)),
    resultsDir: String(values.results),
    runsDir: String(values.runs),
  };
}

/**
 * Runs a task's `main` on the command line: prints the help for `--help`; a {@link UsageError}
 * is printed with a pointer to `--help` and gives exit code 2, any other error its stack and
 * exit code 1. Returns the exit code.
 *
 * @example
 * ```ts
 * import { runTask } from "./cli.ts";
 * const code = await runTask({ name: "demo", summary: "demo" }, ["--help"], async () => {});
 * ```
 */
export async function runTask(
  spec: TaskSpec,
  args: string[],
  main: (values: TaskValues) => Promise<void>,
  print: (line: string) => void = (line) => console.error(line),
): Promise<number> {
  try {
    const values = parseTaskArgs(spec, args);
    if (values.help) {
      console.log(helpText(spec));
      return 0;
    }
    await main(values);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      print(`${spec.name}: ${e.message}\n(run with --help for the options)`);
      return 2;
    }
    print(`${spec.name} failed: ${(e as Error).stack ?? e}`);
    return 1;
  }
}
