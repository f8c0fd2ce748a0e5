import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ConfigError, DataError } from '../core/errors.js';
import { readItems, readManifest, writeIndexDir } from './items.js';
import {
  checkAdd, checkQuery, distanceToScore, filterPredicate, scoreToDistance,
  type IndexId, type IndexMetric, type Metadata, type NearestNeighborIndex, type SearchHit, type SearchOptions,
} from './types.js';

/** The part of hnswlib-node's `HierarchicalNSW` akin uses. */
interface Hnsw {
  initIndex(opts: { maxElements: number; m?: number; efConstruction?: number; randomSeed?: number; allowReplaceDeleted?: boolean }): void;
  readIndex(filename: string, allowReplaceDeleted?: boolean): Promise<boolean>;
  writeIndex(filename: string): Promise<boolean>;
  resizeIndex(newMaxElements: number): void;
  addPoint(point: number[], label: number): void;
  markDelete(label: number): void;
  searchKnn(query: number[], k: number, filter?: (label: number) => boolean): { distances: number[]; neighbors: number[] };
  getPoint(label: number): number[];
  getMaxElements(): number;
  setEf(ef: number): void;
}
type HnswCtor = new (space: IndexMetric, dim: number) => Hnsw;

let cached: HnswCtor | null | undefined;

/** hnswlib-node's index class, or null when the optional package is not installed or failed to build. */
export function hnswlib(): HnswCtor | null {
  if (cached === undefined) {
    try {
      const mod = createRequire(import.meta.url)('hnswlib-node') as { HierarchicalNSW: HnswCtor };
      cached = mod.HierarchicalNSW;
    } catch {
      cached = null;
    }
  }
  return cached;
}

/** Options of {@link HnswIndex}. */
export interface HnswIndexOptions {
  /** Ranking. Default `'cosine'`. */
  metric?: IndexMetric;
  /** Vector length; taken from the first `add` when omitted. */
  dim?: number;
  /** Graph degree M. Default 16. */
  m?: number;
  /** Candidate list size while building. Default 200. */
  efConstruction?: number;
  /** Candidate list size while searching (raised to k when smaller). Default 100. */
  efSearch?: number;
  /** Seed of the level generator. Default 100. */
  seed?: number;
}

/**
 * Approximate nearest-neighbour search with an HNSW graph (hnswlib-node, an optional dependency).
 * Scores follow the exact index's conventions; removal marks items deleted in the graph.
 */
export class HnswIndex implements NearestNeighborIndex {
  readonly kind = 'hnsw' as const;
  readonly metric: IndexMetric;
  private dimValue: number;
  private graph: Hnsw | null = null;
  private readonly params: Required<Omit<HnswIndexOptions, 'metric' | 'dim'>>;
  private nextLabel = 0;
  private labelOf = new Map<IndexId, number>();
  private idOf = new Map<number, IndexId>();
  private metaOf = new Map<number, Metadata>();
  /** Cosine: each item's norm (hnswlib stores unit vectors), so getVector returns what was added. */
  private normOf = new Map<number, number>();

  /** Throws `E_UNAVAILABLE` when hnswlib-node is missing; use `createIndex` for the fallback to exact search. */
  constructor(options: HnswIndexOptions = {}) {
    if (!hnswlib()) throw Object.assign(new ConfigError('HnswIndex: the optional package hnswlib-node is not installed or did not build'), { code: 'E_UNAVAILABLE' });
    const metric = options.metric ?? 'cosine';
    if (!['cosine', 'ip', 'l2'].includes(metric)) throw new ConfigError(`HnswIndex: option 'metric' must be cosine, ip or l2, got ${JSON.stringify(metric)}`);
    for (const key of ['dim', 'm', 'efConstruction', 'efSearch', 'seed'] as const) {
      const v = options[key];
      if (v !== undefined && (!Number.isInteger(v) || v < (key === 'seed' ? 0 : 1))) throw new ConfigError(`HnswIndex: option '${key}' must be a positive integer, got ${v}`);
    }
    this.metric = metric;
    this.dimValue = options.dim ?? 0;
    this.params = { m: options.m ?? 16, efConstruction: options.efConstruction ?? 200, efSearch: options.efSearch ?? 100, seed: options.seed ?? 100 };
  }

  get dim(): number {
    return this.dimValue;
  }

  get size(): number {
    return this.labelOf.size;
  }

  has(id: IndexId): boolean {
    return this.labelOf.has(id);
  }

  async getVector(id: IndexId): Promise<Float32Array | undefined> {
    const label = this.labelOf.get(id);
    if (label === undefined || !this.graph) return undefined;
    const v = Float32Array.from(this.graph.getPoint(label));
    const norm = this.normOf.get(label);
    if (norm !== undefined) for (let d = 0; d < v.length; d++) v[d] *= norm;
    return v;
  }

