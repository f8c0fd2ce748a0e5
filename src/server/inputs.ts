import { rowVector } from '../data/vectors.js';

/**
 * Input kinds whose raw inputs are numbers. `akin embed` and `akin search` read them from JSON lines
 * whose rows are arrays of numbers or objects holding one (`vector`, `embedding`, `features` or `x`),
 * so the server takes both forms too.
 */
const NUMERIC_KINDS = new Set(['images', 'vectors']);

/** True when raw inputs of `kind` are numbers (an absent kind: a hand-made context, which takes numbers only). */
export function takesNumbers(kind: string | undefined): boolean {
  return kind === undefined || NUMERIC_KINDS.has(kind);
}

/**
 * Numeric raw inputs as the CLI reads them: an array stays as it is; an object is replaced by the
 * vector it holds, found as the CLI's JSON-lines reader finds it ({@link rowVector}), so that both
 * take the same forms. Errors name the row (`field[i]`, or `field` for a single query); anything
 * else is left for the run's parser to reject.
 */
export function numericRows(rows: unknown[], field: string, batch: boolean): unknown[] {
  return rows.map((r, i) => (r === null || typeof r !== 'object' || Array.isArray(r) ? r : rowVector(r, rowName(field, i, batch))));
}

/** The name of row `i` of `field` in errors: `field[i]` in a batch (even a batch of one), else `field`. */
export function rowName(field: string, i: number, batch: boolean): string {
  return batch ? `${field}[${i}]` : field;
}
