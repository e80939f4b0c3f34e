/**
 * The one place `experiments/` imports the kdiga library from: the root `mod.ts`, so every task
 * runs on the public API only.
 *
 * @example
 * ```ts
 * import { createModel, useBackend } from "./common.ts";
 * await useBackend();
 * const model = createModel("small-cnn");
 * ```
 * @module
 */
export * from "../mod.ts";
