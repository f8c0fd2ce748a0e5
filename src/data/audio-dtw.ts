/**
 * Dynamic time warping between feature sequences (e.g. MFCC frames): the template-matching distance
 * that word recognisers used before learned embeddings, and the baseline akin's audio benchmark
 * compares learned embeddings with.
 */
import { z } from 'zod';
import { ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import type { FeatureMatrix } from './audio-features.js';

/** Options of {@link dtwDistance}. */
export interface DtwOptions {
  /** Distance between two frames. Default `'euclidean'`. */
  frameDistance?: 'euclidean' | 'sqeuclidean' | 'cosine';
  /**
   * Sakoe-Chiba band: cell (i, j) is allowed when `|i - j (n-1) / (m-1)| <= band * max(n, m)` (so the
   * band follows the diagonal for sequences of different lengths), as a fraction in (0, 1]; `1` = no band.
   * Default `1`.
   */
  band?: number;
}

const schema = z
  .object({
    frameDistance: z.enum(['euclidean', 'sqeuclidean', 'cosine']).default('euclidean'),
    band: z.number().positive().max(1).default(1),
  })
  .strict();

/**
 * The DTW distance between sequences `a` (n frames) and `b` (m frames) of the same frame size: the
 * smallest sum of frame distances along a monotone path from (0, 0) to (n-1, m-1) with steps
 * (1, 0), (0, 1) and (1, 1), divided by `n + m` so that long and short words compare on one scale.
 * Returns `Infinity` when the band leaves no path.
 */
export function dtwDistance(a: FeatureMatrix, b: FeatureMatrix, options: DtwOptions = {}): number {
  return dtw(a, b, parseOptions('dtwDistance', schema, options));
}

function dtw(a: FeatureMatrix, b: FeatureMatrix, o: z.output<typeof schema>): number {
  if (a.dim !== b.dim) throw new ShapeError(`dtwDistance: frames of ${a.dim} and ${b.dim} values cannot be compared`);
  const n = a.frames;
  const m = b.frames;
  const d = a.dim;
  const width = o.band * Math.max(n, m);
  const cost = frameCost(o.frameDistance, a, b);
  let prev = new Float64Array(m).fill(Infinity);
  let cur = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    cur.fill(Infinity);
    for (let j = 0; j < m; j++) {
      if (o.band < 1 && Math.abs(i - (j * (n - 1)) / Math.max(1, m - 1)) > width) continue;
      let best: number;
      if (i === 0 && j === 0) best = 0;
      else best = Math.min(i > 0 ? prev[j] : Infinity, j > 0 ? cur[j - 1] : Infinity, i > 0 && j > 0 ? prev[j - 1] : Infinity);
      if (best !== Infinity) cur[j] = best + cost(i * d, j * d);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[m - 1] / (n + m);
}

function frameCost(kind: 'euclidean' | 'sqeuclidean' | 'cosine', a: FeatureMatrix, b: FeatureMatrix): (ia: number, ib: number) => number {
  const d = a.dim;
  const x = a.data;
  const y = b.data;
  if (kind === 'cosine') {
    return (ia, ib) => {
      let dot = 0;
      let nx = 0;
      let ny = 0;
      for (let k = 0; k < d; k++) {
        dot += x[ia + k] * y[ib + k];
        nx += x[ia + k] * x[ia + k];
        ny += y[ib + k] * y[ib + k];
      }
      return nx === 0 || ny === 0 ? 1 : 1 - dot / Math.sqrt(nx * ny);
    };
  }
  return (ia, ib) => {
    let s = 0;
    for (let k = 0; k < d; k++) {
      const t = x[ia + k] - y[ib + k];
      s += t * t;
    }
    return kind === 'sqeuclidean' ? s : Math.sqrt(s);
  };
}

/**
 * All pairwise DTW distances among `items` as a row-major `n x n` Float64Array (symmetric, zero
 * diagonal). Costs n(n-1)/2 DTW runs.
 */
export function dtwDistanceMatrix(items: FeatureMatrix[], options: DtwOptions = {}): Float64Array {
  const o = parseOptions('dtwDistanceMatrix', schema, options);
  const n = items.length;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = dtw(items[i], items[j], o);
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
  return out;
}
