import * as tf from '@tensorflow/tfjs';
import { BaseDistance, type BaseDistanceOptions } from './base-distance.js';
import { zeroDiagonal } from './diagonal.js';
import { registry } from './registry.js';

/** Options of {@link SNRDistance} (pytorch-metric-learning's keyword arguments). */
export interface SNRDistanceOptions extends BaseDistanceOptions {
  /** Normalise embeddings (to unit p-norm) first. Default `true`. */
  normalizeEmbeddings?: boolean;
  /** The norm used for normalisation. Default `2`. */
  p?: number;
  /** Raise every distance to this power. Default `1`. */
  power?: number;
}

/**
 * Signal-to-noise-ratio distance (PML `SNRDistance`, Yuan et al. 2019): `var(q - r) / var(q)`, the
 * variance of the difference over the variance of the anchor, each taken over the embedding
 * dimensions. PML uses unbiased variances; the (n - 1) factors cancel in the ratio. Not inverted and
 * not symmetric. The matrix form uses `var(q - r) = var(q) + var(r) - 2 cov(q, r)` (no
 * [nQuery, nRef, dim] tensor).
 */
export class SNRDistance extends BaseDistance {
  readonly className: string = 'SNRDistance';
  readonly isInverted = false;

  constructor(options: SNRDistanceOptions = {}) {
    super(options, 'SNRDistance');
  }

  protected computeMatrix(query: tf.Tensor2D, ref: tf.Tensor2D): tf.Tensor2D {
    const d = query.shape[1];
    const qc = tf.sub(query, tf.mean(query, 1, true));
    const rc = ref === query ? qc : tf.sub(ref, tf.mean(ref, 1, true));
    const vq = tf.div(tf.sum(tf.square(qc), 1, true), d);
    const vr = ref === query ? tf.reshape(vq, [1, -1]) : tf.reshape(tf.div(tf.sum(tf.square(rc), 1), d), [1, -1]);
    const cov = tf.div(tf.matMul(qc, rc, false, true), d);
    let num = tf.relu(tf.sub(tf.add(vq, vr), tf.mul(cov, 2))) as tf.Tensor2D;
    if (ref === query) num = zeroDiagonal(num);
    return tf.div(num, vq) as tf.Tensor2D;
  }

  protected computePairwise(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
    const va = tf.moments(a, 1).variance;
    const vd = tf.moments(tf.sub(a, b), 1).variance;
    return tf.div(vd, va) as tf.Tensor1D;
  }
}

registry.register('SNRDistance', (c) => new SNRDistance(c));
