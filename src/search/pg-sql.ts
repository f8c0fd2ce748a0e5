import { ConfigError } from '../core/errors.js';

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
