import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import type { PairIndices } from '../core/indices.js';
import { parseOptions } from '../core/options.js';
import { maskedLogSumExp, stopGradient } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import { AvgNonZeroReducer } from '../reducers/avg-non-zero-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { GenericPairLoss } from './generic-pair-loss.js';
import { range } from './rows.js';
import { pairMask } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link CircleLoss} (PML's keyword arguments). */
export interface CircleLossOptions extends DistanceLossOptions {
  /** Relaxation margin m. Default `0.4`. */
  m?: number;
  /** Scale gamma. Default `80`. */
  gamma?: number;
  /** Must be `CosineSimilarity`. Default `CosineSimilarity()`. */
  distance?: DistanceLossOptions['distance'];
  /** Default `AvgNonZeroReducer` (over batch elements). */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  m: z.number().finite().default(0.4),
  gamma: z.number().finite().default(80),
}).strict();

/**
 * Circle loss (Sun et al. 2020; PML `CircleLoss`). Per batch element i with positive similarities s_p and
 * negative similarities s_n:
 * `softplus(logsumexp_p(-gamma a_p (s_p - (1 - m))) + logsumexp_n(gamma a_n (s_n - m)))` with
 * `a_p = relu(1 + m - s_p)`, `a_n = relu(s_n + m)` taken without gradient; 0 for elements without
 * positives or without negatives. Reduction type `element`.
 */
export class CircleLoss extends GenericPairLoss {
  readonly className: string = 'CircleLoss';
  readonly distance: BaseDistance;
  readonly m: number;
  readonly gamma: number;

  constructor(options: CircleLossOptions = {}) {
    super();
    const o = parseOptions('CircleLoss', schema, options);
    this.m = o.m;
    this.gamma = o.gamma;
    this.distance = resolveDistance(o.distance, () => new CosineSimilarity());
    if (!(this.distance instanceof CosineSimilarity)) {
      throw new ConfigError(`CircleLoss: option 'distance' must be a CosineSimilarity (got ${this.distance.className})`);
    }
    this.setReducer(o.reducer);
  }

  override defaultReducer(): BaseReducer {
    return new AvgNonZeroReducer();
  }

  protected pairLoss(mat: tf.Tensor2D, pairs: PairIndices, _input: LossInput): LossDict {
    const [nq, nr] = mat.shape;
    const posMask = pairMask(pairs.anchors1, pairs.positives, nq, nr);
    const negMask = pairMask(pairs.anchors2, pairs.negatives, nq, nr);
    const fixed = stopGradient(mat);
    const posLogits = tf.mul(tf.mul(tf.relu(tf.sub(1 + this.m, fixed)), tf.sub(mat, 1 - this.m)), -this.gamma) as tf.Tensor2D;
    const negLogits = tf.mul(tf.mul(tf.relu(tf.add(fixed, this.m)), tf.sub(mat, this.m)), this.gamma) as tf.Tensor2D;
    const losses = tf.softplus(tf.add(maskedLogSumExp(posLogits, posMask, false), maskedLogSumExp(negLogits, negMask, false)));
    const both = tf.logicalAnd(tf.any(posMask, 1), tf.any(negMask, 1));
    return { loss: { losses: tf.where(both, losses, tf.zerosLike(losses)), indices: range(nq), reductionType: 'element' } };
  }

  getConfig(): Record<string, unknown> {
    return this.configWith({ m: this.m, gamma: this.gamma });
  }
}

registry.register('CircleLoss', (c) => new CircleLoss(c as CircleLossOptions));
