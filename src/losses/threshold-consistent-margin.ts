import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import { detached, gatherPairs } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { BaseMetricLoss, distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { requireCosine } from './distance-checks.js';
import { lossSpecSchema, resolveLoss, type LossSpec } from './loss-wrapper.js';
import { checkTuple, convertToPairs } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link ThresholdConsistentMarginLoss} (PML's keyword arguments, in camelCase). */
export interface ThresholdConsistentMarginLossOptions extends DistanceLossOptions {
  /**
   * A loss to add the TCM term to, e.g. a ContrastiveLoss (not a PML option: PML 2.8.1's loss is the TCM
   * term alone, combined with a base loss through `MultipleLosses`; this is the same sum). Default: none.
   */
  baseLoss?: LossSpec;
  /** Weight of the positive term. Default `1`. */
  lambdaPlus?: number;
  /** Weight of the negative term. Default `1`. */
  lambdaMinus?: number;
  /** Positive pairs with cosine similarity at most this are penalised. Default `0.9`. */
  marginPlus?: number;
  /** Negative pairs with cosine similarity at least this are penalised. Default `0.5`. */
  marginMinus?: number;
  /** Must be `CosineSimilarity` (as PML; the TCM term always uses plain cosine similarities). Default `CosineSimilarity()`. */
  distance?: DistanceLossOptions['distance'];
  /** Default `MeanReducer` (the loss is already reduced, so any reducer passes it through). */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  baseLoss: lossSpecSchema.optional(),
  lambdaPlus: z.number().finite().default(1),
  lambdaMinus: z.number().finite().default(1),
  marginPlus: z.number().finite().default(0.9),
  marginMinus: z.number().finite().default(0.5),
}).strict();

/**
 * Threshold-consistent margin loss (Zhang et al. 2023; PML `ThresholdConsistentMarginLoss`): a term
 * that pushes positive pairs above `marginPlus` and negative pairs below `marginMinus` in cosine
 * similarity: `lambdaPlus mean_{pos: s <= m+}(m+ - s) + lambdaMinus mean_{neg: s >= m-}(s - m-)`, each
 * mean 0 when no pair qualifies. The pairs are the miner's (triplets split into pairs) or every pair.
 * Already reduced. As in PML the term is meant to be added to a base loss (PML:
 * `MultipleLosses([base, ThresholdConsistentMarginLoss()])`); the optional `baseLoss` adds one here,
 * computed on the same inputs, and its trainable weights are listed in {@link trainableWeights} and
 * freed by {@link dispose}. With reference embeddings the pair similarities are taken between
 * the batch and the reference set (PML indexes the batch with reference indices there).
 */
export class ThresholdConsistentMarginLoss extends BaseMetricLoss {
  readonly className: string = 'ThresholdConsistentMarginLoss';
  /** The loss the term is added to, or null (PML's loss: the term alone). */
  readonly baseLoss: BaseMetricLoss | null;
  readonly lambdaPlus: number;
  readonly lambdaMinus: number;
  readonly marginPlus: number;
  readonly marginMinus: number;
  readonly distance: BaseDistance;
  private readonly cosine = new CosineSimilarity();

  constructor(options: ThresholdConsistentMarginLossOptions = {}) {
    super();
    const o = parseOptions('ThresholdConsistentMarginLoss', schema, options);
    this.baseLoss = o.baseLoss === undefined ? null : resolveLoss(o.baseLoss);
    this.lambdaPlus = o.lambdaPlus;
    this.lambdaMinus = o.lambdaMinus;
    this.marginPlus = o.marginPlus;
    this.marginMinus = o.marginMinus;
    this.distance = resolveDistance(o.distance, () => new CosineSimilarity());
    requireCosine('ThresholdConsistentMarginLoss', this.distance);
    this.setReducer(o.reducer);
  }

  override get trainableWeights(): tf.Variable[] {
    return this.baseLoss ? this.baseLoss.trainableWeights : [];
  }

  /** Frees the base loss's tensors. */
  override dispose(): void {
    this.baseLoss?.dispose();
  }

  protected computeLoss(input: LossInput): LossDict {
    const nQuery = input.labels.length;
    const nRef = input.refLabels ? input.refLabels.length : nQuery;
    if (input.indices) checkTuple(input.indices, nQuery, nRef, this.className);
    const pairs = convertToPairs(input.indices, input.labels, input.refLabels);
    this.records.numPosPairs = pairs.anchors1.length;
    this.records.numNegPairs = pairs.anchors2.length;
    const terms: tf.Tensor[] = [];
    if (this.baseLoss) terms.push(this.baseLoss.compute(input.embeddings, input.labels, input.indices, input.refEmbeddings, input.refLabels));
    const sim = this.cosine.matrix(input.embeddings, input.refEmbeddings);
    if (pairs.anchors1.length > 0) {
      const gap = tf.sub(this.marginPlus, gatherPairs(sim, pairs.anchors1, pairs.positives));
      terms.push(tf.mul(meanOverNonNegative(gap), this.lambdaPlus));
    }
    if (pairs.anchors2.length > 0) {
      const gap = tf.sub(gatherPairs(sim, pairs.anchors2, pairs.negatives), this.marginMinus);
      terms.push(tf.mul(meanOverNonNegative(gap), this.lambdaMinus));
    }
    if (terms.length === 0) return this.zeroLosses();
    return { loss: { losses: terms.length === 1 ? terms[0] : tf.addN(terms), indices: null, reductionType: 'already_reduced' } };
  }

  getConfig(): Record<string, unknown> {
    return {
      ...(this.baseLoss ? { baseLoss: toConfig(this.baseLoss) } : {}), lambdaPlus: this.lambdaPlus, lambdaMinus: this.lambdaMinus,
      marginPlus: this.marginPlus, marginMinus: this.marginMinus,
      distance: toConfig(this.distance), reducer: toConfig(this.reducer),
    };
  }
}

/** The mean of the entries of `gap` that are >= 0, or 0 when there are none. */
function meanOverNonNegative(gap: tf.Tensor): tf.Scalar {
  const keep = tf.cast(detached(gap, (g) => tf.greaterEqual(g, 0)), 'float32');
  const count = tf.sum(keep);
  return tf.div(tf.sum(tf.mul(gap, keep)), tf.maximum(count, 1)) as tf.Scalar;
}

registry.register('ThresholdConsistentMarginLoss', (c) => new ThresholdConsistentMarginLoss(c as unknown as ThresholdConsistentMarginLossOptions));
