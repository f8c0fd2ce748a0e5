import { UMAP } from 'umap-js';
import { ConfigError } from '../core/errors.js';
import { createRandom } from '../core/random.js';

/** Options of {@link project2d}. */
export interface ProjectionOptions {
  /** Seed of UMAP's random source: the same seed gives the same layout. Default 0. */
  seed?: number;
  /** UMAP neighbours. Default 15 (fewer when there are fewer points). */
  nNeighbors?: number;
  /** Optimisation epochs. Default 200. */
  nEpochs?: number;
  /** UMAP min_dist. Default 0.1. */
  minDist?: number;
}

/**
 * A 2-D layout of `n` rows of `dim` values with UMAP (umap-js, cosine-like: rows are scaled to unit
 * length first), seeded. Returns `n * 2` coordinates, row-major.
 */
export function project2d(rows: Float32Array, dim: number, options: ProjectionOptions = {}): Float32Array {
  if (!Number.isInteger(dim) || dim < 1 || rows.length % dim !== 0) throw new ConfigError(`project2d: 'rows' must hold whole rows of dim ${dim}`);
  const n = rows.length / dim;
  if (n < 3) {
    const out = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) out[2 * i] = i;
    return out;
  }
  const data: number[][] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += rows[i * dim + d] ** 2;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    data.push(Array.from(rows.subarray(i * dim, (i + 1) * dim), (v) => v * inv));
  }
  const random = createRandom(options.seed ?? 0);
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: Math.max(2, Math.min(options.nNeighbors ?? 15, n - 1)),
    nEpochs: options.nEpochs ?? 200,
    minDist: options.minDist ?? 0.1,
    random: () => random.next(),
  });
  const out = umap.fit(data);
  return Float32Array.from(out.flat());
}
