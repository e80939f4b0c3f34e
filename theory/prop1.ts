/**
 * Proposition 1 checked on toy ReLU nets: a teacher, a student distilled by (toy) KDIGA to near
 * zero loss on the points, and a KD-only student with zero KD loss but wrong input gradients;
 * all three certified exactly, radii side by side.
 *
 * What Proposition 1 can guarantee (the appendix is not in our copy; our reasoning):
 * - A zero KL at x gives equal softmax, i.e. logits equal up to a shift. A zero gradient
 *   alignment gives `J_s^T (p - e_y) = J_t^T (p - e_y)` (J the logit Jacobian): ONE direction
 *   in logit space. With 2 classes `p - e_y = α (-1, 1)` with α != 0, so this pins the gradient
 *   of the logit difference `d = f_1 - f_0`: d_s and d_t agree to first order at x.
 * - If moreover both nets are affine on the whole ball (the local-linearity assumption: the ball
 *   lies in one linear region of BOTH nets), d_s = d_t on the ball, so the student is robust
 *   exactly where the teacher is. With a loss that is only near zero, the student is robust
 *   wherever the teacher's minimum margin over the ball exceeds `|Δd(x)| + δ ||∇Δd||_1`
 *   (reported as `guaranteed`).
 * - With more than 2 classes the gradient alignment constrains one combination of the logit
 *   gradients only; a student can match logits and `∇_x CE` at x and still flip inside the ball
 *   (`tests/theory_prop1_test.ts` builds one). Proposition 1 then needs the whole Jacobian.
 * - Without local linearity (a region boundary inside the ball of either net) nothing follows
 *   from agreement at x alone; the report says where that happens.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { seededRandom } from "../util/rng.ts";
import {
  certifiedRadius,
  type CertifyOptions,
  certifyRobustness,
  countLinearRegions,
  exactMinimumMargin,
} from "./certifier.ts";
import {
  type DenseLayer64,
  type ToyMlp,
  toyMlpFromArrays,
  toyMlpSizes,
  toyMlpToFloat64,
} from "./toy_mlp.ts";
import {
  distillToyKdiga,
  type DistillToyKdigaOptions,
  toyKdigaObjective,
  type ToyKdigaTerms,
} from "./toy_distill.ts";
import { assertRadius } from "./ball.ts";

/**
 * Logits and logit Jacobian `[classes][inputs]` of a ReLU toy net at x, in float64 (the Jacobian
 * of the linear region containing x; at a kink, the side where pre-activations > 0 are active).
 *
 * @example
 * ```ts
 * import { initToyMlp, toyMlpToFloat64 } from "./toy_mlp.ts";
 * import { reluLogitsAndJacobian64 } from "./prop1.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const { logits, jacobian } = reluLogitsAndJacobian64(
 *   toyMlpToFloat64(initToyMlp([2, 4, 2], { seed: 0 })), [0.1, 0.2]);
 * ```
 */
export function reluLogitsAndJacobian64(
  layers: readonly DenseLayer64[],
  x: ArrayLike<number>,
): { logits: Float64Array; jacobian: Float64Array[] } {
  const d = x.length;
  let h = Float64Array.from(x);
  // J[k] = d h_k / d x
  let J = Array.from({ length: d }, (_, k) => {
    const row = new Float64Array(d);
    row[k] = 1;
    return row;
  });
  layers.forEach((layer, l) => {
    const z = Float64Array.from(layer.bias);
    const Jz = Array.from({ length: layer.outSize }, () => new Float64Array(d));
    for (let i = 0; i < layer.inSize; i++) {
      for (let o = 0; o < layer.outSize; o++) {
        const w = layer.weight[i * layer.outSize + o];
        z[o] += w * h[i];
        for (let k = 0; k < d; k++) Jz[o][k] += w * J[i][k];
      }
    }
    if (l < layers.length - 1) {
      for (let o = 0; o < z.length; o++) {
        if (z[o] <= 0) {
          z[o] = 0;
          Jz[o].fill(0);
        }
      }
    }
    h = z;
    J = Jz;
  });
  return { logits: h, jacobian: J };
}

