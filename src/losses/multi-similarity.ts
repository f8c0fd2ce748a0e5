import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { PairIndices } from '../core/indices.js';
import { parseOptions } from '../core/options.js';
import { maskedLogSumExp } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import { MeanReducer } from '../reducers/mean-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { GenericPairLoss } from './generic-pair-loss.js';
import { pairMask } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link MultiSimilarityLoss} (PML's keyword arguments). */
export interface MultiSimilarityLossOptions extends DistanceLossOptions {
  /** Weight (inverse temperature) of the positive pairs. Default `2`. */
  alpha?: number;
  /** Weight (inverse temperature) of the negative pairs. Default `50`. */
  beta?: number;
  /** The similarity (or distance) the pairs are compared against. Default `0.5`. */
  base?: number;
  /** Default `CosineSimilarity()`. */
  distance?: DistanceLossOptions['distance'];
  /** Default `MeanReducer` (over every batch element). */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  alpha: z.number().finite().positive().default(2),
  beta: z.number().finite().positive().default(50),
  base: z.number().finite().default(0.5),
}).strict();

/**
 * Multi-similarity loss (Wang et al. 2019; PML `MultiSimilarityLoss`). Per batch element i, with
 * similarities s:
 * `(1/alpha) log(1 + sum_{p in P_i} exp(-alpha (s_ip - base))) + (1/beta) log(1 + sum_{n in N_i} exp(beta (s_in - base)))`;
 * for a distance the signs inside the exponentials flip. Elements without positives (negatives) get
 * 0 for that part. Reduction type `element`. Records `numPosPairs` and `numNegPairs`.
 */
export class MultiSimilarityLoss extends GenericPairLoss {
  readonly className: string = 'MultiSimilarityLoss';
  readonly distance: BaseDistance;
  readonly alpha: number;
  readonly beta: number;
  readonly base: number;

  constructor(options: MultiSimilarityLossOptions = {}) {
    super();
    const o = parseOptions('MultiSimilarityLoss', schema, options);
    this.alpha = o.alpha;
    this.beta = o.beta;
    this.base = o.base;
    this.distance = resolveDistance(o.distance, () => new CosineSimilarity());
    this.setReducer(o.reducer);
  }

  protected pairLoss(mat: tf.Tensor2D, pairs: PairIndices, _input: LossInput): LossDict {
    const [nq, nr] = mat.shape;
    const posMask = pairMask(pairs.anchors1, pairs.positives, nq, nr);
    const negMask = pairMask(pairs.anchors2, pairs.negatives, nq, nr);
    const base = tf.scalar(this.base);
    const posExp = tf.mul(this.distance.margin(mat, base), this.alpha) as tf.Tensor2D;
    const negExp = tf.mul(this.distance.margin(base, mat), this.beta) as tf.Tensor2D;
    const posLoss = tf.div(maskedLogSumExp(posExp, posMask, true), this.alpha);
    const negLoss = tf.div(maskedLogSumExp(negExp, negMask, true), this.beta);
    const indices = Int32Array.from({ length: nq }, (_, i) => i);
    return { loss: { losses: tf.add(posLoss, negLoss), indices, reductionType: 'element' } };
  }

  getConfig(): Record<string, unknown> {
    return this.configWith({ alpha: this.alpha, beta: this.beta, base: this.base });
  }
}

registry.register('MultiSimilarityLoss', (c) => new MultiSimilarityLoss(c as MultiSimilarityLossOptions));
