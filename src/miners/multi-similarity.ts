import { z } from 'zod';
import { parseOptions, zs } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import type { PairIndices } from '../core/indices.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/index.js';
import { BaseMiner, type MinerInput } from './base-miner.js';
import { registry } from './registry.js';
import { clearRecords, distanceSpecSchema, IntList, resolveDistance, withHostMatrix, type DistanceSpec } from './mining-utils.js';

/** Options of {@link MultiSimilarityMiner} (pytorch-metric-learning's keyword arguments, camelCased). */
export interface MultiSimilarityMinerOptions {
  /** How far inside the hardest pair of the other kind a pair may lie and still be mined. Default `0.1`. */
  epsilon?: number;
  /** Similarity (or distance) to mine with. Default `new CosineSimilarity()`. */
  distance?: DistanceSpec;
}

const schema = z
  .object({
    epsilon: zs.num().default(0.1),
    distance: distanceSpecSchema.optional(),
  })
  .strict();

/**
 * The pair mining step of Multi-Similarity loss (Wang et al. 2019; pytorch-metric-learning's
 * `MultiSimilarityMiner`). For each anchor, with similarities s:
 * a positive pair is kept when `s(a, p) - epsilon < max_n s(a, n)` and a negative pair when
 * `s(a, n) + epsilon > min_p s(a, p)`; for distances the inequalities flip
 * (`d(a, p) + epsilon > min_n d(a, n)`, `d(a, n) - epsilon < max_p d(a, p)`).
 * An anchor without negatives keeps no positives and vice versa; a batch with no positive pair or no
 * negative pair at all gives no pairs.
 *
 * Pairs come out grouped by anchor (ascending), and within an anchor in ascending order of the
 * matrix value (ties by reference index), which is the order PML's sort + `torch.where` produce.
 *
 * Records: `numPosPairs`, `numNegPairs`; `posPairDist` and `negPairDist`, the mean value over all
 * candidate positive / negative pairs.
 */
export class MultiSimilarityMiner extends BaseMiner {
  readonly className = 'MultiSimilarityMiner';
  readonly epsilon: number;
  readonly distance: BaseDistance;

  constructor(options: MultiSimilarityMinerOptions = {}) {
    super();
    const o = parseOptions('MultiSimilarityMiner', schema, options);
    this.epsilon = o.epsilon;
    this.distance = resolveDistance(o.distance, () => new CosineSimilarity());
  }

  getConfig(): Record<string, unknown> {
    return { epsilon: this.epsilon, distance: toConfig(this.distance) };
  }

  protected mineImpl(input: MinerInput): PairIndices {
    clearRecords(this.records);
    const inverted = this.distance.isInverted;
    // float32 arithmetic, as PML's float32 tensor +/- Python float
    const eps = Math.fround(this.epsilon);
    const a1 = new IntList(), p = new IntList(), a2 = new IntList(), n = new IntList();
    // Accumulators live inside the callback (captured, mutated numbers would be boxed on every update).
    const { numPos, numNeg, sumPos, sumNeg } = withHostMatrix(this.distance, input, (m) => {
      const { values, cols, labels, refLabels, self } = m;
      let numPos = 0, numNeg = 0, sumPos = 0, sumNeg = 0;
      const keptPos = new Int32Array(cols), keptNeg = new Int32Array(cols);
      const keys = new Float64Array(cols);
      for (let i = 0; i < m.rows; i++) {
        const row = i * cols;
        const label = labels[i];
        let nPos = 0, nNeg = 0;
        let posMin = Infinity, posMax = -Infinity, negMin = Infinity, negMax = -Infinity;
        for (let j = 0; j < cols; j++) {
          const v = values[row + j];
          if (refLabels[j] !== label) {
            nNeg++;
            sumNeg += v;
            if (v < negMin) negMin = v;
            if (v > negMax) negMax = v;
          } else if (!(self && i === j)) {
            nPos++;
            sumPos += v;
            if (v < posMin) posMin = v;
            if (v > posMax) posMax = v;
          }
        }
        numPos += nPos;
        numNeg += nNeg;
        // An anchor without negatives keeps no positives and vice versa.
        if (nPos === 0 || nNeg === 0) continue;
        let kp = 0, kn = 0;
        for (let j = 0; j < cols; j++) {
          const v = values[row + j];
          if (refLabels[j] !== label) {
            if (inverted ? Math.fround(v + eps) > posMin : Math.fround(v - eps) < posMax) keptNeg[kn++] = j;
          } else if (!(self && i === j)) {
            if (inverted ? Math.fround(v - eps) < negMax : Math.fround(v + eps) > negMin) keptPos[kp++] = j;
          }
        }
        sortByValue(keptPos, kp, values, row, keys);
        sortByValue(keptNeg, kn, values, row, keys);
        for (let k = 0; k < kp; k++) { a1.push(i); p.push(keptPos[k]); }
        for (let k = 0; k < kn; k++) { a2.push(i); n.push(keptNeg[k]); }
      }
      return { numPos, numNeg, sumPos, sumNeg };
    });
    this.records.numPosPairs = a1.length;
    this.records.numNegPairs = a2.length;
    if (numPos > 0) this.records.posPairDist = sumPos / numPos;
    if (numNeg > 0) this.records.negPairDist = sumNeg / numNeg;
    return { anchors1: a1.toArray(), positives: p.toArray(), anchors2: a2.toArray(), negatives: n.toArray() };
  }
}

const INDEX_BITS = 2 ** 21;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * Sorts `cols[0 .. k)` in place by `values[row + j]` ascending, ties by `j` (what a comparator sort
 * gives, without a comparator call per comparison: ~10x faster on a batch of 1024). Each entry becomes
 * one float64 key in `keys`, the value's float32 bits in an order-preserving form times 2^21 plus the
 * column, sorted natively. Falls back to a comparator sort for columns >= 2^21 or NaN values.
 */
function sortByValue(cols: Int32Array, k: number, values: ArrayLike<number>, row: number, keys: Float64Array): void {
  const part = keys.subarray(0, k);
  for (let q = 0; q < k; q++) {
    const j = cols[q];
    const v = values[row + j];
    if (j >= INDEX_BITS || Number.isNaN(v)) {
      cols.subarray(0, k).sort((x, y) => values[row + x] - values[row + y] || x - y);
      return;
    }
    f32[0] = v === 0 ? 0 : v;
    const bits = u32[0];
    const ordered = bits >= 0x80000000 ? 0xffffffff - bits : bits + 0x80000000;
    part[q] = ordered * INDEX_BITS + j;
  }
  part.sort();
  for (let q = 0; q < k; q++) cols[q] = part[q] % INDEX_BITS;
}

registry.register('MultiSimilarityMiner', (c) => new MultiSimilarityMiner(c));
