import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseOptions, zs } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import { allTriplets, type TripletIndices } from '../core/indices.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/index.js';
import { BaseMiner, type MinerInput } from './base-miner.js';
import { registry } from './registry.js';
import { clearRecords, distanceSpecSchema, IntList, resolveDistance, type DistanceSpec } from './mining-utils.js';

/** Options of {@link AngularMiner} (pytorch-metric-learning's keyword arguments, camelCased). */
export interface AngularMinerOptions {
  /** Triplets whose angle (in degrees) is greater than this are mined. Default `20`. */
  angle?: number;
  /** Must be an `LpDistance` with p = 2, power = 1 and normalised embeddings (the default). Default `new LpDistance()`. */
  distance?: DistanceSpec;
}

const schema = z
  .object({
    angle: zs.num().default(20),
    distance: distanceSpecSchema.optional(),
  })
  .strict();

/** PyTorch's `pairwise_distance` adds this to every difference. */
const PAIRWISE_EPS = 1e-6;

/**
 * Triplets whose angle at the negative is large (pytorch-metric-learning's `AngularMiner`, after the
 * angular loss of Wang et al. 2017). For every triplet (a, p, n) of the batch, with `c = (a + p) / 2`
 * and every distance the L2 distance between the raw (unnormalised) embeddings, as PML's
 * `distance.pairwise_distance` (which does not normalise; PyTorch's `+1e-6` added to each difference):
 * `angle = atan(d(a, p) / (2 d(n, c)))`; triplets with `angle > radians(angle)` are kept, row-major.
 * The distance option is still required to be PML's default (normalised L2, p = 2, power 1).
 *
 * Records: `numTriplets`; over all triplets (in degrees) `averageAngle`, `minAngle`, `maxAngle`,
 * `stdOfAngle` (unbiased), and `averageAngleAboveThreshold` / `averageAngleBelowThreshold`.
 */
export class AngularMiner extends BaseMiner {
  readonly className = 'AngularMiner';
  readonly angle: number;
  readonly distance: BaseDistance;

  constructor(options: AngularMinerOptions = {}) {
    super();
    const o = parseOptions('AngularMiner', schema, options);
    this.angle = o.angle;
    this.distance = resolveDistance(o.distance, () => new LpDistance());
    requireUnitL2(this.distance, 'AngularMiner');
  }

  getConfig(): Record<string, unknown> {
    return { angle: this.angle, distance: toConfig(this.distance) };
  }

  protected mineImpl(input: MinerInput): TripletIndices {
    clearRecords(this.records);
    const [n, dim] = input.embeddings.shape;
    const x = Float64Array.from(input.embeddings.dataSync() as Float32Array);
    const r = input.refEmbeddings ? Float64Array.from(input.refEmbeddings.dataSync() as Float32Array) : x;
    const t = allTriplets(input.labels, input.refLabels);
    const threshold = (this.angle * Math.PI) / 180;
    const a = new IntList(), p = new IntList(), neg = new IntList();
    const angles = new Float64Array(t.anchors.length);
    const center = new Float64Array(dim);
    let lastA = -1, lastP = -1, ap = 0;
    for (let k = 0; k < t.anchors.length; k++) {
      const ai = t.anchors[k], pi = t.positives[k], ni = t.negatives[k];
      if (ai !== lastA || pi !== lastP) {
        lastA = ai; lastP = pi;
        ap = pairDistance(x, ai * dim, r, pi * dim, dim);
        for (let c = 0; c < dim; c++) center[c] = (x[ai * dim + c] + r[pi * dim + c]) / 2;
      }
      const nc = pairDistance(r, ni * dim, center, 0, dim);
      const angle = Math.atan(ap / (2 * nc));
      angles[k] = angle;
      if (angle > threshold) { a.push(ai); p.push(pi); neg.push(ni); }
    }
    this.setStats(angles, threshold);
    this.records.numTriplets = a.length;
    return { anchors: a.toArray(), positives: p.toArray(), negatives: neg.toArray() };
  }

  private setStats(angles: Float64Array, threshold: number): void {
    const deg = (v: number): number => (v * 180) / Math.PI;
    const count = angles.length;
    if (count > 0) {
      let sum = 0, min = Infinity, max = -Infinity;
      for (const v of angles) { sum += v; min = Math.min(min, v); max = Math.max(max, v); }
      const mean = sum / count;
      let ss = 0;
      for (const v of angles) ss += (v - mean) ** 2;
      this.records.averageAngle = deg(mean);
      this.records.minAngle = deg(min);
      this.records.maxAngle = deg(max);
      this.records.stdOfAngle = count > 1 ? deg(Math.sqrt(ss / (count - 1))) : NaN;
    }
    let above = 0, nAbove = 0, below = 0, nBelow = 0;
    for (const v of angles) { if (v > threshold) { above += v; nAbove++; } else { below += v; nBelow++; } }
    if (nAbove > 0) this.records.averageAngleAboveThreshold = deg(above / nAbove);
    if (nBelow > 0) this.records.averageAngleBelowThreshold = deg(below / nBelow);
  }
}

/** Throws unless `distance` is an LpDistance with p = 2, power = 1 and normalised embeddings. */
export function requireUnitL2(distance: BaseDistance, owner: string): void {
  if (!(distance instanceof LpDistance) || distance.p !== 2 || distance.power !== 1 || !distance.normalizeEmbeddings) {
    throw new ConfigError(
      `${owner}: option 'distance' must be an LpDistance with p = 2, power = 1 and normalizeEmbeddings = true (got ${distance.className} ${JSON.stringify(distance.getConfig())})`,
    );
  }
}

/** `||u - v + eps||_2` between `u[uo..uo+dim)` and `v[vo..vo+dim)`, as `torch.nn.functional.pairwise_distance`. */
function pairDistance(u: Float64Array, uo: number, v: Float64Array, vo: number, dim: number): number {
  let s = 0;
  for (let c = 0; c < dim; c++) s += (u[uo + c] - v[vo + c] + PAIRWISE_EPS) ** 2;
  return Math.sqrt(s);
}

registry.register('AngularMiner', (c) => new AngularMiner(c as AngularMinerOptions));
