/**
 * The paper's qualitative claims, checked on our numbers (not assumed): each check says whether
 * it holds and, if not, where it fails.
 * @module
 */
import type { AccuracyRow } from "./tables.ts";

/** A claim and whether our numbers support it. */
export interface ClaimCheck {
  claim: string;
  holds: boolean;
  /** Where it fails (or a note), empty when it holds. */
  detail: string;
}

function row(rows: readonly AccuracyRow[], key: string): AccuracyRow | undefined {
  return rows.find((r) => r.key === key);
}

/**
 * `a` is above (or, with `orEqual`, at least) `b` at the radii indices `from..`; reports the
 * radii where it is not.
 */
function compareAt(
  a: AccuracyRow,
  b: AccuracyRow,
  radiusLabels: readonly string[],
  from: number,
  orEqual: boolean,
): { holds: boolean; detail: string } {
  const bad: string[] = [];
  for (let i = from; i < radiusLabels.length; i++) {
    const ok = orEqual ? a.robust[i] >= b.robust[i] : a.robust[i] > b.robust[i];
    if (!ok) bad.push(`${radiusLabels[i]}: ${a.robust[i].toFixed(2)} vs ${b.robust[i].toFixed(2)}`);
  }
  return { holds: bad.length === 0, detail: bad.join("; ") };
}

/** A pairwise claim: row `better` above (`orEqual`: at least as high as) row `worse`, from radius index `from` on. */
export interface PairwiseClaim {
  claim: string;
  better: string;
  worse: string;
  orEqual: boolean;
  from: number;
}

/**
 * The pairwise claims of Table 3 / Figure 1, shared by the one-seed check
 * ({@link distillationClaims}) and the check over seeds (`seeds.ts`).
 *
 * @example
 * ```ts
 * import { DISTILLATION_PAIRWISE_CLAIMS } from "./checks.ts";
 * DISTILLATION_PAIRWISE_CLAIMS.map((c) => c.better); // ["kdiga", "kdiga-ardc", "kdiga-arda"]
 * ```
 */
export const DISTILLATION_PAIRWISE_CLAIMS: readonly PairwiseClaim[] = [
  {
    claim: "KDIGA is more robust than KD at every radius above the smallest",
    better: "kdiga",
    worse: "kd",
    orEqual: false,
    from: 1,
  },
  ...["kdiga-ardc", "kdiga-arda"].map((key) => ({
    claim: `${key.toUpperCase()} is at least as robust as ARD at every radius`,
    better: key,
    worse: "ard",
    orEqual: true,
    from: 0,
  })),
];

/**
 * The claims of Tables 3 / Figure 1 on our rows: KDIGA more robust than KD at every radius above
 * the smallest; KDIGA-ARDC and KDIGA-ARDA at least as robust as ARD at every radius; KD below
 * the teacher (robustness lost); the ST student below 10% at the largest radius (the grid's
 * design rule). Claims whose rows are missing are left out.
 *
 * @example
 * ```ts
 * import { distillationClaims } from "./checks.ts";
 * const r = (key: string, robust: number[]) => ({ key, method: key, label: key, model: "m", teacher: null, clean: 99, robust, count: 10 });
 * distillationClaims([r("kd", [50, 10]), r("kdiga", [60, 30])], ["0.1", "0.2"])[0].holds; // true
 * ```
 */
export function distillationClaims(
  rows: readonly AccuracyRow[],
  radiusLabels: readonly string[],
): ClaimCheck[] {
  const out: ClaimCheck[] = [];
  const kd = row(rows, "kd"), st = row(rows, "st");
  const teacher = row(rows, "teacher");
  for (const c of DISTILLATION_PAIRWISE_CLAIMS) {
    const better = row(rows, c.better), worse = row(rows, c.worse);
    if (better && worse) {
      out.push({ claim: c.claim, ...compareAt(better, worse, radiusLabels, c.from, c.orEqual) });
    }
  }
  if (kd && teacher) {
    out.push({
      claim: "KD loses the teacher's robustness (KD below the teacher at every radius)",
      ...compareAt(teacher, kd, radiusLabels, 0, false),
    });
  }
  if (st) {
    const last = st.robust.at(-1)!;
    out.push({
      claim: "the ST student is below 10% at the largest radius (how the radius grid was chosen)",
      holds: last < 10,
      detail: last < 10
        ? ""
        : `ST robust accuracy at ${radiusLabels.at(-1)} is ${last.toFixed(2)}%`,
    });
  }
  return out;
}

/**
 * The claims of Tables 1-2 on our rows: for each teacher (the ViT, the AT CNN), its KDIGA
 * ResNet-18 student is more robust than its KD one at every radius above the smallest, and the
 * KDIGA student of the normally trained ViT is more robust than that teacher at every radius above
 * the smallest (robustness the teacher does not have). Claims whose rows are missing are left out.
 *
 * @example
 * ```ts
 * import { transferClaims } from "./checks.ts";
 * const r = (key: string, robust: number[]) => ({ key, method: key, label: key, model: "m", teacher: null, clean: 99, robust, count: 10 });
 * transferClaims([r("vit-st", [20, 1]), r("vit-kd-resnet18", [40, 5]), r("vit-kdiga-resnet18", [60, 20])], ["0.1", "0.2"]).every((c) => c.holds); // true
 * ```
 */
