/**
 * The training losses of kdiga: cross-entropy and KL written from plain ops (correct to second
 * order), KD (Eq. 1), ARD (Eq. 2), KDIGA (Eq. 5), KDIGA-ARDC (Eq. 6), KDIGA-ARDA (Eq. 7), the
 * robust-teacher losses (PGD adversarial training, TRADES) and the finite-difference
 * approximation of KDIGA's gradient.
 * @module
 */
export * from "./cross_entropy.ts";
export * from "./options.ts";
export * from "./kl_divergence.ts";
export * from "./kd.ts";
export * from "./input_gradient.ts";
export * from "./kdiga.ts";
export * from "./ard.ts";
export * from "./adversarial_inputs.ts";
export * from "./robust_teacher.ts";
export * from "./alignment_finite_difference.ts";
