import { join } from 'node:path';
import { knn } from '../eval/knn.js';
import { ConfigError } from '../core/errors.js';
import { readFloats, readItems, readManifest, writeFloats, writeIndexDir } from './items.js';
import {
  checkAdd, checkQuery, filterPredicate, scoreToDistance,
  type IndexId, type IndexMetric, type Metadata, type NearestNeighborIndex, type SearchHit, type SearchOptions,
} from './types.js';

/** Options of {@link ExactIndex}. */
export interface ExactIndexOptions {
  /** Ranking. Default `'cosine'`. */
  metric?: IndexMetric;
  /** Vector length; taken from the first `add` when omitted. */
  dim?: number;
  /**
   * `searchBatch` sends batches of at least this many queries (without a filter) through the tiled
   * k-NN engine and scans smaller ones on the host. Default 48 (about where the engine starts to win
   * over the host scan for 10,000 stored vectors of dim 128).
   */
  tiledBatchFrom?: number;
}

/** Queries compared with each stored row together in a host scan. */
const HOST_BLOCK = 32;

const METRICS: readonly IndexMetric[] = ['cosine', 'ip', 'l2'];

/**
 * Exact nearest-neighbour search: every query is compared with every stored vector, so results are
 * exactly the brute-force ones (ties: earlier-added item first). A single query is scanned on the
 * host (float64 sums; no tensor round trip); {@link ExactIndex.searchBatch} sends many queries through
 * the tiled k-NN engine (`eval/knn`). Removal keeps insertion order. Good up to a few hundred
 * thousand vectors.
 */
export class ExactIndex implements NearestNeighborIndex {
  readonly kind = 'exact' as const;
  readonly metric: IndexMetric;
  private dimValue: number;
  private readonly tiledBatchFrom: number;
  private rows: Float32Array = new Float32Array(0);
  private ids: IndexId[] = [];
  private meta: (Metadata | undefined)[] = [];
  private rowOf = new Map<IndexId, number>();
  /** 1 / norm of each stored row (cosine), computed at the first search after a change. */
  private invNorms: Float32Array | null = null;

  constructor(options: ExactIndexOptions = {}) {
    const metric = options.metric ?? 'cosine';
    if (!METRICS.includes(metric)) throw new ConfigError(`ExactIndex: option 'metric' must be one of ${METRICS.join(', ')}, got ${JSON.stringify(metric)}`);
    if (options.dim !== undefined && (!Number.isInteger(options.dim) || options.dim < 1)) {
      throw new ConfigError(`ExactIndex: option 'dim' must be an integer >= 1, got ${options.dim}`);
    }
    if (options.tiledBatchFrom !== undefined && (!Number.isInteger(options.tiledBatchFrom) || options.tiledBatchFrom < 1)) {
      throw new ConfigError(`ExactIndex: option 'tiledBatchFrom' must be an integer >= 1, got ${options.tiledBatchFrom}`);
    }
    this.metric = metric;
    this.dimValue = options.dim ?? 0;
    this.tiledBatchFrom = options.tiledBatchFrom ?? 48;
  }

  get dim(): number {
    return this.dimValue;
  }

  get size(): number {
    return this.ids.length;
  }

  has(id: IndexId): boolean {
    return this.rowOf.has(id);
  }

  async getVector(id: IndexId): Promise<Float32Array | undefined> {
    const r = this.rowOf.get(id);
    return r === undefined ? undefined : this.rows.slice(r * this.dimValue, (r + 1) * this.dimValue);
  }

