import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { createRandom } from '../core/random.js';
import { toConfig } from '../core/registry.js';
import { gatherPairs } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/lp-distance.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { BaseMetricLoss, distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { requireNormalizedL2 } from './distance-checks.js';
import { checkTuple, convertToTriplets } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link DynamicSoftMarginLoss} (PML's keyword arguments, in camelCase). */
export interface DynamicSoftMarginLossOptions extends DistanceLossOptions {
  /** Lower end of the histogram of `d_ap - d_an`; the bins cover [minVal, -minVal]. Default `-2`. */
  minVal?: number;
  /** Number of histogram bins. Default `10`. */
  numBins?: number;
  /** Weight of the current batch in the running histogram (the first batch gets weight 1). Default `0.01`. */
  momentum?: number;
  /** Must be `LpDistance` with p = 2 and normalisation on. Default `LpDistance()`. */
  distance?: DistanceLossOptions['distance'];
  /** The loss is already reduced, so the reducer passes it through. Default `MeanReducer`. */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  minVal: z.number().finite().negative().default(-2),
  numBins: z.number().int().min(1).default(10),
  momentum: z.number().finite().min(0).max(1).default(0.01),
}).strict();

/**
 * Dynamic soft margin loss (Zhang & Rusinkiewicz 2019; PML `DynamicSoftMarginLoss`). For every triplet
 * (all triplets, or the miner's) x = d_ap - d_an. A running histogram of x over `numBins` bins of width
 * `delta = 2 |minVal| / numBins` starting at minVal is updated with each batch: each x adds `1 - frac`
 * to its bin and `frac` to the next, the batch histogram is mixed in with weight `momentum` (1 for the
 * first batch) and the result normalised to sum 1. The loss is `mean(CDF(bin(x)) x)`, already reduced,
 * with CDF the cumulative histogram. Zero losses without a triplet. Records `numTriplets`.
 *
 * The histogram is a running statistic: its weights are constants in the gradient, as in the authors'
 * implementation (PML also differentiates through the histogram, whose graph then outlives the step and
 * fails the next backward pass). Values outside the bins, where PML indexes past the histogram (an
 * error), go to the nearest end bin. PML's label-free mode (row i of the batch and of the reference set
 * form a positive pair) is not offered: akin losses always take labels.
 */
export class DynamicSoftMarginLoss extends BaseMetricLoss {
  readonly className: string = 'DynamicSoftMarginLoss';
  readonly distance: BaseDistance;
  readonly minVal: number;
  readonly numBins: number;
  readonly momentum: number;
  /** The bin width `2 |minVal| / numBins`. */
  readonly delta: number;
  private readonly hist: Float64Array;

  constructor(options: DynamicSoftMarginLossOptions = {}) {
    super();
    const o = parseOptions('DynamicSoftMarginLoss', schema, options);
    this.minVal = o.minVal;
    this.numBins = o.numBins;
    this.momentum = o.momentum;
    this.delta = (2 * Math.abs(o.minVal)) / o.numBins;
    this.hist = new Float64Array(o.numBins);
    this.distance = resolveDistance(o.distance, () => new LpDistance());
    requireNormalizedL2('DynamicSoftMarginLoss', this.distance);
    this.setReducer(o.reducer);
  }

  /** A copy of the running histogram (all zeros before the first batch with a triplet). */
  get histogram(): Float64Array {
    return this.hist.slice();
  }

  protected computeLoss(input: LossInput): LossDict {
    const nRef = input.refLabels ? input.refLabels.length : input.labels.length;
    if (input.indices) checkTuple(input.indices, input.labels.length, nRef, this.className);
    const t = convertToTriplets(input.indices, input.labels, input.refLabels, 'all', createRandom(0));
    this.records.numTriplets = t.anchors.length;
    if (t.anchors.length === 0) return this.zeroLosses();
    const mat = this.distance.matrix(input.embeddings, input.refEmbeddings);
    const x = tf.sub(gatherPairs(mat, t.anchors, t.positives), gatherPairs(mat, t.anchors, t.negatives));
    const values = x.dataSync();
    this.update(values);
    const cdf = new Float64Array(this.numBins);
    let acc = 0;
    for (let b = 0; b < this.numBins; b++) cdf[b] = acc += this.hist[b];
    const weights = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) weights[i] = cdf[this.bin(values[i]).lo];
    return { loss: { losses: tf.mean(tf.mul(x, tf.tensor1d(weights))), indices: null, reductionType: 'already_reduced' } };
  }

  /** Mixes the batch's interpolated histogram of `values` into the running one and normalises it. */
  private update(values: ArrayLike<number>): void {
    let sum = 0;
    for (const v of this.hist) sum += v;
    const m = sum !== 0 ? this.momentum : 1;
    for (let b = 0; b < this.numBins; b++) this.hist[b] *= 1 - m;
    for (let i = 0; i < values.length; i++) {
      const { lo, frac } = this.bin(values[i]);
      this.hist[lo] += m * (1 - frac);
      this.hist[Math.min(lo + 1, this.numBins - 1)] += m * frac;
    }
    sum = 0;
    for (const v of this.hist) sum += v;
    for (let b = 0; b < this.numBins; b++) this.hist[b] /= sum;
  }

  /** The bin of `v` and its position inside it, in [0, 1); values outside the bins go to the end bins. */
  private bin(v: number): { lo: number; frac: number } {
    const pos = (v - this.minVal) / this.delta;
    const lo = Math.floor(pos);
    if (lo < 0) return { lo: 0, frac: 0 };
    if (lo >= this.numBins) return { lo: this.numBins - 1, frac: 0 };
    return { lo, frac: pos - lo };
  }

  getConfig(): Record<string, unknown> {
    return {
      minVal: this.minVal, numBins: this.numBins, momentum: this.momentum,
      distance: toConfig(this.distance), reducer: toConfig(this.reducer),
    };
  }
}

registry.register('DynamicSoftMarginLoss', (c) => new DynamicSoftMarginLoss(c as DynamicSoftMarginLossOptions));
