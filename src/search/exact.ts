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
}

const METRICS: readonly IndexMetric[] = ['cosine', 'ip', 'l2'];

/**
 * Exact nearest-neighbour search: every query is compared with every stored vector through the tiled
 * k-NN engine (`eval/knn`), so results are exactly the brute-force ones (ties: earlier-added item
 * first). Removal keeps insertion order. Good up to a few hundred thousand vectors.
 */
export class ExactIndex implements NearestNeighborIndex {
  readonly kind = 'exact' as const;
  readonly metric: IndexMetric;
  private dimValue: number;
  private rows: Float32Array = new Float32Array(0);
  private ids: IndexId[] = [];
  private meta: (Metadata | undefined)[] = [];
  private rowOf = new Map<IndexId, number>();

  constructor(options: ExactIndexOptions = {}) {
    const metric = options.metric ?? 'cosine';
    if (!METRICS.includes(metric)) throw new ConfigError(`ExactIndex: option 'metric' must be one of ${METRICS.join(', ')}, got ${JSON.stringify(metric)}`);
    if (options.dim !== undefined && (!Number.isInteger(options.dim) || options.dim < 1)) {
      throw new ConfigError(`ExactIndex: option 'dim' must be an integer >= 1, got ${options.dim}`);
    }
    this.metric = metric;
    this.dimValue = options.dim ?? 0;
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
    const keep = filterPredicate(options.filter);
    const dim = this.dimValue;
    let rowsIdx: number[] | null = null;
    let reference: Float32Array;
    if (keep) {
      rowsIdx = [];
      for (let r = 0; r < this.ids.length; r++) if (keep(this.meta[r], this.ids[r])) rowsIdx.push(r);
      reference = new Float32Array(rowsIdx.length * dim);
      rowsIdx.forEach((r, i) => reference.set(this.rows.subarray(r * dim, (r + 1) * dim), i * dim));
    } else {
      reference = this.rows.subarray(0, this.ids.length * dim);
    }
    const n = reference.length / Math.max(dim, 1);
    if (n === 0) return [];
    const kk = Math.min(k, n);
    const res = await knn({ query, reference, dim, k: kk, metric: this.metric, excludeSelf: false });
    const hits: SearchHit[] = [];
    for (let j = 0; j < kk; j++) {
      const r = rowsIdx ? rowsIdx[res.indices[j]] : res.indices[j];
      const raw = res.distances[j];
      const score = this.metric === 'l2' ? -raw + 0 : raw;
      const hit: SearchHit = { id: this.ids[r], score, distance: this.metric === 'l2' ? raw : scoreToDistance(this.metric, score) };
      if (this.meta[r] !== undefined) hit.metadata = this.meta[r];
      hits.push(hit);
    }
    return hits;
  }

  async remove(ids: IndexId[]): Promise<number> {
    const drop = new Set<number>();
    for (const id of ids) {
      const r = this.rowOf.get(id);
      if (r !== undefined) drop.add(r);
    }
    if (drop.size === 0) return 0;
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
