/**
 * Robustness evaluation: clean accuracy and robust accuracy per attack and radius over a data
 * set, batched, seeded, with progress and ETA, plus warnings that point at gradient masking.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Classifier } from "../models/types.ts";
import { Progress, type ProgressOptions } from "../util/progress.ts";
import { deriveSeed } from "../util/rng.ts";
import { apgdCe, apgdDlr, apgdTargeted } from "./apgd.ts";
import { autoAttack } from "./autoattack.ts";
import { fabTargeted } from "./fab.ts";
import { fgsm } from "./fgsm.ts";
import { ballViolation } from "./geometry.ts";
import { misclassified, oneHotRows, perExampleCrossEntropy } from "./losses.ts";
import { pgd } from "./pgd.ts";
import { square } from "./square.ts";
import {
  assertAttackInputs,
  assertLabelsBelow,
  type AttackFn,
  type AttackOptions,
  checkedLogits,
  type Norm,
  NORMS,
} from "./validate.ts";

/** A batch of inputs [batch, h, w, c] in [0, 1] and int labels [batch]. */
export interface LabelledBatch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

/**
 * What {@link evaluate} reads: one batch holding the whole set (split into `batchSize` chunks),
 * or a (sync or async) iterable of batches of any size (each split into `batchSize` chunks too).
 * The tensors are the caller's: `evaluate` never disposes them.
 */
export type EvaluationData = LabelledBatch | Iterable<LabelledBatch> | AsyncIterable<LabelledBatch>;

/** The attacks {@link evaluate} knows by name. */
export const ATTACK_NAMES = [
  "fgsm",
  "pgd",
  "apgd-ce",
  "apgd-dlr",
  "apgd-t",
  "fab-t",
  "square",
  "autoattack",
] as const;
/** One of {@link ATTACK_NAMES}. */
export type AttackName = typeof ATTACK_NAMES[number];

/** An attack to evaluate: a named built-in or any function with the attack signature. */
export interface AttackSpec {
  /** Name in the report. */
  name: string;
  /** The attack; defaults to the built-in of that `name`. */
  attack?: AttackFn;
  /** Options other than `eps` (e.g. `{steps: 20}`); `norm` defaults to the evaluation's. */
  options?: Omit<AttackOptions, "eps"> & Record<string, unknown>;
  /** Whether the attack uses no gradients (default: true for "square" only). */
  gradientFree?: boolean;
}

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** Attacks, by name or spec. */
  attacks: (AttackName | AttackSpec)[];
  /** Radii to evaluate (each >= 0). */
  radii: number[];
  /** Threat model of attacks whose spec does not set one (default "Linf"). */
  norm?: Norm;
  /** Evaluate the first `n` examples only (default: all). */
  n?: number;
  /** Examples per attack call (default 100). */
  batchSize?: number;
  /** Seed of every attack's randomness (default 0): same seed, same report. */
  seed?: number;
  /** Progress lines with ETA on stderr (default true; `false` or options of {@link Progress}). */
  progress?: boolean | ProgressOptions;
}

/** Robust accuracy of one attack at one radius. */
export interface EvaluationRow {
  attack: string;
  norm: Norm;
  eps: number;
  /** Examples classified correctly both clean and after the attack. */
  robustCorrect: number;
  total: number;
  robustAccuracy: number;
  /** Wall-clock seconds spent in this attack at this radius. */
  seconds: number;
}

/** What {@link evaluate} returns. */
export interface EvaluationReport {
  clean: { correct: number; total: number; accuracy: number };
  rows: EvaluationRow[];
  /**
   * Fraction of correctly classified examples whose input gradient of the cross-entropy is
   * exactly zero: a sign of gradient masking when > 0.
   */
  zeroGradientFraction: number;
  /** Findings that suggest the evaluation is unreliable (e.g. gradient masking). */
  warnings: string[];
  seed: number;
}

const GRADIENT_FREE = new Set<string>(["square"]);
const BALL_TOLERANCE = 1e-5;

function builtinAttack(name: string): AttackFn<any> {
  switch (name as AttackName) {
    case "fgsm":
      return fgsm;
    case "pgd":
      return pgd;
    case "apgd-ce":
      return apgdCe;
    case "apgd-dlr":
      return apgdDlr;
    case "apgd-t":
      return apgdTargeted;
    case "fab-t":
      return fabTargeted;
    case "square":
      return square;
    case "autoattack":
      return (model, x, y, opts) => {
        const res = autoAttack(model, x, y, opts);
        return res.xAdv;
      };
    default:
      throw new Error(
        `unknown attack '${name}': known are ${ATTACK_NAMES.join(", ")} (or pass {name, attack})`,
      );
  }
}

