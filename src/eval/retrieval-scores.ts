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
  /**
   * Relevant reference rows per query (R), the query's own row not counted: the denominator of MAP@R
   * and MAP. Every thread scoring a row reads it from here, whatever k is.
   */
  r: Int32Array;
  /** 1 where the query has at least one relevant reference row (PML's `not_lone_query_mask`). */
  notLone: Uint8Array;
  /** The largest number of reference rows matching any query label (PML's max bin count, self included). */
  maxBinCount: number;
}

/**
 * Counts, for every query, the reference rows whose label matches it (as pytorch-metric-learning's
 * `get_label_match_counts`: once per distinct query label). With `sameSource` the query's own row is
 * not counted when its label matches itself. (PML 2.x subtracts 1 for every query then, even under a
 * custom comparison by which a label does not match itself; there R here is one more than PML's.)
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

/** What {@link RetrievalScorer} needs besides the neighbours. */
export interface ScorerOptions {
  /** Neighbours the ranking metrics use (the first `k` of each ranking). */
  k: number;
  /** Neighbours `recallAtK` and `knnAccuracy` use (the first `atK`). */
  atK: number;
  queryLabels: ResolvedLabels;
  referenceLabels: ResolvedLabels;
  relevance: RelevanceCounts;
  comparison?: LabelComparison;
  metrics: readonly RetrievalMetricName[];
}

/**
 * Per-query values of the retrieval metrics (definitions in `accuracy`), one query at a time from its
 * ranking, best first. Lone queries are never scored and stay NaN, which every reduction skips.
 * {@link needed} says how much of a query's ranking the requested metrics read, so that a caller
 * ranking on the fly can stop there: the whole first k only for MAP and MRR, else min(R, k).
 */
export class RetrievalScorer {
  /** Per-query values of each requested metric, NaN until scored. */
  readonly values: Record<RetrievalMetricName, Float64Array>;
  private readonly match: (qi: number, ri: number) => boolean;
  private readonly hit: Uint8Array;
  private readonly votes = new Map<number | string, { count: number; first: number; row: number }>();
  private readonly wholeK: boolean;
  private readonly firstR: boolean;
  private readonly usesAtK: boolean;
  /** The reference labels when relevance is plain integer equality (the common case, compared inline). */
  private readonly plainInts: Int32Array | null;

  /** `values`: arrays to write the per-query values into (e.g. shared with other threads), NaN-filled. */
  constructor(private readonly o: ScorerOptions, values?: Record<RetrievalMetricName, Float64Array>) {
    this.match = labelMatcher(o.queryLabels, o.referenceLabels, o.comparison);
    this.values = values ?? ({} as Record<RetrievalMetricName, Float64Array>);
    if (!values) for (const m of o.metrics) this.values[m] = new Float64Array(o.queryLabels.n).fill(Number.NaN);
    const has = (m: RetrievalMetricName): boolean => o.metrics.includes(m);
    this.wholeK = has('meanAveragePrecision') || has('meanReciprocalRank');
    this.firstR = has('rPrecision') || has('mapAtR') || has('precisionAt1');
    this.usesAtK = has('recallAtK') || has('knnAccuracy');
    this.hit = new Uint8Array(Math.max(o.k, o.atK, 1));
    this.plainInts = isPlainEquality(o.queryLabels, o.comparison) ? o.referenceLabels.ints : null;
  }

  /** Neighbours of query `i` the metrics read (0 for a lone query). */
  needed(i: number): number {
    if (!this.o.relevance.notLone[i]) return 0;
    const ranking = this.wholeK ? this.o.k : this.firstR ? Math.min(this.o.relevance.r[i], this.o.k) : 0;
    return Math.max(ranking, this.usesAtK ? this.o.atK : 0);
  }

