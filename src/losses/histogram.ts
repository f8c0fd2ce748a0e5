import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { createRandom } from '../core/random.js';
import { toConfig } from '../core/registry.js';
import { gatherPairs } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { BaseMetricLoss, distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { cumsumRows, triangularKernel } from './soft-histogram.js';
import { checkTuple, convertToTriplets } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link HistogramLoss} (PML's keyword arguments, in camelCase). Give at most one of the two, or both with `delta = 2 / nBins`. */
export interface HistogramLossOptions extends DistanceLossOptions {
  /** Number of bins over [-1, 1]; sets `delta = 2 / nBins`. Default `100` when `delta` is not given either. */
  nBins?: number | null;
  /** Bin width; the grid has `round(1 + 2 / delta)` nodes `-1 + r delta`. Default `2 / nBins`. */
  delta?: number | null;
  /** Similarities must lie in [-1, 1]. Default `CosineSimilarity()`. */
  distance?: DistanceLossOptions['distance'];
  /** The loss is already reduced, so the reducer passes it through. Default `MeanReducer`. */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  nBins: z.number().int().min(1).nullable().default(null),
  delta: z.number().finite().positive().nullable().default(null),
}).strict().refine((o) => o.nBins === null || o.delta === null || o.delta === 2 / o.nBins, {
  message: 'delta and nBins must satisfy delta = 2 / nBins (give only one of them)',
  path: ['delta'],
});

/**
 * Histogram loss (Ustinova & Lempitsky 2016; PML `HistogramLoss`): the probability that a random negative
 * pair is more similar than a random positive pair, estimated from soft histograms. The pairs are the
 * anchor-positive and anchor-negative pairs of every triplet (all triplets, or the miner's), each
 * unordered pair counted once. Similarities s (clamped to [-1, 1]) are spread over the nodes
 * `t_r = -1 + r delta` with the triangular kernel `relu(1 - |s - t_r| / delta)`; with p+ and p- the
 * resulting densities (each divided by its number of pairs) the loss is `sum_r p-_r cumsum(p+)_r`,
 * already reduced. Zero losses without a triplet. No reference set (as PML).
 *
 * PML indexes past its density vector for a similarity of exactly 1 when delta divides 2 (an
 * error there); the clamp and the kernel put that pair on the last node instead, as the interpolation
 * intends.
 */
export class HistogramLoss extends BaseMetricLoss {
  readonly className: string = 'HistogramLoss';
  readonly distance: BaseDistance;
  /** The number of bins, or null when only `delta` was given. */
  readonly nBins: number | null;
  /** The bin width. */
  readonly delta: number;

  constructor(options: HistogramLossOptions = {}) {
    super();
    const o = parseOptions('HistogramLoss', schema, options);
    this.nBins = o.nBins === null && o.delta === null ? 100 : o.nBins;
    this.delta = o.delta ?? 2 / this.nBins!;
    this.distance = resolveDistance(o.distance, () => new CosineSimilarity());
    this.setReducer(o.reducer);
  }

  protected computeLoss(input: LossInput): LossDict {
    if (input.refEmbeddings !== undefined) {
      throw new ShapeError(`${this.className}: reference embeddings are not supported`);
    }
    const { embeddings, labels } = input;
    const n = labels.length;
    if (input.indices) checkTuple(input.indices, n, n, this.className);
    const t = convertToTriplets(input.indices, labels, undefined, 'all', createRandom(0));
    this.records.numTriplets = t.anchors.length;
    if (t.anchors.length === 0) return this.zeroLosses();
    const pos = unorderedPairs(t.anchors, t.positives), neg = unorderedPairs(t.anchors, t.negatives);
    this.records.numPosPairs = pos.rows.length;
    this.records.numNegPairs = neg.rows.length;
    const mat = this.distance.matrix(embeddings);
    const nodes = new Float32Array(Math.round(1 + 2 / this.delta));
    for (let r = 0; r < nodes.length; r++) nodes[r] = -1 + r * this.delta;
    const density = (p: { rows: Int32Array; cols: Int32Array }): tf.Tensor2D => {
      const s = tf.clipByValue(gatherPairs(mat, p.rows, p.cols), -1, 1);
      return tf.reshape(tf.mean(triangularKernel(s, nodes, this.delta), 1), [1, -1]) as tf.Tensor2D;
    };
    const loss = tf.sum(tf.mul(density(neg), cumsumRows(density(pos))));
    return { loss: { losses: loss, indices: null, reductionType: 'already_reduced' } };
  }

  getConfig(): Record<string, unknown> {
    return { nBins: this.nBins, delta: this.delta, distance: toConfig(this.distance), reducer: toConfig(this.reducer) };
  }
}

/** The distinct unordered pairs {a[i], b[i]}, each as (smaller, larger) index (PML's `filter_pairs`). */
function unorderedPairs(a: Int32Array, b: Int32Array): { rows: Int32Array; cols: Int32Array } {
  const seen = new Set<number>();
  const rows: number[] = [], cols: number[] = [];
  let span = 1;
  for (let i = 0; i < a.length; i++) span = Math.max(span, a[i] + 1, b[i] + 1);
  for (let i = 0; i < a.length; i++) {
    const lo = Math.min(a[i], b[i]), hi = Math.max(a[i], b[i]);
    const key = lo * span + hi;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push(lo);
    cols.push(hi);
  }
  return { rows: Int32Array.from(rows), cols: Int32Array.from(cols) };
}

registry.register('HistogramLoss', (c) => new HistogramLoss(c as HistogramLossOptions));
