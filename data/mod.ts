/**
 * Datasets: MNIST (embedded), Fashion-MNIST (Debian package), CIFAR-10 (binary batches), held
 * as uint8 once, with seeded float batches on demand.
 * @module
 */
export * from "./dataset.ts";
export * from "./batches.ts";
export * from "./idx.ts";
export * from "./mnist.ts";
export * from "./fashion_mnist.ts";
export * from "./cifar10.ts";
export * from "./load.ts";
