/**
 * Small shared utilities: seeded randomness, progress with ETA, atomic writes.
 * @module
 */
export * from "./rng.ts";
export * from "./progress.ts";
export * from "./atomic.ts";