/** Options of {@link kdOnlyCounterexample}. */
export interface KdOnlyCounterexampleOptions extends CertifyOptions {
  seed?: number;
  /** Largest gain tried when making every robust point flip (default 1e6). */
  maxGain?: number;
}

/**
 * The converse of Proposition 1 (the paper's Appendix A argument), made concrete: a student
 * with EXACTLY the teacher's logits at every point (KD loss 0, up to float32 round-off) but
 * different input gradients, which is not δ-robust at any of the points.
 *
 * It is the teacher plus `K · s(w·x)` on logit 0, where `s` is a triangle wave that vanishes at
 * every `w·x_i` with slope ±1 there (kinks at the midpoints), built from extra ReLUs in the first
 * hidden layer and passed through later hidden layers by identity rows (ReLU of a non-negative
 * value is itself). `K` doubles until the exact certifier finds a flip at every point.
 *
 * @example
 * ```ts
 * import { initToyMlp } from "./toy_mlp.ts";
 * import { kdOnlyCounterexample } from "./prop1.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const teacher = initToyMlp([2, 8, 2], { seed: 0 });
 * const { student, gain } = kdOnlyCounterexample(teacher, [[0.1, 0.2], [0.5, -0.3]], 0.05);
 * ```
 */
export function kdOnlyCounterexample(
  teacher: ToyMlp,
  points: readonly (readonly number[])[],
  delta: number,
  options: KdOnlyCounterexampleOptions = {},
): { student: ToyMlp; gain: number; direction: number[] } {
  assertRadius(delta);
  const sizes = toyMlpSizes(teacher);
  if (sizes.length < 3) {
    throw new Error("the KD-only counterexample needs a teacher with a hidden layer");
  }
  if (teacher.activation !== "relu") {
    throw new Error(
      `the KD-only counterexample is built for ReLU nets; got '${teacher.activation}'`,
    );
  }
  const dim = sizes[0];
  const rand = seededRandom(options.seed ?? 0);
  // Mixed signs, so w·e takes both signs even on the one-sided box [0, δ]^D.
  const w = Array.from({ length: dim }, (_, i) => (i % 2 === 0 ? 1 : -1) * (0.5 + rand()));
  if (dim === 1) w[0] = 1;
  const ts = [...new Set(points.map((p) => p.reduce((s, v, i) => s + v * w[i], 0)))].sort((a, b) =>
    a - b
  );
  if (ts.length !== points.length) {
    throw new Error("two points project to the same w·x; pass distinct points (or another seed)");
  }
  // s(t) = (t - t_0) + sum_k c_k relu(t - m_k): slopes alternate +1, -1, +1, ... between midpoints.
  const mids = ts.slice(1).map((t, k) => (t + ts[k]) / 2);
  const coeffs = mids.map((_, k) => (k % 2 === 0 ? -2 : 2));
  const layers = toyMlpToFloat64(teacher);
  const build = (gain: number) => {
    const extra = 2 + mids.length; // relu(t - t0), relu(t0 - t), relu(t - m_k)
    const out = layers.map((layer, l) => {
      const isFirst = l === 0, isLast = l === layers.length - 1;
      const inSize = layer.inSize + (isFirst ? 0 : extra);
      const outSize = layer.outSize + (isLast ? 0 : extra);
      const weight = Array.from({ length: inSize }, () => new Array(outSize).fill(0));
      const bias = new Array(outSize).fill(0);
      for (let i = 0; i < layer.inSize; i++) {
        for (let o = 0; o < layer.outSize; o++) weight[i][o] = layer.weight[i * layer.outSize + o];
      }
      for (let o = 0; o < layer.outSize; o++) bias[o] = layer.bias[o];
      if (isFirst) {
        for (let i = 0; i < dim; i++) {
          weight[i][layer.outSize] = w[i];
          weight[i][layer.outSize + 1] = -w[i];
          mids.forEach((_, k) => (weight[i][layer.outSize + 2 + k] = w[i]));
        }
        bias[layer.outSize] = -ts[0];
        bias[layer.outSize + 1] = ts[0];
        mids.forEach((m, k) => (bias[layer.outSize + 2 + k] = -m));
      } else if (!isLast) {
        for (let k = 0; k < extra; k++) weight[layer.inSize + k][layer.outSize + k] = 1;
      } else {
        const c = [1, -1, ...coeffs];
        for (let k = 0; k < extra; k++) weight[layer.inSize + k][0] = gain * c[k];
      }
      return { weight, bias };
    });
    return toyMlpFromArrays(out, "relu");
  };
  const maxGain = options.maxGain ?? 1e6;
  for (let gain = 1; gain <= maxGain; gain *= 2) {
    const student = build(gain);
    const allFlip = points.every((p) => !certifyRobustness(student, p, delta, options).robust);
    if (allFlip) return { student, gain, direction: w };
    tf.dispose(Object.values(student.params));
  }
  throw new Error(`no gain up to maxGain=${maxGain} made every point flip within delta=${delta}`);
}