  /**
   * Scores query `i` from `neighbors[offset..)`, its first {@link needed}(i) reference rows, best
   * first (the query's own row already removed when the query set is part of the reference set).
   */
  score(i: number, neighbors: Int32Array, offset: number): void {
    const used = this.needed(i);
    if (used === 0) return;
    const { k, atK } = this.o;
    const ref = this.o.referenceLabels;
    const out = this.values;
    const hit = this.hit;
    const ints = this.plainInts;
    const label = ints ? this.o.queryLabels.ints![i] : 0;
    for (let j = 0; j < used; j++) {
      const idx = neighbors[offset + j];
      if (idx < 0 || idx >= ref.n) {
        throw new ShapeError(`retrieval metrics: neighbour index ${idx} of query ${i} is outside the reference set`);
      }
      hit[j] = ints ? +(ints[idx] === label) : this.match(i, idx) ? 1 : 0;
    }
    const r = this.o.relevance.r[i];
    const m = Math.min(r, k);
    const ranked = this.wholeK ? k : m;
    let hits = 0, hitsInR = 0, apR = 0, ap = 0, firstHit = -1;
    for (let j = 0; j < ranked; j++) {
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
    // Both average precisions divide by R, the relevant rows in the whole reference set, neither by
    // min(R, k) nor by the hits found: a ranking cut short of R relevant rows scores below 1 (PML 2.x).
    if (out.mapAtR) out.mapAtR[i] = apR / r;
    if (out.meanAveragePrecision) out.meanAveragePrecision[i] = ap / r;
    if (out.meanReciprocalRank) out.meanReciprocalRank[i] = firstHit >= 0 ? 1 / (firstHit + 1) : 0;
    if (out.recallAtK) {
      let any = 0;
      for (let j = 0; j < atK && !any; j++) any = hit[j];
      out.recallAtK[i] = any;
    }
    if (out.knnAccuracy) {
      // Majority vote over the first atK neighbours' labels; a tie goes to the label seen first (nearest).
      const votes = this.votes;
      votes.clear();
      let best: { count: number; first: number; row: number } | null = null;
      for (let j = 0; j < atK; j++) {
        const idx = neighbors[offset + j];
        const key = labelKey(ref, idx);
        let v = votes.get(key);
        if (!v) {
          v = { count: 0, first: j, row: idx };
          votes.set(key, v);
        }
        v.count++;
        if (!best || v.count > best.count || (v.count === best.count && v.first < best.first)) best = v;
      }
      out.knnAccuracy[i] = best && this.match(i, best.row) ? 1 : 0;
    }
  }
}

/**
 * Per-query values of each requested metric from a neighbour table (`numQueries * stride` reference
 * indices, best first; the first max(k, atK) columns of each row are read).
 */
export function scoreNeighbours(neighbors: Int32Array, stride: number, o: ScorerOptions): Record<RetrievalMetricName, Float64Array> {
  const nq = o.queryLabels.n;
  if (neighbors.length !== nq * stride) {
    throw new ShapeError(`retrieval metrics: neighbors has ${neighbors.length} entries, expected numQueries * k = ${nq} * ${stride}`);
  }
  if (o.k > stride || o.atK > stride) throw new ShapeError(`retrieval metrics: k = ${Math.max(o.k, o.atK)} but only ${stride} neighbours per query`);
  const scorer = new RetrievalScorer(o);
  for (let i = 0; i < nq; i++) scorer.score(i, neighbors, i * stride);
  return scorer.values;
}

/**
 * Reduces per-query values (NaN = lone query, skipped): the plain mean over queries, or with
 * `avgOfAvgs` the mean of per-class means (PML's `avg_of_avgs`). NaN when every query is lone (PML 2.x's
 * `nan_accuracy`: no query can be scored, which is not the same as scoring 0).
 */
export function reduceScores(values: Float64Array, q: ResolvedLabels, avgOfAvgs: boolean): number {
  if (!avgOfAvgs) {
    let s = 0, n = 0;
    for (const v of values) if (!Number.isNaN(v)) {
      s += v;
      n++;
    }
    return n === 0 ? Number.NaN : s / n;
  }
  const per = perClassMeans(values, q);
  if (per.length === 0) return Number.NaN;
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
