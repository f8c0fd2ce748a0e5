import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { PairIndices } from '../core/indices.js';
import { parseOptions } from '../core/options.js';
import { gather1D, gatherPairs, maskedLogSumExp, safeSqrt } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { requireCosine } from './distance-checks.js';
import { GenericPairLoss } from './generic-pair-loss.js';
import { pairCounts } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link TupletMarginLoss} (PML's keyword arguments, in camelCase). */
export interface TupletMarginLossOptions extends DistanceLossOptions {
  /** The angular margin beta, in degrees. Default `5.73` (0.1 radians). */
  margin?: number;
  /** The scale s. Default `64`. */
  scale?: number;
  /** Must be a `CosineSimilarity`. Default `CosineSimilarity()`. */
  distance?: DistanceLossOptions['distance'];
  /** Default `MeanReducer` (over positive pairs). */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  margin: z.number().finite().default(5.73),
  scale: z.number().finite().default(64),
}).strict();

/**
 * Tuplet margin loss (Yu & Tao 2019; PML `TupletMarginLoss`). Per positive pair (a, p) with cosine
 * `cos theta_ap`: `log(1 + sum_n exp(s (cos theta_an - cos(theta_ap - beta))))` over the negative pairs
 * (a, n) that share the anchor (0 when there is none). Zero losses unless there is a positive and a
 * negative pair. Reduction type `pos_pair`. Records `avgPosAngle` and `avgNegAngle` (degrees).
 *
 * Computed per anchor as `softplus(logsumexp_n(s cos theta_an) - s cos(theta_ap - beta))` (the same
 * value, without a [positive pairs x negative pairs] matrix), with
 * `cos(theta - beta) = cos theta cos beta + sin theta sin beta`, so the gradient stays finite when a
 * positive pair's cosine reaches 1 (where PML's `acos` gives NaN).
 */
export class TupletMarginLoss extends GenericPairLoss {
  readonly className: string = 'TupletMarginLoss';
  readonly distance: BaseDistance;
  readonly margin: number;
  readonly scale: number;

  constructor(options: TupletMarginLossOptions = {}) {
    super();
    const o = parseOptions('TupletMarginLoss', schema, options);
    this.margin = o.margin;
    this.scale = o.scale;
    this.distance = resolveDistance(o.distance, () => new CosineSimilarity());
    requireCosine('TupletMarginLoss', this.distance);
    this.setReducer(o.reducer);
  }

  protected pairLoss(mat: tf.Tensor2D, pairs: PairIndices, _input: LossInput): LossDict {
    const { anchors1: a1, positives: p, anchors2: a2, negatives: n } = pairs;
    if (a1.length === 0 || a2.length === 0) return this.zeroLosses();
    const [nQuery, nRef] = mat.shape;
    // Per anchor: log sum over its negative pairs (repeated pairs counted as often as they occur).
    const counts = pairCounts(a2, n, nQuery, nRef);
    const hasNeg = new Float32Array(nQuery);
    for (const a of a2) hasNeg[a] = 1;
    const countT = tf.tensor2d(counts, [nQuery, nRef]);
    const logits = tf.add(tf.mul(mat, this.scale), tf.log(tf.maximum(countT, 1))) as tf.Tensor2D;
    const negLse = maskedLogSumExp(logits, tf.greater(countT, 0) as tf.Tensor2D, false);
    const cosAp = gatherPairs(mat, a1, p);
    const beta = (this.margin * Math.PI) / 180;
    const sinAp = safeSqrt(tf.sub(1, tf.square(cosAp)));
    const shifted = tf.add(tf.mul(cosAp, Math.cos(beta)), tf.mul(sinAp, Math.sin(beta)));
    const inside = tf.sub(gather1D(negLse, a1), tf.mul(shifted, this.scale));
    const losses = tf.mul(tf.softplus(inside), tf.tensor1d(Array.from(a1, (a) => hasNeg[a])));
    this.recordAngles(cosAp, gatherPairs(mat, a2, n));
    return { loss: { losses, indices: [a1, p], reductionType: 'pos_pair' } };
  }

  private recordAngles(cosAp: tf.Tensor1D, cosAn: tf.Tensor1D): void {
    const deg = tf.tidy(() => {
      const meanAngle = (c: tf.Tensor1D): tf.Scalar => tf.mean(tf.acos(tf.clipByValue(c, -1, 1)));
      return tf.mul(tf.stack([meanAngle(cosAp), meanAngle(cosAn)]), 180 / Math.PI);
    });
    const [pos, neg] = deg.dataSync();
    deg.dispose();
    this.records.avgPosAngle = pos;
    this.records.avgNegAngle = neg;
  }

  getConfig(): Record<string, unknown> {
    return this.configWith({ margin: this.margin, scale: this.scale });
  }
}

registry.register('TupletMarginLoss', (c) => new TupletMarginLoss(c as TupletMarginLossOptions));
