import type { Pool, PoolClient } from 'pg';
import { AkinError, ConfigError, DataError } from '../core/errors.js';
import { readManifest, writeIndexDir } from './items.js';
import { describeConnection, floatLiteral, nearestStatement, OPS, quoteTable, redactConnection, type PgConnectionInfo } from './pg-sql.js';
import {
  checkAdd, checkQuery,
  type IndexId, type IndexMetric, type Metadata, type NearestNeighborIndex, type SearchFilter, type SearchHit, type SearchOptions,
} from './types.js';

/** The approximate index pgvector builds over the vectors, or `'none'` for exact scans. */
export type PgAnnIndex = 'none' | 'hnsw' | 'ivfflat';

/** Options of {@link PgVectorIndex}. */
export interface PgVectorIndexOptions {
  /**
   * `postgres://user:password@host:port/database`. Parts left out (or the whole string) come from the
   * PG* environment variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`) and
   * `~/.pgpass`, as with psql.
   */
  connectionString?: string;
  /** Table holding the items: lower-case letters, digits and `_`, optionally `schema.table`. Default `akin_items`. */
  table?: string;
  /** Ranking: cosine (`<=>`), inner product (`<#>`) or squared L2 (`<->`, squared). Default `'cosine'`. */
  metric?: IndexMetric;
  /** Vector length; taken from the first `add` when omitted. */
  dim?: number;
  /** Approximate index over the vectors, built before the first search (or save). Default `'none'` (exact scans). */
  annIndex?: PgAnnIndex;
  /** HNSW graph degree. Default 16. */
  m?: number;
  /** HNSW candidate list while building. Default 64. */
  efConstruction?: number;
  /** HNSW candidate list while searching (raised to k). Default 100. */
  efSearch?: number;
  /** IVFFlat lists. Default: rows / 1000 (at least 1) when the index is built. */
  lists?: number;
  /** IVFFlat lists probed per search. Default: the square root of lists. */
  probes?: number;
  /**
   * When the table exists before the first `add`: `'error'` (default) or `'replace'` (drop it and start
   * empty; only a table that akin created is ever dropped). Use {@link PgVectorIndex.open} to add to it.
   */
  ifExists?: 'error' | 'replace';
  /** Connections in the pool. Default 4. */
  poolSize?: number;
}

const MARKER = 'akin-index';
/** pgvector indexes vectors of at most this many dimensions. */
const ANN_MAX_DIM = 2000;
const CHUNK = 1000;

type Row = { item_id: string; metadata: Metadata | null; d: number; q?: string };

/**
 * Nearest-neighbour search in PostgreSQL with the pgvector extension, through the `pg` client: the
 * scale-out path (the data lives in the database; many servers can search one table). Items are rows
 * `(row_id, item_id, metadata jsonb, embedding vector(dim))`; ids keep their type (stored as JSON),
 * object filters become SQL conditions on the metadata (`metadata -> 'label' = '5'`), function filters
 * run on the candidates. Without an approximate index every search is an exact scan (ties: earlier
 * added first); with `annIndex: 'hnsw' | 'ivfflat'` it is built before the first search, and filtered
 * searches use pgvector's iterative index scans. `save(dir)` writes the connection settings and the
 * table name (never the password) so `load(dir)` reattaches. `has` and `size` come from an in-memory
 * set of ids, read when the table is opened: one writer at a time.
 */
export class PgVectorIndex implements NearestNeighborIndex {
  readonly kind = 'pgvector' as const;
  readonly metric: IndexMetric;
  readonly table: string;
  private dimValue: number;
  private readonly connectionString: string | undefined;
  private readonly settings: Required<Pick<PgVectorIndexOptions, 'annIndex' | 'm' | 'efConstruction' | 'efSearch' | 'ifExists' | 'poolSize'>>
    & Pick<PgVectorIndexOptions, 'lists' | 'probes'>;
  private poolValue: Pool | null = null;
  private keys = new Set<string>();
  private tableReady = false;
  private annReady = false;
  private iterative = false;