/** Certification of one net at one point. */
export interface Prop1NetReport {
  robust: boolean;
  /** Exact minimum margin over the ball (robust iff > 0). */
  minMargin: number;
  /** Linear regions meeting the ball (1 = locally linear there). */
  regions: number;
  /** Certified radius by bisection. */
  radius: number;
}

/** One point of {@link checkProp1}. */
export interface Prop1PointReport {
  x: number[];
  /** The teacher's prediction (the label of Definition 1). */
  label: number;
  teacher: Prop1NetReport;
  kdiga: Prop1NetReport;
  kdOnly: Prop1NetReport;
  /** `max_j |Δ(f_c - f_j)(x)|` and `max_j δ ||∇Δ(f_c - f_j)||_1` between KDIGA student and teacher. */
  logitGap: number;
  gradientGap: number;
  /** Teacher robust and both nets affine on the ball (Proposition 1's assumptions). */
  assumptionsHold: boolean;
  /** assumptionsHold and teacher min margin > logitGap + gradientGap: student robust follows. */
  guaranteed: boolean;
}

/** Result of {@link checkProp1}. */
export interface Prop1Check {
  delta: number;
  points: Prop1PointReport[];
  /** Final toy KDIGA terms of the distilled student. */
  distillation: ToyKdigaTerms;
  /** The KD-only student's KL and input gradient misalignment on the points. */
  kdOnlyTerms: ToyKdigaTerms;
  kdOnlyGain: number;
  /** The two students (caller disposes them with `disposeToyMlp`). */
  student: ToyMlp;
  kdOnlyStudent: ToyMlp;
}

/** Options of {@link checkProp1}. */
export interface CheckProp1Options extends CertifyOptions {
  distill?: DistillToyKdigaOptions;
  /** Bisection tolerance of the radii (default 1e-3). */
  radiusTolerance?: number;
  /** Largest radius tried (default 1). */
  maxRadius?: number;
}

/**
 * Runs the Proposition 1 experiment on a ReLU toy teacher and points (see the module doc).
 *
 * @example
 * ```ts
 * import { initToyMlp } from "./toy_mlp.ts";
 * import { checkProp1 } from "./prop1.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const teacher = initToyMlp([2, 8, 2], { seed: 0 });
 * const c = checkProp1(teacher, [[0.1, 0.2], [0.5, -0.3]], 0.02,
 *   { distill: { steps: 20, hidden: [8] } });
 * for (const p of c.points) console.log(p.teacher.radius, p.kdiga.radius, p.kdOnly.radius);
 * ```
 */
