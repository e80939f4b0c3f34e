/**
 * Several seeds of one table: the mean and sample standard deviation of every cell, and the
 * paper's pairwise claims (KDIGA vs KD, KDIGA-ARDC/ARDA vs ARD) checked on the paired
 * differences (the two students of a pair share the seed's teacher, data split and attacks), so
 * a user can tell a real gap from seed noise.
 * @module
 */
import { DISTILLATION_PAIRWISE_CLAIMS, type PairwiseClaim } from "./checks.ts";
import {
  type AccuracyRow,
  type AttackKind,
  formatCsv,
  markdownTable,
  robustColumnNames,
} from "./tables.ts";

/** Mean and sample standard deviation (0 for a single value) of some numbers. */
export interface MeanSd {
  mean: number;
  sd: number;
}

/**
 * Mean and sample standard deviation (n - 1 in the denominator; 0 when n = 1).
 *
 * @example
 * ```ts
 * import { meanSd } from "./seeds.ts";
 * meanSd([1, 3]); // { mean: 2, sd: 1.4142135623730951 }
 * ```
 */
export function meanSd(values: readonly number[]): MeanSd {
  if (values.length === 0) throw new Error("meanSd needs at least one value; got none");
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (values.length === 1) return { mean, sd: 0 };
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, sd: Math.sqrt(ss / (values.length - 1)) };
}

/** One row of the table over seeds. */
export interface SeedRow {
  key: string;
  method: string;
  label: string;
  /** How many seeds have this row. */
  seeds: number;
  clean: MeanSd;
  robust: MeanSd[];
}

/** The same table (same radii) measured with several seeds. */
export interface SeededTables {
  seeds: readonly number[];
  /** The rows of each seed, in the order of `seeds`. */
  rows: readonly (readonly AccuracyRow[])[];
  radiusLabels: readonly string[];
}

function checkShapes(t: SeededTables): void {
  if (t.seeds.length === 0) throw new Error("a seed summary needs at least one seed; got none");
  if (t.rows.length !== t.seeds.length) {
    throw new Error(`${t.seeds.length} seeds (${t.seeds.join(", ")}) but ${t.rows.length} tables`);
  }
  for (const [i, rows] of t.rows.entries()) {
    for (const r of rows) {
      if (r.robust.length !== t.radiusLabels.length) {
        throw new Error(
          `seed ${t.seeds[i]}, row '${r.key}': ${r.robust.length} robust accuracies for ` +
            `${t.radiusLabels.length} radii (${t.radiusLabels.join(", ")})`,
        );
      }
    }
  }
}

/**
 * Mean ± sd of every cell over the seeds, one row per key (in first-seen order).
 *
 * @example
 * ```ts
 * import { seedRows } from "./seeds.ts";
 * const r = (clean: number, robust: number[]) => ({ key: "kd", method: "kd", label: "KD", model: "m", teacher: null, clean, robust, count: 10 });
 * const [kd] = seedRows({ seeds: [0, 1], rows: [[r(90, [50])], [r(92, [40])]], radiusLabels: ["0.1"] });
 * kd.robust[0].mean; // 45
 * ```
 */
export function seedRows(t: SeededTables): SeedRow[] {
  checkShapes(t);
  const keys: string[] = [];
  for (const rows of t.rows) for (const r of rows) if (!keys.includes(r.key)) keys.push(r.key);
  return keys.map((key) => {
    const rows = t.rows.map((rs) => rs.find((r) => r.key === key)).filter((r) => r !== undefined);
    return {
      key,
      method: rows[0].method,
      label: rows[0].label,
      seeds: rows.length,
      clean: meanSd(rows.map((r) => r.clean)),
      robust: t.radiusLabels.map((_, i) => meanSd(rows.map((r) => r.robust[i]))),
    };
  });
}

/** A pairwise claim over seeds: per radius, the paired difference and in how many seeds it holds. */
export interface PairedClaim extends PairwiseClaim {
  /** Seeds that have both rows. */
  seeds: number[];
  /** Per radius from `from`: the radius label, mean ± sd of better - worse, seeds where it holds. */
  radii: { label: string; difference: MeanSd; holdsIn: number }[];
  /** The claim holds on the mean difference at every radius it covers. */
  holdsOnMean: boolean;
}

/**
 * Table 3's pairwise claims checked on paired differences over seeds; claims whose rows no seed
 * has are left out.
 *
 * @example
 * ```ts
 * import { pairedClaims } from "./seeds.ts";
 * const r = (key: string, robust: number[]) => ({ key, method: key, label: key, model: "m", teacher: null, clean: 90, robust, count: 10 });
 * const [c] = pairedClaims({ seeds: [0, 1], radiusLabels: ["0.1", "0.2"],
 *   rows: [[r("kd", [50, 10]), r("kdiga", [60, 30])], [r("kd", [40, 20]), r("kdiga", [55, 15])]] });
 * c.radii[0].holdsIn; // 1 (0.2: 30 > 10 with seed 0, 15 < 20 with seed 1)
 * ```
 */
