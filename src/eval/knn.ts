import { z } from 'zod';
import { ConfigError, ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { type EmbeddingsLike, embeddingShape } from './embeddings.js';
import { RowWork, typedArray } from './row-threads.js';
import { type KnnMetric, scoreBlocks } from './score-blocks.js';

export type { KnnMetric } from './score-blocks.js';

/** Options of {@link knn}. */
export interface KnnOptions {
  /** The query rows. */
  query: EmbeddingsLike;
  /** The rows searched. Default: the query set itself (and then `excludeSelf` defaults to true). */
  reference?: EmbeddingsLike;
  /** Row length; required when `query` (or `reference`) is a Float32Array. */
  dim?: number;
  /** Neighbours returned per query (an integer >= 1, at most the reference size, minus 1 with `excludeSelf`). */
  k: number;
  /** Ranking. Default `'l2'` (squared Euclidean), as pytorch-metric-learning's AccuracyCalculator. */
  metric?: KnnMetric;
  /**
   * Drop each query's own row: query row i is taken to be reference row i (the query set is the
   * reference set, or its first rows). Default: true when `reference` is omitted, else false.
   */
  excludeSelf?: boolean;
  /**
   * Query rows per tile. One tile's scores against every reference row are held at once
   * (`queryTileSize x numReference` floats). Default: as many as fit in 64 MiB, at most 1024.
   */
  queryTileSize?: number;
  /** Reference rows per matmul. Default 4096. */
  referenceTileSize?: number;
  /** Called after every tile pair with the number of tile pairs done and their total. */
  onProgress?: (done: number, total: number) => void;
}

/** The k nearest neighbours of every query, best first. */
export interface KnnResult {
  /** Reference row indices, `numQueries * k`, row-major: neighbours of query i are `[i*k, (i+1)*k)`. */
  indices: Int32Array;
  /**
   * The matching scores, same layout: squared Euclidean distances for `'l2'` (ascending), similarities
   * for `'cosine'` and `'ip'` (descending), as faiss reports them.
   */
  distances: Float32Array;
  /** Neighbours per query. */
  k: number;
  /** Number of queries. */
  numQueries: number;
  /** The metric used. */
  metric: KnnMetric;
}

const knnSchema = z
  .object({
    query: z.any(),
    reference: z.any().optional(),
    dim: z.number().int().min(1).optional(),
    k: z.number().int().min(1),
    metric: z.enum(['cosine', 'ip', 'l2']).default('l2'),
    excludeSelf: z.boolean().optional(),
    queryTileSize: z.number().int().min(1).optional(),
    referenceTileSize: z.number().int().min(1).default(4096),
    onProgress: z.custom<(done: number, total: number) => void>((v) => typeof v === 'function').optional(),
  })
  .strict();

/**
 * Exact k-nearest-neighbour search in bounded memory: the scores of one tile of queries against
 * every reference row are computed on the tfjs backend (one matmul per reference tile, see
 * {@link scoreBlocks}), each row's best k are selected on the host ({@link RowSelector}: one pass
 * plus a sort of about k scores; large jobs split each tile's rows over worker threads, see
 * {@link RowWork}), and the tile is freed.
 *
 * Ties are broken by the lower reference index, so results are deterministic and independent of the
 * tile sizes. Every tensor created is disposed; the event loop gets a turn after every query tile.
 *
 * ```ts
 * const { indices, distances } = await knn({ query: emb, dim: 128, k: 10, metric: 'cosine' });
 * ```
 */
export async function knn(options: KnnOptions): Promise<KnnResult> {
  const o = parseOptions('knn', knnSchema, options);
  const excludeSelf = o.excludeSelf ?? o.reference === undefined;
  const query = o.query as EmbeddingsLike;
  const reference = o.reference as EmbeddingsLike | undefined;
  const qs = embeddingShape(query, o.dim, 'query');
  const rs = reference === undefined ? qs : embeddingShape(reference, o.dim ?? qs.dim, 'reference');
  if (rs.dim !== qs.dim) throw new ShapeError(`knn: query has dim ${qs.dim} but reference has dim ${rs.dim}`);
  const nq = qs.n, nr = rs.n;
  if (excludeSelf && nq > nr) {
    throw new ShapeError(`knn: excludeSelf needs query row i to be reference row i, but there are ${nq} queries and ${nr} references`);
  }
  const available = nr - (excludeSelf ? 1 : 0);
  if (o.k > available) {
    throw new ConfigError(
      `knn: option 'k' is ${o.k} but only ${available} reference rows are available${excludeSelf ? ' (own row excluded)' : ''}`,
    );
  }
  const k = o.k;
  const { work, spec } = await RowWork.start(nq * nr, true, (shared) => ({
    kind: 'knn' as const, columns: nr, k, excludeSelf,
    indices: typedArray(Int32Array, nq * k, shared), scoreBits: typedArray(Int32Array, nq * k, shared),
  }));
  let norms: Float32Array | null;
  try {
    ({ queryNormsSq: norms } = await scoreBlocks(
      { query, reference, dim: o.dim, metric: o.metric, queryTileSize: o.queryTileSize, referenceTileSize: o.referenceTileSize, onProgress: o.onProgress },
      (block) => work.run(block),
    ));
  } finally {
    await work.close();
  }
  // Unshared arrays for the caller; the selected scores become distances for l2.
  const own = (a: Int32Array): Int32Array => (a.buffer instanceof SharedArrayBuffer ? a.slice() : a);
  const indices = own(spec.indices);
  const distances = new Float32Array(own(spec.scoreBits).buffer);
  if (norms) {
    for (let i = 0; i < nq * k; i++) distances[i] = Math.max(norms[Math.floor(i / k)] - distances[i], 0);
  }
  return { indices, distances, k, numQueries: nq, metric: o.metric };
}
