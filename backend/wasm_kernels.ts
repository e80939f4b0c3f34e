/**
 * Training kernels the tfjs wasm backend lacks (placeholder; filled in by the foundation work).
 * @module
 */

/** Registers kdiga's training kernels for the `wasm` backend. Idempotent. */
export function registerWasmTrainingKernels(): void {}
