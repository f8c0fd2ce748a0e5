export { init, info, BACKEND_NAMES } from './backend.js';
export type { BackendName, BackendOptions, BackendInfo } from './backend.js';
export * as fused from './fused.js';
