import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import type { IndexTuple, PairIndices } from '../core/indices.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/index.js';
import { BaseMiner, type MinerInput } from './base-miner.js';
import { registry } from './registry.js';
import { clearRecords, distanceSpecSchema, hostMatrix, IntList, resolveDistance, splitRow, type DistanceSpec, type HostMatrix } from './mining-utils.js';

/** How {@link BatchEasyHardMiner} picks the positive or the negative of each anchor. */
export type BatchMiningStrategy = 'hard' | 'semihard' | 'easy' | 'all';

/** Options of {@link BatchEasyHardMiner} (pytorch-metric-learning's keyword arguments, camelCased). */
export interface BatchEasyHardMinerOptions {
  /**
   * `'hard'`: the farthest positive of each anchor (least similar for a similarity); `'semihard'`: the
   * farthest positive that is still closer than the chosen negative; `'easy'`: the closest positive;
   * `'all'`: every positive pair. Default `'easy'`.
   */
  posStrategy?: BatchMiningStrategy;
  /**
   * `'hard'`: the closest negative of each anchor; `'semihard'`: the closest negative that is farther
   * than the chosen positive; `'easy'`: the farthest negative; `'all'`: every negative pair.
   * Default `'semihard'`.
   */
  negStrategy?: BatchMiningStrategy;
  /** Only anchor-positive values in `[low, high]` are candidates. Default `null` (no range). */
  allowedPosRange?: [number, number] | null;
  /** Only anchor-negative values in `[low, high]` are candidates. Default `null` (no range). */
  allowedNegRange?: [number, number] | null;
  /** Distance (or similarity) to mine with. Default `new LpDistance()`. */
  distance?: DistanceSpec;
}

const strategy = z.enum(['hard', 'semihard', 'easy', 'all']);
const range = z.tuple([z.number(), z.number()]).nullable().default(null);

const schema = z
  .object({
    posStrategy: strategy.default('easy'),
    negStrategy: strategy.default('semihard'),
    allowedPosRange: range,
    allowedNegRange: range,
    distance: distanceSpecSchema.optional(),
  })
  .strict();

/** One chosen value per row: its reference index and value, or index -1 when the row has no candidate. */
interface RowPick {
  index: Int32Array;
  value: Float32Array;
}

/**
 * Per-anchor positive and negative selection from "Improved Embeddings with Easy Positive Triplet
 * Mining" (Xuan et al. 2020; pytorch-metric-learning's `BatchEasyHardMiner`). Returns pairs
 * `(a, p, a, n)`: with two per-anchor strategies, one positive and one negative per anchor that has
 * both (anchors ascending); with `'all'` on one side, every pair of that side plus one pick per anchor
 * on the other side. Ties pick the lowest reference index (the first occurrence, as `torch.min/max`).
 * `semihard` cannot be used on both sides, nor together with `'all'`.
 *
 * Records: `numPosPairs`, `numNegPairs`, and over the picks `easiestTriplet`, `hardestTriplet`
 * (of `d(a, p) - d(a, n)`), `easiestPosPair`, `hardestPosPair`, `easiestNegPair`, `hardestNegPair`.
 */
export class BatchEasyHardMiner extends BaseMiner {
  readonly className: string = 'BatchEasyHardMiner';
  readonly posStrategy: BatchMiningStrategy;
  readonly negStrategy: BatchMiningStrategy;
  readonly allowedPosRange: [number, number] | null;
  readonly allowedNegRange: [number, number] | null;
  readonly distance: BaseDistance;

  constructor(options: BatchEasyHardMinerOptions = {}, owner = 'BatchEasyHardMiner') {
    super();
    const o = parseOptions(owner, schema, options);
    if (o.posStrategy === 'semihard' && o.negStrategy === 'semihard') {
      throw new ConfigError(`${owner}: options 'posStrategy' and 'negStrategy' cannot both be "semihard"`);
    }
    if ((o.posStrategy === 'all' && o.negStrategy === 'semihard') || (o.negStrategy === 'all' && o.posStrategy === 'semihard')) {
      const bad = o.posStrategy === 'semihard' ? 'posStrategy' : 'negStrategy';
      throw new ConfigError(`${owner}: option '${bad}' is "semihard", which cannot be combined with "all" on the other side`);
    }
    this.posStrategy = o.posStrategy;
    this.negStrategy = o.negStrategy;
    this.allowedPosRange = o.allowedPosRange;
    this.allowedNegRange = o.allowedNegRange;
    this.distance = resolveDistance(o.distance, () => new LpDistance());
  }

  getConfig(): Record<string, unknown> {
    return {
      posStrategy: this.posStrategy,
      negStrategy: this.negStrategy,
      allowedPosRange: this.allowedPosRange,
      allowedNegRange: this.allowedNegRange,
      distance: toConfig(this.distance),
    };
  }

  protected mineImpl(input: MinerInput): IndexTuple {
    return this.minePairs(input);
  }

