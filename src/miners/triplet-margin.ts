import { z } from 'zod';
import { parseOptions, zs } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import type { TripletIndices } from '../core/indices.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/index.js';
import { BaseMiner, type MinerInput } from './base-miner.js';
import { registry } from './registry.js';
import { clearRecords, distanceSpecSchema, resolveDistance, withHostMatrix, type DistanceSpec } from './mining-utils.js';
import { compactTriplets, tripletBitsOf } from '../backend/triplet-bits.js';

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
 * They are held as one bit per candidate and the index lists are built when first read;
 * `TripletMarginLoss` reads the bits directly (see `backend/triplet-bits.ts`).
 *
 * Records: `numTriplets`; over all candidate triplets, `posPairDist` and `negPairDist` (mean
 * anchor-positive / anchor-negative distance) and `avgTripletMargin` (mean `t`).
 */
export class TripletMarginMiner extends BaseMiner {
  readonly className = 'TripletMarginMiner';
  readonly margin: number;
  readonly typeOfTriplets: TripletType;
  readonly distance: BaseDistance;
  /** Bits reused from call to call (fresh memory costs page faults); results are copied out. */
  private bits = new Uint32Array(0);

  constructor(options: TripletMarginMinerOptions = {}) {
    super();
    const o = parseOptions('TripletMarginMiner', schema, options);
    this.margin = o.margin;
    this.typeOfTriplets = o.typeOfTriplets;
    this.distance = resolveDistance(o.distance, () => new LpDistance());
  }

  /** The scratch bits with room for `words` words (the values written so far are kept). */
  private reserveBits(words: number): Uint32Array {
    if (words > this.bits.length) {
      const bigger = new Uint32Array(Math.max(words, 2 * this.bits.length, 1024));
      bigger.set(this.bits);
      this.bits = bigger;
    }
    return this.bits;
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
      let count = 0, kept = 0, sumAp = 0, sumAn = 0, words = 0;
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
        const bits = this.reserveBits(words + nPos * ((nNeg + 31) >>> 5));
        for (let q = 0; q < nPos; q++) {
          const r = scanPositive(values[row + pos[q]], negValues, nNeg, sign, lo, hi, bits, words);
          words = r.words;
          kept += r.kept;
        }
      }
      // The bits and labels are copied: the tuple outlives this call, the scratch and the caller's labels.
      const out = compactTriplets({
        bits: this.bits.slice(0, words), labels: labels.slice(), refLabels: self ? labels.slice() : refLabels.slice(), self, count: kept,
      });
      return { out, count, sumAp, sumAn };
    });
    this.records.numTriplets = tripletBitsOf(out)!.count;
    if (count > 0) {
      this.records.posPairDist = sumAp / count;
      this.records.negPairDist = sumAn / count;
      this.records.avgTripletMargin = (inverted ? sumAp - sumAn : sumAn - sumAp) / count;
    }
    return out;
  }
}

/**
 * Writes the bits of one (anchor, positive) pair from word `words` on: bit k of each run of 32 says whether
 * `lo < t <= hi` for the k-th negative, `t = fround(sign * (d(a, n) - d(a, p)))` (PML's float32 margin).
 * Returns the next free word and the number of triplets kept.
 */
function scanPositive(
  ap: number, negValues: Float64Array, nNeg: number, sign: number, lo: number, hi: number, bits: Uint32Array, words: number,
): { words: number; kept: number } {
  let kept = 0;
  for (let k0 = 0; k0 < nNeg; k0 += 32) {
    const end = Math.min(nNeg, k0 + 32);
    let word = 0;
    for (let k = k0; k < end; k++) {
      const t = Math.fround(sign * (negValues[k] - ap));
      const keep = +(t > lo) & +(t <= hi); // no branch: a kept candidate is not predictable
      word |= keep << (k - k0);
      kept += keep;
    }
    bits[words++] = word;
  }
  return { words, kept };
}

registry.register('TripletMarginMiner', (c) => new TripletMarginMiner(c));
