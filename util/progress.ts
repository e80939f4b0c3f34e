/**
 * Progress with ETA on stderr for long work (training epochs, attacks over a test set).
 * @module
 */

/** Formats seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, "0")}s`;
  return `${r}s`;
}

/** Options of {@link Progress}. */
export interface ProgressOptions {
  /** Minimum seconds between two printed lines (default 2). */
  intervalSeconds?: number;
  /** Where lines go (default: stderr). Tests pass a collector. */
  write?: (line: string) => void;
  /** Print nothing (default false; also when KDIGA_QUIET=1). */
  quiet?: boolean;
}

/**
 * A progress reporter: `tick(n, note)` after each unit of work prints, at most every
 * `intervalSeconds`, `label: done/total (pct) elapsed, ETA ... note`.
 *
 * @example
 * ```ts
 * import { Progress } from "./progress.ts";
 * const p = new Progress("epoch 1", 100, { quiet: true });
 * for (let i = 0; i < 100; i++) p.tick(1);
 * p.done();
 * ```
 */
export class Progress {
  #start = performance.now();
  #last = -Infinity;
  #done = 0;
  readonly #interval: number;
  readonly #write: (line: string) => void;
  readonly #quiet: boolean;

  constructor(readonly label: string, readonly total: number, options: ProgressOptions = {}) {
    if (!Number.isFinite(total) || total < 0) {
      throw new Error(`progress total must be a non-negative number; got ${total}`);
    }
    this.#interval = (options.intervalSeconds ?? 2) * 1000;
    this.#write = options.write ?? ((line) => console.error(line));
    let envQuiet = false;
    try {
      envQuiet = Deno.env.get("KDIGA_QUIET") === "1";
    } catch { /* no env permission: not quiet */ }
    this.#quiet = options.quiet ?? envQuiet;
  }

  /** Units done so far. */
  get count(): number {
    return this.#done;
  }

  /** Seconds since start. */
  get elapsedSeconds(): number {
    return (performance.now() - this.#start) / 1000;
  }

  /** Estimated seconds left, from the mean rate so far. */
  get etaSeconds(): number {
    if (this.#done === 0) return NaN;
    return this.elapsedSeconds / this.#done * (this.total - this.#done);
  }

  /** Records `n` more units done; prints a line if the interval has passed. */
  tick(n = 1, note = ""): void {
    this.#done += n;
    const now = performance.now();
    if (now - this.#last >= this.#interval) {
      this.#last = now;
      this.#print(note);
    }
  }

  /** Prints the final line. */
  done(note = ""): void {
    this.#print(note, true);
  }

  #print(note: string, final = false): void {
    if (this.#quiet) return;
    const pct = this.total > 0 ? (100 * this.#done / this.total).toFixed(1) : "100.0";
    const eta = final ? "done" : `ETA ${formatDuration(this.etaSeconds)}`;
    this.#write(
      `${this.label}: ${this.#done}/${this.total} (${pct}%) ` +
        `${formatDuration(this.elapsedSeconds)} elapsed, ${eta}${note ? `  ${note}` : ""}`,
    );
  }
}
