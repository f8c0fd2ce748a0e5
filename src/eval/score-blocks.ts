import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from '../backend/wasm-ops.js';
import { type EmbeddingsLike, toHostMatrix, toTensor } from './embeddings.js';

/**
 * How neighbours are ranked:
 * - `'l2'`: squared Euclidean distance, smaller is closer (what faiss' `IndexFlatL2`, and so
 *   pytorch-metric-learning's default `AccuracyCalculator`, uses);
 * - `'cosine'`: inner product of L2-normalised rows, larger is closer;
 * - `'ip'`: raw inner product, larger is closer.
 */
export type KnnMetric = 'cosine' | 'ip' | 'l2';

/** Scores of a block's rows against one reference tile: `rows x width` floats, row-major. */
export interface ScoreSegment {
  /** The scores (larger is closer), row `i` at `[i * width, (i + 1) * width)`. */
  values: Float32Array;
  /** The same memory as int32 bit patterns (for exact ordering keys). */
  bits: Int32Array;
  /** Reference row of the first column. */
  column: number;
  /** Number of columns. */
  width: number;
}

/** The scores of one tile of queries against every reference row, split by reference tile. */
export interface ScoreBlock {
  /** Query row of the block's first row. */
  start: number;
  /** Query rows in the block. */
  rows: number;
  /** Column ranges in ascending order; together they cover every reference row once. */
  segments: ScoreSegment[];
}

/** Options of {@link scoreBlocks}. */
export interface ScoreBlockOptions {
  query: EmbeddingsLike;
  /** Default: the query set. */
  reference?: EmbeddingsLike;
  dim?: number;
  metric: KnnMetric;
  /** Query rows per block. Default {@link defaultQueryTile}. */
  queryTileSize?: number;
  /** Reference rows per matmul. Default 4096. */
  referenceTileSize?: number;
  /** Called after every matmul (tile pair) with the number done and their total. */
  onProgress?: (done: number, total: number) => void;
}

/** Scores one block may hold by default (64 MiB of float32). */
const BLOCK_VALUES = 1 << 24;

/** The default query rows per block: as many as keep a block within 64 MiB, between 1 and 1024. */
export function defaultQueryTile(numReference: number): number {
  return Math.max(1, Math.min(1024, Math.floor(BLOCK_VALUES / Math.max(numReference, 1))));
}

/**
 * Streams the query-by-reference score matrix one block of query rows at a time: each query tile is
 * multiplied with each reference tile on the tfjs backend (one matmul per tile pair), and `visit`
 * sees the whole block (every reference column of those queries) before it is freed. Memory is one
 * block (`queryTileSize x numReference` scores) plus the rows themselves (a host copy of each set
 * and the transposed reference tiles), never the whole matrix.
 *
 * Scores are "larger is closer": the inner product for `'ip'`, of L2-normalised rows for `'cosine'`,
 * and `2 q.r - |r|^2` for `'l2'` (it ranks exactly as `-|q - r|^2`; the squared distance is
 * `|q|^2 - score`, hence the returned query norms).
 *
 * On the wasm backend `visit` reads the scores in place on the wasm heap: it must not create tensors,
 * and must not keep the block after it returns (or its promise settles). The event loop gets a turn
 * after every block.
 */
