import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { createRandom, type Random } from '../core/random.js';
import { toConfig } from '../core/registry.js';
import { gatherPairs } from '../core/tensor.js';
import { gatherDiff, tripletMargins, tripletPositiveMean } from '../backend/fused.js';
import { tripletBitsOf, type TripletBits } from '../backend/triplet-bits.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/lp-distance.js';
import { AvgNonZeroReducer } from '../reducers/avg-non-zero-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { BaseMetricLoss, distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { checkTuple, convertToTriplets } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link TripletMarginLoss} (PML's keyword arguments, in camelCase). */
export interface TripletMarginLossOptions extends DistanceLossOptions {
  /** The margin by which the anchor-negative distance should exceed the anchor-positive one. Default `0.05`. */
  margin?: number;
  /** Use the positive-negative distance instead of the anchor-negative one when it is smaller (closer). Default `false`. */
  swap?: boolean;
  /** Use `softplus(violation)` (log(1 + exp)) instead of `relu(violation)`. Default `false`. */
  smoothLoss?: boolean;
  /**
   * Without miner tuples: `'all'` uses every valid triplet; a number k samples k random triplets per
   * anchor (PML `triplets_per_anchor`). Default `'all'`.
   */
  tripletsPerAnchor?: 'all' | number;
  /** Seed of the random source used when `tripletsPerAnchor` is a number (akin addition). Default `0`. */
  seed?: number;
  /** Default `LpDistance()` (L2 on normalised embeddings). */
  distance?: DistanceLossOptions['distance'];
  /** Default `AvgNonZeroReducer` (over triplets). */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  margin: z.number().finite().default(0.05),
  swap: z.boolean().default(false),
  smoothLoss: z.boolean().default(false),
  tripletsPerAnchor: z.union([z.literal('all'), z.number().int().min(1)]).default('all'),
  seed: z.number().int().default(0),
}).strict();

/**
 * Triplet margin loss (PML `TripletMarginLoss`). Per triplet (a, p, n):
 * `relu(margin(d_ap, d_an) + margin)`, where `margin(x, y)` is `x - y` for a distance and `y - x` for a
 * similarity; `smoothLoss` uses softplus instead of relu. With `swap`, `d_an` is replaced by the closer
 * of `d_an` and `d_pn`. Reduction type `triplet`. Records `numTriplets`.
 *
 * With reference embeddings, triplets index them for p and n; `swap` then measures d(ref[p], ref[n])
 * (PML reads the batch-by-reference matrix at row p, which is only meaningful without a reference set).
 */
export class TripletMarginLoss extends BaseMetricLoss {
  readonly className: string = 'TripletMarginLoss';
  readonly distance: BaseDistance;
  readonly margin: number;
  readonly swap: boolean;
  readonly smoothLoss: boolean;
  readonly tripletsPerAnchor: 'all' | number;
  readonly seed: number;
  private readonly random: Random;
  /** True while {@link compute} runs (the reducer is applied right after `computeLoss`). */
  private reducing = false;

  constructor(options: TripletMarginLossOptions = {}) {
    super();
    const o = parseOptions('TripletMarginLoss', schema, options);
    this.margin = o.margin;
    this.swap = o.swap;
    this.smoothLoss = o.smoothLoss;
    this.tripletsPerAnchor = o.tripletsPerAnchor;
    this.seed = o.seed;
    this.random = createRandom(o.seed);
    this.distance = resolveDistance(o.distance, () => new LpDistance());
    this.setReducer(o.reducer);
  }

  /**
   * The scalar loss. With triplets from `TripletMarginMiner` and the default reducer, the per-triplet
   * losses are reduced inside one kernel (the same value; `computeLossDict` still gives them one by one).
   */
  override compute(...args: Parameters<BaseMetricLoss['compute']>): tf.Scalar {
    this.reducing = true;
    try {
      return super.compute(...args);
    } finally {
      this.reducing = false;
    }
  }

  override defaultReducer(): BaseReducer {
    return new AvgNonZeroReducer();
  }

  protected computeLoss(input: LossInput): LossDict {
    const nQuery = input.embeddings.shape[0];
    const nRef = input.refEmbeddings ? input.refEmbeddings.shape[0] : nQuery;
    const bits = input.indices && !this.swap ? tripletBitsOf(input.indices) : undefined;
    if (bits && bits.labels.length === nQuery && bits.refLabels.length === nRef) return this.fromBits(input, bits);
    if (input.indices) checkTuple(input.indices, nQuery, nRef, this.className);
    const t = convertToTriplets(input.indices, input.labels, input.refLabels, this.tripletsPerAnchor, this.random);
    this.records.numTriplets = t.anchors.length;
    if (t.anchors.length === 0) return this.zeroLosses();
    const mat = this.distance.matrix(input.embeddings, input.refEmbeddings);
    let violation: tf.Tensor;
    if (this.swap) {
      const ap = gatherPairs(mat, t.anchors, t.positives);
      let an = gatherPairs(mat, t.anchors, t.negatives);
      const refMat = input.refEmbeddings ? this.distance.matrix(input.refEmbeddings) : mat;
      const pn = gatherPairs(refMat, t.positives, t.negatives);
      an = (this.distance.isInverted ? tf.maximum(an, pn) : tf.minimum(an, pn)) as tf.Tensor1D;
      violation = tf.add(this.distance.margin(ap, an), this.margin);
    } else {
      // margin(d_ap, d_an): d_ap - d_an for a distance, d_an - d_ap for a similarity, in one gather.
      const { anchors, positives, negatives } = t;
      const diff = this.distance.isInverted ? gatherDiff(mat, anchors, negatives, positives) : gatherDiff(mat, anchors, positives, negatives);
      violation = tf.add(diff, this.margin);
    }
    const losses = this.smoothLoss ? tf.softplus(violation) : tf.relu(violation);
    return { loss: { losses, indices: t, reductionType: 'triplet' } };
  }

  /**
   * Triplets from `TripletMarginMiner`, read from its bits in one pass (no index lists, no range checks:
   * the bits index the batch and reference set by construction): the same losses as the lists give.
   */
  private fromBits(input: LossInput, bits: TripletBits): LossDict {
    this.records.numTriplets = bits.count;
    if (bits.count === 0) return this.zeroLosses();
    const mat = this.distance.matrix(input.embeddings, input.refEmbeddings);
    if (this.reducing && !this.smoothLoss && this.reducer.constructor === AvgNonZeroReducer) {
      // compute() reduces at once with the default reducer: the mean of the positive losses in one pass.
      const mean = tripletPositiveMean(mat, bits, { margin: this.margin, inverted: this.distance.isInverted });
      return { loss: { losses: mean, indices: null, reductionType: 'already_reduced' } };
    }
    const margins = tripletMargins(mat, bits, { margin: this.margin, inverted: this.distance.isInverted, relu: !this.smoothLoss });
    const losses = this.smoothLoss ? tf.softplus(margins) : margins;
    return { loss: { losses, indices: input.indices!, reductionType: 'triplet' } };
  }

  getConfig(): Record<string, unknown> {
    return {
      distance: toConfig(this.distance),
      reducer: toConfig(this.reducer),
      margin: this.margin,
      swap: this.swap,
      smoothLoss: this.smoothLoss,
      tripletsPerAnchor: this.tripletsPerAnchor,
      seed: this.seed,
    };
  }
}

registry.register('TripletMarginLoss', (c) => new TripletMarginLoss(c as TripletMarginLossOptions));
