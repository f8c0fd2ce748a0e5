import * as tf from '@tensorflow/tfjs';

/**
 * Sets the diagonal of a square matrix to exactly 0 (no gradient flows through it). Used for the
 * distance of every embedding to itself, which the expanded formulas only get to within rounding.
 */
export function zeroDiagonal(mat: tf.Tensor2D): tf.Tensor2D {
  const [n, m] = mat.shape;
  if (n !== m) return mat;
  return tf.where(tf.cast(tf.eye(n), 'bool'), tf.zerosLike(mat), mat) as tf.Tensor2D;
}
