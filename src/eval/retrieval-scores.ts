import { ShapeError } from '../core/errors.js';
import {
  type LabelComparison, type LabelValue, type ResolvedLabels,
  compareLabelValues, isPlainEquality, labelAt, labelKey, labelMatcher,
} from './labels.js';

/** Retrieval metrics computed from k nearest neighbours. */
export type RetrievalMetricName =
  | 'precisionAt1' | 'rPrecision' | 'mapAtR' | 'meanAveragePrecision' | 'meanReciprocalRank' | 'recallAtK' | 'knnAccuracy';

/** Every retrieval metric, in reporting order. */
export const RETRIEVAL_METRICS: readonly RetrievalMetricName[] = [
  'precisionAt1', 'rPrecision', 'mapAtR', 'meanAveragePrecision', 'meanReciprocalRank', 'recallAtK', 'knnAccuracy',
];

/** Per-query relevance counts: R (relevant reference rows) and which queries are lone. */
export interface RelevanceCounts {
  /** Relevant reference rows per query, the query's own row not counted. */
  r: Int32Array;
  /** 1 where the query has at least one relevant reference row (PML's `not_lone_query_mask`). */
  notLone: Uint8Array;
  /** The largest number of reference rows matching any query label (PML's max bin count, self included). */
  maxBinCount: number;
}

/**
 * Counts, for every query, the reference rows whose label matches it (as pytorch-metric-learning's
 * `get_label_match_counts`: once per distinct query label). With `sameSource` the query's own row is
 * not counted when its label matches itself.
 */
export function relevanceCounts(
  q: ResolvedLabels, r: ResolvedLabels, sameSource: boolean, comparison?: LabelComparison,
): RelevanceCounts {
  const rr = new Int32Array(q.n);
  const notLone = new Uint8Array(q.n);
  let maxBinCount = 0;
  const perKey = new Map<number | string, number>();
  let countOf: (qi: number) => number;
  if (isPlainEquality(q, comparison)) {
    const counts = new Map<number, number>();
    for (const l of r.ints!) counts.set(l, (counts.get(l) ?? 0) + 1);
    countOf = (qi) => counts.get(q.ints![qi]) ?? 0;
  } else {
    const match = labelMatcher(q, r, comparison);
    countOf = (qi) => {
      let c = 0;
      for (let j = 0; j < r.n; j++) if (match(qi, j)) c++;
      return c;
    };
  }
  const selfMatch = sameSource ? labelMatcher(q, q, comparison) : null;
  for (let i = 0; i < q.n; i++) {
    const key = labelKey(q, i);
    let c = perKey.get(key);
    if (c === undefined) {
      c = countOf(i);
      perKey.set(key, c);
      maxBinCount = Math.max(maxBinCount, c);
    }
    const self = selfMatch && selfMatch(i, i) ? 1 : 0;
    rr[i] = c - self;
    notLone[i] = rr[i] > 0 ? 1 : 0;
  }
  return { r: rr, notLone, maxBinCount };
}

/** Options of {@link scoreNeighbours}. */
export interface ScoreOptions {
  /** Neighbour lists, `numQueries * stride` reference indices, best first. */
  neighbors: Int32Array;
  /** Columns per query in `neighbors`. */
  stride: number;
  /** Neighbours the ranking metrics use (the first `k` of each row). */
  k: number;
  /** Neighbours `recallAtK` and `knnAccuracy` use (the first `atK` of each row). */
  atK: number;
  queryLabels: ResolvedLabels;
  referenceLabels: ResolvedLabels;
  relevance: RelevanceCounts;
  comparison?: LabelComparison;
  metrics: readonly RetrievalMetricName[];
}

/**
 * Per-query values of each requested metric (NaN for lone queries, which every metric skips).
 * Definitions are those of {@link accuracy}.
 */
