import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError, ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { type EmbeddingsLike, toTensor } from './embeddings.js';

/**
 * How neighbours are ranked:
 * - `'l2'`: squared Euclidean distance, smaller is closer (what faiss' `IndexFlatL2`, and so
 *   pytorch-metric-learning's default `AccuracyCalculator`, uses);
 * - `'cosine'`: inner product of L2-normalised rows, larger is closer;
 * - `'ip'`: raw inner product, larger is closer.
 */
export type KnnMetric = 'cosine' | 'ip' | 'l2';

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
  /** Query rows per tile. Default 1024. */
  queryTileSize?: number;
  /** Reference rows per tile. Default 4096. One tile pair holds queryTileSize x referenceTileSize floats. */
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
    queryTileSize: z.number().int().min(1).default(1024),
    referenceTileSize: z.number().int().min(1).default(4096),
    onProgress: z.custom<(done: number, total: number) => void>((v) => typeof v === 'function').optional(),
  })
  .strict();

/**
 * Exact k-nearest-neighbour search that never holds more than one `queryTileSize x referenceTileSize`
 * block of scores: each query tile is multiplied with each reference tile on the tfjs backend (one
 * matmul), the block's top k is taken there (`tf.topk`), and the result is merged on the host into a
 * running top k per query.
 *
 * Ties are broken by the lower reference index (tf.topk and the merge both keep the lower index first),
 * so results are deterministic and independent of the tile sizes. Every tensor created is disposed;
 * the event loop gets a turn after every query tile.
 *
 * ```ts
 * const { indices, distances } = await knn({ query: emb, dim: 128, k: 10, metric: 'cosine' });
 * ```
 */
export async function knn(options: KnnOptions): Promise<KnnResult> {
  const o = parseOptions('knn', knnSchema, options);
  const excludeSelf = o.excludeSelf ?? o.reference === undefined;
  const q = toTensor(o.query as EmbeddingsLike, o.dim, 'query');
  let r: ReturnType<typeof toTensor> | null = null;
  const prepared: tf.Tensor[] = [];
  try {
    r = o.reference === undefined ? null : toTensor(o.reference as EmbeddingsLike, o.dim ?? q.dim, 'reference');
    const nq = q.n;
    const nr = r ? r.n : q.n;
    if (r && r.dim !== q.dim) throw new ShapeError(`knn: query has dim ${q.dim} but reference has dim ${r.dim}`);
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
    const metric = o.metric;

    // Prepare once: normalised rows for cosine; every reference tile transposed (so each tile pair is a
    // plain matmul), and for l2 scaled by 2 with its squared norms: score = 2 q.r - |r|^2 ranks exactly
    // as -|q - r|^2 does (|q|^2 is constant per query), and the distance is |q|^2 - score.
    const qIn = q.tensor;
    const rIn = r ? r.tensor : q.tensor;
    let qm: tf.Tensor2D = qIn;
    let rm: tf.Tensor2D = rIn;
    if (metric === 'cosine') {
      qm = normalizeRows(qIn);
      prepared.push(qm);
      rm = r ? normalizeRows(rIn) : qm;
    }
    const qt = Math.min(o.queryTileSize, Math.max(nq, 1));
    const rt = Math.min(o.referenceTileSize, nr);
    const dim = q.dim;
    const refTiles: { t: tf.Tensor2D; sq: tf.Tensor2D | null; rs: number; rb: number }[] = [];
    try {
      for (let rs = 0; rs < nr; rs += rt) {
        const rb = Math.min(rt, nr - rs);
        const parts = tf.tidy(() => {
          const tile = tf.slice(rm, [rs, 0], [rb, dim]);
          const tt = tf.transpose(tile) as tf.Tensor2D;
          if (metric !== 'l2') return [tt];
          return [tf.mul(tt, 2) as tf.Tensor2D, tf.reshape(tf.sum(tf.square(tile), 1), [1, rb]) as tf.Tensor2D];
        }) as tf.Tensor2D[];
        const t = parts[0];
        const sq = parts[1] ?? null;
        prepared.push(t);
        if (sq) prepared.push(sq);
        refTiles.push({ t, sq, rs, rb });
      }
    } finally {
      if (rm !== qm && rm !== rIn) rm.dispose(); // the tiles hold everything the search needs
    }
    let qSqHost: Float32Array | null = null;
    if (metric === 'l2') {
      const qSq = tf.tidy(() => tf.sum(tf.square(qIn), 1));
      try {
        qSqHost = (await qSq.data()) as Float32Array;
      } finally {
        qSq.dispose();
      }
    }

    const bestV = new Float32Array(nq * k); // internal scores: larger is better (l2: 2 q.r - |r|^2)
    const bestI = new Int32Array(nq * k);
    const filled = new Int32Array(nq);
    const scratchV = new Float32Array(k + 1);
    const scratchI = new Int32Array(k + 1);
    const candV = new Float32Array(k + 1);
    const candI = new Int32Array(k + 1);

    const total = Math.ceil(nq / qt) * refTiles.length;
    let done = 0;
    for (let qs = 0; qs < nq; qs += qt) {
      const qb = Math.min(qt, nq - qs);
      const qTile = tf.slice(qm, [qs, 0], [qb, dim]);
      try {
        for (const { t, sq, rs, rb } of refTiles) {
          const overlaps = excludeSelf && qs < rs + rb && rs < qs + qb;
          const kk = Math.min(k + (overlaps ? 1 : 0), rb);
          const [values, indices] = tf.tidy(() => {
            let s: tf.Tensor2D = tf.matMul(qTile, t);
            if (sq) s = tf.sub(s, sq);
            const top = tf.topk(s, kk, true);
            return [top.values, top.indices];
          });
          let vals: Float32Array, inds: Int32Array;
          try {
            [vals, inds] = (await Promise.all([values.data(), indices.data()])) as [Float32Array, Int32Array];
          } finally {
            values.dispose();
            indices.dispose();
          }
          for (let i = 0; i < qb; i++) {
            const qi = qs + i;
            let n = 0;
            for (let j = 0; j < kk; j++) {
              const idx = inds[i * kk + j] + rs;
              if (excludeSelf && idx === qi) continue;
              candV[n] = vals[i * kk + j];
              candI[n] = idx;
              n++;
            }
            sortCandidates(candV, candI, Math.min(n, k));
            filled[qi] = mergeRow(bestV, bestI, qi * k, filled[qi], k, candV, candI, Math.min(n, k), scratchV, scratchI);
          }
          done++;
          o.onProgress?.(done, total);
        }
      } finally {
        qTile.dispose();
      }
      await yieldToEventLoop();
    }

    const distances = new Float32Array(nq * k);
    for (let i = 0; i < nq * k; i++) {
      distances[i] = qSqHost ? Math.max(qSqHost[Math.floor(i / k)] - bestV[i], 0) : bestV[i];
    }
    return { indices: bestI, distances, k, numQueries: nq, metric };
  } finally {
    for (const t of prepared) t.dispose();
    if (q.owned) q.tensor.dispose();
    if (r?.owned) r.tensor.dispose();
  }
}

