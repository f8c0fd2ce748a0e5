import { cpSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { readManifest, writeIndexDir } from './items.js';
import {
  checkAdd, checkQuery, distanceToScore, filterPredicate,
  type IndexId, type Metadata, type NearestNeighborIndex, type SearchHit, type SearchOptions,
} from './types.js';

/* Minimal structural types of the parts of @lancedb/lancedb and apache-arrow used here. */
interface LanceQuery {
  distanceType(t: string): LanceQuery;
  limit(n: number): LanceQuery;
  where(sql: string): LanceQuery;
  select(cols: string[]): LanceQuery;
  toArray(): Promise<Record<string, unknown>[]>;
}
interface LanceTable {
  add(rows: Record<string, unknown>[]): Promise<unknown>;
  delete(where: string): Promise<unknown>;
  vectorSearch(v: Float32Array): LanceQuery;
  query(): LanceQuery;
  countRows(): Promise<number>;
}
interface LanceDb {
  createEmptyTable(name: string, schema: unknown, opts?: { mode: string }): Promise<LanceTable>;
  openTable(name: string): Promise<LanceTable>;
  close?(): void;
}
interface LanceModule { connect(uri: string): Promise<LanceDb> }
interface ArrowModule {
  Schema: new (fields: unknown[]) => unknown;
  Field: new (name: string, type: unknown, nullable?: boolean) => unknown;
  Utf8: new () => unknown;
  Float32: new () => unknown;
  FixedSizeList: new (n: number, child: unknown) => unknown;
}

let cached: { lance: LanceModule; arrow: ArrowModule } | null | undefined;

/** @lancedb/lancedb and apache-arrow, or null when the optional packages are missing or do not load. */
export function lancedbModules(): { lance: LanceModule; arrow: ArrowModule } | null {
  if (cached === undefined) {
    try {
      const req = createRequire(import.meta.url);
      // LanceDB logs routine notices ("No existing dataset ... will be created") at WARN; keep errors only unless asked.
      process.env.LANCEDB_LOG ??= 'error';
      cached = { lance: req('@lancedb/lancedb') as LanceModule, arrow: req('apache-arrow') as ArrowModule };
    } catch {
      cached = null;
    }
  }
  return cached;
}

const TABLE = 'items';

/** SQL string literal. */
function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * Nearest-neighbour search in a LanceDB table (cosine; `@lancedb/lancedb`, an optional dependency).
 * The table lives in a working folder (a fresh temporary one by default); `save(dir)` copies it into
 * the index folder. Searches without a vector index are exact scans; filters are applied to the
 * candidates, fetching more until k pass or the table is exhausted.
 */
export class LanceDbIndex implements NearestNeighborIndex {
  readonly kind = 'lancedb' as const;
  readonly metric = 'cosine' as const;
  private dimValue: number;
  private readonly workDir: string;
  private table: LanceTable | null = null;
  private db: LanceDb | null = null;
  private ids = new Set<string>();

  /** Throws `E_UNAVAILABLE` when @lancedb/lancedb is missing. */
  constructor(options: { dim?: number; metric?: 'cosine' } = {}) {
    if (!lancedbModules()) throw Object.assign(new ConfigError('LanceDbIndex: the optional package @lancedb/lancedb is not installed or does not load'), { code: 'E_UNAVAILABLE' });
    if (options.metric !== undefined && options.metric !== 'cosine') throw new ConfigError(`LanceDbIndex: option 'metric' must be 'cosine', got ${JSON.stringify(options.metric)}`);
    if (options.dim !== undefined && (!Number.isInteger(options.dim) || options.dim < 1)) throw new ConfigError(`LanceDbIndex: option 'dim' must be an integer >= 1`);
    this.dimValue = options.dim ?? 0;
    this.workDir = mkdtempSync(join(tmpdir(), 'akin-lancedb-'));
  }

  get dim(): number {
    return this.dimValue;
  }

  get size(): number {
    return this.ids.size;
  }

  has(id: IndexId): boolean {
    return this.ids.has(JSON.stringify(id));
  }

  private async open(create: boolean): Promise<LanceTable | null> {
    if (this.table) return this.table;
    const { lance, arrow } = lancedbModules()!;
    this.db ??= await lance.connect(join(this.workDir, 'db'));
    if (existsSync(join(this.workDir, 'db', `${TABLE}.lance`))) {
      this.table = await this.db.openTable(TABLE);
    } else if (create) {
      const schema = new arrow.Schema([
        new arrow.Field('id', new arrow.Utf8(), false),
        new arrow.Field('meta', new arrow.Utf8(), true),
        new arrow.Field('vector', new arrow.FixedSizeList(this.dimValue, new arrow.Field('item', new arrow.Float32(), true)), false),
      ]);
      this.table = await this.db.createEmptyTable(TABLE, schema, { mode: 'overwrite' });
    }
    return this.table;
  }

  async add(vectors: Float32Array, dim: number, ids: IndexId[], metadata?: (Metadata | undefined)[]): Promise<void> {
    checkAdd('LanceDbIndex', this.dimValue, vectors, dim, ids, metadata);
    ids.forEach((id, i) => {
      if (this.has(id)) throw new ConfigError(`LanceDbIndex.add: 'ids[${i}]' (${JSON.stringify(id)}) is already in the index; remove it first`);
    });
    this.dimValue = dim;
    if (ids.length === 0) return;
    const table = (await this.open(true))!;
    const rows = ids.map((id, i) => ({
      id: JSON.stringify(id),
      meta: metadata?.[i] === undefined || metadata[i] === null ? null : JSON.stringify(metadata[i]),
      vector: Array.from(vectors.subarray(i * dim, (i + 1) * dim)),
    }));
    await table.add(rows);
    for (const r of rows) this.ids.add(r.id);
  }

  async search(query: Float32Array, k: number, options: SearchOptions = {}): Promise<SearchHit[]> {
    checkQuery('LanceDbIndex', this.dimValue, query, k);
    if (this.size === 0) return [];
    const table = (await this.open(false))!;
    const keep = filterPredicate(options.filter);
    let limit = Math.min(this.size, keep ? k * 4 : k);
    for (;;) {
      const rows = await table.vectorSearch(query).distanceType('cosine').select(['id', 'meta', '_distance']).limit(limit).toArray();
      const hits: SearchHit[] = [];
      for (const row of rows) {
        const id = JSON.parse(row.id as string) as IndexId;
        const meta = row.meta === null || row.meta === undefined ? undefined : (JSON.parse(row.meta as string) as Metadata);
        if (keep && !keep(meta, id)) continue;
        const distance = Number(row._distance);
        const hit: SearchHit = { id, score: distanceToScore('cosine', distance), distance };
        if (meta !== undefined) hit.metadata = meta;
        hits.push(hit);
        if (hits.length === k) break;
      }
      if (hits.length >= k || limit >= this.size) return hits;
      limit = Math.min(this.size, limit * 4);
    }
  }

  async getVector(id: IndexId): Promise<Float32Array | undefined> {
    if (!this.has(id)) return undefined;
    const table = (await this.open(false))!;
    const rows = await table.query().where(`id = ${sqlString(JSON.stringify(id))}`).select(['vector']).limit(1).toArray();
    return rows.length ? Float32Array.from(rows[0].vector as ArrayLike<number>) : undefined;
  }

  async remove(ids: IndexId[]): Promise<number> {
    const keys = [...new Set(ids.map((id) => JSON.stringify(id)))].filter((key) => this.ids.has(key));
    if (keys.length === 0) return 0;
    const table = (await this.open(false))!;
    for (let i = 0; i < keys.length; i += 500) {
      await table.delete(`id IN (${keys.slice(i, i + 500).map(sqlString).join(', ')})`);
    }
    for (const key of keys) this.ids.delete(key);
    return keys.length;
  }

  async save(dir: string): Promise<void> {
    await writeIndexDir(
      dir,
      { format: 'akin-index', version: 1, kind: 'lancedb', metric: 'cosine', dim: this.dimValue, size: this.size },
      null,
      (tmp) => {
        if (existsSync(join(this.workDir, 'db'))) cpSync(join(this.workDir, 'db'), join(tmp, 'db'), { recursive: true });
      },
    );
  }

  /** Removes the working folder; the index cannot be used afterwards. */
  async close(): Promise<void> {
    this.db?.close?.();
    this.table = null;
    this.db = null;
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /** Loads an index saved by {@link LanceDbIndex.save} (into a fresh working copy). */
  static async load(dir: string): Promise<LanceDbIndex> {
    const m = readManifest(dir, 'lancedb');
    const index = new LanceDbIndex({ dim: m.dim || undefined });
    if (existsSync(join(dir, 'db'))) {
      cpSync(join(dir, 'db'), join(index.workDir, 'db'), { recursive: true });
      const table = await index.open(false);
      if (table) for (const row of await table.query().select(['id']).toArray()) index.ids.add(row.id as string);
    }
    return index;
  }
}
