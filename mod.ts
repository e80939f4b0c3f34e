/**
 * kdiga: knowledge distillation that keeps a teacher's adversarial robustness.
 *
 * Call `await useBackend()` before any tensor work: it selects the engine and installs
 * gradients that are correct to second order (see `backend/gradients.ts`).
 * @module
 */
export * from "./backend/mod.ts";
export * from "./models/mod.ts";
export * from "./attacks/mod.ts";
export * from "./theory/mod.ts";
export * from "./losses/mod.ts";
export * from "./data/mod.ts";
export * from "./training/mod.ts";
export * from "./util/mod.ts";
