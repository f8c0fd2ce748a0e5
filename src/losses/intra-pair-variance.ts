import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { PairIndices } from '../core/indices.js';
import { parseOptions } from '../core/options.js';
import { gatherPairs } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import type { LossDict, LossTerm } from '../reducers/base-reducer.js';
import { distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { GenericPairLoss } from './generic-pair-loss.js';
import { registry } from './registry.js';

/** Options of {@link IntraPairVarianceLoss} (PML's keyword arguments, in camelCase). */
export interface IntraPairVarianceLossOptions extends DistanceLossOptions {
  /** epsilon of the positive-pair term. Default `0.01`. */
  posEps?: number;
  /** epsilon of the negative-pair term. Default `0.01`. */
  negEps?: number;
  /** Default `CosineSimilarity()`. */
  distance?: DistanceLossOptions['distance'];
  /** Default `MeanReducer`, applied to each sub-loss separately; the results are summed. */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  posEps: z.number().finite().default(0.01),
  negEps: z.number().finite().default(0.01),
}).strict();

/**
 * Intra-pair variance loss (Yu & Tao 2019; PML `IntraPairVarianceLoss`). With mu+ and mu- the means of
 * the positive-pair and negative-pair similarities s (gradients flow through the means too):
 * `posLoss = relu((1 - posEps) mu+ - s)^2` per positive pair and `negLoss = relu(s - (1 + negEps) mu-)^2`
 * per negative pair. For a distance (smaller = closer) the roles swap: `relu(d - (1 + posEps) mu+)^2` and
 * `relu((1 - negEps) mu- - d)^2`. Sub-losses `posLoss` (`pos_pair`) and `negLoss` (`neg_pair`).
 */
export class IntraPairVarianceLoss extends GenericPairLoss {
  readonly className: string = 'IntraPairVarianceLoss';
  readonly distance: BaseDistance;
  readonly posEps: number;
  readonly negEps: number;

  constructor(options: IntraPairVarianceLossOptions = {}) {
    super();
    const o = parseOptions('IntraPairVarianceLoss', schema, options);
    this.posEps = o.posEps;
    this.negEps = o.negEps;
    this.distance = resolveDistance(o.distance, () => new CosineSimilarity());
    this.setReducer(o.reducer);
  }

  override subLossNames(): string[] {
    return ['posLoss', 'negLoss'];
  }

  protected pairLoss(mat: tf.Tensor2D, pairs: PairIndices, _input: LossInput): LossDict {
    const { anchors1: a1, positives: p, anchors2: a2, negatives: n } = pairs;
    const inverted = this.distance.isInverted;
    return {
      posLoss: this.term(mat, a1, p, this.posEps, inverted, 'pos_pair'),
      negLoss: this.term(mat, a2, n, this.negEps, !inverted, 'neg_pair'),
    };
  }

  /**
   * `relu(var)^2` per pair, with `var = (1 - eps) mean - v` when the values should grow (PML's
   * `incentivize_increase`), else `v - (1 + eps) mean`. A zero loss without pairs.
   */
  private term(mat: tf.Tensor2D, rows: Int32Array, cols: Int32Array, eps: number, increase: boolean, type: 'pos_pair' | 'neg_pair'): LossTerm {
    if (rows.length === 0) return { losses: null, indices: null, reductionType: 'already_reduced' };
    const v = gatherPairs(mat, rows, cols);
    const m = tf.mean(v);
    const variance = increase ? tf.sub(tf.mul(m, 1 - eps), v) : tf.sub(v, tf.mul(m, 1 + eps));
    return { losses: tf.square(tf.relu(variance)), indices: [rows, cols], reductionType: type };
  }

  getConfig(): Record<string, unknown> {
    return this.configWith({ posEps: this.posEps, negEps: this.negEps });
  }
}

registry.register('IntraPairVarianceLoss', (c) => new IntraPairVarianceLoss(c as IntraPairVarianceLossOptions));
