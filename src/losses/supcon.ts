import * as tf from '@tensorflow/tfjs';
import type { PairIndices } from '../core/indices.js';
import { supConRows } from '../backend/fused.js';
import { AvgNonZeroReducer } from '../reducers/avg-non-zero-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import type { LossInput } from './base-loss.js';
import { TemperaturePairLoss, type TemperaturePairLossOptions } from './temperature-pair-loss.js';
import { masksFromPairs, type PairMasks } from './pair-masks.js';
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

  protected pairLoss(mat: tf.Tensor2D, pairs: PairIndices, input: LossInput): LossDict {
    if (pairs.anchors1.length === 0 || pairs.anchors2.length === 0) return this.zeroLosses();
    return this.maskLoss(mat, masksFromPairs(pairs, mat.shape[0], mat.shape[1]), input);
  }

  /**
   * With `P_i` the row's positives and `d_i` the log-sum-exp over `P_i ∪ N_i`:
   * `sum_{p in P_i} (l_ip - d_i) = sum_p l_ip - |P_i| d_i`, so no [nQuery, nRef] log-probability matrix
   * is formed.
   */
  protected override maskLoss(mat: tf.Tensor2D, masks: PairMasks, _input: LossInput): LossDict {
    // The pair counts of this call (set before the masks are made; duplicates included, as PML checks).
    if (this.records.numPosPairs === 0 || this.records.numNegPairs === 0) return this.zeroLosses();
    const nq = mat.shape[0];
    // The denominator runs over positives and negatives: the kernel adds the positives to `neg` itself.
    const losses = supConRows(this.logits(mat), masks.pos, masks.neg);
    const indices = Int32Array.from({ length: nq }, (_, i) => i);
    return { loss: { losses, indices, reductionType: 'element' } };
  }
}

registry.register('SupConLoss', (c) => new SupConLoss(c as SupConLossOptions));