  constructor(options: PgVectorIndexOptions = {}) {
    const metric = options.metric ?? 'cosine';
    if (!(metric in OPS)) throw new ConfigError(`PgVectorIndex: option 'metric' must be cosine, ip or l2, got ${JSON.stringify(metric)}`);
    const ann = options.annIndex ?? 'none';
    if (!['none', 'hnsw', 'ivfflat'].includes(ann)) throw new ConfigError(`PgVectorIndex: option 'annIndex' must be none, hnsw or ivfflat, got ${JSON.stringify(ann)}`);
    if (options.ifExists !== undefined && !['error', 'replace'].includes(options.ifExists)) {
      throw new ConfigError(`PgVectorIndex: option 'ifExists' must be 'error' or 'replace', got ${JSON.stringify(options.ifExists)}`);
    }
    for (const key of ['dim', 'm', 'efConstruction', 'efSearch', 'lists', 'probes', 'poolSize'] as const) {
      const v = options[key];
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new ConfigError(`PgVectorIndex: option '${key}' must be an integer >= 1, got ${v}`);
    }
    if (options.efSearch !== undefined && options.efSearch > 1000) throw new ConfigError(`PgVectorIndex: option 'efSearch' must be <= 1000 (pgvector's limit), got ${options.efSearch}`);
    if (options.connectionString !== undefined) redactConnection(options.connectionString); // validates
    this.table = options.table ?? 'akin_items';
    quoteTable(this.table); // validates
    this.metric = metric;
    this.dimValue = options.dim ?? 0;
    this.connectionString = options.connectionString;
    this.settings = {
      annIndex: ann, m: options.m ?? 16, efConstruction: options.efConstruction ?? 64, efSearch: options.efSearch ?? 100,
      ifExists: options.ifExists ?? 'error', poolSize: options.poolSize ?? 4, lists: options.lists, probes: options.probes,
    };
  }

  get dim(): number {
    return this.dimValue;
  }

  get size(): number {
    return this.keys.size;
  }

  /** Where the index connects (user, host, port, database; no password). */
  get connection(): PgConnectionInfo {
    return describeConnection(this.connectionString);
  }

  has(id: IndexId): boolean {
    return this.keys.has(JSON.stringify(id));
  }

  private get sqlTable(): string {
    return quoteTable(this.table);
  }

  private async pool(): Promise<Pool> {
    if (!this.poolValue) {
      const { default: pg } = await import('pg');
      this.poolValue = new pg.Pool({ connectionString: this.connectionString, max: this.settings.poolSize, allowExitOnIdle: true });
      // An idle connection dropped by the server must not crash the process; the next query reconnects.
      this.poolValue.on('error', () => undefined);
    }
    return this.poolValue;
  }

