import { z } from 'zod';
import { parseOptions, zs } from '../core/options.js';
import type { Random } from '../core/random.js';
import { toConfig } from '../core/registry.js';
import type { PairIndices } from '../core/indices.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/index.js';
import { BaseMiner, type MinerInput } from './base-miner.js';
import { registry } from './registry.js';
import { clearRecords, distanceSpecSchema, hostMatrix, IntList, resolveDistance, splitRow, type DistanceSpec } from './mining-utils.js';
import { randomFields, resolveRandom } from './random-source.js';

/** Options of {@link UniformHistogramMiner} (pytorch-metric-learning's keyword arguments, camelCased). */
export interface UniformHistogramMinerOptions {
  /** Number of equal-width bins between the smallest and the largest value of each side. Default `100`. */
  numBins?: number;
  /** Positive pairs drawn (with replacement) from every non-empty bin. Default `10`. */
  posPerBin?: number;
  /** Negative pairs drawn (with replacement) from every non-empty bin. Default `10`. */
  negPerBin?: number;
  /** Distance (or similarity) to mine with. Default `new LpDistance()`. */
  distance?: DistanceSpec;
  /** Seed of the default random source (akin addition). Default `0`. */
  seed?: number;
  /** Random source for the draws. Default `createRandom(seed)`. */
  random?: Random;
}

const schema = z
  .object({
    numBins: zs.posInt().default(100),
    posPerBin: z.number().int().min(0).default(10),
    negPerBin: z.number().int().min(0).default(10),
    distance: distanceSpecSchema.optional(),
    ...randomFields,
  })
  .strict();

/**
 * Pairs whose distances are spread evenly over their range (pytorch-metric-learning's
 * `UniformHistogramMiner`). The positive pairs' values are split into `numBins` bins of equal width
 * between their min and max (edges as float32 `torch.linspace`; bin k holds `edge_k <= v < edge_k+1`,
 * the last bin also its upper edge); from each non-empty bin `posPerBin` pairs are drawn uniformly with
 * replacement, bins in ascending order. The same for negative pairs with `negPerBin`. Works with any
 * distance. Records `numPosPairs`, `numNegPairs`.
 */
export class UniformHistogramMiner extends BaseMiner {
  readonly className = 'UniformHistogramMiner';
  readonly numBins: number;
  readonly posPerBin: number;
  readonly negPerBin: number;
  readonly distance: BaseDistance;
  readonly seed: number;
  private readonly random: Random;

  constructor(options: UniformHistogramMinerOptions = {}) {
    super();
    const o = parseOptions('UniformHistogramMiner', schema, options);
    this.numBins = o.numBins;
    this.posPerBin = o.posPerBin;
    this.negPerBin = o.negPerBin;
    this.seed = o.seed;
    this.random = resolveRandom(o.random, o.seed);
    this.distance = resolveDistance(o.distance, () => new LpDistance());
  }

  getConfig(): Record<string, unknown> {
    return { numBins: this.numBins, posPerBin: this.posPerBin, negPerBin: this.negPerBin, distance: toConfig(this.distance), seed: this.seed };
  }

  protected mineImpl(input: MinerInput): PairIndices {
    clearRecords(this.records);
    const m = hostMatrix(this.distance, input);
    const a1 = new IntList(), p = new IntList(), a2 = new IntList(), n = new IntList();
    const pv: number[] = [], nv: number[] = [];
    const ps: number[] = [], ns: number[] = [];
    for (let i = 0; i < m.rows; i++) {
      splitRow(m, i, ps, ns);
      for (const j of ps) { a1.push(i); p.push(j); pv.push(m.values[i * m.cols + j]); }
      for (const j of ns) { a2.push(i); n.push(j); nv.push(m.values[i * m.cols + j]); }
    }
    const [pa, pp] = this.uniform(pv, a1.toArray(), p.toArray(), this.posPerBin);
    const [na, nn] = this.uniform(nv, a2.toArray(), n.toArray(), this.negPerBin);
    this.records.numPosPairs = pa.length;
    this.records.numNegPairs = na.length;
    return { anchors1: pa, positives: pp, anchors2: na, negatives: nn };
  }

  private uniform(values: number[], anchors: Int32Array, others: Int32Array, perBin: number): [Int32Array, Int32Array] {
    if (values.length === 0) return [anchors, others];
    const edges = binEdges(values, this.numBins);
    const bins: number[][] = Array.from({ length: this.numBins }, () => []);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      for (let b = 0; b < this.numBins; b++) {
        const last = b === this.numBins - 1;
        if (edges[b] <= v && (last ? v <= edges[b + 1] : v < edges[b + 1])) { bins[b].push(i); break; }
      }
    }
    const outA = new IntList(), outO = new IntList();
    for (const members of bins) {
      if (members.length === 0) continue;
      for (let k = 0; k < perBin; k++) {
        const i = members[Math.floor(this.random.next() * members.length)];
        outA.push(anchors[i]);
        outO.push(others[i]);
      }
    }
    return [outA.toArray(), outO.toArray()];
  }
}

/**
 * `numBins + 1` float32 edges from min(values) to max(values), computed as torch's CPU `linspace`:
 * `start + k * step` for the first half and `end - (steps - 1 - k) * step` for the second.
 */
export function binEdges(values: ArrayLike<number>, numBins: number): Float32Array {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < values.length; i++) { lo = Math.min(lo, values[i]); hi = Math.max(hi, values[i]); }
  const steps = numBins + 1;
  const start = Math.fround(lo), end = Math.fround(hi);
  const step = Math.fround(Math.fround(end - start) / (steps - 1));
  const half = Math.floor(steps / 2);
  const out = new Float32Array(steps);
  for (let k = 0; k < steps; k++) {
    out[k] = k < half ? Math.fround(start + Math.fround(step * k)) : Math.fround(end - Math.fround(step * (steps - k - 1)));
  }
  return out;
}

registry.register('UniformHistogramMiner', (c) => new UniformHistogramMiner(c as UniformHistogramMinerOptions));
