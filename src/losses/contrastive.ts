import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { PairIndices } from '../core/indices.js';
import { parseOptions } from '../core/options.js';
import { gatherPairs } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/lp-distance.js';
import { AvgNonZeroReducer } from '../reducers/avg-non-zero-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { GenericPairLoss } from './generic-pair-loss.js';
import { registry } from './registry.js';

/** Options of {@link ContrastiveLoss} (PML's keyword arguments, in camelCase). */
export interface ContrastiveLossOptions extends DistanceLossOptions {
  /**
   * Positive pairs farther apart than this (for a similarity: less similar than this) are penalised.
   * Default `0`.
   */
  posMargin?: number;
  /**
   * Negative pairs closer than this (for a similarity: more similar than this) are penalised.
   * Default `1`.
   */
  negMargin?: number;
  /** Default `LpDistance()` (L2 on normalised embeddings). */
  distance?: DistanceLossOptions['distance'];
  /** Default `AvgNonZeroReducer`, applied to each sub-loss separately; the results are summed. */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  posMargin: z.number().finite().default(0),
  negMargin: z.number().finite().default(1),
}).strict();

/**
 * Contrastive loss (Hadsell et al. 2006; PML `ContrastiveLoss`). For distances,
 * `posLoss = relu(d(a, p) - posMargin)` per positive pair and `negLoss = relu(negMargin - d(a, n))`
 * per negative pair; for similarities the signs flip (`relu(posMargin - s)`, `relu(s - negMargin)`).
 * Two sub-losses, `posLoss` (reduction `pos_pair`) and `negLoss` (`neg_pair`), each reduced on its
 * own and summed. Records `numPosPairs` and `numNegPairs`.
 */
export class ContrastiveLoss extends GenericPairLoss {
  readonly className: string = 'ContrastiveLoss';
  readonly distance: BaseDistance;
  readonly posMargin: number;
  readonly negMargin: number;

  constructor(options: ContrastiveLossOptions = {}) {
    super();
    const o = parseOptions('ContrastiveLoss', schema, options);
    this.posMargin = o.posMargin;
    this.negMargin = o.negMargin;
    this.distance = resolveDistance(o.distance, () => new LpDistance());
    this.setReducer(o.reducer);
  }

  override subLossNames(): string[] {
    return ['posLoss', 'negLoss'];
  }

  override defaultReducer(): BaseReducer {
    return new AvgNonZeroReducer();
  }

  protected pairLoss(mat: tf.Tensor2D, pairs: PairIndices, _input: LossInput): LossDict {
    const { anchors1: a1, positives: p, anchors2: a2, negatives: n } = pairs;
    const posLoss = a1.length > 0
      ? tf.relu(this.distance.margin(gatherPairs(mat, a1, p), tf.scalar(this.posMargin)))
      : null;
    const negLoss = a2.length > 0
      ? tf.relu(this.distance.margin(tf.scalar(this.negMargin), gatherPairs(mat, a2, n)))
      : null;
    return {
      posLoss: posLoss ? { losses: posLoss, indices: [a1, p], reductionType: 'pos_pair' } : zero(),
      negLoss: negLoss ? { losses: negLoss, indices: [a2, n], reductionType: 'neg_pair' } : zero(),
    };
  }

  getConfig(): Record<string, unknown> {
    return this.configWith({ posMargin: this.posMargin, negMargin: this.negMargin });
  }
}

function zero(): LossDict[string] {
  return { losses: null, indices: null, reductionType: 'already_reduced' };
}

registry.register('ContrastiveLoss', (c) => new ContrastiveLoss(c as ContrastiveLossOptions));
