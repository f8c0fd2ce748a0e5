import { z } from 'zod';
import { parseOptions, zs } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import type { TripletIndices } from '../core/indices.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/index.js';
import { BaseMiner, type MinerInput } from './base-miner.js';
import { registry } from './registry.js';
import { clearRecords, distanceSpecSchema, resolveDistance, TripletBuffer, withHostMatrix, type DistanceSpec } from './mining-utils.js';

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
  /** Index arrays reused from call to call (fresh memory costs page faults); results are copied out. */
  private readonly scratch = new TripletBuffer();

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
    const inverted = this.distance.isInverted;
    // PML compares float32 tensors with a Python float, which is cast to float32 first.
    const margin = Math.fround(this.margin);
    // Each type keeps lo < t <= hi: all (-inf, m], hard (-inf, min(m, 0)], semihard (0, m], easy (m, inf).
    const type = this.typeOfTriplets;
    const lo = type === 'semihard' ? 0 : type === 'easy' ? margin : -Infinity;
    const hi = type === 'easy' ? Infinity : type === 'hard' ? Math.min(margin, 0) : margin;
    // distance: t = d(a, n) - d(a, p); similarity: t = s(a, p) - s(a, n) = -(s(a, n) - s(a, p)).
    const sign = inverted ? -1 : 1;
    const { out, count, sumAp, sumAn } = withHostMatrix(this.distance, input, (m) => {
      const { values, cols, labels, refLabels, self } = m;
      const pos = new Int32Array(cols), neg = new Int32Array(cols);
      const negValues = new Float64Array(cols);
      const buf = this.scratch;
      let count = 0, sumAp = 0, sumAn = 0, len = 0;
      for (let i = 0; i < m.rows; i++) {
        const row = i * cols;
        const label = labels[i];
        let nPos = 0, nNeg = 0, negSum = 0;
        for (let j = 0; j < cols; j++) {
          if (refLabels[j] !== label) {
            neg[nNeg] = j;
            negValues[nNeg++] = values[row + j];
            negSum += values[row + j];
          } else if (!(self && i === j)) {
            pos[nPos++] = j;
          }
        }
        for (let q = 0; q < nPos; q++) {
          sumAp += values[row + pos[q]] * nNeg;
          sumAn += negSum;
        }
        count += nPos * nNeg;
        buf.reserve(len + nPos * nNeg);
        len = scanRow(i, pos, nPos, neg, negValues, nNeg, values, row, sign, lo, hi, buf.anchors, buf.positives, buf.negatives, len);
      }
      return { out: buf.copy(len), count, sumAp, sumAn };
    });
    this.records.numTriplets = out.anchors.length;
    if (count > 0) {
      this.records.posPairDist = sumAp / count;
      this.records.negPairDist = sumAn / count;
      this.records.avgTripletMargin = (inverted ? sumAp - sumAn : sumAn - sumAp) / count;
    }
    return out;
  }
}

/**
 * Appends the triplets (i, pos[q], neg[k]) with `lo < t <= hi`, `t = fround(sign * (d(i, n) - d(i, p)))`
 * (PML's float32 margin), to the index arrays from `len` on (they must have room for nPos * nNeg more);
 * returns the new length. Positives outer, negatives inner, both ascending: PML's row-major order.
 */
function scanRow(
  i: number, pos: Int32Array, nPos: number, neg: Int32Array, negValues: Float64Array, nNeg: number,
  values: Float32Array, row: number, sign: number, lo: number, hi: number,
  anchors: Int32Array, positives: Int32Array, negatives: Int32Array, len: number,
): number {
  for (let q = 0; q < nPos; q++) {
    const p = pos[q];
    const ap = values[row + p];
    for (let k = 0; k < nNeg; k++) {
      const t = Math.fround(sign * (negValues[k] - ap));
      if (t > lo && t <= hi) {
        anchors[len] = i;
        positives[len] = p;
        negatives[len++] = neg[k];
      }
    }
  }
  return len;
}

registry.register('TripletMarginMiner', (c) => new TripletMarginMiner(c));
