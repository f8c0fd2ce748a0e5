import * as tf from '@tensorflow/tfjs';
import { ShapeError } from './errors.js';

/** Labels as accepted everywhere in akin. */
export type LabelsLike = tf.Tensor1D | Int32Array | number[];

/** Labels as an Int32Array on the host (reads a tensor back once). */
export function toLabelArray(labels: LabelsLike, expectedLength?: number, what = 'labels'): Int32Array {
  let out: Int32Array;
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 1) throw new ShapeError(`${what} must be a 1-D tensor (got shape [${labels.shape}])`);
    out = Int32Array.from(labels.dataSync() as ArrayLike<number>);
  } else if (labels instanceof Int32Array) {
    out = labels;
  } else {
    out = Int32Array.from(labels);
  }
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new ShapeError(`${what} has ${out.length} entries but there are ${expectedLength} embeddings`);
  }
  return out;
}

/** Checks that `x` is a rank-2 tensor and returns it typed as such. */
export function as2D(x: tf.Tensor, what = 'embeddings'): tf.Tensor2D {
  if (x.rank !== 2) throw new ShapeError(`${what} must be a 2-D tensor [n, dim] (got shape [${x.shape}])`);
  return x as tf.Tensor2D;
}

/**
 * Square root whose gradient is 0 (not infinity) where the input is 0, so that distances between
 * identical embeddings (e.g. the diagonal of a distance matrix) never turn gradients into NaN.
 */
export const safeSqrt: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  const y = tf.sqrt(tf.relu(x));
  save([y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [s] = saved;
      const positive = tf.greater(s, 0);
      return tf.where(positive, tf.div(dy, tf.mul(tf.maximum(s, 1e-30), 2)), tf.zerosLike(dy));
    },
  };
}) as (x: tf.Tensor) => tf.Tensor;

/** Picks `mat[rows[i], cols[i]]` for every i, as a 1-D tensor (differentiable w.r.t. `mat`). */
export function gatherPairs(mat: tf.Tensor2D, rows: Int32Array, cols: Int32Array): tf.Tensor1D {
  if (rows.length !== cols.length) throw new ShapeError(`gatherPairs: ${rows.length} rows but ${cols.length} cols`);
  const n = mat.shape[1];
  const flat = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) flat[i] = rows[i] * n + cols[i];
  return tf.gather(tf.reshape(mat, [-1]), tf.tensor1d(flat, 'int32')) as tf.Tensor1D;
}

/** A scalar zero that stays connected to `x` in the gradient graph (so an empty loss still backpropagates). */
export function zeroLoss(x: tf.Tensor): tf.Scalar {
  return tf.mul(tf.sum(x), 0) as tf.Scalar;
}
