export { init, info, BACKEND_NAMES } from './backend.js';
export type { BackendName, BackendOptions, BackendInfo } from './backend.js';
export * as fused from './fused.js';
export { setWasmMatMul, wasmMatMulKernel } from './wasm-gemm.js';
export type { MatMulKernel } from './wasm-gemm.js';
