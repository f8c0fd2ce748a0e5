import type * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '../core/errors.js';

/** One row's label: a class id, or (multi-label) the set of class ids it belongs to. */
export type LabelValue = number | readonly number[];

/**
 * Labels as the evaluation functions take them: one integer class per row (`Int32Array`, `number[]`
 * or a 1-D integer tensor, as the losses take them), or one set of classes per row (`number[][]`,
 * multi-label data).
 */
export type EvalLabels = Int32Array | readonly number[] | readonly (readonly number[])[] | tf.Tensor1D;

/**
 * When a reference row counts as relevant to a query (pytorch-metric-learning's `label_comparison_fn`):
 * - `'equal'`: the labels are equal (default for integer labels; sets are equal when they hold the same classes);
 * - `'intersect'`: the label sets share at least one class (default for set labels);
 * - a function of the query's and the reference row's labels.
 */
export type LabelComparison = 'equal' | 'intersect' | ((query: LabelValue, reference: LabelValue) => boolean);

/** Labels resolved for fast comparison: integers, or sorted de-duplicated class sets. */
export interface ResolvedLabels {
  n: number;
  /** Integer labels (single-label data), else null. */
  ints: Int32Array | null;
  /** Sorted, de-duplicated class sets (multi-label data), else null. */
  sets: Int32Array[] | null;
}

/** Resolves labels, checking their count against the number of embedding rows. */
export function resolveLabels(given: EvalLabels, expected: number, what: string): ResolvedLabels {
  const labels = isTensor(given) ? tensorLabels(given, what) : given;
  if (labels === null || typeof labels !== 'object' || typeof (labels as ArrayLike<unknown>).length !== 'number') {
    throw new ConfigError(`${what} must be an Int32Array, an array of integers or an array of integer arrays`);
  }
  const n = labels.length;
  if (n !== expected) throw new ShapeError(`${what} has ${n} entries but there are ${expected} embeddings`);
  const first = (labels as ArrayLike<unknown>)[0];
  if (n > 0 && Array.isArray(first)) {
    const sets: Int32Array[] = [];
    for (let i = 0; i < n; i++) {
      const row = (labels as readonly unknown[])[i];
      if (!Array.isArray(row) || row.some((v) => !Number.isInteger(v))) {
        throw new ConfigError(`${what}[${i}] must be an array of integers (every row a set of classes)`);
      }
      sets.push(Int32Array.from(new Set(row as number[])).sort());
    }
    return { n, ints: null, sets };
  }
  const ints = labels instanceof Int32Array ? labels : Int32Array.from(labels as ArrayLike<number>);
  for (let i = 0; i < n; i++) {
    const v = (labels as ArrayLike<number>)[i];
    if (!Number.isInteger(v)) throw new ConfigError(`${what}[${i}] must be an integer (got ${String(v)})`);
  }
  return { n, ints, sets: null };
}

/** How many rows `labels` labels (a tensor's first dimension). */
export function labelCount(labels: EvalLabels): number {
  return isTensor(labels) ? labels.shape[0] : labels.length;
}

function isTensor(x: unknown): x is tf.Tensor {
  return typeof x === 'object' && x !== null && typeof (x as tf.Tensor).dataSync === 'function' && Array.isArray((x as tf.Tensor).shape);
}

/** A 1-D tensor of class ids as an Int32Array (values checked as integers by the caller). */
function tensorLabels(t: tf.Tensor, what: string): Int32Array | number[] {
  if (t.rank !== 1) throw new ConfigError(`${what} as a tensor must be 1-D (one class per row), got shape [${t.shape}]`);
  return t.dtype === 'int32' ? Int32Array.from(t.dataSync()) : Array.from(t.dataSync());
}

/** The label of row `i` as a {@link LabelValue}. */
export function labelAt(l: ResolvedLabels, i: number): LabelValue {
  return l.ints ? l.ints[i] : Array.from(l.sets![i]);
}

/** A grouping key per row: rows with equal labels (equal sets) share a key. */
export function labelKey(l: ResolvedLabels, i: number): number | string {
  return l.ints ? l.ints[i] : l.sets![i].join(',');
}

/** Orders label values as `torch.unique` does: numbers ascending, sets lexicographically. */
export function compareLabelValues(a: LabelValue, b: LabelValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = typeof a === 'number' ? [a] : a;
  const y = typeof b === 'number' ? [b] : b;
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

function intersects(a: Int32Array, b: Int32Array): boolean {
  let i = 0, j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) return true;
    if (a[i] < b[j]) i++;
    else j++;
  }
  return false;
}

function equalSets(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A predicate `(queryRow, referenceRow) => relevant` for the given labels and comparison. Both label
 * sets must be of the same kind (integers or sets).
 */
export function labelMatcher(
  q: ResolvedLabels, r: ResolvedLabels, comparison: LabelComparison | undefined,
): (qi: number, ri: number) => boolean {
  if ((q.ints === null) !== (r.ints === null)) {
    throw new ConfigError('query and reference labels must both be integers or both be arrays of classes');
  }
  if (typeof comparison === 'function') return (qi, ri) => Boolean(comparison(labelAt(q, qi), labelAt(r, ri)));
  const mode = comparison ?? (q.ints ? 'equal' : 'intersect');
  if (q.ints && r.ints) {
    const a = q.ints, b = r.ints;
    return (qi, ri) => a[qi] === b[ri]; // one class per row: equal and intersect coincide
  }
  const a = q.sets!, b = r.sets!;
  return mode === 'equal' ? (qi, ri) => equalSets(a[qi], b[ri]) : (qi, ri) => intersects(a[qi], b[ri]);
}

/** True when labels are compared by plain integer equality (fast paths apply). */
export function isPlainEquality(q: ResolvedLabels, comparison: LabelComparison | undefined): boolean {
  return q.ints !== null && typeof comparison !== 'function';
}
