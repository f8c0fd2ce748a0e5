import { ConfigError, ShapeError } from '../core/errors.js';

/** An item's identifier: a string or a (safe) integer, kept as given. */
export type IndexId = string | number;

/** Free-form JSON metadata stored with an item and returned by searches. */
export type Metadata = Record<string, unknown>;

/** A metadata value an equality filter may compare against. */
export type FilterValue = string | number | boolean | null;

/**
 * Which items a search may return:
 * - an object `{ field: value }` keeps items whose metadata `field` equals `value` (all fields must
 *   match; an array value means "any of these"), e.g. `{ label: [5, 7] }`;
 * - a function `(metadata, id) => boolean` keeps the items it returns true for.
 */
export type SearchFilter = Record<string, FilterValue | FilterValue[]> | ((metadata: Metadata | undefined, id: IndexId) => boolean);

/** How an index ranks neighbours (see `knn`'s metrics): cosine similarity, inner product or squared L2. */
export type IndexMetric = 'cosine' | 'ip' | 'l2';

/** The implementations of {@link NearestNeighborIndex}. */
export type IndexKind = 'exact' | 'hnsw' | 'lancedb' | 'pgvector';

/** Options of {@link NearestNeighborIndex.search}. */
export interface SearchOptions {
  /** Only items passing this filter are returned (fewer than k when too few pass). */
  filter?: SearchFilter;
}

/** One neighbour found by a search, best first. */
export interface SearchHit {
  id: IndexId;
  /**
   * Larger is closer: the cosine similarity (`cosine`), the inner product (`ip`), or the negated
   * squared Euclidean distance (`l2`).
   */
  score: number;
  /** Smaller is closer: `1 - cosine`, `-ip`, or the squared Euclidean distance. */
  distance: number;
  /** The item's metadata, when it has any. */
  metadata?: Metadata;
}

/**
 * A nearest-neighbour index over fixed-length float vectors, each with an id and optional metadata.
 * Every implementation (exact, HNSW, LanceDB, pgvector) behaves the same way through this interface;
 * only speed and exactness differ.
 */
export interface NearestNeighborIndex {
  /** Which implementation this is. */
  readonly kind: IndexKind;
  /** The ranking. */
  readonly metric: IndexMetric;
  /** Vector length, or 0 before the first `add` when not given at construction. */
  readonly dim: number;
  /** Number of items held. */
  readonly size: number;
  /**
   * Adds `ids.length` vectors stored flat in `vectors` (`ids.length * dim` values), with optional
   * metadata per item. Ids must be new (adding an id already held is an error: remove it first).
   */
  add(vectors: Float32Array, dim: number, ids: IndexId[], metadata?: (Metadata | undefined)[]): Promise<void>;
  /** The `k` items closest to `query` (length `dim`), best first; fewer when the index (or filter) has fewer. */
  search(query: Float32Array, k: number, options?: SearchOptions): Promise<SearchHit[]>;
  /**
   * Searches `queries.length / dim` queries at once (stored flat), where the implementation has a
   * faster way than one search after another; same results as {@link search} per query. Callers
   * use `searchMany`, which falls back to one search per query.
   */
  searchBatch?(queries: Float32Array, k: number, options?: SearchOptions): Promise<SearchHit[][]>;
  /** Removes the items with these ids (unknown ids are ignored); returns how many were removed. */
  remove(ids: IndexId[]): Promise<number>;
  /** True when an item with this id is held. */
  has(id: IndexId): boolean;
  /** The stored vector of an item (a copy), or undefined. Used to search by id. */
  getVector(id: IndexId): Promise<Float32Array | undefined>;
  /** Writes the index to folder `dir`, replacing it atomically (a crash leaves the old or the new index). */
  save(dir: string): Promise<void>;
  /** Releases resources (files, handles) the index holds, where it holds any. */
  close?(): Promise<void>;
}