  private ensureGraph(extra: number): Hnsw {
    if (!this.graph) {
      const Ctor = hnswlib()!;
      this.graph = new Ctor(this.metric, this.dimValue);
      this.graph.initIndex({
        maxElements: Math.max(1024, extra), m: this.params.m, efConstruction: this.params.efConstruction, randomSeed: this.params.seed,
      });
    } else if (this.nextLabel + extra > this.graph.getMaxElements()) {
      this.graph.resizeIndex(Math.max(this.nextLabel + extra, this.graph.getMaxElements() * 2));
    }
    return this.graph;
  }

  async add(vectors: Float32Array, dim: number, ids: IndexId[], metadata?: (Metadata | undefined)[]): Promise<void> {
    checkAdd('HnswIndex', this.dimValue, vectors, dim, ids, metadata);
    ids.forEach((id, i) => {
      if (this.labelOf.has(id)) throw new ConfigError(`HnswIndex.add: 'ids[${i}]' (${JSON.stringify(id)}) is already in the index; remove it first`);
    });
    this.dimValue = dim;
    const graph = this.ensureGraph(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const label = this.nextLabel++;
      const v = vectors.subarray(i * dim, (i + 1) * dim);
      graph.addPoint(Array.from(v), label);
      if (this.metric === 'cosine') {
        let s = 0;
        for (let d = 0; d < dim; d++) s += v[d] * v[d];
        this.normOf.set(label, Math.sqrt(s));
      }
      this.labelOf.set(ids[i], label);
      this.idOf.set(label, ids[i]);
      const m = metadata?.[i];
      if (m !== undefined && m !== null) this.metaOf.set(label, m);
      if (i % 2048 === 2047) await new Promise<void>((r) => setImmediate(r));
    }
  }

  async search(query: Float32Array, k: number, options: SearchOptions = {}): Promise<SearchHit[]> {
    checkQuery('HnswIndex', this.dimValue, query, k);
    if (!this.graph || this.size === 0) return [];
    const keep = filterPredicate(options.filter);
    const kk = Math.min(k, this.size);
    this.graph.setEf(Math.max(this.params.efSearch, kk));
    const labelFilter = keep ? (label: number): boolean => keep(this.metaOf.get(label), this.idOf.get(label)!) : undefined;
    const res = this.graph.searchKnn(Array.from(query), kk, labelFilter);
    return res.neighbors.map((label, j) => {
      const score = this.metric === 'l2' ? -res.distances[j] + 0 : distanceToScore('cosine', res.distances[j]);
      const hit: SearchHit = { id: this.idOf.get(label)!, score, distance: scoreToDistance(this.metric, score) };
      if (this.metric === 'l2') hit.distance = res.distances[j];
      const m = this.metaOf.get(label);
      if (m !== undefined) hit.metadata = m;
      return hit;
    });
  }

  async remove(ids: IndexId[]): Promise<number> {
    let n = 0;
    for (const id of ids) {
      const label = this.labelOf.get(id);
      if (label === undefined) continue;
      this.graph!.markDelete(label);
      this.labelOf.delete(id);
      this.idOf.delete(label);
      this.metaOf.delete(label);
      this.normOf.delete(label);
      n++;
    }
    return n;
  }

  async save(dir: string): Promise<void> {
    const labels = [...this.idOf.keys()];
    await writeIndexDir(
      dir,
      { format: 'akin-index', version: 1, kind: 'hnsw', metric: this.metric, dim: this.dimValue, size: this.size, params: { ...this.params, nextLabel: this.nextLabel } },
      {
        ids: labels.map((l) => this.idOf.get(l)!), metadata: labels.map((l) => this.metaOf.get(l) ?? null), labels,
        ...(this.metric === 'cosine' ? { norms: labels.map((l) => this.normOf.get(l) ?? 1) } : {}),
      },
      async (tmp) => {
        if (this.graph) await this.graph.writeIndex(join(tmp, 'hnsw.bin'));
      },
    );
  }

  /** Loads an index saved by {@link HnswIndex.save}. */
  static async load(dir: string): Promise<HnswIndex> {
    const m = readManifest(dir, 'hnsw');
    const p = (m.params ?? {}) as Record<string, number>;
    const index = new HnswIndex({ metric: m.metric, dim: m.dim || undefined, m: p.m, efConstruction: p.efConstruction, efSearch: p.efSearch, seed: p.seed });
    const items = readItems(dir);
    if (!items.labels || items.labels.length !== items.ids.length) throw new DataError(`${dir}/items.json: 'labels' must list one graph label per id`);
    index.nextLabel = p.nextLabel ?? 0;
    if (m.dim > 0 && index.nextLabel > 0) {
      const Ctor = hnswlib()!;
      index.graph = new Ctor(m.metric, m.dim);
      await index.graph.readIndex(join(dir, 'hnsw.bin'));
    }
    items.labels.forEach((label, i) => {
      index.labelOf.set(items.ids[i], label);
      index.idOf.set(label, items.ids[i]);
      if (items.metadata[i] !== null && items.metadata[i] !== undefined) index.metaOf.set(label, items.metadata[i]!);
      if (items.norms?.[i] !== undefined) index.normOf.set(label, items.norms[i]);
    });
    return index;
  }
}
