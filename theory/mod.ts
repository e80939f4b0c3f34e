/**
 * Theory checks of the paper: the Local Linearity Measure (Definition 2), Proposition 2's bound
 * and its numerical check, an exact robustness certifier for toy ReLU nets (Definition 1) and
 * the Proposition 1 experiment, and Table 4's bound terms.
 *
 * @example
 * ```ts
 * import { initToyMlp, certifiedRadius } from "./mod.ts";
 * import { useBackend } from "../backend/mod.ts";
 * await useBackend("cpu");
 * const r = certifiedRadius(initToyMlp([2, 8, 2], { seed: 0 }), [0.1, 0.2]);
 * ```
 * @module
 */
// Ball and loss-surface helpers stay internal (attacks/ has the public geometry, and the
// perturbation norms `Norm` / `NORMS` the theory functions take); only the types and checks that
// public signatures use are re-exported.
export { assertNorm, assertRadius, dualNorm, VECTOR_NORMS, type VectorNorm } from "./ball.ts";
export * from "./lp.ts";
export * from "./toy_mlp.ts";
export { classifierCrossEntropy, classifierInputGradient, perExampleDot, type TensorClassifier } from "./loss_surface.ts";
export * from "./llm.ts";
export * from "./prop2.ts";
export * from "./certifier.ts";
export * from "./toy_distill.ts";
export * from "./prop1.ts";
export * from "./bound_terms.ts";
