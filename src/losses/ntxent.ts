import * as tf from '@tensorflow/tfjs';
import type { PairIndices } from '../core/indices.js';
import { gather1D, gatherPairs, maskedLogSumExp } from '../core/tensor.js';
import { MeanReducer } from '../reducers/mean-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import type { LossInput } from './base-loss.js';
import { TemperaturePairLoss, type TemperaturePairLossOptions } from './temperature-pair-loss.js';
import { pairCounts } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link NTXentLoss} (PML's keyword arguments): temperature (default `0.07`), distance (default `CosineSimilarity()`), reducer (default `MeanReducer`, over positive pairs). */
export type NTXentLossOptions = TemperaturePairLossOptions;

/**
 * NT-Xent / InfoNCE (Chen et al. 2020, SimCLR; PML `NTXentLoss`). For every positive pair (a, p):
 * `-log(exp(s_ap/t) / (exp(s_ap/t) + sum_{(a, n) negative pairs} exp(s_an/t)))`, with the negative
 * pairs of the same anchor (each counted as often as it occurs). A positive pair whose anchor has no
 * negative pair gets 0. Reduction type `pos_pair`. Records `numPosPairs` and `numNegPairs`.
 *
 * Computed as `softplus(logsumexp_n(s_an/t) - s_ap/t)` with the log-sum-exp taken once per anchor row,
 * so memory stays [nQuery, nRef] (PML builds a [positive pairs, negative pairs] matrix).
 */
export class NTXentLoss extends TemperaturePairLoss {
  readonly className: string = 'NTXentLoss';

  constructor(options: NTXentLossOptions = {}) {
    super('NTXentLoss', 0.07, options);
  }

  protected pairLoss(mat: tf.Tensor2D, pairs: PairIndices, _input: LossInput): LossDict {
    const { anchors1: a1, positives: p, anchors2: a2, negatives: n } = pairs;
    if (a1.length === 0 || a2.length === 0) return this.zeroLosses();
    const [nq, nr] = mat.shape;
    const logits = this.logits(mat);
    // Negative pairs as per-cell counts: log-sum-exp over (logit + log count) repeats duplicates.
    const counts = pairCounts(a2, n, nq, nr);
    const logCounts = new Float32Array(counts.length);
    for (let i = 0; i < counts.length; i++) logCounts[i] = counts[i] > 0 ? Math.log(counts[i]) : 0;
    const keep = tf.tensor2d(Uint8Array.from(counts, (c) => (c > 0 ? 1 : 0)), [nq, nr], 'bool');
    const negLse = maskedLogSumExp(tf.add(logits, tf.tensor2d(logCounts, [nq, nr])) as tf.Tensor2D, keep, false);
    const hasNeg = new Uint8Array(nq);
    for (let j = 0; j < a2.length; j++) hasNeg[a2[j]] = 1;
    const posHasNeg = tf.tensor1d(Uint8Array.from(a1, (a) => hasNeg[a]), 'bool');
    const pos = gatherPairs(logits, a1, p);
    const perPair = tf.softplus(tf.sub(gather1D(negLse, a1), pos));
    const losses = tf.where(posHasNeg, perPair, tf.zerosLike(perPair));
    return { loss: { losses, indices: [a1, p], reductionType: 'pos_pair' } };
  }
}

registry.register('NTXentLoss', (c) => new NTXentLoss(c as NTXentLossOptions));
