import { z } from 'zod';
import { parseOptions, zs } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import type { TripletIndices } from '../core/indices.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/index.js';
import { BaseMiner, type MinerInput } from './base-miner.js';
import { registry } from './registry.js';
import { clearRecords, distanceSpecSchema, hostMatrix, IntList, resolveDistance, splitRow, type DistanceSpec } from './mining-utils.js';

/** Which triplets {@link TripletMarginMiner} keeps. */
export type TripletType = 'all' | 'hard' | 'semihard' | 'easy';

/** Options of {@link TripletMarginMiner} (pytorch-metric-learning's keyword arguments, camelCased). */
export interface TripletMarginMinerOptions {
  /** The margin m in the conditions below. Default `0.2`. */
  margin?: number;
  /**
   * With `t = d(a, n) - d(a, p)` (for similarities `s(a, p) - s(a, n)`), keep the triplets with
   * `'all'`: t <= m; `'hard'`: t <= 0 (and t <= m); `'semihard'`: 0 < t <= m; `'easy'`: t > m.
   * Default `'all'`.
   */
  typeOfTriplets?: TripletType;
  /** Distance (or similarity) to mine with. Default `new LpDistance()` (L2 on normalised embeddings). */
  distance?: DistanceSpec;
}

const schema = z
  .object({
    margin: zs.num().default(0.2),
    typeOfTriplets: z.enum(['all', 'hard', 'semihard', 'easy']).default('all'),
    distance: distanceSpecSchema.optional(),
  })
  .strict();

/**
 * Mines every (anchor, positive, negative) triplet whose margin `t` meets the condition of
 * `typeOfTriplets` (pytorch-metric-learning's `TripletMarginMiner`). Positives share the anchor's label
 * (and are not the anchor itself when there is no separate reference set); negatives do not.
 * Triplets come out in row-major (anchor, positive, negative) order, as PML's `torch.where` gives them.
 *
 * Records: `numTriplets`; over all candidate triplets, `posPairDist` and `negPairDist` (mean
 * anchor-positive / anchor-negative distance) and `avgTripletMargin` (mean `t`).
 */
export class TripletMarginMiner extends BaseMiner {
  readonly className = 'TripletMarginMiner';
  readonly margin: number;
  readonly typeOfTriplets: TripletType;
  readonly distance: BaseDistance;

  constructor(options: TripletMarginMinerOptions = {}) {
    super();
    const o = parseOptions('TripletMarginMiner', schema, options);
    this.margin = o.margin;
    this.typeOfTriplets = o.typeOfTriplets;
    this.distance = resolveDistance(o.distance, () => new LpDistance());
  }

  getConfig(): Record<string, unknown> {
    return { margin: this.margin, typeOfTriplets: this.typeOfTriplets, distance: toConfig(this.distance) };
  }

  protected mineImpl(input: MinerInput): TripletIndices {
    clearRecords(this.records);
    const m = hostMatrix(this.distance, input);
    const { values, cols } = m;
    const inverted = this.distance.isInverted;
    // PML compares float32 tensors with a Python float, which is cast to float32 first.
    const margin = Math.fround(this.margin);
    // Each type keeps lo < t <= hi: all (-inf, m], hard (-inf, min(m, 0)], semihard (0, m], easy (m, inf).
    const type = this.typeOfTriplets;
    const lo = type === 'semihard' ? 0 : type === 'easy' ? margin : -Infinity;
    const hi = type === 'easy' ? Infinity : type === 'hard' ? Math.min(margin, 0) : margin;
    const a = new IntList(), p = new IntList(), n = new IntList();
    let count = 0, sumAp = 0, sumAn = 0;
    const pos: number[] = [], neg: number[] = [];
    for (let i = 0; i < m.rows; i++) {
      splitRow(m, i, pos, neg);
      const row = i * cols;
      const nNeg = neg.length;
      let negSum = 0;
      for (let k = 0; k < nNeg; k++) negSum += values[row + neg[k]];
      for (let q = 0; q < pos.length; q++) {
        const pj = pos[q];
        const ap = values[row + pj];
        sumAp += ap * nNeg;
        sumAn += negSum;
        for (let k = 0; k < nNeg; k++) {
          const nj = neg[k];
          const an = values[row + nj];
          const t = Math.fround(inverted ? ap - an : an - ap);
          if (t > lo && t <= hi) {
            a.push(i);
            p.push(pj);
            n.push(nj);
          }
        }
      }
      count += pos.length * nNeg;
    }
    this.records.numTriplets = a.length;
    if (count > 0) {
      this.records.posPairDist = sumAp / count;
      this.records.negPairDist = sumAn / count;
      this.records.avgTripletMargin = (inverted ? sumAp - sumAn : sumAn - sumAp) / count;
    }
    return { anchors: a.toArray(), positives: p.toArray(), negatives: n.toArray() };
  }
}

registry.register('TripletMarginMiner', (c) => new TripletMarginMiner(c));
