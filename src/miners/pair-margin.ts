import { z } from 'zod';
import { parseOptions, zs } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import type { PairIndices } from '../core/indices.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/index.js';
import { BaseMiner, type MinerInput } from './base-miner.js';
import { registry } from './registry.js';
import { clearRecords, distanceSpecSchema, hostMatrix, IntList, resolveDistance, splitRow, type DistanceSpec } from './mining-utils.js';

/** Options of {@link PairMarginMiner} (pytorch-metric-learning's keyword arguments, camelCased). */
export interface PairMarginMinerOptions {
  /** Positive pairs farther than this (for a similarity: less similar than this) are mined. Default `0.2`. */
  posMargin?: number;
  /** Negative pairs closer than this (for a similarity: more similar than this) are mined. Default `0.8`. */
  negMargin?: number;
  /** Distance (or similarity) to mine with. Default `new LpDistance()`. */
  distance?: DistanceSpec;
}

const schema = z
  .object({
    posMargin: zs.num().default(0.2),
    negMargin: zs.num().default(0.8),
    distance: distanceSpecSchema.optional(),
  })
  .strict();

/**
 * Mines the pairs that violate a margin (pytorch-metric-learning's `PairMarginMiner`): positive pairs
 * with `d > posMargin` and negative pairs with `d < negMargin` (for similarities `s < posMargin` and
 * `s > negMargin`), strict inequalities in float32. Pairs come out in row-major order.
 *
 * Records: `numPosPairs`, `numNegPairs`, and `posPairDist` / `negPairDist`, the mean value over all
 * candidate positive / negative pairs.
 */
export class PairMarginMiner extends BaseMiner {
  readonly className = 'PairMarginMiner';
  readonly posMargin: number;
  readonly negMargin: number;
  readonly distance: BaseDistance;

  constructor(options: PairMarginMinerOptions = {}) {
    super();
    const o = parseOptions('PairMarginMiner', schema, options);
    this.posMargin = o.posMargin;
    this.negMargin = o.negMargin;
    this.distance = resolveDistance(o.distance, () => new LpDistance());
  }

  getConfig(): Record<string, unknown> {
    return { posMargin: this.posMargin, negMargin: this.negMargin, distance: toConfig(this.distance) };
  }

  protected mineImpl(input: MinerInput): PairIndices {
    clearRecords(this.records);
    const m = hostMatrix(this.distance, input);
    const inv = this.distance.isInverted;
    const pm = Math.fround(this.posMargin), nm = Math.fround(this.negMargin);
    const a1 = new IntList(), p = new IntList(), a2 = new IntList(), n = new IntList();
    let sumPos = 0, sumNeg = 0, numPos = 0, numNeg = 0;
    const ps: number[] = [], ns: number[] = [];
    for (let i = 0; i < m.rows; i++) {
      splitRow(m, i, ps, ns);
      const row = i * m.cols;
      for (const j of ps) {
        const v = m.values[row + j];
        sumPos += v; numPos++;
        if (inv ? v < pm : v > pm) { a1.push(i); p.push(j); }
      }
      for (const j of ns) {
        const v = m.values[row + j];
        sumNeg += v; numNeg++;
        if (inv ? v > nm : v < nm) { a2.push(i); n.push(j); }
      }
    }
    this.records.numPosPairs = a1.length;
    this.records.numNegPairs = a2.length;
    if (numPos > 0) this.records.posPairDist = sumPos / numPos;
    if (numNeg > 0) this.records.negPairDist = sumNeg / numNeg;
    return { anchors1: a1.toArray(), positives: p.toArray(), anchors2: a2.toArray(), negatives: n.toArray() };
  }
}

registry.register('PairMarginMiner', (c) => new PairMarginMiner(c as PairMarginMinerOptions));
