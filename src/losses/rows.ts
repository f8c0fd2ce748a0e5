import * as tf from '@tensorflow/tfjs';

/**
 * Rows `x[idx[i]]` as a [idx.length, dim] tensor, differentiable on every backend: a one-hot selection
 * matrix times `x` (tf.gather's gradient needs a kernel wasm lacks).
 */
export function selectRows(x: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  const n = x.shape[0];
  const sel = new Float32Array(idx.length * n);
  for (let i = 0; i < idx.length; i++) sel[i * n + idx[i]] = 1;
  return tf.matMul(tf.tensor2d(sel, [idx.length, n]), x);
}

/** `0..n-1` as an Int32Array (the element indices of a per-element loss). */
export function range(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}