export async function scoreBlocks(o: ScoreBlockOptions, visit: (block: ScoreBlock) => void | Promise<void>): Promise<{ queryNormsSq: Float32Array | null }> {
  const { metric } = o;
  // Tiles are made from host copies of the rows (prepared as below): the wasm backend's slice reads
  // the whole source tensor back to the host on every call, which would cost a copy of the query
  // set per query tile.
  const q = await prepareRows(o.query, o.dim, 'query', metric);
  const r = o.reference === undefined ? q : await prepareRows(o.reference, o.dim ?? q.dim, 'reference', metric);
  const nq = q.n, nr = r.n, dim = q.dim;
  const qt = Math.min(o.queryTileSize ?? defaultQueryTile(nr), Math.max(nq, 1));
  const rt = Math.min(o.referenceTileSize ?? 4096, nr);
  const refTiles: { t: tf.Tensor2D; sq: tf.Tensor2D | null; rs: number; rb: number }[] = [];
  try {
    // Every reference tile transposed once (so each tile pair is a plain matmul), and for l2 scaled
    // by 2 with its squared norms (one subtraction per tile pair).
    for (let rs = 0; rs < nr; rs += rt) {
      const rb = Math.min(rt, nr - rs);
      const parts = tf.tidy(() => {
        const tile = tf.tensor2d(r.rows.subarray(rs * dim, (rs + rb) * dim), [rb, dim]);
        const tt = tf.transpose(tile) as tf.Tensor2D;
        if (metric !== 'l2') return [tt];
        return [tf.mul(tt, 2) as tf.Tensor2D, tf.reshape(tf.sum(tf.square(tile), 1), [1, rb]) as tf.Tensor2D];
      }) as tf.Tensor2D[];
      refTiles.push({ t: parts[0], sq: parts[1] ?? null, rs, rb });
    }
    const heap = heapReader();
    const total = Math.ceil(nq / qt) * refTiles.length;
    let done = 0;
    for (let qs = 0; qs < nq; qs += qt) {
      const qb = Math.min(qt, nq - qs);
      const qTile = tf.tensor2d(q.rows.subarray(qs * dim, (qs + qb) * dim), [qb, dim]);
      const pieces: tf.Tensor2D[] = [];
      try {
        for (const { t, sq } of refTiles) {
          pieces.push(tf.tidy(() => {
            const s: tf.Tensor2D = tf.matMul(qTile, t);
            return sq ? tf.sub(s, sq) : s;
          }));
          done++;
          o.onProgress?.(done, total);
        }
        // Views are taken after the last allocation of the block (a growing wasm heap would move them).
        const segments: ScoreSegment[] = [];
        for (let i = 0; i < pieces.length; i++) {
          const values = heap ? heap(pieces[i]) : ((await pieces[i].data()) as Float32Array);
          const bits = new Int32Array(values.buffer, values.byteOffset, values.length);
          segments.push({ values, bits, column: refTiles[i].rs, width: refTiles[i].rb });
        }
        await visit({ start: qs, rows: qb, segments });
      } finally {
        for (const p of pieces) p.dispose();
        qTile.dispose();
      }
      await yieldToEventLoop();
    }
    return { queryNormsSq: q.normsSq };
  } finally {
    for (const { t, sq } of refTiles) {
      t.dispose();
      sq?.dispose();
    }
  }
}

/**
 * The rows as scored, on the host: as given, or for cosine L2-normalised (on the backend, as a whole);
 * for l2 also their squared norms. Host arrays are checked for non-finite values.
 */
async function prepareRows(
  x: EmbeddingsLike, dim: number | undefined, what: string, metric: KnnMetric,
): Promise<{ rows: Float32Array; n: number; dim: number; normsSq: Float32Array | null }> {
  const host = x instanceof tf.Tensor ? null : toHostMatrix(x, dim, what);
  if (host && metric === 'ip') return { rows: host.data, n: host.n, dim: host.dim, normsSq: null };
  const t = host ? { tensor: tf.tensor2d(host.data, [host.n, host.dim]), owned: true, n: host.n, dim: host.dim } : toTensor(x, dim, what);
  try {
    const shape = { n: t.n, dim: t.dim };
    if (metric === 'cosine') {
      const unit = normalizeRows(t.tensor);
      try {
        return { rows: (await unit.data()) as Float32Array, ...shape, normsSq: null };
      } finally {
        unit.dispose();
      }
    }
    const rows = host ? host.data : ((await t.tensor.data()) as Float32Array);
    if (metric !== 'l2') return { rows, ...shape, normsSq: null };
    const sq = tf.tidy(() => tf.sum(tf.square(t.tensor), 1));
    try {
      return { rows, ...shape, normsSq: (await sq.data()) as Float32Array };
    } finally {
      sq.dispose();
    }
  } finally {
    if (t.owned) t.tensor.dispose();
  }
}

/** On the wasm backend, a reader of a float32 tensor's data in place on the heap (no copy); else null. */
function heapReader(): ((t: tf.Tensor) => Float32Array) | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as Partial<WasmBackendLike>;
  if (typeof backend.typedArrayFromHeap !== 'function') return null;
  return (t) => backend.typedArrayFromHeap!(t) as Float32Array;
}

/** Lets other work run between blocks (setImmediate in Node, a zero timeout elsewhere). */
function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** Rows scaled to unit L2 norm (zero rows stay zero), as PML's CosineSimilarity does. */
function normalizeRows(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.sqrt(tf.sum(tf.square(x), 1, true)), 1e-12)) as tf.Tensor2D);
}
