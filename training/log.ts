/**
 * The per-epoch CSV training log.
 * @module
 */

/** One row of the training log. */
export interface EpochLogRow {
  /** 1-based epoch number. */
  epoch: number;
  lr: number;
  /** Mean over the epoch's batches of the total loss and its parts (NaN where undefined). */
  loss: number;
  ce: number;
  kl: number;
  alignment: number;
  /** Accuracy on the held-out slice, clean and under PGD (NaN if not measured). */
  cleanAcc: number;
  pgdAcc: number;
  /** Training images per second in the epoch (without evaluation). */
  imagesPerSecond: number;
  /** Wall seconds of the epoch, evaluation included. */
  seconds: number;
}

/** The CSV columns, in order. */
export const LOG_COLUMNS: readonly (keyof EpochLogRow)[] = [
  "epoch",
  "lr",
  "loss",
  "ce",
  "kl",
  "alignment",
  "cleanAcc",
  "pgdAcc",
  "imagesPerSecond",
  "seconds",
];

const HEADER: Record<keyof EpochLogRow, string> = {
  epoch: "epoch",
  lr: "lr",
  loss: "loss",
  ce: "ce",
  kl: "kl",
  alignment: "alignment",
  cleanAcc: "clean_acc",
  pgdAcc: "pgd_acc",
  imagesPerSecond: "images_per_s",
  seconds: "seconds",
};

function cell(v: number): string {
  if (Number.isNaN(v)) return "";
  return String(v); // shortest text that reads back as the same double
}

/**
 * The log as CSV text (header `epoch,lr,loss,ce,kl,alignment,clean_acc,pgd_acc,images_per_s,seconds`;
 * an empty cell where a value is undefined).
 *
 * @example
 * ```ts
 * import { formatLogCsv } from "./log.ts";
 * const csv = formatLogCsv([{ epoch: 1, lr: 0.1, loss: 2.3, ce: 2.3, kl: NaN, alignment: NaN,
 *   cleanAcc: 0.5, pgdAcc: NaN, imagesPerSecond: 900, seconds: 10 }]);
 * ```
 */
export function formatLogCsv(rows: readonly EpochLogRow[]): string {
  const lines = [LOG_COLUMNS.map((c) => HEADER[c]).join(",")];
  for (const r of rows) lines.push(LOG_COLUMNS.map((c) => cell(r[c])).join(","));
  return lines.join("\n") + "\n";
}

/**
 * Parses a log written by {@link formatLogCsv} (empty cells become NaN).
 *
 * @example
 * ```ts
 * import { parseLogCsv } from "./log.ts";
 * const rows = parseLogCsv("epoch,lr,loss,ce,kl,alignment,clean_acc,pgd_acc,images_per_s,seconds\n1,0.1,2,2,,,0.5,,900,10\n");
 * ```
 */
export function parseLogCsv(text: string): EpochLogRow[] {
  const lines = text.trim().split("\n");
  const header = lines[0]?.split(",") ?? [];
  const expected = LOG_COLUMNS.map((c) => HEADER[c]);
  if (header.join(",") !== expected.join(",")) {
    throw new Error(
      `not a kdiga training log: header is '${lines[0]}', expected '${expected.join(",")}'`,
    );
  }
  return lines.slice(1).map((line) => {
    const cells = line.split(",");
    const row = {} as Record<keyof EpochLogRow, number>;
    LOG_COLUMNS.forEach((
      c,
      i,
    ) => (row[c] = cells[i] === "" || cells[i] === undefined ? NaN : Number(cells[i])));
    return row as EpochLogRow;
  });
}
