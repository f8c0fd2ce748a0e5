import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from './wasm-ops.js';

/**
 * The values of `t`, a tensor just computed on the active backend, without a copy where the backend
 * keeps them in memory JavaScript can see: on wasm a view of the heap, elsewhere `dataSync()` (which
 * on cpu is the backend's own array). On wasm, `dataSync()` would copy the data into a new array on
 * every call (a 4 MB allocation for a 1024 x 1024 matrix, then garbage).
 *
 * The result is read-only, and a wasm view is valid only until the next tensor is allocated (the heap
 * may grow and move) or `t` is disposed: read it at once, without creating tensors in between.
 */
export function readInPlace(t: tf.Tensor): tf.backend_util.TypedArray {
  if (tf.getBackend() === 'wasm') {
    const backend = tf.backend() as Partial<WasmBackendLike>;
    if (typeof backend.typedArrayFromHeap === 'function') return backend.typedArrayFromHeap(t);
  }
  return t.dataSync() as tf.backend_util.TypedArray;
}