  async add(vectors: Float32Array, dim: number, ids: IndexId[], metadata?: (Metadata | undefined)[]): Promise<void> {
    checkAdd('ExactIndex', this.dimValue, vectors, dim, ids, metadata);
    ids.forEach((id, i) => {
      if (this.rowOf.has(id)) throw new ConfigError(`ExactIndex.add: 'ids[${i}]' (${JSON.stringify(id)}) is already in the index; remove it first`);
    });
    this.dimValue = dim;
    this.invalidate();
    const n = this.ids.length;
    const needed = (n + ids.length) * dim;
    if (needed > this.rows.length) {
      const grown = new Float32Array(Math.max(needed, this.rows.length * 2));
      grown.set(this.rows.subarray(0, n * dim));
      this.rows = grown;
    }
    this.rows.set(vectors, n * dim);
    ids.forEach((id, i) => {
      this.rowOf.set(id, n + i);
      this.ids.push(id);
      this.meta.push(metadata?.[i] ?? undefined);
    });
  }

  async search(query: Float32Array, k: number, options: SearchOptions = {}): Promise<SearchHit[]> {
    checkQuery('ExactIndex', this.dimValue, query, k);
    return this.scan(query, 1, k, filterPredicate(options.filter))[0];
  }

  /**
   * Scans every stored row once for a block of `nq` queries on the host (float64 sums): each row is
   * compared with all the queries while it is in cache, and the filter runs once per row.
   */
  private scan(queries: Float32Array, nq: number, k: number, keep: ((m: Metadata | undefined, id: IndexId) => boolean) | null): SearchHit[][] {
    const n = this.ids.length;
    const kk = Math.min(k, n);
    if (kk === 0) return Array.from({ length: nq }, () => []);
    const dim = this.dimValue;
    const rows = this.rows;
    const metric = this.metric;
    if (metric === 'cosine' && !this.invNorms) {
      this.invNorms = new Float32Array(n);
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let d = r * dim, e = d + dim; d < e; d++) s += rows[d] * rows[d];
        this.invNorms[r] = 1 / Math.max(Math.sqrt(s), 1e-12);
      }
    }
    const qInv = new Float64Array(nq);
    for (let q = 0; q < nq; q++) {
      let qn = 0;
      for (let d = q * dim, e = d + dim; d < e; d++) qn += queries[d] * queries[d];
      qInv[q] = 1 / Math.max(Math.sqrt(qn), 1e-12);
    }
    // Running top k per query, best first; ties keep the earlier row (as the tiled engine does).
    const topS = new Float64Array(nq * kk);
    const topR = new Int32Array(nq * kk);
    const have = new Int32Array(nq);
    for (let r = 0; r < n; r++) {
      if (keep && !keep(this.meta[r], this.ids[r])) continue;
      const off = r * dim;
      for (let q = 0; q < nq; q++) {
        const qo = q * dim;
        let s = 0;
        if (metric === 'l2') {
          for (let d = 0; d < dim; d++) {
            const x = rows[off + d] - queries[qo + d];
            s += x * x;
          }
          s = -s;
        } else {
          for (let d = 0; d < dim; d++) s += rows[off + d] * queries[qo + d];
          if (metric === 'cosine') s *= this.invNorms![r] * qInv[q];
        }
        const base = q * kk;
        const h = have[q];
        if (h === kk && s <= topS[base + kk - 1]) continue;
        let j = h < kk ? have[q]++ : kk - 1;
        while (j > 0 && topS[base + j - 1] < s) {
          topS[base + j] = topS[base + j - 1];
          topR[base + j] = topR[base + j - 1];
          j--;
        }
        topS[base + j] = s;
        topR[base + j] = r;
      }
    }
    const out: SearchHit[][] = [];
    for (let q = 0; q < nq; q++) {
      const hits: SearchHit[] = [];
      for (let j = 0; j < have[q]; j++) hits.push(this.hit(topR[q * kk + j], topS[q * kk + j] + 0));
      out.push(hits);
    }
    return out;
  }

  private hit(r: number, score: number): SearchHit {
    const hit: SearchHit = { id: this.ids[r], score, distance: this.metric === 'l2' ? -score + 0 : scoreToDistance(this.metric, score) };
    if (this.meta[r] !== undefined) hit.metadata = this.meta[r];
    return hit;
  }

  /**
   * Searches many queries at once (`queries` holds `count * dim` values); same results as
   * {@link search} per query. Batches of fewer than `tiledBatchFrom` (48) queries (or
   * any with a filter) are scanned on the host in blocks, every stored row once per block; larger
   * ones go through the tiled k-NN engine (`eval/knn`), whose matrix products win at that size.
   */
  async searchBatch(queries: Float32Array, k: number, options: SearchOptions = {}): Promise<SearchHit[][]> {
    const dim = this.dimValue;
    if (dim === 0 || queries.length % dim !== 0) throw new ConfigError(`ExactIndex.searchBatch: 'queries' must hold a whole number of rows of dim ${dim}`);
    if (!Number.isInteger(k) || k < 1) throw new ConfigError(`ExactIndex.search: 'k' must be an integer >= 1, got ${k}`);
    const nq = queries.length / dim;
    if (options.filter !== undefined || nq < this.tiledBatchFrom) {
      const keep = filterPredicate(options.filter);
      const out: SearchHit[][] = [];
      for (let q = 0; q < nq; q += HOST_BLOCK) {
        const m = Math.min(HOST_BLOCK, nq - q);
        out.push(...this.scan(queries.subarray(q * dim, (q + m) * dim), m, k, keep));
      }
      return out;
    }
    const kk = Math.min(k, this.ids.length);
    if (kk === 0 || nq === 0) return Array.from({ length: nq }, () => []);
    const res = await knn({ query: queries, reference: this.rows.subarray(0, this.ids.length * dim), dim, k: kk, metric: this.metric, excludeSelf: false });
    const out: SearchHit[][] = [];
    for (let i = 0; i < nq; i++) {
      const hits: SearchHit[] = [];
      for (let j = 0; j < kk; j++) {
        const r = res.indices[i * kk + j];
        const raw = res.distances[i * kk + j];
        hits.push(this.hit(r, this.metric === 'l2' ? -raw + 0 : raw));
      }
      out.push(hits);
    }
    return out;
  }

  async remove(ids: IndexId[]): Promise<number> {
    const drop = new Set<number>();
    for (const id of ids) {
      const r = this.rowOf.get(id);
      if (r !== undefined) drop.add(r);
    }
    if (drop.size === 0) return 0;
    this.invalidate();
    const dim = this.dimValue;
    let w = 0;
    const ids2: IndexId[] = [];
    const meta2: (Metadata | undefined)[] = [];
    for (let r = 0; r < this.ids.length; r++) {
      if (drop.has(r)) continue;
      if (w !== r) this.rows.copyWithin(w * dim, r * dim, (r + 1) * dim);
      ids2.push(this.ids[r]);
      meta2.push(this.meta[r]);
      w++;
    }
    this.ids = ids2;
    this.meta = meta2;
    this.rowOf = new Map(ids2.map((id, i) => [id, i]));
    return drop.size;
  }

  private invalidate(): void {
    this.invNorms = null;
  }

  async save(dir: string): Promise<void> {
    const n = this.ids.length;
    await writeIndexDir(
      dir,
      { format: 'akin-index', version: 1, kind: 'exact', metric: this.metric, dim: this.dimValue, size: n },
      { ids: this.ids, metadata: this.meta.map((m) => m ?? null) },
      (tmp) => writeFloats(join(tmp, 'vectors.f32'), this.rows.subarray(0, n * this.dimValue)),
    );
  }

  /** Loads an index saved by {@link ExactIndex.save}. */
  static async load(dir: string): Promise<ExactIndex> {
    const m = readManifest(dir, 'exact');
    const items = readItems(dir);
    const index = new ExactIndex({ metric: m.metric, dim: m.dim || undefined });
    if (m.size > 0) {
      const vectors = readFloats(join(dir, 'vectors.f32'), m.size * m.dim);
      await index.add(vectors, m.dim, items.ids, items.metadata.map((x) => x ?? undefined));
    }
    return index;
  }
}
