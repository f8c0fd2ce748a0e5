import { ConfigError } from '../core/errors.js';
import type { NearestNeighborIndex, SearchHit, SearchOptions } from './types.js';

/**
 * The `k` nearest items of each of `queries.length / index.dim` queries (stored flat), in one pass
 * where the index has one (`searchBatch`: the exact index's tiled k-NN, one SQL statement for
 * pgvector), else one search per query.
 */
export async function searchMany(index: NearestNeighborIndex, queries: Float32Array, k: number, options: SearchOptions = {}): Promise<SearchHit[][]> {
  const dim = index.dim;
  if (dim === 0) return queries.length === 0 ? [] : [[]];
  if (queries.length % dim !== 0) throw new ConfigError(`searchMany: 'queries' has ${queries.length} values, not a whole number of rows of dim ${dim}`);
  const nq = queries.length / dim;
  if (nq === 0) return [];
  if (index.searchBatch && index.size > 0) return index.searchBatch(queries, k, options);
  const out: SearchHit[][] = [];
  for (let i = 0; i < nq; i++) out.push(await index.search(queries.subarray(i * dim, (i + 1) * dim), k, options));
  return out;
}
