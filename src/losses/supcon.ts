import * as tf from '@tensorflow/tfjs';
import type { PairIndices } from '../core/indices.js';
import { maskedLogSumExp } from '../core/tensor.js';
import { AvgNonZeroReducer } from '../reducers/avg-non-zero-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import type { LossInput } from './base-loss.js';
import { TemperaturePairLoss, type TemperaturePairLossOptions } from './temperature-pair-loss.js';
import { pairMask } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link SupConLoss} (PML's keyword arguments): temperature (default `0.1`), distance (default `CosineSimilarity()`), reducer (default `AvgNonZeroReducer`, over batch elements). */
export type SupConLossOptions = TemperaturePairLossOptions;

/**
 * Supervised contrastive loss (Khosla et al. 2020; PML `SupConLoss`). Per batch element i with
 * positives P_i and negatives N_i (as sets: a pair listed twice counts once):
 * `-(1/|P_i|) sum_{p in P_i} log(exp(s_ip/t) / sum_{j in P_i ∪ N_i} exp(s_ij/t))`; 0 when P_i is
 * empty. Zero losses unless there is at least one positive and one negative pair. Reduction type
 * `element`. Records `numPosPairs` and `numNegPairs`.
 */
export class SupConLoss extends TemperaturePairLoss {
  readonly className: string = 'SupConLoss';

  constructor(options: SupConLossOptions = {}) {
    super('SupConLoss', 0.1, options);
  }

  override defaultReducer(): BaseReducer {
    return new AvgNonZeroReducer();
  }

  protected pairLoss(mat: tf.Tensor2D, pairs: PairIndices, _input: LossInput): LossDict {
    if (pairs.anchors1.length === 0 || pairs.anchors2.length === 0) return this.zeroLosses();
    const [nq, nr] = mat.shape;
    const posMask = pairMask(pairs.anchors1, pairs.positives, nq, nr);
    const negMask = pairMask(pairs.anchors2, pairs.negatives, nq, nr);
    const logits = this.logits(mat);
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
}

registry.register('SupConLoss', (c) => new SupConLoss(c as SupConLossOptions));