interface ResolvedSpec {
  name: string;
  attack: AttackFn<any>;
  options: Record<string, unknown>;
  norm: Norm;
  gradientFree: boolean;
}

function resolveSpecs(opts: EvaluateOptions): ResolvedSpec[] {
  if (!Array.isArray(opts.attacks) || opts.attacks.length === 0) {
    throw new Error(
      `attacks must be a non-empty list of names (${ATTACK_NAMES.join(", ")}) or specs`,
    );
  }
  const defaultNorm = opts.norm ?? "Linf";
  if (!NORMS.includes(defaultNorm)) {
    throw new Error(
      `unknown norm '${defaultNorm}': allowed are ${NORMS.map((n) => `'${n}'`).join(", ")}`,
    );
  }
  const names = new Set<string>();
  return opts.attacks.map((a) => {
    const spec: AttackSpec = typeof a === "string" ? { name: a } : a;
    if (!spec || typeof spec.name !== "string") {
      throw new Error(`each attack needs a name; got ${JSON.stringify(a)}`);
    }
    if (names.has(spec.name)) throw new Error(`attack '${spec.name}' is listed twice`);
    names.add(spec.name);
    const options = { ...(spec.options ?? {}) };
    const norm = (options.norm as Norm | undefined) ?? defaultNorm;
    if (!NORMS.includes(norm)) {
      throw new Error(
        `unknown norm '${norm}' for attack '${spec.name}': allowed are ${NORMS.join(", ")}`,
      );
    }
    return {
      name: spec.name,
      attack: spec.attack ?? builtinAttack(spec.name),
      options,
      norm,
      gradientFree: spec.gradientFree ?? GRADIENT_FREE.has(spec.name),
    };
  });
}

function isLabelledBatch(d: unknown): d is LabelledBatch {
  return typeof d === "object" && d !== null && (d as LabelledBatch).x instanceof tf.Tensor &&
    (d as LabelledBatch).y instanceof tf.Tensor;
}

/** Yields chunks of at most `batchSize` examples (fresh tensors the caller disposes), n in total. */
async function* chunks(
  data: EvaluationData,
  batchSize: number,
  n: number,
): AsyncGenerator<LabelledBatch> {
  let left = n;
  const source: Iterable<LabelledBatch> | AsyncIterable<LabelledBatch> = isLabelledBatch(data)
    ? [data]
    : data;
  if (
    source == null || (typeof (source as any)[Symbol.iterator] !== "function" &&
      typeof (source as any)[Symbol.asyncIterator] !== "function")
  ) {
    throw new Error("data must be {x, y} or an iterable of {x, y} batches");
  }
  for await (const batch of source as AsyncIterable<LabelledBatch>) {
    if (!isLabelledBatch(batch)) {
      throw new Error("every batch of data must be {x: Tensor4D, y: Tensor1D}");
    }
    if (batch.x.rank !== 4 || batch.y.rank !== 1 || batch.x.shape[0] !== batch.y.shape[0]) {
      throw new Error(
        `batch sizes differ or shapes are wrong: x [${batch.x.shape}], y [${batch.y.shape}] ` +
          `(want x [batch, h, w, c] and y [batch])`,
      );
    }
    const size = batch.x.shape[0];
    for (let start = 0; start < size && left > 0; start += batchSize) {
      const count = Math.min(batchSize, size - start, left);
      yield {
        x: tf.slice(batch.x, [start, 0, 0, 0], [count, -1, -1, -1]),
        y: tf.slice(batch.y, [start], [count]),
      };
      left -= count;
    }
    if (left <= 0) return;
  }
}

/** Examples per batch whose input gradient of the cross-entropy is all zeros (among `mask`). */
function zeroGradientCount(
  model: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  classes: number,
  mask: Uint8Array,
): number {
  const maxAbs = tf.tidy(() => {
    const oneHot = oneHotRows(y, classes);
    const g = tf.grad((xa: tf.Tensor) =>
      tf.sum(perExampleCrossEntropy(model(xa as tf.Tensor4D), oneHot))
    )(x);
    return tf.max(tf.abs(tf.reshape(g, [x.shape[0], -1])), 1);
  });
  const m = maxAbs.dataSync();
  maxAbs.dispose();
  let count = 0;
  for (let i = 0; i < m.length; i++) if (mask[i] && m[i] === 0) count++;
  return count;
}