/** The manifest every saved index folder holds as `index.json`. */
export interface IndexManifest {
  format: 'akin-index';
  version: 1;
  kind: IndexKind;
  metric: IndexMetric;
  dim: number;
  size: number;
  /** Kind-specific settings (e.g. HNSW's M and efConstruction). */
  params?: Record<string, unknown>;
}

/** Turns a filter into a predicate. Object filters compare metadata fields with `===` (arrays: any of). */
export function filterPredicate(filter: SearchFilter | undefined): ((metadata: Metadata | undefined, id: IndexId) => boolean) | null {
  if (filter === undefined) return null;
  if (typeof filter === 'function') return filter;
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
    throw new ConfigError(`search: option 'filter' must be an object of metadata fields or a function`);
  }
  const entries = Object.entries(filter);
  return (metadata) => {
    for (const [key, want] of entries) {
      const have = metadata?.[key];
      if (Array.isArray(want) ? !want.some((w) => w === have) : want !== have) return false;
    }
    return true;
  };
}

/** Validates the arguments of `add`; returns the dim to use. */
export function checkAdd(
  where: string, currentDim: number, vectors: Float32Array, dim: number, ids: IndexId[], metadata: unknown[] | undefined,
): void {
  if (!(vectors instanceof Float32Array)) throw new ConfigError(`${where}.add: 'vectors' must be a Float32Array`);
  if (!Number.isInteger(dim) || dim < 1) throw new ConfigError(`${where}.add: 'dim' must be an integer >= 1, got ${dim}`);
  if (currentDim !== 0 && dim !== currentDim) throw new ShapeError(`${where}.add: 'dim' is ${dim} but the index holds vectors of dim ${currentDim}`);
  if (!Array.isArray(ids)) throw new ConfigError(`${where}.add: 'ids' must be an array`);
  if (vectors.length !== ids.length * dim) {
    throw new ShapeError(`${where}.add: 'vectors' has ${vectors.length} values but ${ids.length} ids x dim ${dim} = ${ids.length * dim}`);
  }
  if (metadata !== undefined && (!Array.isArray(metadata) || metadata.length !== ids.length)) {
    throw new ShapeError(`${where}.add: 'metadata' must be an array with one entry per id (${ids.length})`);
  }
  const seen = new Set<IndexId>();
  ids.forEach((id, i) => {
    if (!(typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)))) {
      throw new ConfigError(`${where}.add: 'ids[${i}]' must be a string or a safe integer, got ${JSON.stringify(id)}`);
    }
    if (seen.has(id)) throw new ConfigError(`${where}.add: 'ids[${i}]' (${JSON.stringify(id)}) appears twice`);
    seen.add(id);
  });
  for (let i = 0; i < vectors.length; i++) {
    if (!Number.isFinite(vectors[i])) throw new ConfigError(`${where}.add: 'vectors[${i}]' is not finite (${vectors[i]})`);
  }
}

/** Validates a query and k. */
export function checkQuery(where: string, dim: number, query: Float32Array, k: number): void {
  if (!(query instanceof Float32Array)) throw new ConfigError(`${where}.search: 'query' must be a Float32Array`);
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`${where}.search: 'k' must be an integer >= 1, got ${k}`);
  if (dim !== 0 && query.length !== dim) throw new ShapeError(`${where}.search: 'query' has ${query.length} values, the index has dim ${dim}`);
  for (let i = 0; i < query.length; i++) {
    if (!Number.isFinite(query[i])) throw new ConfigError(`${where}.search: 'query[${i}]' is not finite (${query[i]})`);
  }
}

/** Converts a metric's score (larger is closer) to its distance (smaller is closer). */
export function scoreToDistance(metric: IndexMetric, score: number): number {
  if (metric === 'cosine') return 1 - score;
  return -score + 0;
}

/** Converts a metric's distance to its score. */
export function distanceToScore(metric: IndexMetric, distance: number): number {
  if (metric === 'cosine') return 1 - distance;
  return -distance + 0;
}
