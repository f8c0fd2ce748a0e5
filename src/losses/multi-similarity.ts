import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { PairIndices } from '../core/indices.js';
import { parseOptions } from '../core/options.js';
import { maskedLogSumExp } from '../backend/fused.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import { MeanReducer } from '../reducers/mean-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { GenericPairLoss } from './generic-pair-loss.js';
import { masksFromPairs, type PairMasks } from './pair-masks.js';
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

  protected pairLoss(mat: tf.Tensor2D, pairs: PairIndices, input: LossInput): LossDict {
    return this.maskLoss(mat, masksFromPairs(pairs, mat.shape[0], mat.shape[1]), input);
  }

  protected override maskLoss(mat: tf.Tensor2D, masks: PairMasks, _input: LossInput): LossDict {
    const nq = mat.shape[0];
    // alpha * margin(s, base) and beta * margin(base, s) as scale * (s - base): margin(x, y) is y - x
    // for a similarity and x - y for a distance.
    const sign = this.distance.isInverted ? -1 : 1;
    const posLse = maskedLogSumExp(mat, masks.pos, { addOne: true, scale: sign * this.alpha, shift: this.base });
    const negLse = maskedLogSumExp(mat, masks.neg, { addOne: true, scale: -sign * this.beta, shift: this.base });
    const losses = tf.add(tf.div(posLse, this.alpha), tf.div(negLse, this.beta));
    const indices = Int32Array.from({ length: nq }, (_, i) => i);
    return { loss: { losses, indices, reductionType: 'element' } };
  }

  getConfig(): Record<string, unknown> {
    return this.configWith({ alpha: this.alpha, beta: this.beta, base: this.base });
  }
}

registry.register('MultiSimilarityLoss', (c) => new MultiSimilarityLoss(c as MultiSimilarityLossOptions));
