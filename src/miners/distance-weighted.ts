import { z } from 'zod';
import { parseOptions, zs } from '../core/options.js';
import type { Random } from '../core/random.js';
import { toConfig } from '../core/registry.js';
import type { TripletIndices } from '../core/indices.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/index.js';
import { requireUnitL2 } from './angular.js';
import { BaseMiner, type MinerInput } from './base-miner.js';
import { registry } from './registry.js';
import { clearRecords, distanceSpecSchema, hostMatrix, IntList, resolveDistance, type DistanceSpec } from './mining-utils.js';
import { randomFields, resolveRandom, weightedIndex } from './random-source.js';

/** Options of {@link DistanceWeightedMiner} (pytorch-metric-learning's keyword arguments, camelCased). */
export interface DistanceWeightedMinerOptions {
  /** Distances below this are raised to it before weighting (limits the variance). Default `0.5`. */
  cutoff?: number;
  /** Negatives at this distance or farther get weight 0. Default `1.4`. */
  nonzeroLossCutoff?: number;
  /** Must be an `LpDistance` with p = 2, power = 1 and normalised embeddings (the default). Default `new LpDistance()`. */
  distance?: DistanceSpec;
  /** Seed of the default random source (akin addition). Default `0`. */
  seed?: number;
  /** Random source for the draws. Default `createRandom(seed)`. */
  random?: Random;
}

const schema = z
  .object({
    cutoff: zs.num().default(0.5),
    nonzeroLossCutoff: zs.num().default(1.4),
    distance: distanceSpecSchema.optional(),
    ...randomFields,
  })
  .strict();

/**
 * Distance-weighted sampling (Wu et al. 2017, "Sampling Matters"; pytorch-metric-learning's
 * `DistanceWeightedMiner`). With `d` the clamped distance (at least `cutoff`) and `dim` the embedding
 * size, a negative's log weight is `(2 - dim) log d - ((dim - 3) / 2) log(1 - d² / 4)`, the inverse
 * of the density of distances between points on the unit sphere. Same-label entries get log weight 0
 * (they only shift the stabilising maximum), weights are `exp(logw - max)`, zeroed for same-label
 * entries, for `d >= nonzeroLossCutoff` and where the log weight is not finite.
 *
 * Triplets are then drawn as PML's `get_random_triplet_indices`: labels ascending; for each anchor of
 * a label with at least one other positive and one negative, `k` triplets (k = the label's count in the
 * reference set), positives uniform over the other same-label items, negatives drawn with the anchor's
 * weights; anchors whose negatives all weigh 0 give no triplet. Records `numTriplets`.
 */
export class DistanceWeightedMiner extends BaseMiner {
  readonly className = 'DistanceWeightedMiner';
  readonly cutoff: number;
  readonly nonzeroLossCutoff: number;
  readonly distance: BaseDistance;
  readonly seed: number;
  private readonly random: Random;

  constructor(options: DistanceWeightedMinerOptions = {}) {
    super();
    const o = parseOptions('DistanceWeightedMiner', schema, options);
    this.cutoff = o.cutoff;
    this.nonzeroLossCutoff = o.nonzeroLossCutoff;
    this.seed = o.seed;
    this.random = resolveRandom(o.random, o.seed);
    this.distance = resolveDistance(o.distance, () => new LpDistance());
    requireUnitL2(this.distance, 'DistanceWeightedMiner');
  }

  getConfig(): Record<string, unknown> {
    return { cutoff: this.cutoff, nonzeroLossCutoff: this.nonzeroLossCutoff, distance: toConfig(this.distance), seed: this.seed };
  }

  /** The [rows, cols] sampling weights of the negatives (rows sum to 1, or to 0 when none is possible). */
  weights(input: MinerInput): Float64Array {
    const m = hostMatrix(this.distance, input);
    const dim = input.embeddings.shape[1];
    const { rows, cols, values } = m;
    const logw = new Float64Array(rows * cols);
    const bad = new Uint8Array(rows * cols);
    let max = -Infinity;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const k = i * cols + j;
        const d = Math.max(values[k], this.cutoff);
        const lw = (2 - dim) * Math.log(d) - ((dim - 3) / 2) * Math.log(1 - 0.25 * d * d);
        if (!Number.isFinite(lw)) { bad[k] = 1; continue; }
        logw[k] = m.labels[i] === m.refLabels[j] ? 0 : lw;
        max = Math.max(max, logw[k]);
      }
    }
    const w = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      let sum = 0;
      for (let j = 0; j < cols; j++) {
        const k = i * cols + j;
        const keep = !bad[k] && m.labels[i] !== m.refLabels[j] && Math.max(values[k], this.cutoff) < this.nonzeroLossCutoff;
        w[k] = keep ? Math.exp(logw[k] - max) : 0;
        sum += w[k];
      }
      for (let j = 0; j < cols; j++) w[i * cols + j] = sum > 0 ? w[i * cols + j] / sum : 0;
    }
    return w;
  }

  protected mineImpl(input: MinerInput): TripletIndices {
    clearRecords(this.records);
    const w = this.weights(input);
    const labels = input.labels, ref = input.refLabels ?? labels;
    const self = input.refLabels === undefined;
    const cols = ref.length;
    const a = new IntList(), p = new IntList(), n = new IntList();
    const unique = [...new Set(labels)].sort((x, y) => x - y);
    for (const label of unique) {
      const pInds: number[] = [], nInds: number[] = [], aInds: number[] = [];
      for (let j = 0; j < cols; j++) (ref[j] === label ? pInds : nInds).push(j);
      for (let i = 0; i < labels.length; i++) if (labels[i] === label) aInds.push(i);
      if (pInds.length < (self ? 2 : 1) || nInds.length === 0) continue;
      const k = pInds.length;
      const nw = new Float64Array(nInds.length);
      for (const anchor of aInds) {
        const candidates = self ? pInds.filter((j) => j !== anchor) : pInds;
        let total = 0;
        for (let q = 0; q < nInds.length; q++) { nw[q] = w[anchor * cols + nInds[q]]; total += nw[q]; }
        const draws: number[] = [];
        for (let t = 0; t < k; t++) draws.push(candidates[Math.floor(this.random.next() * candidates.length)]);
        if (!(total > 0)) continue;
        for (const pj of draws) {
          a.push(anchor);
          p.push(pj);
          n.push(nInds[weightedIndex(this.random, nw, total)]);
        }
      }
    }
    this.records.numTriplets = a.length;
    return { anchors: a.toArray(), positives: p.toArray(), negatives: n.toArray() };
  }
}

registry.register('DistanceWeightedMiner', (c) => new DistanceWeightedMiner(c as DistanceWeightedMinerOptions));
