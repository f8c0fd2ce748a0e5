export type {
  IndexId, Metadata, FilterValue, SearchFilter, IndexMetric, IndexKind, SearchOptions, SearchHit, NearestNeighborIndex, IndexManifest,
} from './types.js';
export { filterPredicate } from './types.js';
export { ExactIndex } from './exact.js';
export type { ExactIndexOptions } from './exact.js';
export { HnswIndex, hnswlib } from './hnsw.js';
export type { HnswIndexOptions } from './hnsw.js';
export { LanceDbIndex, lancedbModules } from './lancedb.js';
export { PgVectorIndex } from './pgvector.js';
export type { PgVectorIndexOptions, PgAnnIndex } from './pgvector.js';
export type { PgConnectionInfo } from './pg-sql.js';
export { searchMany } from './batch.js';
export { createIndex, loadIndex, availableKinds } from './factory.js';
export type { CreateIndexOptions, LoadIndexOptions } from './factory.js';
export { readManifest } from './items.js';