/** Lets other work run between query tiles (setImmediate in Node, a zero timeout elsewhere). */
function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** Rows scaled to unit L2 norm (zero rows stay zero), as PML's CosineSimilarity does. */
function normalizeRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.sqrt(tf.sum(tf.square(x), 1, true)), 1e-12)) as tf.Tensor2D);
}

/** True when (va, ia) ranks before (vb, ib): larger score first, then lower index. */
function before(va: number, ia: number, vb: number, ib: number): boolean {
  return va > vb || (va === vb && ia < ib);
}

/** Insertion sort of the first n candidates by (score desc, index asc); tf.topk output is already in order. */
function sortCandidates(v: Float32Array, idx: Int32Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const cv = v[i], ci = idx[i];
    let j = i - 1;
    while (j >= 0 && before(cv, ci, v[j], idx[j])) {
      v[j + 1] = v[j];
      idx[j + 1] = idx[j];
      j--;
    }
    v[j + 1] = cv;
    idx[j + 1] = ci;
  }
}

/** Merges n sorted candidates into the sorted running list at `off` (length `have`); returns the new length. */
function mergeRow(
  bestV: Float32Array, bestI: Int32Array, off: number, have: number, k: number,
  candV: Float32Array, candI: Int32Array, n: number,
  outV: Float32Array, outI: Int32Array,
): number {
  let a = 0, b = 0, m = 0;
  while (m < k && (a < have || b < n)) {
    const takeA = b >= n || (a < have && before(bestV[off + a], bestI[off + a], candV[b], candI[b]));
    if (takeA) {
      outV[m] = bestV[off + a];
      outI[m] = bestI[off + a];
      a++;
    } else {
      outV[m] = candV[b];
      outI[m] = candI[b];
      b++;
    }
    m++;
  }
  bestV.set(outV.subarray(0, m), off);
  bestI.set(outI.subarray(0, m), off);
  return m;
}