export function scoreNeighbours(o: ScoreOptions): Record<RetrievalMetricName, Float64Array> {
  const { neighbors, stride, k, atK, queryLabels: q, referenceLabels: ref, relevance } = o;
  const nq = q.n;
  if (neighbors.length !== nq * stride) {
    throw new ShapeError(`retrieval metrics: neighbors has ${neighbors.length} entries, expected numQueries * k = ${nq} * ${stride}`);
  }
  if (k > stride || atK > stride) throw new ShapeError(`retrieval metrics: k = ${Math.max(k, atK)} but only ${stride} neighbours per query`);
  const match = labelMatcher(q, ref, o.comparison);
  const out = {} as Record<RetrievalMetricName, Float64Array>;
  for (const m of o.metrics) out[m] = new Float64Array(nq).fill(Number.NaN);
  const votes = new Map<number | string, { count: number; first: number; row: number }>();
  const hit = new Uint8Array(stride);
  for (let i = 0; i < nq; i++) {
    if (!relevance.notLone[i]) continue;
    const base = i * stride;
    const used = Math.max(k, atK);
    for (let j = 0; j < used; j++) {
      const idx = neighbors[base + j];
      if (idx < 0 || idx >= ref.n) {
        throw new ShapeError(`retrieval metrics: neighbour index ${idx} of query ${i} is outside the reference set`);
      }
      hit[j] = match(i, idx) ? 1 : 0;
    }
    const m = Math.min(relevance.r[i], k);
    let hits = 0, hitsInR = 0, apR = 0, ap = 0, firstHit = -1;
    for (let j = 0; j < k; j++) {
      if (!hit[j]) continue;
      hits++;
      ap += hits / (j + 1);
      if (firstHit < 0) firstHit = j;
      if (j < m) {
        hitsInR++;
        apR += hits / (j + 1);
      }
    }
    if (out.precisionAt1) out.precisionAt1[i] = hit[0];
    if (out.rPrecision) out.rPrecision[i] = hitsInR / m;
    if (out.mapAtR) out.mapAtR[i] = apR / m;
    if (out.meanAveragePrecision) out.meanAveragePrecision[i] = ap / Math.max(hits, 1);
    if (out.meanReciprocalRank) out.meanReciprocalRank[i] = firstHit >= 0 ? 1 / (firstHit + 1) : 0;
    if (out.recallAtK) {
      let any = 0;
      for (let j = 0; j < atK && !any; j++) any = hit[j];
      out.recallAtK[i] = any;
    }
    if (out.knnAccuracy) {
      // Majority vote over the first atK neighbours' labels; a tie goes to the label seen first (nearest).
      votes.clear();
      let best: { count: number; first: number; row: number } | null = null;
      for (let j = 0; j < atK; j++) {
        const idx = neighbors[base + j];
        const key = labelKey(ref, idx);
        let v = votes.get(key);
        if (!v) {
          v = { count: 0, first: j, row: idx };
          votes.set(key, v);
        }
        v.count++;
        if (!best || v.count > best.count || (v.count === best.count && v.first < best.first)) best = v;
      }
      out.knnAccuracy[i] = best && match(i, best.row) ? 1 : 0;
    }
  }
  return out;
}

/** One class of queries in per-class results: its label and its value for each metric. */
export interface PerClassScores {
  /** The distinct labels of the non-lone queries, ordered as `torch.unique` orders them. */
  classes: LabelValue[];
  /** Per metric, the mean over each class's queries, aligned with `classes`. */
  values: Record<string, number[]>;
}

/**
 * Reduces per-query values (NaN = lone query, skipped): the plain mean over queries, or with
 * `avgOfAvgs` the mean of per-class means (PML's `avg_of_avgs`). 0 when every query is lone.
 */
export function reduceScores(values: Float64Array, q: ResolvedLabels, avgOfAvgs: boolean): number {
  if (!avgOfAvgs) {
    let s = 0, n = 0;
    for (const v of values) if (!Number.isNaN(v)) {
      s += v;
      n++;
    }
    return n === 0 ? 0 : s / n;
  }
  const per = perClassMeans(values, q);
  if (per.length === 0) return 0;
  return per.reduce((a, c) => a + c.mean, 0) / per.length;
}

/** Per-class means of per-query values, classes in `torch.unique` order. */
export function perClassMeans(values: Float64Array, q: ResolvedLabels): { label: LabelValue; mean: number }[] {
  const groups = new Map<number | string, { label: LabelValue; sum: number; n: number }>();
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) continue;
    const key = labelKey(q, i);
    let g = groups.get(key);
    if (!g) {
      g = { label: labelAt(q, i), sum: 0, n: 0 };
      groups.set(key, g);
    }
    g.sum += values[i];
    g.n++;
  }
  return [...groups.values()]
    .sort((a, b) => compareLabelValues(a.label, b.label))
    .map((g) => ({ label: g.label, mean: g.sum / g.n }));
}
