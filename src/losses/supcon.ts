import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { PairIndices } from '../core/indices.js';
import { parseOptions } from '../core/options.js';
import { maskedLogSumExp } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import { AvgNonZeroReducer } from '../reducers/avg-non-zero-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { GenericPairLoss } from './generic-pair-loss.js';
import { pairMask } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link SupConLoss} (PML's keyword arguments). */
export interface SupConLossOptions extends DistanceLossOptions {
  /** Softmax temperature. Default `0.1`. */
  temperature?: number;
  /** Default `CosineSimilarity()`; with a distance, negated distances are used as similarities. */
  distance?: DistanceLossOptions['distance'];
  /** Default `AvgNonZeroReducer` (over batch elements). */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  temperature: z.number().finite().positive().default(0.1),
}).strict();

/**
 * Supervised contrastive loss (Khosla et al. 2020; PML `SupConLoss`). Per batch element i with
 * positives P_i and negatives N_i (as sets: a pair listed twice counts once):
 * `-(1/|P_i|) sum_{p in P_i} log(exp(s_ip/t) / sum_{j in P_i ∪ N_i} exp(s_ij/t))`; 0 when P_i is
 * empty. Zero losses unless there is at least one positive and one negative pair. Reduction type
 * `element`. Records `numPosPairs` and `numNegPairs`.
 */
export class SupConLoss extends GenericPairLoss {
  readonly className: string = 'SupConLoss';
  readonly distance: BaseDistance;
  readonly temperature: number;

  constructor(options: SupConLossOptions = {}) {
    super();
    const o = parseOptions('SupConLoss', schema, options);
    this.temperature = o.temperature;
    this.distance = resolveDistance(o.distance, () => new CosineSimilarity());
    this.setReducer(o.reducer);
  }

  subLossNames(): string[] {
    return ['loss'];
  }

  defaultReducer(): BaseReducer {
    return new AvgNonZeroReducer();
  }

  protected pairLoss(mat: tf.Tensor2D, pairs: PairIndices, _input: LossInput): LossDict {
    if (pairs.anchors1.length === 0 || pairs.anchors2.length === 0) return this.zeroLosses();
    const [nq, nr] = mat.shape;
    const posMask = pairMask(pairs.anchors1, pairs.positives, nq, nr);
    const negMask = pairMask(pairs.anchors2, pairs.negatives, nq, nr);
    const sim = this.distance.isInverted ? mat : tf.neg(mat);
    const logits = tf.div(sim, this.temperature) as tf.Tensor2D;
    const denom = maskedLogSumExp(logits, tf.logicalOr(posMask, negMask) as tf.Tensor2D, false);
    const logProb = tf.sub(logits, tf.expandDims(denom, 1));
    const posCount = new Float32Array(nq);
    const seen = new Set<number>();
    for (let i = 0; i < pairs.anchors1.length; i++) {
      const key = pairs.anchors1[i] * nr + pairs.positives[i];
      if (!seen.has(key)) { seen.add(key); posCount[pairs.anchors1[i]] += 1; }
    }
    const divisor = tf.tensor1d(posCount.map((c) => Math.max(c, 1)));
    const sumPos = tf.sum(tf.where(posMask, logProb, tf.zerosLike(logProb)), 1);
    const losses = tf.neg(tf.div(sumPos, divisor));
    const indices = Int32Array.from({ length: nq }, (_, i) => i);
    return { loss: { losses, indices, reductionType: 'element' } };
  }

  getConfig(): Record<string, unknown> {
    return this.configWith({ temperature: this.temperature });
  }
}

registry.register('SupConLoss', (c) => new SupConLoss(c as SupConLossOptions));
