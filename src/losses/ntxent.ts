import * as tf from '@tensorflow/tfjs';
import type { PairIndices } from '../core/indices.js';
import { gather1D, gatherPairs } from '../core/tensor.js';
import { maskedLogSumExp } from '../backend/fused.js';
import { MeanReducer } from '../reducers/mean-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import type { LossInput } from './base-loss.js';
import { TemperaturePairLoss, type TemperaturePairLossOptions } from './temperature-pair-loss.js';
import { pairCounts } from './tuples.js';
import { positivePairs, type PairMasks } from './pair-masks.js';
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
 * so memory stays [nQuery, nRef] (PML builds a [positive pairs, negative pairs] matrix). Without miner
 * tuples the negatives are a mask and only the positive pairs are listed.
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
    // Negative pairs as per-cell counts: a pair listed twice enters the sum twice.
    const counts = tf.tensor2d(pairCounts(a2, n, nq, nr), [nq, nr]);
    const hasNeg = new Uint8Array(nq);
    for (let j = 0; j < a2.length; j++) hasNeg[a2[j]] = 1;
    return this.perPositive(this.logits(mat), counts, a1, p, hasNeg);
  }

  protected override maskLoss(mat: tf.Tensor2D, masks: PairMasks, input: LossInput): LossDict {
    if (this.records.numPosPairs === 0 || this.records.numNegPairs === 0) return this.zeroLosses();
    const { anchors, positives } = positivePairs(input.labels, input.refLabels);
    // A row has a negative unless every reference item shares its label.
    const ref = input.refLabels ?? input.labels;
    const labelsInRef = new Map<number, number>();
    for (let j = 0; j < ref.length; j++) labelsInRef.set(ref[j], (labelsInRef.get(ref[j]) ?? 0) + 1);
    const hasNeg = Uint8Array.from(input.labels, (l) => ((labelsInRef.get(l) ?? 0) < ref.length ? 1 : 0));
    return this.perPositive(this.logits(mat), masks.neg, anchors, positives, hasNeg);
  }

  /**
   * `softplus(lse_n(l_an) - l_ap)` per positive pair (a, p), with the log-sum-exp over the row's
   * negatives (`negatives`: a mask or per-cell counts); 0 for anchors without negatives.
   */
  private perPositive(logits: tf.Tensor2D, negatives: tf.Tensor2D, a1: Int32Array, p: Int32Array, hasNeg: Uint8Array): LossDict {
    const negLse = maskedLogSumExp(logits, negatives);
    const posHasNeg = tf.tensor1d(Uint8Array.from(a1, (a) => hasNeg[a]), 'bool');
    const pos = gatherPairs(logits, a1, p);
    const perPair = tf.softplus(tf.sub(gather1D(negLse, a1), pos));
    const losses = tf.where(posHasNeg, perPair, tf.zerosLike(perPair));
    return { loss: { losses, indices: [a1, p], reductionType: 'pos_pair' } };
  }
}

registry.register('NTXentLoss', (c) => new NTXentLoss(c as NTXentLossOptions));