  /** Runs `fn` with one connection; errors from the database name the table and where it is. */
  private async withClient<T>(fn: (c: PoolClient) => Promise<T>, transaction = false): Promise<T> {
    const pool = await this.pool();
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      const c = this.connection;
      throw new AkinError('E_DATABASE', `PgVectorIndex: cannot connect to PostgreSQL at ${c.user ?? '(default user)'}@${c.host}:${c.port}/${c.database} `
        + `(${(e as Error).message}); the password comes from the connection string, PGPASSWORD or ~/.pgpass`);
    }
    try {
      if (transaction) await client.query('BEGIN');
      const out = await fn(client);
      if (transaction) await client.query('COMMIT');
      return out;
    } catch (e) {
      if (transaction) await client.query('ROLLBACK').catch(() => undefined);
      if (e instanceof AkinError) throw e;
      throw new AkinError('E_DATABASE', `PgVectorIndex (table ${this.table}): ${(e as Error).message}`);
    } finally {
      client.release();
    }
  }

  /** The table's akin marker (its comment), or undefined when the table does not exist; null when it is not akin's. */
  private async marker(c: PoolClient): Promise<{ metric?: string } | null | undefined> {
    const r = await c.query<{ reg: string | null; note: string | null }>(
      "SELECT to_regclass($1)::text AS reg, obj_description(to_regclass($1), 'pg_class') AS note", [this.table],
    );
    if (r.rows[0].reg === null) return undefined;
    try {
      const note = JSON.parse(r.rows[0].note ?? '') as { format?: string; metric?: string };
      return note?.format === MARKER ? note : null;
    } catch {
      return null;
    }
  }

  private async checkExtension(c: PoolClient): Promise<void> {
    try {
      await c.query('CREATE EXTENSION IF NOT EXISTS vector');
    } catch (e) {
      throw new AkinError('E_DATABASE', `PgVectorIndex: the pgvector extension is not available in this database (CREATE EXTENSION vector: ${(e as Error).message})`);
    }
    const v = await c.query<{ v: string }>("SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'");
    const [major, minor] = (v.rows[0]?.v ?? '0.0').split('.').map(Number);
    this.iterative = major > 0 || minor >= 8; // iterative index scans (filtered ANN searches) since 0.8
  }

  /** Creates the table at the first add (replacing an akin table when asked). */
  private async ensureTable(dim: number): Promise<void> {
    if (this.tableReady) return;
    await this.withClient(async (c) => {
      await this.checkExtension(c);
      const mark = await this.marker(c);
      if (mark !== undefined) {
        if (this.settings.ifExists !== 'replace') {
          throw new ConfigError(`PgVectorIndex: table '${this.table}' already exists; choose another table, pass ifExists: 'replace' to rebuild it, or PgVectorIndex.open to add to it`);
        }
        if (mark === null) throw new ConfigError(`PgVectorIndex: table '${this.table}' exists and was not created by akin; it will not be dropped`);
        await c.query(`DROP TABLE ${this.sqlTable}`);
      }
      await c.query(`CREATE TABLE ${this.sqlTable} (row_id bigserial PRIMARY KEY, item_id text NOT NULL UNIQUE, metadata jsonb, embedding vector(${dim}) NOT NULL)`);
      await c.query(`COMMENT ON TABLE ${this.sqlTable} IS '${JSON.stringify({ format: MARKER, metric: this.metric })}'`);
    }, true);
    this.tableReady = true;
    this.annReady = false;
  }

  /** Reads an existing akin table: its ids, dim and whether its approximate index exists. False when there is no table. */
  private async attach(): Promise<boolean> {
    return this.withClient(async (c) => {
      await this.checkExtension(c);
      const mark = await this.marker(c);
      if (mark === undefined) return false;
      if (mark === null) throw new DataError(`PgVectorIndex: table '${this.table}' was not created by akin`);
      if (mark.metric !== this.metric) throw new DataError(`PgVectorIndex: table '${this.table}' was built for metric '${mark.metric}', not '${this.metric}'`);
      const typ = await c.query<{ t: string }>("SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'embedding'", [this.table]);
      const dim = Number(/vector\((\d+)\)/.exec(typ.rows[0]?.t ?? '')?.[1] ?? 0);
      if (this.dimValue !== 0 && dim !== this.dimValue) throw new DataError(`PgVectorIndex: table '${this.table}' holds vectors of dim ${dim}, expected ${this.dimValue}`);
      this.dimValue = dim;
      const ids = await c.query<{ item_id: string }>(`SELECT item_id FROM ${this.sqlTable} ORDER BY row_id`);
      this.keys = new Set(ids.rows.map((r) => r.item_id));
      const ann = await c.query('SELECT 1 FROM pg_class WHERE oid = to_regclass($1)', [`${this.table}_ann`]);
      this.annReady = ann.rowCount! > 0;
      this.tableReady = true;
      return true;
    });
  }

  /** Builds the approximate index (once) when one was asked for. */
  private async ensureAnn(): Promise<void> {
    const s = this.settings;
    if (s.annIndex === 'none' || this.annReady || !this.tableReady || this.size === 0) return;
    if (this.dimValue > ANN_MAX_DIM) throw new ConfigError(`PgVectorIndex: pgvector indexes at most ${ANN_MAX_DIM} dimensions (dim is ${this.dimValue}); use annIndex 'none'`);
    s.lists ??= Math.max(1, Math.round(this.size / 1000));
    const opclass = OPS[this.metric].opclass;
    const using = s.annIndex === 'hnsw'
      ? `hnsw (embedding ${opclass}) WITH (m = ${s.m}, ef_construction = ${s.efConstruction})`
      : `ivfflat (embedding ${opclass}) WITH (lists = ${s.lists})`;
    await this.withClient((c) => c.query(`CREATE INDEX IF NOT EXISTS ${quoteTable(`${this.table}_ann`).split('.').pop()} ON ${this.sqlTable} USING ${using}`));
    this.annReady = true;
  }

  async add(vectors: Float32Array, dim: number, ids: IndexId[], metadata?: (Metadata | undefined)[]): Promise<void> {
    checkAdd('PgVectorIndex', this.dimValue, vectors, dim, ids, metadata);
    const keys = ids.map((id) => JSON.stringify(id));
    keys.forEach((key, i) => {
      if (this.keys.has(key)) throw new ConfigError(`PgVectorIndex.add: 'ids[${i}]' (${key}) is already in the index; remove it first`);
    });
    const metas = ids.map((_, i) => (metadata?.[i] === undefined || metadata[i] === null ? null : JSON.stringify(metadata[i])));
    if (ids.length === 0) return;
    await this.ensureTable(dim);
    this.dimValue = dim;
    await this.withClient(async (c) => {
      for (let s = 0; s < ids.length; s += CHUNK) {
        const e = Math.min(ids.length, s + CHUNK);
        const vecs: string[] = [];
        for (let i = s; i < e; i++) vecs.push(floatLiteral(vectors.subarray(i * dim, (i + 1) * dim)));
        await c.query(
          `INSERT INTO ${this.sqlTable} (item_id, metadata, embedding) SELECT * FROM unnest($1::text[], $2::jsonb[], $3::vector[])`,
          [keys.slice(s, e), metas.slice(s, e), vecs],
        );
      }
    }, true);
    for (const key of keys) this.keys.add(key);
  }

  /** Session settings of an approximate search returning up to `limit` rows (inside the search's transaction). */
  private async annSettings(c: PoolClient, limit: number, filtered: boolean): Promise<void> {
    const s = this.settings;
    if (s.annIndex === 'hnsw') {
      await c.query("SELECT set_config('hnsw.ef_search', $1, true)", [String(Math.min(1000, Math.max(s.efSearch, limit)))]);
      if (filtered && this.iterative) await c.query("SELECT set_config('hnsw.iterative_scan', 'strict_order', true)");
    } else if (s.annIndex === 'ivfflat') {
      const probes = s.probes ?? Math.max(1, Math.round(Math.sqrt(s.lists ?? 1)));
      await c.query("SELECT set_config('ivfflat.probes', $1, true)", [String(probes)]);
      if (filtered && this.iterative) await c.query("SELECT set_config('ivfflat.iterative_scan', 'relaxed_order', true)");
    }
  }

  private hit(row: Row): SearchHit {
    const d = Number(row.d);
    const distance = this.metric === 'l2' ? d * d : d;
    const hit: SearchHit = { id: JSON.parse(row.item_id) as IndexId, score: this.metric === 'cosine' ? 1 - distance : -distance + 0, distance };
    if (row.metadata !== null && row.metadata !== undefined) hit.metadata = row.metadata;
    return hit;
  }

  /** Rows of up to `limit` nearest items for each query vector (one statement for all), grouped by query, best first. */
  private async nearest(queries: string[], limit: number, filter: SearchFilter | undefined): Promise<Row[][]> {
    const { sql, params, filtered } = nearestStatement(this.sqlTable, this.metric, this.settings.annIndex === 'none', queries, limit, filter);
    const ann = this.settings.annIndex !== 'none';
    const rows = await this.withClient(async (c) => {
      if (ann) await this.annSettings(c, limit, filtered);
      return (await c.query<Row>(sql, params)).rows;
    }, ann);
    const out: Row[][] = queries.map(() => []);
    for (const r of rows) out[Number(r.q) - 1].push(r);
    return out;
  }

  /**
   * PostgreSQL's plan (EXPLAIN) of the statement a search for `query` runs, one line per row, e.g.
   * to see whether the HNSW or IVFFlat index is used ("Index Scan using <table>_ann").
   */
  async explain(query: Float32Array, k: number, options: SearchOptions = {}): Promise<string[]> {
    checkQuery('PgVectorIndex', this.dimValue, query, k);
    if (this.size === 0) return [];
    await this.ensureAnn();
    const filter = typeof options.filter === 'function' ? undefined : options.filter;
    const { sql, params, filtered } = nearestStatement(this.sqlTable, this.metric, this.settings.annIndex === 'none', [floatLiteral(query)], Math.min(k, this.size), filter);
    const ann = this.settings.annIndex !== 'none';
    const r = await this.withClient(async (c) => {
      if (ann) await this.annSettings(c, k, filtered);
      return c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
    }, ann);
    return r.rows.map((x) => x['QUERY PLAN']);
  }

  async search(query: Float32Array, k: number, options: SearchOptions = {}): Promise<SearchHit[]> {
    checkQuery('PgVectorIndex', this.dimValue, query, k);
    return (await this.searchBatch(query, k, options))[0];
  }

  /**
   * Searches many queries (`queries` holds `count * dim` values) in one SQL statement; same results
   * as {@link search} per query.
   */
  async searchBatch(queries: Float32Array, k: number, options: SearchOptions = {}): Promise<SearchHit[][]> {
    const dim = this.dimValue;
    if (!Number.isInteger(k) || k < 1) throw new ConfigError(`PgVectorIndex.search: 'k' must be an integer >= 1, got ${k}`);
    if (dim === 0) return queries.length === 0 ? [] : [[]];
    if (queries.length % dim !== 0) throw new ConfigError(`PgVectorIndex.searchBatch: 'queries' must hold a whole number of rows of dim ${dim}`);
    const nq = queries.length / dim;
    if (this.size === 0) return Array.from({ length: nq }, () => []);
    const lits: string[] = [];
    for (let i = 0; i < nq; i++) lits.push(floatLiteral(queries.subarray(i * dim, (i + 1) * dim)));
    await this.ensureAnn();
    const keep = typeof options.filter === 'function' ? options.filter : null;
    const kk = Math.min(k, this.size);
    if (!keep) return (await this.nearest(lits, kk, options.filter)).map((rows) => rows.map((r) => this.hit(r)));
    // A function filter runs here: fetch more candidates until k pass or every item was seen.
    const out: SearchHit[][] = [];
    for (const lit of lits) {
      let limit = Math.min(this.size, k * 4);
      for (;;) {
        const [rows] = await this.nearest([lit], limit, undefined);
        const hits = rows.map((r) => this.hit(r)).filter((h) => keep(h.metadata, h.id)).slice(0, k);
        if (hits.length >= k || limit >= this.size) {
          out.push(hits);
          break;
        }
        limit = Math.min(this.size, limit * 4);
      }
    }
    return out;
  }

  async getVector(id: IndexId): Promise<Float32Array | undefined> {
    if (!this.has(id)) return undefined;
    const r = await this.withClient((c) => c.query<{ v: string }>(`SELECT embedding::text AS v FROM ${this.sqlTable} WHERE item_id = $1`, [JSON.stringify(id)]));
    return r.rows.length ? Float32Array.from(JSON.parse(r.rows[0].v) as number[]) : undefined;
  }

  async remove(ids: IndexId[]): Promise<number> {
    const keys = [...new Set(ids.map((id) => JSON.stringify(id)))].filter((key) => this.keys.has(key));
    if (keys.length === 0) return 0;
    await this.withClient(async (c) => {
      for (let s = 0; s < keys.length; s += CHUNK) await c.query(`DELETE FROM ${this.sqlTable} WHERE item_id = ANY($1::text[])`, [keys.slice(s, s + CHUNK)]);
    }, true);
    for (const key of keys) this.keys.delete(key);
    return keys.length;
  }

  /** Writes `index.json`: metric, dim, size, the table, the connection without its password, and the index settings. */
  async save(dir: string): Promise<void> {
    await this.ensureAnn();
    const { poolSize: _pool, ifExists: _ifExists, ...settings } = this.settings;
    await writeIndexDir(dir, {
      format: 'akin-index', version: 1, kind: 'pgvector', metric: this.metric, dim: this.dimValue, size: this.size,
      params: { connection: this.connectionString === undefined ? null : redactConnection(this.connectionString), table: this.table, ...settings },
    }, null);
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    const pool = this.poolValue;
    this.poolValue = null;
    await pool?.end();
  }

  /** Opens an existing table made by a PgVectorIndex, to search and add to it. */
  static async open(options: PgVectorIndexOptions): Promise<PgVectorIndex> {
    const index = new PgVectorIndex(options);
    if (!(await index.attach())) {
      await index.close();
      throw new DataError(`PgVectorIndex.open: there is no table '${index.table}' in ${formatWhere(index.connection)}`);
    }
    return index;
  }

  /**
   * Reattaches to the table named by an index folder written by {@link save}. The password comes from
   * `connectionString` (which replaces the saved connection) or the PG* variables / ~/.pgpass.
   */
  static async load(dir: string, options: { connectionString?: string } = {}): Promise<PgVectorIndex> {
    const m = readManifest(dir, 'pgvector');
    const p = (m.params ?? {}) as Record<string, unknown>;
    const num = (k: string): number | undefined => (typeof p[k] === 'number' ? (p[k] as number) : undefined);
    const index = new PgVectorIndex({
      connectionString: options.connectionString ?? (typeof p.connection === 'string' ? p.connection : undefined),
      table: typeof p.table === 'string' ? p.table : undefined,
      metric: m.metric, dim: m.dim || undefined,
      annIndex: p.annIndex as PgAnnIndex | undefined,
      m: num('m'), efConstruction: num('efConstruction'), efSearch: num('efSearch'), lists: num('lists'), probes: num('probes'),
    });
    if (!(await index.attach()) && m.size > 0) {
      await index.close();
      throw new DataError(`${dir}: the index's table '${index.table}' is not in ${formatWhere(index.connection)}; rebuild the index`);
    }
    return index;
  }
}

function formatWhere(c: PgConnectionInfo): string {
  return `database ${c.database} at ${c.host}:${c.port}`;
}
