import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import { detached } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/lp-distance.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { BaseMetricLoss, distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { range } from './rows.js';
import { registry } from './registry.js';

/** Options of {@link RankedListLoss} (PML's keyword arguments; `Tn` and `Tp` keep PML's spelling). */
export interface RankedListLossOptions extends DistanceLossOptions {
  /** Margin between the positive and the negative boundary (positives should lie within `alpha - margin`). Required. */
  margin: number;
  /** Temperature of the negative weights `exp(Tn (alpha - d))`. Required. */
  Tn: number;
  /** Weight of the negative term, in [0, 1]: `(1 - imbalance) L_P + imbalance L_N`. Default `0.5`. */
  imbalance?: number;
  /** Negative boundary: negatives closer than `alpha` are penalised. Default `null`, meaning `1 + margin / 2`. */
  alpha?: number | null;
  /** Temperature of the positive weights `exp(Tp (d - (alpha - margin)))`. Default `0` (plain mean). */
  Tp?: number;
  /** Default `LpDistance()`. */
  distance?: DistanceLossOptions['distance'];
  /** Default `MeanReducer` (over elements). */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  margin: z.number().finite(),
  Tn: z.number().finite(),
  imbalance: z.number().finite().min(0).max(1).default(0.5),
  alpha: z.number().finite().nullable().default(null),
  Tp: z.number().finite().default(0),
}).strict();

/**
 * Ranked list loss (Wang et al. 2019; PML `RankedListLoss`; the defaults are the paper's RLL-Simpler).
 * With d the distance matrix (diagonal set to 0), per element i:
 * - positives j (same label, j != i) with `d_ij > alpha - margin`, weights `w = exp(Tp (d_ij - (alpha - margin)))`,
 *   `L_P = sum w (d_ij - (alpha - margin)) / sum w`;
 * - negatives j (other label) with `0 < d_ij < alpha`, weights `w = exp(Tn (alpha - d_ij))`,
 *   `L_N = sum w (alpha - d_ij) / sum w`;
 * - loss_i = `(1 - imbalance) L_P + imbalance L_N`. Reduction type `element`.
 *
 * As PML, entries are selected by the value left in a zero-filled matrix, so with `alpha - margin < 0`
 * every unselected entry also counts as a positive at distance 0. PML leaves `L_P` as 0/0 = NaN for an
 * element without a violating positive (which makes the mean NaN); here it is 0, like `L_N`. Labels are
 * required; index tuples and reference embeddings are not supported (as PML).
 */
export class RankedListLoss extends BaseMetricLoss {
  readonly className: string = 'RankedListLoss';
  readonly margin: number;
  readonly Tn: number;
  readonly imbalance: number;
  /** The negative boundary in use (`1 + margin / 2` unless given). */
  readonly alpha: number;
  readonly Tp: number;
  readonly distance: BaseDistance;

  constructor(options: RankedListLossOptions) {
    super();
    const o = parseOptions('RankedListLoss', schema, options);
    this.margin = o.margin;
    this.Tn = o.Tn;
    this.imbalance = o.imbalance;
    this.alpha = o.alpha ?? 1 + o.margin / 2;
    this.Tp = o.Tp;
    this.distance = resolveDistance(o.distance, () => new LpDistance());
    this.setReducer(o.reducer);
  }

  protected computeLoss(input: LossInput): LossDict {
    if (input.indices !== undefined) throw new ShapeError('RankedListLoss: index tuples are not supported');
    if (input.refEmbeddings !== undefined) throw new ShapeError('RankedListLoss: reference embeddings are not supported');
    const { labels } = input;
    const n = labels.length;
    const same = new Uint8Array(n * n), other = new Uint8Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (labels[i] !== labels[j]) other[i * n + j] = 1;
        else if (i !== j) same[i * n + j] = 1;
      }
    }
    const mat = tf.mul(this.distance.matrix(input.embeddings), tf.sub(1, tf.eye(n))) as tf.Tensor2D;
    const posBound = this.alpha - this.margin;
    const zeros = tf.zerosLike(mat);
    const sameMask = tf.tensor2d(same, [n, n], 'bool'), otherMask = tf.tensor2d(other, [n, n], 'bool');
    const pos = detached(mat, (m) => tf.logicalAnd(sameMask, tf.greater(m, posBound)));
    const pStar = tf.where(pos, mat, zeros);
    const neg = detached(mat, (m) => tf.logicalAnd(otherMask, tf.less(m, this.alpha)));
    const nStar = tf.where(neg, mat, zeros);
    const pGap = tf.sub(pStar, posBound), nGap = tf.sub(this.alpha, nStar);
    const wp = tf.where(detached(pStar, (p) => tf.greater(p, posBound)), tf.exp(tf.mul(pGap, this.Tp)), zeros);
    const wn = tf.where(detached(nStar, (v) => tf.greater(v, 0)), tf.exp(tf.mul(nGap, this.Tn)), zeros);
    const lossP = weightedMean(pGap, wp), lossN = weightedMean(nGap, wn);
    const losses = tf.add(tf.mul(lossP, 1 - this.imbalance), tf.mul(lossN, this.imbalance));
    return { loss: { losses, indices: range(n), reductionType: 'element' } };
  }

  getConfig(): Record<string, unknown> {
    return {
      margin: this.margin, Tn: this.Tn, imbalance: this.imbalance, alpha: this.alpha, Tp: this.Tp,
      distance: toConfig(this.distance), reducer: toConfig(this.reducer),
    };
  }
}

/** Row-wise `sum(w x) / sum(w)`, 0 for rows whose weights are all 0 (finite gradient there too). */
function weightedMean(x: tf.Tensor, w: tf.Tensor): tf.Tensor1D {
  const num = tf.sum(tf.mul(w, x), 1);
  const den = tf.sum(w, 1);
  const any = detached(den, (d) => tf.greater(d, 0));
  return tf.where(any, tf.div(num, tf.where(any, den, tf.onesLike(den))), tf.zerosLike(num)) as tf.Tensor1D;
}

registry.register('RankedListLoss', (c) => new RankedListLoss(c as unknown as RankedListLossOptions));
