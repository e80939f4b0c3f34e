/**
 * Engine set-up: backend selection, kdiga's wasm training kernels, and gradients that are
 * correct to second order.
 * @module
 */
export * from "./select.ts";
export * from "./gradients.ts";
export * from "./wasm_kernels.ts";
export * from "./native_gemm.ts";
export * from "./native_kernels.ts";
export * from "./reduction_kernels.ts";
export * from "./depthwise_kernels.ts";
export * from "./broadcast_kernels.ts";
