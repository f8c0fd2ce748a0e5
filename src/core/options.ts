import { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * Validates a component's options against its zod schema (which carries the documented defaults) and
 * returns the parsed, fully-defaulted options. A bad value raises a {@link ConfigError} that names the
 * component, the option and the value it got, e.g.
 * `TripletMarginLoss: option 'margin' must be a number (got "0.1")`.
 */
export function parseOptions<S extends z.ZodType>(owner: string, schema: S, options: unknown): z.output<S> {
  const result = schema.safeParse(options ?? {});
  if (result.success) return result.data;
  throw new ConfigError(formatIssues(owner, result.error, options));
}

/** Formats zod issues as one message naming each bad field. */
export function formatIssues(owner: string, error: z.ZodError, input: unknown): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const got = path === '' ? input : getPath(input, issue.path as PropertyKey[]);
    const where = path === '' ? 'options' : `option '${path}'`;
    if (issue.code === 'unrecognized_keys') {
      return `unknown option(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    }
    return `${where}: ${issue.message} (got ${describe(got)})`;
  });
  return `${owner}: ${lines.join('; ')}`;
}

function getPath(input: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    const s = JSON.stringify(value);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(value);
  }
}

/** Schema helpers shared by component option schemas. */
export const zs = {
  /** A finite number. */
  num: () => z.number().finite(),
  /** A finite number >= 0. */
  nonneg: () => z.number().finite().min(0),
  /** A finite number > 0. */
  pos: () => z.number().finite().positive(),
  /** An integer >= 1. */
  posInt: () => z.number().int().min(1),
};
