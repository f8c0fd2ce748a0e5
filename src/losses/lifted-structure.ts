import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { PairIndices } from '../core/indices.js';
import { parseOptions } from '../core/options.js';
import { gatherPairs, maskedLogSumExp } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/lp-distance.js';
import { MeanReducer } from '../reducers/mean-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { GenericPairLoss } from './generic-pair-loss.js';
import { registry } from './registry.js';

/** Options of {@link LiftedStructureLoss} and GeneralizedLiftedStructureLoss (PML's keyword arguments). */
export interface LiftedStructureLossOptions extends DistanceLossOptions {
  /** Negative pairs should be farther apart than this (for a similarity: less similar). Default `1`. */
  negMargin?: number;
  /** Positive pairs should be closer than this (for a similarity: more similar). Default `0`. */
  posMargin?: number;
  /** Default `LpDistance()`. */
  distance?: DistanceLossOptions['distance'];
  /** Default `MeanReducer`. */
  reducer?: DistanceLossOptions['reducer'];
}

const liftedSchema = distanceLossSchema.extend({
  negMargin: z.number().finite().default(1),
  posMargin: z.number().finite().default(0),
}).strict();

/**
 * Lifted structure loss (Oh Song et al. 2016; PML `LiftedStructureLoss`). Per positive pair (a, p), over
 * the negative pairs (a2, n) whose anchor a2 is a or p:
 * `relu(logsumexp(negMargin - d_a2n) + d_ap - posMargin)^2 / 2` (signs flip for a similarity, as PML's
 * `distance.margin`). Zero losses unless there is a positive and a negative pair. Reduction type `pos_pair`.
 */
export class LiftedStructureLoss extends GenericPairLoss {
  readonly className: string = 'LiftedStructureLoss';
  readonly distance: BaseDistance;
  readonly negMargin: number;
  readonly posMargin: number;

  constructor(options: LiftedStructureLossOptions = {}, owner = 'LiftedStructureLoss') {
    super();
    const o = parseOptions(owner, liftedSchema, options);
    this.negMargin = o.negMargin;
    this.posMargin = o.posMargin;
    this.distance = resolveDistance(o.distance, () => new LpDistance());
    this.setReducer(o.reducer);
  }

  protected pairLoss(mat: tf.Tensor2D, pairs: PairIndices, _input: LossInput): LossDict {
    const { anchors1: a1, positives: p, anchors2: a2, negatives: n } = pairs;
    if (a1.length === 0 || a2.length === 0) return this.zeroLosses();
    const keep = new Uint8Array(a1.length * a2.length);
    for (let i = 0; i < a1.length; i++) {
      for (let j = 0; j < a2.length; j++) if (a2[j] === a1[i] || a2[j] === p[i]) keep[i * a2.length + j] = 1;
    }
    const pos = gatherPairs(mat, a1, p);
    const neg = tf.expandDims(gatherPairs(mat, a2, n), 0);
    const negLogits = tf.tile(this.distance.margin(tf.scalar(this.negMargin), neg), [a1.length, 1]) as tf.Tensor2D;
    const negLse = maskedLogSumExp(negLogits, tf.tensor2d(keep, [a1.length, a2.length], 'bool'), false);
    const losses = tf.div(tf.square(tf.relu(tf.add(negLse, this.distance.margin(pos, tf.scalar(this.posMargin))))), 2);
    return { loss: { losses, indices: [a1, p], reductionType: 'pos_pair' } };
  }

  getConfig(): Record<string, unknown> {
    return this.configWith({ negMargin: this.negMargin, posMargin: this.posMargin });
  }
}

registry.register('LiftedStructureLoss', (c) => new LiftedStructureLoss(c as LiftedStructureLossOptions));
