import * as tf from '@tensorflow/tfjs';
import { detached, safeSqrt } from '../core/tensor.js';
import { BaseDistance, type BaseDistanceOptions } from './base-distance.js';
import { zeroDiagonal } from './diagonal.js';
import { l2DistanceMatrix } from '../backend/fused.js';
import { registry } from './registry.js';

/** Options of {@link LpDistance} (pytorch-metric-learning's `LpDistance` keyword arguments). */
export interface LpDistanceOptions extends BaseDistanceOptions {
  /** L2-normalise (p-normalise) embeddings before computing distances. Default `true`. */
  normalizeEmbeddings?: boolean;
  /** The norm of the distance `||q - r||_p` (and of the normalisation). Default `2`. */
  p?: number;
  /** Raise every distance to this power (2 gives squared distances). Default `1`. */
  power?: number;
}

/**
 * The Minkowski distance `||q - r||_p` (PML `LpDistance`; not inverted: smaller = closer). By default
 * embeddings are normalised first, so distances lie in [0, 2] for p = 2.
 *
 * p = 2 is computed as `||q||² + ||r||² - 2 q·r`, clamped at 0, through a square root whose gradient
 * is 0 at 0, so identical embeddings give a zero distance and a zero (never NaN) gradient. Other p
 * broadcast the differences ([nQuery, nRef, dim] memory).
 */
export class LpDistance extends BaseDistance {
  readonly className: string = 'LpDistance';
  readonly isInverted = false;

  constructor(options: LpDistanceOptions = {}) {
    super(options, 'LpDistance');
  }

  protected computeMatrix(query: tf.Tensor2D, ref: tf.Tensor2D): tf.Tensor2D {
    const same = query === ref;
    if (this.p === 2) {
      // One kernel each way where the backend has it (wasm), the same computation below elsewhere.
      const fused = l2DistanceMatrix(query, same ? undefined : ref);
      if (fused) return fused;
      // The squared norms come from the matmul that gives the dot products (row i with itself), so an
      // embedding compared with an identical one (the same rows in another tensor) gets |q|^2 and q.r
      // summed in the same order, and an exact 0.
      const qq = rowSquares(query);
      const rr = tf.reshape(rowSquares(ref), [1, -1]);
      let d2 = tf.relu(tf.sub(tf.add(qq, rr), tf.mul(tf.matMul(query, ref, false, true), 2))) as tf.Tensor2D;
      if (same) d2 = zeroDiagonal(d2);
      return safeSqrt(d2) as tf.Tensor2D;
    }
    const diff = tf.abs(tf.sub(tf.expandDims(query, 1), tf.expandDims(ref, 0)));
    return this.reduceNorm(diff, 2) as tf.Tensor2D;
  }

  protected computePairwise(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
    const diff = tf.sub(a, b);
    if (this.p === 2) return safeSqrt(tf.sum(tf.square(diff), 1)) as tf.Tensor1D;
    return this.reduceNorm(tf.abs(diff), 1) as tf.Tensor1D;
  }

  /** `(sum |x|^p)^(1/p)` along `axis`, with a zero gradient where the norm is 0. */
  private reduceNorm(absDiff: tf.Tensor, axis: number): tf.Tensor {
    if (this.p === 1) return tf.sum(absDiff, axis);
    const s = tf.sum(tf.pow(absDiff, this.p), axis);
    const positive = detached(s, (v) => tf.greater(v, 0));
    const root = tf.pow(tf.where(positive, s, tf.onesLike(s)), 1 / this.p);
    return tf.where(positive, root, tf.zerosLike(s));
  }
}

/** `|x_i|^2` per row as [n, 1], each from a 1 x dim by dim x 1 matmul (the dot products' summation). */
function rowSquares(x: tf.Tensor2D): tf.Tensor2D {
  const [n, dim] = x.shape;
  return tf.reshape(tf.matMul(tf.reshape(x, [n, 1, dim]), tf.reshape(x, [n, dim, 1])), [n, 1]);
}

registry.register('LpDistance', (c) => new LpDistance(c));