/**
 * Evaluates `model` on `data`: clean accuracy, and for every attack and radius the robust
 * accuracy (the fraction of examples classified correctly both clean and after the attack),
 * with counts. Each attack call gets a seed derived from `seed`, the attack's name, the radius
 * and the batch index, so the report is deterministic under a seed. Batches of `batchSize`;
 * every tensor is released per batch, so memory stays flat. Progress with ETA on stderr.
 *
 * It checks each attack's output lies in its ball and in [0, 1] (an error names the attack
 * otherwise), and warns about signs of gradient masking: input gradients that are exactly zero,
 * a gradient-free attack (Square) beating the gradient attacks at a radius, or robust accuracy
 * that rises with the radius. Pass an eval-mode classifier.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { evaluate } from "./evaluate.ts";
 * import { toMarkdown } from "./report.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const w = tf.randomNormal([16, 3], 0, 1, "float32", 1);
 * const model = (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [x.shape[0], 16]), w) as tf.Tensor2D;
 * const x = tf.randomUniform([8, 4, 4, 1], 0, 1, "float32", 2) as tf.Tensor4D;
 * const y = tf.argMax(model(x), 1) as tf.Tensor1D;
 * const report = await evaluate(model, { x, y }, {
 *   attacks: ["pgd", { name: "square", options: { queries: 50 } }],
 *   radii: [0.01, 0.03],
 *   progress: false,
 * });
 * console.log(toMarkdown(report));
 * ```
 */
export async function evaluate(
  model: Classifier,
  data: EvaluationData,
  opts: EvaluateOptions,
): Promise<EvaluationReport> {
  if (typeof model !== "function") {
    throw new Error(`model must be a function x -> logits; got ${typeof model}`);
  }
  if (opts == null) throw new Error("evaluate needs options {attacks, radii}");
  const specs = resolveSpecs(opts);
  if (!Array.isArray(opts.radii) || opts.radii.length === 0) {
    throw new Error(
      `radii must be a non-empty list of numbers >= 0; got ${JSON.stringify(opts.radii)}`,
    );
  }
  for (const r of opts.radii) {
    if (typeof r !== "number" || !Number.isFinite(r) || r < 0) {
      throw new Error(`every radius must be a finite number >= 0; got ${r}`);
    }
  }
  const batchSize = opts.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be an integer >= 1; got ${batchSize}`);
  }
  const n = opts.n ?? Infinity;
  if (n !== Infinity && (!Number.isInteger(n) || n < 1)) {
    throw new Error(`n must be an integer >= 1; got ${n}`);
  }
  const seed = opts.seed ?? 0;
  if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number; got ${seed}`);

  // Progress counts example-attack-radius units; the total is known up front when n or the
  // data size is.
  const knownSize = isLabelledBatch(data) ? Math.min(data.x.shape[0], n) : n;
  const unitsPerExample = specs.length * opts.radii.length;
  const progressOpts: ProgressOptions = typeof opts.progress === "object"
    ? opts.progress
    : opts.progress === false
    ? { quiet: true }
    : {};
  const progress = new Progress(
    "robustness evaluation",
    Number.isFinite(knownSize) ? knownSize * unitsPerExample : 0,
    progressOpts,
  );

  const counts = new Map<string, { robust: number; seconds: number }>();
  const key = (a: string, eps: number) => `${a}\u0000${eps}`;
  let cleanCorrect = 0;
  let total = 0;
  let zeroGrad = 0;
  let batchIndex = 0;
  for await (const batch of chunks(data, batchSize, n)) {
    try {
      const labels = assertAttackInputs(batch.x, batch.y);
      const cleanLogits = tf.tidy(() => checkedLogits(model, batch.x));
      const classes = cleanLogits.shape[1];
      const cleanMisT = misclassified(cleanLogits, batch.y);
      cleanLogits.dispose();
      assertLabelsBelow(labels, classes);
      const cleanOk = Uint8Array.from(cleanMisT.dataSync(), (m) => (m ? 0 : 1));
      cleanMisT.dispose();
      total += labels.length;
      cleanCorrect += cleanOk.reduce((a, b) => a + b, 0);
      zeroGrad += zeroGradientCount(model, batch.x, batch.y, classes, cleanOk);
      for (const spec of specs) {
        for (const eps of opts.radii) {
          const started = performance.now();
          const attackSeed = deriveSeed(seed, `${spec.name}:${eps}:${batchIndex}`);
          const xAdv = spec.attack(model, batch.x, batch.y, {
            ...spec.options,
            norm: spec.norm,
            eps,
            seed: attackSeed,
          });
          try {
            if (!(xAdv instanceof tf.Tensor) || xAdv.shape.join() !== batch.x.shape.join()) {
              throw new Error(
                `attack '${spec.name}' must return a tensor of shape [${batch.x.shape}]`,
              );
            }
            const v = ballViolation(xAdv, batch.x, eps, spec.norm);
            if (
              v.outsideBall > BALL_TOLERANCE * Math.max(1, eps) || v.outsideBox > BALL_TOLERANCE
            ) {
              throw new Error(
                `attack '${spec.name}' at eps ${eps} returned inputs outside the ${spec.norm} ball ` +
                  `(by ${v.outsideBall}) or outside [0, 1] (by ${v.outsideBox})`,
              );
            }
            const advMisT = tf.tidy(() => misclassified(model(xAdv), batch.y));
            const advMis = advMisT.dataSync();
            advMisT.dispose();
            let robust = 0;
            for (let i = 0; i < labels.length; i++) if (cleanOk[i] && !advMis[i]) robust++;
            const c = counts.get(key(spec.name, eps)) ?? { robust: 0, seconds: 0 };
            c.robust += robust;
            c.seconds += (performance.now() - started) / 1000;
            counts.set(key(spec.name, eps), c);
          } finally {
            xAdv.dispose();
          }
          progress.tick(labels.length, `${spec.name} eps=${eps}`);
          // Let the event loop breathe (progress output, signals) between attack calls.
          await new Promise((r) => setTimeout(r, 0));
        }
      }
    } finally {
      tf.dispose([batch.x, batch.y]);
    }
    batchIndex++;
  }
  progress.done();
  if (total === 0) throw new Error("data holds no examples");

  const rows: EvaluationRow[] = [];
  for (const spec of specs) {
    for (const eps of opts.radii) {
      const c = counts.get(key(spec.name, eps))!;
      rows.push({
        attack: spec.name,
        norm: spec.norm,
        eps,
        robustCorrect: c.robust,
        total,
        robustAccuracy: c.robust / total,
        seconds: c.seconds,
      });
    }
  }
  const zeroGradientFraction = cleanCorrect > 0 ? zeroGrad / cleanCorrect : 0;
  return {
    clean: { correct: cleanCorrect, total, accuracy: cleanCorrect / total },
    rows,
    zeroGradientFraction,
    warnings: maskingWarnings(rows, specs, zeroGradientFraction, cleanCorrect),
    seed,
  };
}

