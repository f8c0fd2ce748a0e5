import { ConfigError } from '../core/errors.js';
import { filterPredicate, type IndexMetric, type SearchFilter } from './types.js';

/** Where a PostgreSQL connection goes, with the defaults libpq and `pg` fill in (never the password). */
export interface PgConnectionInfo {
  host: string;
  port: number;
  database: string;
  /** Undefined when neither the connection string nor PGUSER names one (the OS user is used). */
  user?: string;
}

function parseUrl(connectionString: string): URL {
  let u: URL;
  try {
    u = new URL(connectionString);
  } catch {
    throw new ConfigError(`PgVectorIndex: option 'connectionString' must be a postgres:// URL (postgres://user@host:5432/database)`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new ConfigError(`PgVectorIndex: option 'connectionString' must start with postgres:// or postgresql://, got '${u.protocol}//'`);
  }
  return u;
}

/** The connection string without its password (neither `user:password@` nor `?password=`). */
export function redactConnection(connectionString: string): string {
  const u = parseUrl(connectionString);
  u.password = '';
  if (u.searchParams.has('password')) u.searchParams.delete('password');
  return u.toString();
}

/** Host, port, database and user a connection string (or, without one, the PG* variables) names. */
export function describeConnection(connectionString: string | undefined, env: NodeJS.ProcessEnv = process.env): PgConnectionInfo {
  const u = connectionString === undefined ? null : parseUrl(connectionString);
  const user = (u && decodeURIComponent(u.username)) || env.PGUSER || undefined;
  const host = (u && (u.hostname || u.searchParams.get('host'))) || env.PGHOST || 'localhost';
  const port = Number((u && u.port) || env.PGPORT || 5432);
  const database = (u && decodeURIComponent(u.pathname.slice(1))) || env.PGDATABASE || user || '(default)';
  return { host, port, database, user };
}

const NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * The SQL of a table name (`"items"` or `"schema"."items"`), after checking it: lower-case letters,
 * digits and `_`, at most 59 characters a part (so `<table>_ann` fits PostgreSQL's 63).
 */
export function quoteTable(table: string): string {
  const parts = typeof table === 'string' ? table.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || parts.some((p) => !NAME.test(p) || p.length > 59)) {
    throw new ConfigError(`PgVectorIndex: option 'table' must be lower-case letters, digits and '_' (optionally 'schema.table', at most 59 characters a part), got ${JSON.stringify(table)}`);
  }
  return parts.map((p) => `"${p}"`).join('.');
}

/**
 * pgvector's text form of a vector, `[x1,x2,...]`, with 9 significant digits: enough for every
 * float32 value to read back exactly.
 */
export function floatLiteral(v: Float32Array): string {
  let s = '[';
  for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + (v[i] === 0 ? '0' : v[i].toPrecision(9));
  return `${s}]`;
}

/** pgvector's distance operator and operator class of each metric. */
export const OPS: Record<IndexMetric, { op: string; opclass: string }> = {
  cosine: { op: '<=>', opclass: 'vector_cosine_ops' },
  ip: { op: '<#>', opclass: 'vector_ip_ops' },
  l2: { op: '<->', opclass: 'vector_l2_ops' },
};

/**
 * The SQL condition of an object filter on the `metadata` column (`(metadata -> $k) = $v::jsonb`, an
 * array value as `= ANY($v::jsonb[])`), appending its parameters to `params`; '' for none or a
 * function filter. jsonb equality matches the `===` of `filterPredicate`: 2 is not '2', a missing
 * field is not null.
 */
export function filterSql(filter: SearchFilter | undefined, params: unknown[]): string {
  filterPredicate(filter); // validates
  if (filter === undefined || typeof filter === 'function') return '';
  const parts = Object.entries(filter).map(([key, want]) => {
    params.push(key);
    const field = `(metadata -> $${params.length})`;
    if (Array.isArray(want)) {
      params.push(want.map((w) => JSON.stringify(w)));
      return `${field} = ANY($${params.length}::jsonb[])`;
    }
    params.push(JSON.stringify(want));
    return `${field} = $${params.length}::jsonb`;
  });
  return parts.length ? ` WHERE ${parts.join(' AND ')}` : '';
}

/**
 * One statement returning up to `limit` nearest rows of `table` for each query vector (pgvector text
 * literals), rows `(q, item_id, metadata, d)` ordered by query number then distance. `exactOrder`
 * breaks ties by insertion (`row_id`); it is left out under an approximate index, whose scans
 * deliver rows by distance only.
 */
export function nearestStatement(
  table: string, metric: IndexMetric, exactOrder: boolean, queries: string[], limit: number, filter: SearchFilter | undefined,
): { sql: string; params: unknown[]; filtered: boolean } {
  const params: unknown[] = [queries, limit];
  const where = filterSql(filter, params);
  const op = OPS[metric].op;
  const inner = `SELECT item_id, metadata, row_id, embedding ${op} q.v AS d FROM ${table}${where} ORDER BY embedding ${op} q.v${exactOrder ? ', row_id' : ''} LIMIT $2`;
  const sql = `SELECT q.ord::text AS q, r.item_id, r.metadata, r.d FROM unnest($1::vector[]) WITH ORDINALITY AS q(v, ord) CROSS JOIN LATERAL (${inner}) r ORDER BY q.ord, r.d, r.row_id`;
  return { sql, params, filtered: where !== '' };
}
