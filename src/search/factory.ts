import { ConfigError } from '../core/errors.js';
import { ExactIndex } from './exact.js';
import { HnswIndex, hnswlib } from './hnsw.js';
import { LanceDbIndex, lancedbModules } from './lancedb.js';
import { readManifest } from './items.js';
import { PgVectorIndex, type PgVectorIndexOptions } from './pgvector.js';
import type { IndexKind, IndexMetric, NearestNeighborIndex } from './types.js';

/** Options of {@link createIndex}. */
export interface CreateIndexOptions {
  /** Ranking. Default `'cosine'` (LanceDB supports only cosine). */
  metric?: IndexMetric;
  /** Vector length; taken from the first `add` when omitted. */
  dim?: number;
  /** Called with a warning when the requested kind is unavailable and exact search is used instead. */
  warn?: (message: string) => void;
  /** Settings of a `pgvector` index: connection, table, approximate index (see {@link PgVectorIndexOptions}). */
  pgvector?: Omit<PgVectorIndexOptions, 'metric' | 'dim'>;
}

/** Options of {@link loadIndex}. */
export interface LoadIndexOptions {
  /** For a `pgvector` index: a connection string used instead of the saved one (e.g. with the password). */
  connectionString?: string;
}

const KINDS: readonly IndexKind[] = ['exact', 'hnsw', 'lancedb', 'pgvector'];

/**
 * The in-process index kinds whose packages load here (`exact` always). `pgvector` is not listed:
 * it needs a PostgreSQL server.
 */
export function availableKinds(): IndexKind[] {
  return KINDS.filter((k) => k === 'exact' || (k === 'hnsw' ? hnswlib() !== null : k === 'lancedb' && lancedbModules() !== null));
}

/**
 * Creates an empty index of `kind`. When the optional package behind `hnsw` or `lancedb` is missing,
 * warns (default: to stderr) and returns an {@link ExactIndex}, which gives the same answers, only slower.
 */
export function createIndex(kind: IndexKind, options: CreateIndexOptions = {}): NearestNeighborIndex {
  if (!KINDS.includes(kind)) throw new ConfigError(`createIndex: 'kind' must be one of ${KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  const warn = options.warn ?? ((m: string) => process.stderr.write(`akin: warning: ${m}\n`));
  const { metric, dim } = options;
  if (kind === 'pgvector') return new PgVectorIndex({ ...options.pgvector, metric, dim });
  if (kind === 'hnsw') {
    if (hnswlib()) return new HnswIndex({ metric, dim });
    warn('hnswlib-node is not installed (or did not build); using the exact index instead');
  }
  if (kind === 'lancedb') {
    if (metric !== undefined && metric !== 'cosine') throw new ConfigError(`createIndex: the lancedb index supports only metric 'cosine', got '${metric}'`);
    if (lancedbModules()) return new LanceDbIndex({ dim });
    warn('@lancedb/lancedb is not installed (or does not load); using the exact index instead');
  }
  return new ExactIndex({ metric, dim });
}

/** Loads any index saved with `save(dir)`, choosing the implementation from its `index.json`. */
export async function loadIndex(dir: string, options: LoadIndexOptions = {}): Promise<NearestNeighborIndex> {
  const m = readManifest(dir);
  if (m.kind === 'exact') return ExactIndex.load(dir);
  if (m.kind === 'hnsw') {
    if (!hnswlib()) throw Object.assign(new ConfigError(`${dir} is an HNSW index but hnswlib-node is not installed; rebuild it with --kind exact`), { code: 'E_UNAVAILABLE' });
    return HnswIndex.load(dir);
  }
  if (m.kind === 'lancedb') {
    if (!lancedbModules()) throw Object.assign(new ConfigError(`${dir} is a LanceDB index but @lancedb/lancedb is not installed; rebuild it with --kind exact`), { code: 'E_UNAVAILABLE' });
    return LanceDbIndex.load(dir);
  }
  if (m.kind === 'pgvector') return PgVectorIndex.load(dir, { connectionString: options.connectionString });
  throw new ConfigError(`${dir}/index.json: unknown index kind ${JSON.stringify(m.kind)}`);
}