/** Warnings that the gradient attacks may be unreliable on this model. */
function maskingWarnings(
  rows: EvaluationRow[],
  specs: ResolvedSpec[],
  zeroGradientFraction: number,
  cleanCorrect: number,
): string[] {
  const warnings: string[] = [];
  if (zeroGradientFraction > 0) {
    warnings.push(
      `the input gradient is exactly zero on ${(100 * zeroGradientFraction).toFixed(1)}% of the ` +
        `${cleanCorrect} correctly classified examples: gradient attacks cannot work there ` +
        `(gradient masking); trust gradient-free attacks (square) and AutoAttack instead`,
    );
  }
  const freeNames = new Set(specs.filter((s) => s.gradientFree).map((s) => s.name));
  const byRadius = new Map<string, EvaluationRow[]>();
  for (const r of rows) {
    const k = `${r.norm}:${r.eps}`;
    byRadius.set(k, [...(byRadius.get(k) ?? []), r]);
  }
  for (const group of byRadius.values()) {
    const free = group.filter((r) => freeNames.has(r.attack));
    const grad = group.filter((r) => !freeNames.has(r.attack) && r.attack !== "autoattack");
    for (const f of free) {
      for (const g of grad) {
        if (f.robustCorrect < g.robustCorrect) {
          warnings.push(
            `at ${f.norm} eps=${f.eps} the gradient-free ${f.attack} leaves ${f.robustCorrect} robust ` +
              `but ${g.attack} leaves ${g.robustCorrect}: the gradient attack misses adversarial ` +
              `examples a random search finds (possible gradient masking)`,
          );
        }
      }
    }
  }
  for (const spec of specs) {
    const mine = rows.filter((r) => r.attack === spec.name).sort((a, b) => a.eps - b.eps);
    for (let i = 1; i < mine.length; i++) {
      if (mine[i].robustCorrect > mine[i - 1].robustCorrect) {
        warnings.push(
          `${spec.name}: robust accuracy rises from ${mine[i - 1].robustAccuracy} at eps=${
            mine[i - 1].eps
          } ` +
            `to ${mine[i].robustAccuracy} at eps=${
              mine[i].eps
            }: the attack is too weak (more steps or restarts)`,
        );
      }
    }
  }
  return warnings;
}