export function transferClaims(
  rows: readonly AccuracyRow[],
  radiusLabels: readonly string[],
): ClaimCheck[] {
  const out: ClaimCheck[] = [];
  for (const [teacher, name] of [["vit", "ViT"], ["cnn", "AT CNN"]]) {
    const kd = row(rows, `${teacher}-kd-resnet18`), kdiga = row(rows, `${teacher}-kdiga-resnet18`);
    if (kd && kdiga) {
      out.push({
        claim:
          `the ${name} teacher's KDIGA ResNet-18 is more robust than its KD ResNet-18 at every radius above the smallest`,
        ...compareAt(kdiga, kd, radiusLabels, 1, false),
      });
    }
  }
  const vit = row(rows, "vit-st"), vitKdiga = row(rows, "vit-kdiga-resnet18");
  if (vit && vitKdiga) {
    out.push({
      claim:
        "the KDIGA student of the normally trained ViT is more robust than its teacher at every radius above the smallest",
      ...compareAt(vitKdiga, vit, radiusLabels, 1, false),
    });
  }
  return out;
}

/**
 * Markdown bullet list of checks: "- [x] claim" / "- [ ] claim — where it fails".
 *
 * @example
 * ```ts
 * import { formatClaims } from "./checks.ts";
 * formatClaims([{ claim: "A", holds: false, detail: "at 0.1" }]); // "- [ ] A — fails at: at 0.1\n"
 * ```
 */
export function formatClaims(checks: readonly ClaimCheck[]): string {
  return checks.map((c) =>
    `- [${c.holds ? "x" : " "}] ${c.claim}${c.holds ? "" : ` — fails at: ${c.detail}`}`
  ).join("\n") +
    (checks.length ? "\n" : "");
}

/** One Table 4 row: the student's bound terms. */
export interface BoundRow {
  key: string;
  llm: number[];
  ce: number;
  gradientDifference: number;
}

function ranking(rows: readonly BoundRow[], value: (r: BoundRow) => number): string[] {
  return [...rows].sort((a, b) => value(b) - value(a)).map((r) => r.key);
}

/**
 * The claims of Table 4 / Section 4.4 on our bound terms: ST has the highest llm and gradient
 * difference; KD's are above ARD's and KDIGA's; the KDIGA-ARD combinations have the lowest llm
 * and gradient difference; KD has the lowest cross-entropy.
 *
 * @example
 * ```ts
 * import { boundClaims } from "./checks.ts";
 * const b = (key: string, v: number, ce: number) => ({ key, llm: [v, 2 * v], ce, gradientDifference: v });
 * boundClaims([b("st", 9, 0.3), b("kd", 5, 0.1)]).every((c) => c.holds); // true
 * ```
 */
export function boundClaims(
  rows: readonly BoundRow[],
  llmLabels: readonly string[] = rows[0]?.llm.map((_, i) => `#${i + 1}`) ?? [],
): ClaimCheck[] {
  const out: ClaimCheck[] = [];
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const terms: [string, (r: BoundRow) => number][] = [
    ...llmLabels.map((l, i): [string, (r: BoundRow) => number] => [`llm at ${l}`, (r) => r.llm[i]]),
    ["||g_s - g_t||_2", (r) => r.gradientDifference],
  ];
  const st = byKey.get("st"), kd = byKey.get("kd");
  for (const [name, value] of terms) {
    const order = ranking(rows, value);
    if (st) {
      out.push({
        claim: `ST has the highest ${name}`,
        holds: order[0] === "st",
        detail: order[0] === "st" ? "" : `order (high to low): ${order.join(" > ")}`,
      });
    }
    if (kd) {
      const below = ["ard", "kdiga"].filter((k) =>
        byKey.has(k) && !(value(kd) > value(byKey.get(k)!))
      );
      out.push({
        claim: `KD's ${name} is above ARD's and KDIGA's`,
        holds: below.length === 0,
        detail: below.map((k) =>
          `${k} ${value(byKey.get(k)!).toFixed(3)} >= kd ${value(kd).toFixed(3)}`
        ).join("; "),
      });
    }
    const combos = ["kdiga-ardc", "kdiga-arda"].filter((k) => byKey.has(k));
    if (combos.length > 0) {
      const lowest = order.slice(-combos.length);
      const holds = combos.every((k) => lowest.includes(k));
      out.push({
        claim: `the KDIGA-ARD combinations have the lowest ${name}`,
        holds,
        detail: holds ? "" : `order (high to low): ${order.join(" > ")}`,
      });
    }
  }
  if (kd) {
    const order = ranking(rows, (r) => r.ce);
    out.push({
      claim: "KD has the lowest cross-entropy",
      holds: order.at(-1) === "kd",
      detail: order.at(-1) === "kd" ? "" : `order (high to low): ${order.join(" > ")}`,
    });
  }
  return out;
}