export function pairedClaims(t: SeededTables): PairedClaim[] {
  checkShapes(t);
  const out: PairedClaim[] = [];
  for (const c of DISTILLATION_PAIRWISE_CLAIMS) {
    const { better, worse, orEqual, from } = c;
    const pairs: { seed: number; b: AccuracyRow; w: AccuracyRow }[] = [];
    for (const [i, rows] of t.rows.entries()) {
      const b = rows.find((r) => r.key === better), w = rows.find((r) => r.key === worse);
      if (b && w) pairs.push({ seed: t.seeds[i], b, w });
    }
    if (pairs.length === 0) continue;
    const radii = t.radiusLabels.slice(from).map((label, j) => {
      const i = from + j;
      const diffs = pairs.map(({ b, w }) => b.robust[i] - w.robust[i]);
      return {
        label,
        difference: meanSd(diffs),
        holdsIn: diffs.filter((d) => orEqual ? d >= 0 : d > 0).length,
      };
    });
    const holdsOnMean = radii.every(({ difference: { mean } }) => orEqual ? mean >= 0 : mean > 0);
    out.push({
      ...c,
      seeds: pairs.map((p) => p.seed),
      radii,
      holdsOnMean,
    });
  }
  return out;
}

const pm = (v: MeanSd, decimals = 1) => `${v.mean.toFixed(decimals)} ± ${v.sd.toFixed(decimals)}`;

/**
 * The CSV of a seed summary: `method,key,seeds,clean,clean_sd,<attack>@<r>,<attack>@<r>_sd...`
 * (means under the per-seed tables' column names, sample sd beside each).
 *
 * @example
 * ```ts
 * import { seedSummaryCsv } from "./seeds.ts";
 * seedSummaryCsv([{ key: "kd", method: "kd", label: "KD", seeds: 2, clean: { mean: 91, sd: 1 },
 *   robust: [{ mean: 45, sd: 5 }] }], "pgd", ["0.1"]).split("\n")[0]; // "method,key,seeds,clean,clean_sd,pgd@0.1,pgd@0.1_sd"
 * ```
 */
export function seedSummaryCsv(
  rows: readonly SeedRow[],
  attack: AttackKind,
  radiusLabels: readonly string[],
): string {
  const cols = robustColumnNames(attack, radiusLabels).flatMap((c) => [c, `${c}_sd`]);
  const r2 = (v: number) => Number(v.toFixed(2));
  return formatCsv(
    ["method", "key", "seeds", "clean", "clean_sd", ...cols],
    rows.map((r) => [
      r.method,
      r.key,
      r.seeds,
      r2(r.clean.mean),
      r2(r.clean.sd),
      ...r.robust.flatMap((v) => [r2(v.mean), r2(v.sd)]),
    ]),
  );
}

/**
 * Markdown of a seed summary: mean ± sd per cell, then each pairwise claim with the paired
 * difference per radius and the number of seeds where it holds.
 *
 * @example
 * ```ts
 * import { seedSummaryMarkdown } from "./seeds.ts";
 * const r = (key: string, robust: number[]) => ({ key, method: key, label: key, model: "m", teacher: null, clean: 90, robust, count: 10 });
 * const md = seedSummaryMarkdown({ seeds: [0, 1], radiusLabels: ["0.1"],
 *   rows: [[r("kd", [50]), r("kdiga", [60])], [r("kd", [40]), r("kdiga", [55])]] }, "PGD-20");
 * md.includes("in 2 of 2 seeds"); // true
 * ```
 */
export function seedSummaryMarkdown(t: SeededTables, attackName: string): string {
  const rows = seedRows(t);
  const header = ["Model", "seeds", "Clean", ...t.radiusLabels.map((r) => `${attackName} ${r}`)];
  const lines = [
    markdownTable(
      header,
      rows.map((r) => [r.label, String(r.seeds), pm(r.clean), ...r.robust.map((v) => pm(v))]),
    ),
    "## The paper's pairwise claims over seeds",
    "",
    "Paired differences (mean ± sample sd over the seeds that have both rows, in points of " +
    "robust accuracy) and the number of seeds in which the claim holds at that radius.",
    "",
  ];
  for (const c of pairedClaims(t)) {
    const relation = c.orEqual ? ">=" : ">";
    lines.push(
      `- [${c.holdsOnMean ? "x" : " "}] ${c.claim} — on the mean difference over seeds ` +
        `${c.seeds.join(", ")}; ${c.better} − ${c.worse} per radius:`,
      ...c.radii.map(({ label, difference, holdsIn }) =>
        `  - ${label}: ${difference.mean >= 0 ? "+" : ""}${pm(difference, 2)} ` +
        `(${c.better} ${relation} ${c.worse} in ${holdsIn} of ${c.seeds.length} seeds)`
      ),
    );
  }
  return lines.join("\n") + "\n";
}
