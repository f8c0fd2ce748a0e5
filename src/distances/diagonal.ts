import * as tf from '@tensorflow/tfjs';

/**
 * Sets the diagonal of a square matrix to exactly 0 (no gradient flows through it). Used for the
 * distance of every embedding to itself, which the expanded formulas only get to within rounding.
 * The diagonal mask is a one-hot of 0 .. n-1, made by the backend (`tf.eye` fills an n x n array on the
 * host and uploads it: for n = 1024, a 4 MB allocation on every call).
 */
export function zeroDiagonal(mat: tf.Tensor2D): tf.Tensor2D {
  const [n, m] = mat.shape;
  if (n !== m) return mat;
  const diagonal = tf.cast(tf.oneHot(tf.range(0, n, 1, 'int32'), n), 'bool');
  return tf.where(diagonal, tf.zerosLike(mat), mat) as tf.Tensor2D;
}
