/**
 * Training: methods by name (`st`, `at`, `trades`, `kd`, `ard`, `kdiga`, `kdiga-ardc`,
 * `kdiga-arda`), the functional SGD step, the training loop with CSV logs, checkpoints and exact
 * resumption, and the command line (`training/cli.ts`).
 * @module
 */
export * from "./sgd.ts";
export * from "./schedule.ts";
export * from "./methods.ts";
export * from "./step.ts";
export * from "./evaluate.ts";
export * from "./log.ts";
export * from "./train.ts";
export * from "./cli.ts";
export * from "./train.ts";
export * from "./log.ts";
