import assert from "node:assert/strict";
import { UsageError } from "../experiments/cli.ts";
import {
  meanSd,
  pairedClaims,
  seedRows,
  seedSummaryCsv,
  seedSummaryMarkdown,
} from "../experiments/seeds.ts";
import { parseSeeds, table3Main } from "../experiments/table3.ts";
import type { AccuracyRow } from "../experiments/tables.ts";

const row = (key: string, clean: number, robust: number[]): AccuracyRow => ({
  key,
  method: key,
  label: key.toUpperCase(),
  model: "m",
  teacher: key === "st" ? null : "teacher",
  clean,
  robust,
  count: 100,
});

Deno.test("meanSd: the sample standard deviation, 0 for one value, an error for none", () => {
  const { mean, sd } = meanSd([2, 4, 4, 4, 5, 5, 7, 9]);
  assert.equal(mean, 5);
  // Sum of squared deviations 32, n - 1 = 7.
  assert.ok(Math.abs(sd - Math.sqrt(32 / 7)) < 1e-12, `sd ${sd}`);
  assert.deepEqual(meanSd([3.5]), { mean: 3.5, sd: 0 });
  assert.throws(() => meanSd([]), /at least one value/);
});

Deno.test("seedRows: per-key mean ± sd over the seeds that have the row", () => {
  const rows = seedRows({
    seeds: [0, 1, 2],
    radiusLabels: ["0.1", "0.2"],
    rows: [
      [row("kd", 90, [50, 10]), row("ard", 80, [70, 60])],
      [row("kd", 92, [40, 20])],
      [row("kd", 94, [45, 30]), row("ard", 84, [74, 50])],
    ],
  });
  assert.deepEqual(rows.map((r) => [r.key, r.seeds]), [["kd", 3], ["ard", 2]]);
  assert.equal(rows[0].clean.mean, 92);
  assert.equal(rows[0].clean.sd, 2);
  assert.equal(rows[0].robust[1].mean, 20);
  assert.equal(rows[0].robust[1].sd, 10);
  assert.equal(rows[1].robust[0].mean, 72);
  assert.equal(rows[1].robust[1].mean, 55);
});

Deno.test("seedRows / pairedClaims reject mismatched seeds, tables and radii", () => {
  assert.throws(
    () => seedRows({ seeds: [0, 1], radiusLabels: ["0.1"], rows: [[row("kd", 90, [1])]] }),
    /2 seeds \(0, 1\) but 1 tables/,
  );
  assert.throws(
    () => pairedClaims({ seeds: [0], radiusLabels: ["0.1", "0.2"], rows: [[row("kd", 90, [1])]] }),
    /seed 0, row 'kd': 1 robust accuracies for 2 radii/,
  );
  assert.throws(() => seedRows({ seeds: [], radiusLabels: [], rows: [] }), /at least one seed/);
});

Deno.test("pairedClaims: paired differences, seeds where each holds, and the verdict on the mean", () => {
  const t = {
    seeds: [0, 1, 2],
    radiusLabels: ["0.1", "0.2", "0.3"],
    rows: [
      [
        row("kd", 90, [50, 10, 0]),
        row("kdiga", 90, [40, 30, 5]),
        row("ard", 85, [60, 50, 30]),
        row("kdiga-ardc", 85, [61, 50, 20]),
      ],
      [
        row("kd", 90, [50, 20, 0]),
        row("kdiga", 90, [60, 15, 1]),
        row("ard", 85, [60, 50, 30]),
        row("kdiga-ardc", 85, [60, 52, 30]),
      ],
      // Seed 2 lacks ARD: only the KD/KDIGA pair counts it.
      [row("kd", 90, [50, 0, 0]), row("kdiga", 90, [60, 30, 0]), row("kdiga-ardc", 85, [0, 0, 0])],
    ],
  };
  const claims = pairedClaims(t);
  // No KDIGA-ARDA row in any seed: that claim is left out.
  assert.deepEqual(claims.map((c) => c.better), ["kdiga", "kdiga-ardc"]);
  const [kdiga, ardc] = claims;
  // KDIGA vs KD starts at the second radius.
  assert.deepEqual(kdiga.radii.map((r) => r.label), ["0.2", "0.3"]);
  assert.deepEqual(kdiga.seeds, [0, 1, 2]);
  // 0.2: differences 20, -5, 30; 0.3: 5, 1, 0 (0 is not "more robust").
  assert.ok(Math.abs(kdiga.radii[0].difference.mean - 15) < 1e-12);
  assert.deepEqual(kdiga.radii.map((r) => r.holdsIn), [2, 2]);
  assert.equal(kdiga.holdsOnMean, true);
  assert.deepEqual(ardc.seeds, [0, 1]);
  // 0.1: +1, 0 (ties count for ">="); 0.2: 0, +2; 0.3: -10, 0 -> mean -5.
  assert.deepEqual(ardc.radii.map((r) => r.holdsIn), [2, 2, 1]);
  assert.equal(ardc.radii[2].difference.mean, -5);
  assert.equal(ardc.holdsOnMean, false);
});

Deno.test("seedSummaryCsv / seedSummaryMarkdown: means under the table's column names, sd beside", () => {
  const t = {
    seeds: [3, 4],
    radiusLabels: ["0.1", "0.2"],
    rows: [
      [row("kd", 90, [70, 50]), row("kdiga", 91, [80, 60])],
      [row("kd", 92, [70, 40]), row("kdiga", 93, [80, 35])],
    ],
  };
  const csv = seedSummaryCsv(seedRows(t), "pgd", t.radiusLabels).trim().split("\n");
  assert.deepEqual(csv, [
    "method,key,seeds,clean,clean_sd,pgd@0.1,pgd@0.1_sd,pgd@0.2,pgd@0.2_sd",
    "kd,kd,2,91,1.41,70,0,45,7.07",
    "kdiga,kdiga,2,92,1.41,80,0,47.5,17.68",
  ]);
  const md = seedSummaryMarkdown(t, "PGD-20");
  assert.match(md, /\| KDIGA \| 2 \| 92\.0 ± 1\.4 \| 80\.0 ± 0\.0 \| 47\.5 ± 17\.7 \|/);
  // 0.2: differences +10 and -5: holds on the mean (+2.5) but in one seed of two.
  assert.match(md, /- \[x\] KDIGA is more robust than KD .* over seeds 3, 4/);
  assert.match(md, /0\.2: \+2\.50 ± 10\.61 \(kdiga > kd in 1 of 2 seeds\)/);
});

Deno.test("parseSeeds: distinct integers >= 0, clear errors otherwise", () => {
  assert.deepEqual(parseSeeds("0, 1,2"), [0, 1, 2]);
  assert.throws(
    () => parseSeeds(" , "),
    (e) => e instanceof UsageError && /at least one seed/.test(e.message),
  );
  assert.throws(
    () => parseSeeds("0,x"),
    (e) => e instanceof UsageError && /seeds/.test(e.message) && /'x'/.test(e.message),
  );
  assert.throws(() => parseSeeds("-1"), UsageError);
  assert.throws(() => parseSeeds("1,2,1"), /seed 1 twice/);
});

Deno.test("table3 --seeds refuses --seed beside it before any work", async () => {
  await assert.rejects(
    () => table3Main({ seeds: "0,1", seed: "3", data: "mnist", preset: "quick" }),
    (e) => e instanceof UsageError && /either --seed or --seeds/.test(e.message),
  );
});
