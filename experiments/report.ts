/**
 * The parts every result file shares: the run description (dataset, preset, seed, backend, wall
 * time, the full config as JSON) and writing the files atomically under `results/`.
 * @module
 */
import { join } from "node:path";
import type { CommonArgs } from "./cli.ts";
import { formatDuration, writeFileAtomic } from "./common.ts";
import type { MeasuredRow } from "./rows.ts";

/** What the run section of a result file states. */
export interface RunDescription {
  task: string;
  args: CommonArgs;
  /** Seconds this invocation took (cached rows cost nothing). */
  wallSeconds: number;
  /** The engine, e.g. "wasm". */
  backend: string;
  /** The settings that produced the numbers (printed as JSON). */
  config: unknown;
  /** The measured rows, for their training and evaluation times. */
  rows?: readonly MeasuredRow[];
}

/**
 * The Markdown "Run" section: task, dataset, preset, seed, backend, wall time, per-row training
 * and evaluation times (and whether the row came from the cache), and the config as JSON.
 *
 * @example
 * ```ts
 * import { runSection } from "./report.ts";
 * const md = runSection({ task: "demo", backend: "wasm", wallSeconds: 61, config: { epochs: 2 },
 *   args: { data: { name: "mnist" }, preset: "quick", seed: 0, resultsDir: "results", runsDir: "runs" } });
 * ```
 */
export function runSection(run: RunDescription): string {
  const lines = [
    "## Run",
    "",
    `- task: \`${run.task}\`; dataset: ${run.args.data.name}${
      run.args.data.path ? ` (${run.args.data.path})` : ""
    }; ` +
    `preset: ${run.args.preset}; seed: ${run.args.seed}; backend: ${run.backend}`,
    `- wall time of this invocation: ${formatDuration(run.wallSeconds)} (${
      run.wallSeconds.toFixed(0)
    } s)` +
    " — rows reused from the cache under `runs/` cost nothing here",
    `- finished: ${new Date().toISOString()}`,
  ];
  if (run.rows && run.rows.length > 0) {
    lines.push("", "| row | training (s) | evaluation (s) | source |", "|---|---|---|---|");
    for (const m of run.rows) {
      lines.push(
        `| ${m.row.key} | ${m.trainSeconds.toFixed(0)} | ${m.evalSeconds.toFixed(0)} | ${
          m.reused ? "cached row" : "computed now"
        } |`,
      );
    }
  }
  lines.push("", "Config:", "", "```json", JSON.stringify(run.config, null, 1), "```", "");
  return lines.join("\n");
}

/**
 * Writes `results/<task>.<ext>` for each entry (atomically) and returns the paths written.
 *
 * @example
 * ```ts
 * import { writeResults } from "./report.ts";
 * const paths = await writeResults("/tmp/kdiga-results", "demo", { csv: "method,clean\n" });
 * ```
 */
export async function writeResults(
  resultsDir: string,
  name: string,
  files: Record<string, string | Uint8Array>,
): Promise<string[]> {
  const written: string[] = [];
  for (const [ext, data] of Object.entries(files)) {
    const path = join(resultsDir, `${name}.${ext}`);
    await writeFileAtomic(path, data);
    written.push(path);
  }
  return written;
}