export function checkProp1(
  teacher: ToyMlp,
  points: readonly (readonly number[])[],
  delta: number,
  options: CheckProp1Options = {},
): Prop1Check {
  assertRadius(delta);
  const sizes = toyMlpSizes(teacher);
  if (teacher.activation !== "relu") {
    throw new Error(
      `Proposition 1 is checked on piecewise-linear (relu) nets; got '${teacher.activation}'`,
    );
  }
  if (points.length === 0 || points.some((p) => p.length !== sizes[0])) {
    throw new Error(`points must be a non-empty list of ${sizes[0]}-vectors`);
  }
  const certifyOptions: CertifyOptions = {
    box: options.box,
    maxNodes: options.maxNodes,
    maxHiddenNeurons: options.maxHiddenNeurons,
  };
  const tLayers = toyMlpToFloat64(teacher);
  const labels = points.map((p) => {
    const z = reluLogitsAndJacobian64(tLayers, p).logits;
    return z.indexOf(Math.max(...z));
  });
  const x = tf.tensor2d(points.map((p) => [...p]));
  const y = tf.tensor1d(labels, "int32");
  const { student, terms } = distillToyKdiga(teacher, x, y, options.distill);
  const kd = kdOnlyCounterexample(teacher, points, delta, certifyOptions);
  const weights = { ce: 0, kl: 1, iga: 1, ...options.distill?.weights };
  const kdOnlyTerms = tf.tidy(() => {
    const t = toyKdigaObjective(
      kd.student,
      teacher,
      x,
      y,
      weights,
      options.distill?.temperature ?? 1,
    );
    return {
      ce: t.ce.dataSync()[0],
      kl: t.kl.dataSync()[0],
      iga: t.iga.dataSync()[0],
      total: t.total.dataSync()[0],
    };
  });
  tf.dispose([x, y]);

  const radiusOptions = {
    ...certifyOptions,
    tolerance: options.radiusTolerance ?? 1e-3,
    maxRadius: options.maxRadius ?? 1,
  };
  const report = (net: ToyMlp, p: readonly number[]): Prop1NetReport => {
    const m = exactMinimumMargin(net, p, delta, certifyOptions);
    return {
      robust: m.minMargin > 0,
      minMargin: m.minMargin,
      regions: countLinearRegions(net, p, delta, certifyOptions),
      radius: certifiedRadius(net, p, radiusOptions).radius,
    };
  };
  const sLayers = toyMlpToFloat64(student);
  const reports = points.map((p, i): Prop1PointReport => {
    const c = labels[i];
    const t = reluLogitsAndJacobian64(tLayers, p);
    const s = reluLogitsAndJacobian64(sLayers, p);
    let logitGap = 0, gradientGap = 0;
    for (let j = 0; j < t.logits.length; j++) {
      if (j === c) continue;
      logitGap = Math.max(
        logitGap,
        Math.abs((s.logits[c] - s.logits[j]) - (t.logits[c] - t.logits[j])),
      );
      let l1 = 0;
      for (let k = 0; k < p.length; k++) {
        l1 += Math.abs(
          (s.jacobian[c][k] - s.jacobian[j][k]) - (t.jacobian[c][k] - t.jacobian[j][k]),
        );
      }
      gradientGap = Math.max(gradientGap, delta * l1);
    }
    const teacherReport = report(teacher, p);
    const kdigaReport = report(student, p);
    const assumptionsHold = teacherReport.robust && teacherReport.regions === 1 &&
      kdigaReport.regions === 1;
    return {
      x: [...p],
      label: c,
      teacher: teacherReport,
      kdiga: kdigaReport,
      kdOnly: report(kd.student, p),
      logitGap,
      gradientGap,
      assumptionsHold,
      guaranteed: assumptionsHold && teacherReport.minMargin > logitGap + gradientGap,
    };
  });
  return {
    delta,
    points: reports,
    distillation: terms,
    kdOnlyTerms,
    kdOnlyGain: kd.gain,
    student,
    kdOnlyStudent: kd.student,
  };
}
