import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import { allPairs, isTriplets, tripletsToPairs, type IndexTuple, type PairIndices } from '../core/indices.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/index.js';
import { BaseMiner, type MinerInput } from './base-miner.js';
import { registry } from './registry.js';
import { clearRecords, distanceSpecSchema, hostMatrix, resolveDistance, type DistanceSpec } from './mining-utils.js';

/** Options of {@link HDCMiner} (pytorch-metric-learning's keyword arguments, camelCased). */
export interface HDCMinerOptions {
  /** The fraction of positive pairs and of negative pairs kept: the hardest `ceil(filterPercentage x count)`. Default `0.5`. */
  filterPercentage?: number;
  /** Distance (or similarity) to mine with. Default `new LpDistance()`. */
  distance?: DistanceSpec;
}

const schema = z
  .object({
    filterPercentage: z.number().finite().min(0).max(1).default(0.5),
    distance: distanceSpecSchema.optional(),
  })
  .strict();

/**
 * Hard-Aware Deeply Cascaded mining (Yuan et al. 2017; pytorch-metric-learning's `HDCMiner`): keeps
 * the hardest `ceil(filterPercentage x n)` of the positive pairs (largest distances, smallest
 * similarities) and of the negative pairs (smallest distances, largest similarities), each side sorted
 * from hardest to easiest (ties by pair order).
 *
 * The pool is every pair of the batch, or the pairs given to {@link setIdxExternally} (e.g. another
 * miner's output). As in PML, an external pool is replaced by the filtered pairs on every call, so
 * repeated calls keep narrowing it until {@link resetIdx}. Records `numPosPairs`, `numNegPairs`.
 */
export class HDCMiner extends BaseMiner {
  readonly className = 'HDCMiner';
  readonly filterPercentage: number;
  readonly distance: BaseDistance;
  private pool: PairIndices | null = null;

  constructor(options: HDCMinerOptions = {}) {
    super();
    const o = parseOptions('HDCMiner', schema, options);
    this.filterPercentage = o.filterPercentage;
    this.distance = resolveDistance(o.distance, () => new LpDistance());
  }

  /** Uses `tuple` (pairs, or triplets split into pairs) as the pool of the next calls. */
  setIdxExternally(tuple: IndexTuple): void {
    this.pool = isTriplets(tuple) ? tripletsToPairs(tuple) : tuple;
  }

  /** Goes back to mining from every pair of each batch. */
  resetIdx(): void {
    this.pool = null;
  }

  /** True while an external pool (from {@link setIdxExternally}) is in use. */
  get wasSetExternally(): boolean {
    return this.pool !== null;
  }

  getConfig(): Record<string, unknown> {
    return { filterPercentage: this.filterPercentage, distance: toConfig(this.distance) };
  }

  protected mineImpl(input: MinerInput): PairIndices {
    clearRecords(this.records);
    const m = hostMatrix(this.distance, input);
    const pool = this.pool ?? allPairs(input.labels, input.refLabels);
    const inv = this.distance.isInverted;
    const [a1, p] = this.hardest(m.values, m.cols, pool.anchors1, pool.positives, !inv);
    const [a2, n] = this.hardest(m.values, m.cols, pool.anchors2, pool.negatives, inv);
    const out = { anchors1: a1, positives: p, anchors2: a2, negatives: n };
    if (this.pool !== null) this.pool = out;
    this.records.numPosPairs = a1.length;
    this.records.numNegPairs = a2.length;
    return out;
  }

  /** The `ceil(fraction x n)` pairs with the largest (or smallest) values, in that order. */
  private hardest(values: Float32Array, cols: number, rows: Int32Array, others: Int32Array, largest: boolean): [Int32Array, Int32Array] {
    const n = rows.length;
    if (n === 0) return [rows, others];
    const k = Math.ceil(this.filterPercentage * n);
    const v = (i: number): number => values[rows[i] * cols + others[i]];
    const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => (largest ? v(y) - v(x) : v(x) - v(y)) || x - y);
    const outRows = new Int32Array(k), outOthers = new Int32Array(k);
    for (let i = 0; i < k; i++) { outRows[i] = rows[order[i]]; outOthers[i] = others[order[i]]; }
    return [outRows, outOthers];
  }
}

registry.register('HDCMiner', (c) => new HDCMiner(c as HDCMinerOptions));
