/*
 * Bootstrap for the wasm backend's pthread workers under Node's worker_threads.
 *
 * tfjs-backend-wasm ships its pthread worker as a string (`wasmWorkerContents`) and, in browsers, hands
 * it to `new Worker()` as a blob URL. Node's worker_threads cannot load blob URLs, so akin points the
 * emscripten runtime at this file instead; it evaluates the same worker source with Node's `require`
 * in scope. Newlines inside the source's string literals are escaped exactly as tfjs does for its blob.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const source: { wasmWorkerContents: string } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');
const body = source.wasmWorkerContents.replace(/\n/g, '\\n');
// eslint-disable-next-line @typescript-eslint/no-implied-eval
new Function('require', '__filename', body)(require, __filename);
