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
  return gather1D(tf.reshape(mat, [-1]) as tf.Tensor1D, flat);
}

/**
 * `x[indices[i]]` for every i, as a 1-D tensor. The gradient scatters `dy` back (summing repeated
 * indices) with ScatterNd, which every backend has: `tf.gather`'s own gradient needs
 * UnsortedSegmentSum, which the wasm backend lacks.
 */
export function gather1D(x: tf.Tensor1D, indices: Int32Array): tf.Tensor1D {
  const n = x.shape[0];
  const g = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const v = args[0] as tf.Tensor;
    return {
      value: tf.gather(v, tf.tensor1d(indices, 'int32')),
      gradFunc: (dy: tf.Tensor) => tf.scatterND(tf.tensor2d(indices, [indices.length, 1], 'int32'), dy, [n]),
    };
  });
  return g(x) as tf.Tensor1D;
}

/** A scalar zero that stays connected to `x` in the gradient graph (so an empty loss still backpropagates). */
export function zeroLoss(x: tf.Tensor): tf.Scalar {
  return tf.mul(tf.sum(x), 0) as tf.Scalar;
}

/**
 * Identity in the forward pass, zero gradient in the backward pass (PyTorch's `.detach()`), e.g. for
 * the row maximum subtracted inside a log-sum-exp.
 */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * Applies a non-differentiable function (comparisons, masks) to `x` so that backpropagation treats the
 * result as a constant: tfjs would otherwise fail with "gradient function not found for Greater" when a
 * comparison of a tensor on the gradient path feeds `tf.where`.
 */
export function detached<T extends tf.Tensor>(x: tf.Tensor, f: (x: tf.Tensor) => T): T {
  const g = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const a = args[0] as tf.Tensor;
    return { value: f(a), gradFunc: () => tf.zerosLike(a) };
  });
  return g(x) as T;
}

/** A finite stand-in for minus infinity that keeps `exp` at 0 and every gradient finite. */
const MASKED = -1e30;

/**
 * Row-wise log-sum-exp of `x` over the entries where `keep` is true (pytorch-metric-learning's
 * `lmu.logsumexp`). With `addOne`, a constant 0 logit joins every row, i.e. `log(1 + sum exp(x))`.
 * Rows with no kept entry give 0. Entries left out get no gradient and never produce NaN, even when
 * they hold huge values.
 *
 * @param x  [n, m] logits.
 * @param keep  [n, m] boolean mask (or 0/1 numbers) of the entries to include.
 * @returns [n] values.
 */
export function maskedLogSumExp(x: tf.Tensor2D, keep: tf.Tensor2D, addOne: boolean): tf.Tensor1D {
  return tf.tidy(() => {
    const k = keep.dtype === 'bool' ? keep : tf.cast(keep, 'bool');
    const filled = tf.where(k, x, MASKED);
    let m = tf.max(filled, 1, true);
    if (addOne) m = tf.maximum(m, 0);
    // Rows with nothing kept (and no added one) have m = MASKED: shift them by 0 instead.
    const mSafe = detached(m, (v) => tf.where(tf.greater(v, MASKED / 2), v, tf.zerosLike(v)));
    const e = tf.exp(tf.where(k, tf.sub(x, mSafe), MASKED));
    let s = tf.sum(e, 1, true);
    if (addOne) s = tf.add(s, tf.exp(tf.neg(mSafe)));
    const any = tf.any(k, 1, true);
    const sSafe = addOne ? s : tf.where(any, s, tf.onesLike(s));
    const out = tf.add(tf.log(sSafe), mSafe);
    return tf.reshape(tf.where(any, out, tf.zerosLike(out)), [-1]) as tf.Tensor1D;
  });
}
