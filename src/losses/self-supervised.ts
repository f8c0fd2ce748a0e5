import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import type { LossDict } from '../reducers/base-reducer.js';
import type { BaseMetricLoss, LossInput } from './base-loss.js';
import { checkLossSupport, LossWrapper, lossSpecSchema, reducedTerm, resolveLoss, type LossSpec } from './loss-wrapper.js';
import { registry } from './registry.js';

/** The losses {@link SelfSupervisedLoss} accepts (PML's `supported_losses`). */
export const SELF_SUPERVISED_LOSSES: readonly string[] = [
  'AngularLoss', 'CircleLoss', 'ContrastiveLoss', 'GeneralizedLiftedStructureLoss', 'IntraPairVarianceLoss',
  'LiftedStructureLoss', 'MultiSimilarityLoss', 'NTXentLoss', 'SignalToNoiseRatioContrastiveLoss', 'SupConLoss',
  'TripletMarginLoss', 'NCALoss', 'TupletMarginLoss',
];

/** Options of {@link SelfSupervisedLoss} (PML's keyword arguments). */
export interface SelfSupervisedLossOptions {
  /** The wrapped loss; one of {@link SELF_SUPERVISED_LOSSES}. Required. */
  loss: LossSpec;
  /**
   * `true`: the loss sees both views as one batch of 2n embeddings, each view labelled 0..n-1, so each
   * view is an anchor for the other. `false`: the embeddings are the queries and the other view is the
   * reference set. Default `true`.
   */
  symmetric?: boolean;
}

const schema = z.object({ loss: lossSpecSchema, symmetric: z.boolean().default(true) }).strict();

/**
 * Self-supervised wrapper (PML `SelfSupervisedLoss`): row i of `embeddings` and row i of
 * `refEmbeddings` are two views (augmentations) of sample i, so they form a positive pair and every
 * other row is a negative. Call {@link computeViews}: labels are `0..n-1` for both views. With
 * `symmetric` the inner loss gets `concat([embeddings, refEmbeddings])` with labels
 * `concat([0..n-1, 0..n-1])`; otherwise it gets `refEmbeddings` as the reference set with labels
 * `0..n-1`.
 *
 * Through the plain `compute(embeddings, labels, indices, refEmbeddings, refLabels)` the given labels
 * name the samples instead of `0..n-1` (reference embeddings are required; index tuples are passed on
 * only when not symmetric, since they index the unconcatenated views).
 */
export class SelfSupervisedLoss extends LossWrapper {
  readonly className: string = 'SelfSupervisedLoss';
  readonly loss: BaseMetricLoss;
  readonly symmetric: boolean;

  constructor(options: SelfSupervisedLossOptions) {
    super();
    const o = parseOptions('SelfSupervisedLoss', schema, options);
    this.loss = resolveLoss(o.loss);
    checkLossSupport('SelfSupervisedLoss', this.loss, SELF_SUPERVISED_LOSSES);
    this.symmetric = o.symmetric;
  }

  /** The loss between two views of the same n samples (`embeddings` and `refEmbeddings` are both [n, dim]). */
  computeViews(embeddings: tf.Tensor2D, refEmbeddings: tf.Tensor2D): tf.Scalar {
    const n = embeddings.shape[0];
    if (refEmbeddings.shape[0] !== n) {
      throw new ShapeError(`SelfSupervisedLoss: refEmbeddings have ${refEmbeddings.shape[0]} rows but embeddings have ${n} (one view per sample)`);
    }
    const ids = Int32Array.from({ length: n }, (_, i) => i);
    return this.compute(embeddings, ids, undefined, refEmbeddings, ids.slice());
  }

  innerLosses(): BaseMetricLoss[] {
    return [this.loss];
  }

  protected computeLoss(input: LossInput): LossDict {
    const { embeddings, labels, refEmbeddings, refLabels } = input;
    if (refEmbeddings === undefined || refLabels === undefined) {
      throw new ShapeError('SelfSupervisedLoss: needs the second view as refEmbeddings (use computeViews(embeddings, refEmbeddings))');
    }
    if (!this.symmetric) return { loss: reducedTerm(this.loss.compute(embeddings, labels, input.indices, refEmbeddings, refLabels)) };
    if (input.indices !== undefined) {
      throw new ShapeError('SelfSupervisedLoss: index tuples are not supported when symmetric (they would index the unconcatenated views)');
    }
    const both = tf.concat([embeddings, refEmbeddings], 0) as tf.Tensor2D;
    const bothLabels = new Int32Array(labels.length + refLabels.length);
    bothLabels.set(labels);
    bothLabels.set(refLabels, labels.length);
    return { loss: reducedTerm(this.loss.compute(both, bothLabels)) };
  }

  getConfig(): Record<string, unknown> {
    return { loss: toConfig(this.loss), symmetric: this.symmetric };
  }
}

registry.register('SelfSupervisedLoss', (c) => new SelfSupervisedLoss(c as unknown as SelfSupervisedLossOptions));
