/**
 * Small dense linear algebra that TensorFlow.js lacks (it has no matrix inverse or solve), done on the
 * host in float64 and wrapped as differentiable ops.
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from './errors.js';

/**
 * The inverse of the row-major `n x n` matrix `a` by Gauss-Jordan elimination with partial pivoting,
 * in float64. `a` is left unchanged.
 * @throws ShapeError when `a` is not square or is singular (a pivot below `1e-300` in magnitude)
 */
export function invertMatrix(a: ArrayLike<number>, n: number): Float64Array {
  if (a.length !== n * n) throw new ShapeError(`invertMatrix: expected ${n * n} entries for a ${n} x ${n} matrix, got ${a.length}`);
  const w = 2 * n;
  // Augmented [a | I], eliminated in place.
  const m = new Float64Array(n * w);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) m[i * w + j] = a[i * n + j];
    m[i * w + n + i] = 1;
  }
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * w + col]) > Math.abs(m[pivot * w + col])) pivot = r;
    const p = m[pivot * w + col];
    if (!(Math.abs(p) > 1e-300)) throw new ShapeError(`invertMatrix: the matrix is singular (no pivot in column ${col})`);
    if (pivot !== col) {
      for (let j = 0; j < w; j++) {
        const t = m[col * w + j];
        m[col * w + j] = m[pivot * w + j];
        m[pivot * w + j] = t;
      }
    }
    for (let j = 0; j < w; j++) m[col * w + j] /= p;
    for (let r = 0; r < n; r++) {
      const f = m[r * w + col];
      if (r === col || f === 0) continue;
      for (let j = 0; j < w; j++) m[r * w + j] -= f * m[col * w + j];
    }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = m[i * w + n + j];
  return out;
}

/**
 * `a^-1` for a square [n, n] tensor (PyTorch `torch.inverse`), differentiable: with `Y = a^-1`, the
 * gradient is `-Y^T dY Y^T`. The forward pass reads `a` back to the host and inverts it in float64.
 * @throws ShapeError when `a` is not square or is singular
 */
export const matrixInverse: (a: tf.Tensor2D) => tf.Tensor2D = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const a = args[0] as tf.Tensor2D;
  const save = args[1] as tf.GradSaveFunc;
  const [rows, cols] = a.shape;
  if (a.rank !== 2 || rows !== cols) throw new ShapeError(`matrixInverse: expected a square matrix (got shape [${a.shape}])`);
  const y = tf.tensor2d(Float32Array.from(invertMatrix(a.dataSync(), rows)), [rows, rows]);
  save([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [inv] = saved as tf.Tensor2D[];
      return tf.neg(tf.matMul(tf.matMul(inv, dy as tf.Tensor2D, true, false), inv, false, true));
    },
  };
}) as (a: tf.Tensor2D) => tf.Tensor2D;
