import type * as tf from '@tensorflow/tfjs';
import type { PairIndices } from '../core/indices.js';
import { toConfig } from '../core/registry.js';
import type { BaseDistance } from '../distances/base-distance.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { BaseMetricLoss, type LossInput } from './base-loss.js';
import { allPairMasks, countPairs, type PairMasks } from './pair-masks.js';
import { checkTuple, convertToPairs, pairsTooFew } from './tuples.js';

/**
 * The shared step of pair-based losses (PML `GenericPairLoss`): turn the input into positive and
 * negative pairs (miner pairs as given, miner triplets split into pairs, otherwise every pair), return
 * zero losses when there are none (PML's rule: every index array has at most one entry), compute the
 * distance matrix between the batch and the reference set, and hand both to {@link pairLoss}.
 *
 * Losses that only need to know which cells of the matrix are pairs implement {@link maskLoss}; without
 * miner tuples they then get every pair as two boolean masks, and the pairs are never listed.
 */
export abstract class GenericPairLoss extends BaseMetricLoss {
  /** The distance (or similarity) the loss is computed from. */
  abstract readonly distance: BaseDistance;

  /** Computes the loss dictionary from the [nQuery, nRef] distance matrix and the pairs. */
  protected abstract pairLoss(mat: tf.Tensor2D, pairs: PairIndices, input: LossInput): LossDict;

  /**
   * Computes the loss dictionary from the [nQuery, nRef] distance matrix and boolean masks of the
   * positive and negative pairs (each pair marked once). Used instead of {@link pairLoss} when there are
   * no miner tuples.
   */
  protected maskLoss?(mat: tf.Tensor2D, masks: PairMasks, input: LossInput): LossDict;

  protected computeLoss(input: LossInput): LossDict {
    const nQuery = input.embeddings.shape[0];
    const nRef = input.refEmbeddings ? input.refEmbeddings.shape[0] : nQuery;
    if (input.indices) checkTuple(input.indices, nQuery, nRef, this.className);
    if (input.indices === undefined && this.maskLoss) {
      const { numPos, numNeg } = countPairs(input.labels, input.refLabels);
      this.records.numPosPairs = numPos;
      this.records.numNegPairs = numNeg;
      if (numPos <= 1 && numNeg <= 1) return this.zeroLosses();
      const mat = this.distance.matrix(input.embeddings, input.refEmbeddings);
      return this.maskLoss(mat, allPairMasks(input.labels, input.refLabels), input);
    }
    const pairs = convertToPairs(input.indices, input.labels, input.refLabels);
    this.records.numPosPairs = pairs.anchors1.length;
    this.records.numNegPairs = pairs.anchors2.length;
    if (pairsTooFew(pairs)) return this.zeroLosses();
    const mat = this.distance.matrix(input.embeddings, input.refEmbeddings);
    return this.pairLoss(mat, pairs, input);
  }

  /** `{ distance, reducer }` as `{ className, config }`, plus `own` (the subclass's options). */
  protected configWith(own: Record<string, unknown>): Record<string, unknown> {
    return { distance: toConfig(this.distance), reducer: toConfig(this.reducer), ...own };
  }
}