  /** The mined pairs (anchors ascending within each side). */
  protected minePairs(input: MinerInput): PairIndices {
    clearRecords(this.records);
    const m = hostMatrix(this.distance, input);
    const pos = this.posStrategy, neg = this.negStrategy;
    let posPick: RowPick | null = null, negPick: RowPick | null = null;
    if (pos === 'semihard') {
      negPick = this.pickNegatives(m);
      posPick = this.pickPositives(m, negPick.value);
    } else if (neg === 'semihard') {
      posPick = this.pickPositives(m);
      negPick = this.pickNegatives(m, posPick.value);
    } else {
      if (pos !== 'all') posPick = this.pickPositives(m);
      if (neg !== 'all') negPick = this.pickNegatives(m);
    }
    const a1 = new IntList(), p = new IntList(), a2 = new IntList(), n = new IntList();
    const posVals: number[] = [], negVals: number[] = [];
    if (posPick && negPick) {
      for (let i = 0; i < m.rows; i++) {
        if (posPick.index[i] < 0 || negPick.index[i] < 0) continue;
        a1.push(i); p.push(posPick.index[i]); posVals.push(posPick.value[i]);
        a2.push(i); n.push(negPick.index[i]); negVals.push(negPick.value[i]);
      }
    } else {
      const collect = (pick: RowPick | null, wantPos: boolean, a: IntList, o: IntList, vals: number[]): void => {
        if (pick) {
          for (let i = 0; i < m.rows; i++) if (pick.index[i] >= 0) { a.push(i); o.push(pick.index[i]); vals.push(pick.value[i]); }
          return;
        }
        const ps: number[] = [], ns: number[] = [];
        for (let i = 0; i < m.rows; i++) {
          splitRow(m, i, ps, ns);
          for (const j of wantPos ? ps : ns) { a.push(i); o.push(j); vals.push(m.values[i * m.cols + j]); }
        }
      };
      collect(posPick, true, a1, p, posVals);
      collect(negPick, false, a2, n, negVals);
    }
    this.setStats(posVals, negVals, posPick !== null && negPick !== null);
    this.records.numPosPairs = a1.length;
    this.records.numNegPairs = a2.length;
    return { anchors1: a1.toArray(), positives: p.toArray(), anchors2: a2.toArray(), negatives: n.toArray() };
  }

  /** Positives: hard and semihard take the largest distance (smallest similarity), easy the smallest. */
  private pickPositives(m: HostMatrix, thresholds?: Float32Array): RowPick {
    const takeMax = (this.posStrategy === 'easy') === this.distance.isInverted;
    return this.pickPerRow(m, true, takeMax, this.allowedPosRange, thresholds);
  }

  /** Negatives: hard and semihard take the smallest distance (largest similarity), easy the largest. */
  private pickNegatives(m: HostMatrix, thresholds?: Float32Array): RowPick {
    const takeMax = (this.negStrategy === 'easy') !== this.distance.isInverted;
    return this.pickPerRow(m, false, takeMax, this.allowedNegRange, thresholds);
  }

  /**
   * The max (or min) per row over the positive (or negative) candidates, leaving out values outside
   * `range` and, with semihard `thresholds`, values >= the threshold (max) or <= it (min). A row
   * without candidates gets index -1 and value -inf (max) or +inf (min), as PML's masked matrix does.
   */
  private pickPerRow(m: HostMatrix, positives: boolean, takeMax: boolean, range: [number, number] | null, thresholds?: Float32Array): RowPick {
    const index = new Int32Array(m.rows).fill(-1);
    const value = new Float32Array(m.rows).fill(takeMax ? -Infinity : Infinity);
    const lo = range ? Math.fround(range[0]) : -Infinity, hi = range ? Math.fround(range[1]) : Infinity;
    const ps: number[] = [], ns: number[] = [];
    for (let i = 0; i < m.rows; i++) {
      splitRow(m, i, ps, ns);
      const t = thresholds ? thresholds[i] : NaN;
      for (const j of positives ? ps : ns) {
        const v = m.values[i * m.cols + j];
        if (v > hi || v < lo) continue;
        if (thresholds && (takeMax ? v >= t : v <= t)) continue;
        if (index[i] < 0 || (takeMax ? v > value[i] : v < value[i])) { index[i] = j; value[i] = v; }
      }
    }
    return { index, value };
  }

  private setStats(posVals: number[], negVals: number[], triplets: boolean): void {
    const inv = this.distance.isInverted;
    // PML's get_func_for_stats: "hard" is max for distances (min for similarities), "easy" the opposite.
    const hard = (v: number[]): number => extreme(v, !inv);
    const easy = (v: number[]): number => extreme(v, inv);
    if (triplets && posVals.length > 0 && negVals.length > 0) {
      const diff = posVals.map((v, k) => Math.fround(v - negVals[k]));
      this.records.easiestTriplet = easy(diff);
      this.records.hardestTriplet = hard(diff);
    }
    if (posVals.length > 0) {
      this.records.easiestPosPair = easy(posVals);
      this.records.hardestPosPair = hard(posVals);
    }
    if (negVals.length > 0) {
      this.records.easiestNegPair = hard(negVals);
      this.records.hardestNegPair = easy(negVals);
    }
  }
}

/** The largest (or smallest) value of `v`, without spreading it onto the stack. */
function extreme(v: number[], max: boolean): number {
  let out = v[0];
  for (const x of v) if (max ? x > out : x < out) out = x;
  return out;
}

registry.register('BatchEasyHardMiner', (c) => new BatchEasyHardMiner(c as BatchEasyHardMinerOptions));
