import { z } from 'zod';
import { ConfigError, ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import type { Random } from '../core/random.js';
import { clusteringScores } from './clustering.js';
import { type EmbeddingsLike, embeddingShape } from './embeddings.js';
import {
  type EvalLabels, type LabelComparison, type LabelValue, type ResolvedLabels, compareLabelValues, labelAt, labelCount, labelKey, resolveLabels,
} from './labels.js';
import {
  RETRIEVAL_METRICS, type RetrievalMetricName, type ScorerOptions, perClassMeans, reduceScores, relevanceCounts, scoreNeighbours,
} from './retrieval-scores.js';
import { RowWork, typedArray } from './row-threads.js';
import { type KnnMetric, scoreBlocks } from './score-blocks.js';

export type { RetrievalMetricName } from './retrieval-scores.js';
/** Every metric {@link accuracy} knows: the retrieval metrics plus clustering NMI and AMI of the query set. */
export type AccuracyMetricName = RetrievalMetricName | 'nmi' | 'ami';

const ALL_METRICS: readonly AccuracyMetricName[] = [...RETRIEVAL_METRICS, 'nmi', 'ami'];
/** The metrics computed when `metrics` is not given. */
export const DEFAULT_ACCURACY_METRICS: readonly AccuracyMetricName[] = ['precisionAt1', 'rPrecision', 'mapAtR'];
/** Every metric name, in reporting order (the retrieval metrics, then `nmi`, `ami`). */
export const ACCURACY_METRICS: readonly AccuracyMetricName[] = ALL_METRICS;

/** Options of {@link accuracy}. */
export interface AccuracyOptions {
  /** Query embeddings. */
  query: EmbeddingsLike;
  /** One label per query row: an integer, or an array of classes (multi-label). */
  queryLabels: EvalLabels;
  /** Reference embeddings. Default: the query set, each query's own row excluded from its neighbours. */
  reference?: EmbeddingsLike;
  /** One label per reference row, of the same kind as `queryLabels`; required with `reference`. */
  referenceLabels?: EvalLabels;
  /**
   * The query rows are the first rows of `reference` (PML's `ref_includes_query`): each query's own
   * row is excluded and counts as "itself". Default false; implied when `reference` is omitted.
   */
  referenceIncludesQuery?: boolean;
  /** Row length; required for Float32Array embeddings. */
  dim?: number;
  /**
   * Neighbours the ranking metrics use per query:
   * - `'maxBinCount'` (default): the largest number of reference rows matching a query label, minus 1
   *   when queries are part of the reference set. R-precision and MAP@R are exact with it.
   * - `'all'` or `null`: every reference row (PML's default `k=None`); MAP and MRR then see the whole ranking.
   * - a number, clamped to the number of reference rows available.
   *
   * P@1, R-precision and MAP@R are the same for any k >= the max bin count; only `meanAveragePrecision`
   * and `meanReciprocalRank` depend on k beyond that. With k < R, MAP@R and MAP still divide by R.
   */
  k?: number | 'maxBinCount' | 'all' | null;
  /** The K of `recallAtK` and `knnAccuracy` (clamped to the reference rows available). Default 10. */
  atK?: number;
  /** Metrics to compute. Default `['precisionAt1', 'rPrecision', 'mapAtR']`. */
  metrics?: AccuracyMetricName[];
  /** Neighbour ranking. Default `'l2'` (squared Euclidean), as PML's default faiss `IndexFlatL2`. */
  metric?: KnnMetric;
  /** Average per class first, then over classes (PML's `avg_of_avgs`). Default false. */
  avgOfAvgs?: boolean;
  /**
   * When to count a reference row as relevant to a query: `'equal'` (integer labels' default),
   * `'intersect'` (set labels' default: a match when the sets share a class), or a function of the
   * two labels (PML's `label_comparison_fn`). NMI/AMI need plain integer labels.
   */
  labelComparison?: LabelComparison;
  /** Random source for the k-means behind `'nmi'`/`'ami'`. Default `createRandom(0)`. */
  random?: Random;
  /** Query rows per block of scores (see `knn`'s `queryTileSize`). */
  queryTileSize?: number;
  /** Reference rows per matmul (see `knn`'s `referenceTileSize`). */
  referenceTileSize?: number;
  /** k-NN progress, in tile pairs. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link accuracyPerClass} returns. */
export interface PerClassAccuracy {
  /**
   * The distinct labels of the non-lone queries (of every query when all are lone, each scored NaN),
   * numbers ascending, sets lexicographically (`torch.unique` order).
   */
  classes: LabelValue[];
  /** Each retrieval metric's per-class mean, aligned with `classes` (PML's `return_per_class`). */
  perClass: Record<string, number[]>;
  /** The same metrics reduced as {@link accuracy} reduces them, plus `nmi`/`ami` when requested. */
  overall: Record<string, number>;
}

const accuracySchema = z
  .object({
    query: z.any(),
    queryLabels: z.any(),
    reference: z.any().optional(),
    referenceLabels: z.any().optional(),
    referenceIncludesQuery: z.boolean().default(false),
    dim: z.number().int().min(1).optional(),
    k: z.union([z.number().int().min(1), z.literal('maxBinCount'), z.literal('all'), z.null()]).default('maxBinCount'),
    atK: z.number().int().min(1).default(10),
    metrics: z.array(z.enum(ALL_METRICS as [AccuracyMetricName, ...AccuracyMetricName[]])).optional(),
    metric: z.enum(['cosine', 'ip', 'l2']).default('l2'),
    avgOfAvgs: z.boolean().default(false),
    labelComparison: z.union([z.enum(['equal', 'intersect']), z.custom<(a: LabelValue, b: LabelValue) => boolean>((v) => typeof v === 'function')]).optional(),
    random: z.custom<Random>((v) => typeof (v as Random | undefined)?.next === 'function').optional(),
    queryTileSize: z.number().int().min(1).optional(),
    referenceTileSize: z.number().int().min(1).optional(),
    onProgress: z.custom<(done: number, total: number) => void>((v) => typeof v === 'function').optional(),
  })
  .strict();

/**
 * Retrieval accuracy with the semantics of pytorch-metric-learning 2.x's `AccuracyCalculator`: every
 * query retrieves its k nearest reference rows; R is the number of reference rows whose label matches
 * the query's (minus the query itself when it is in the reference set).
 *
 * - `precisionAt1`: fraction of queries whose nearest neighbour is relevant;
 * - `rPrecision`: relevant fraction of the first min(R, k) neighbours;
 * - `mapAtR`: MAP@R, the sum of precision@i over relevant neighbours i within the first min(R, k),
 *   divided by R (so a k below R caps it at k / R, as PML's relevance mask does);
 * - `meanAveragePrecision`: the sum of precision@i over relevant neighbours i within the first k,
 *   divided by R, not by the number of relevant neighbours found (PML's divisor from 1.6.1
 *   on, 2.8.1 included): a ranking that stops before every relevant row scores less than 1;
 * - `meanReciprocalRank`: 1 / rank of the first relevant neighbour within k (0 if none);
 * - `recallAtK`: Recall@K as deep-metric-learning papers use it (not in PML): the fraction of queries
 *   with at least one relevant neighbour among the first `atK`;
 * - `knnAccuracy`: k-NN classification accuracy (not in PML): each query takes the majority label of
 *   its first `atK` neighbours (a tie goes to the tied label whose first occurrence is nearest) and is
 *   correct when that label matches its own;
 * - `nmi`, `ami`: k-means on the query rows (k = number of distinct query labels) scored against the labels.
 *
 * Queries with no relevant reference row ("lone" queries, e.g. a label absent from the reference set)
 * are left out of the k-NN metrics, as PML does; when every query is lone those metrics are NaN (and with
 * {@link accuracyPerClass} NaN for every query class), as PML 2.x returns. Each is
 * the mean over queries, or with `avgOfAvgs` the mean of per-class means. Unlike PML, the default k is
 * `'maxBinCount'` (cheaper, and exact for the headline metrics); pass `k: 'all'` for PML's default.
 *
 * ```ts
 * const { precisionAt1, mapAtR } = await accuracy({ query: emb, queryLabels: labels, dim: 128 });
 * ```
 */
export async function accuracy(options: AccuracyOptions): Promise<Record<string, number>> {
  return (await computeAccuracy(options, false)).overall;
}

/**
 * {@link accuracy} with per-class results (PML's `return_per_class`): every retrieval metric averaged
 * within each query class, plus the overall values.
 */
export async function accuracyPerClass(options: AccuracyOptions): Promise<PerClassAccuracy> {
  return computeAccuracy(options, true);
}

async function computeAccuracy(options: AccuracyOptions, perClass: boolean): Promise<PerClassAccuracy> {
  const o = parseOptions('accuracy', accuracySchema, options);
  const query = o.query as EmbeddingsLike;
  const qShape = embeddingShape(query, o.dim, 'query');
  const qLabels = resolveLabels(o.queryLabels as EvalLabels, qShape.n, 'queryLabels');
  if ((o.reference === undefined) !== (o.referenceLabels === undefined)) {
    throw new ConfigError(`accuracy: give both 'reference' and 'referenceLabels', or neither (got only '${o.reference === undefined ? 'referenceLabels' : 'reference'}')`);
  }
  let rLabels = qLabels;
  if (o.reference !== undefined) {
    const rShape = embeddingShape(o.reference as EmbeddingsLike, o.dim ?? qShape.dim, 'reference');
    if (rShape.dim !== qShape.dim) throw new ShapeError(`accuracy: query has dim ${qShape.dim} but reference has dim ${rShape.dim}`);
    rLabels = resolveLabels(o.referenceLabels as EvalLabels, rShape.n, 'referenceLabels');
    if ((rLabels.ints === null) !== (qLabels.ints === null)) {
      throw new ConfigError("accuracy: 'queryLabels' and 'referenceLabels' must both be integers or both be arrays of classes");
    }
  }
  const sameSource = o.reference === undefined || o.referenceIncludesQuery;
  if (sameSource && qLabels.n > rLabels.n) {
    throw new ShapeError(`accuracy: referenceIncludesQuery needs at least as many reference rows (${rLabels.n}) as queries (${qLabels.n})`);
  }
  const comparison = o.labelComparison as LabelComparison | undefined;
  const wanted = o.metrics ?? [...DEFAULT_ACCURACY_METRICS];
  const wantsClustering = wanted.includes('nmi') || wanted.includes('ami');
  if (wantsClustering && (qLabels.ints === null || typeof comparison === 'function')) {
    throw new ConfigError("accuracy: 'nmi'/'ami' need integer labels and no custom 'labelComparison' (as in PML)");
  }
  const result: PerClassAccuracy = { classes: [], perClass: {}, overall: {} };

  const retrieval = wanted.filter((m): m is RetrievalMetricName => (RETRIEVAL_METRICS as readonly string[]).includes(m));
  if (retrieval.length > 0) {
    const relevance = relevanceCounts(qLabels, rLabels, sameSource, comparison);
    const plan = planK(relevance.notLone, relevance.maxBinCount, rLabels.n, sameSource, o.k, o.atK, retrieval);
    if (plan.stride === 0) {
      // Every query lone: nothing to score (PML's nan_accuracy, one NaN per distinct query label).
      for (const m of retrieval) result.overall[m] = Number.NaN;
      if (perClass) {
        result.classes = distinctLabels(qLabels);
        for (const m of retrieval) result.perClass[m] = result.classes.map(() => Number.NaN);
      }
    } else {
      const scores = await streamScores(
        { query, reference: o.reference as EmbeddingsLike | undefined, dim: o.dim, metric: o.metric,
          queryTileSize: o.queryTileSize, referenceTileSize: o.referenceTileSize, onProgress: o.onProgress },
        sameSource, rLabels.n,
        { k: plan.k, atK: plan.atK, queryLabels: qLabels, referenceLabels: rLabels, relevance, comparison, metrics: retrieval },
      );
      for (const m of retrieval) result.overall[m] = reduceScores(scores[m], qLabels, o.avgOfAvgs);
      if (perClass) {
        for (const m of retrieval) {
          const per = perClassMeans(scores[m], qLabels);
          result.classes = per.map((p) => p.label);
          result.perClass[m] = per.map((p) => p.mean);
        }
      }
    }
  }
  if (wantsClustering) {
    const scores = clusteringScores(query, qLabels.ints!, qShape.dim, { random: o.random });
    if (wanted.includes('nmi')) result.overall.nmi = scores.nmi;
    if (wanted.includes('ami')) result.overall.ami = scores.ami;
  }
  return result;
}

/** The distinct labels of `q`, in `torch.unique` order. */
function distinctLabels(q: ResolvedLabels): LabelValue[] {
  const seen = new Map<number | string, LabelValue>();
  for (let i = 0; i < q.n; i++) if (!seen.has(labelKey(q, i))) seen.set(labelKey(q, i), labelAt(q, i));
  return [...seen.values()].sort(compareLabelValues);
}

/**
 * Scores every non-lone query without a neighbour table: one block of query rows at a time, each
 * row's first `needed(i)` neighbours are selected from the block's scores and scored at once (rows
 * split over worker threads for large jobs), so memory is one block plus a few values per query,
 * whatever k is.
 */
async function streamScores(
  blocks: Parameters<typeof scoreBlocks>[0], sameSource: boolean, numReference: number, scorer: ScorerOptions,
): Promise<Record<RetrievalMetricName, Float64Array>> {
  const nq = scorer.queryLabels.n;
  const { work, spec } = await RowWork.start(nq * numReference, typeof scorer.comparison !== 'function', (shared) => {
    const values = {} as Record<RetrievalMetricName, Float64Array>;
    for (const m of scorer.metrics) values[m] = typedArray(Float64Array, nq, shared).fill(Number.NaN);
    return { kind: 'retrieval' as const, columns: numReference, sameSource, scorer, values };
  });
  try {
    await scoreBlocks(blocks, (block) => work.run(block));
  } finally {
    await work.close();
  }
  return spec.values;
}

/**
 * The neighbour counts {@link accuracy} needs: `k` for the ranking metrics, `atK` for Recall@K and
 * k-NN accuracy, and `stride` = the number actually retrieved (0 when every query is lone).
 */
function planK(
  notLone: Uint8Array, maxBinCount: number, numReference: number, sameSource: boolean,
  k: number | 'maxBinCount' | 'all' | null, atK: number, metrics: readonly RetrievalMetricName[],
): { k: number; atK: number; stride: number } {
  if (!notLone.some((v) => v === 1)) return { k: 0, atK: 0, stride: 0 };
  const available = numReference - (sameSource ? 1 : 0);
  const wantedK = k === 'maxBinCount' ? maxBinCount - (sameSource ? 1 : 0) : k === 'all' || k === null ? available : k;
  const kk = Math.max(1, Math.min(wantedK, available));
  const usesAtK = metrics.includes('recallAtK') || metrics.includes('knnAccuracy');
  const a = usesAtK ? Math.min(atK, available) : 0;
  return { k: kk, atK: a, stride: Math.max(kk, a) };
}

/** The k {@link accuracy} retrieves for integer labels: 0 when every query is lone (no neighbours are needed). */
export function planNeighbours(
  queryLabels: Int32Array, referenceLabels: Int32Array, sameSource: boolean, k: number | 'maxBinCount',
): { k: number; maxBinCount: number } {
  const q = resolveLabels(queryLabels, queryLabels.length, 'queryLabels');
  const r = resolveLabels(referenceLabels, referenceLabels.length, 'referenceLabels');
  const rel = relevanceCounts(q, r, sameSource);
  const plan = planK(rel.notLone, rel.maxBinCount, r.n, sameSource, k, 1, []);
  return { k: plan.k, maxBinCount: rel.maxBinCount };
}

/** Options of {@link retrievalMetrics} beyond the neighbour lists and labels. */
export interface RetrievalMetricsOptions {
  /** Neighbours the ranking metrics use (the first `k` columns). Default: all `stride` columns. */
  k?: number;
  /** The K of `recallAtK` and `knnAccuracy`. Default: all `stride` columns. */
  atK?: number;
  /** Mean of per-class means. Default false. */
  avgOfAvgs?: boolean;
  /** Label comparison (see {@link AccuracyOptions.labelComparison}). */
  labelComparison?: LabelComparison;
}

/**
 * The retrieval metrics from precomputed neighbour lists (`neighbors`: `numQueries * stride` reference
 * indices, best first, the query's own row already removed when `sameSource`). Use it to score any
 * index; {@link accuracy} computes the same values for an exact search without building the table.
 * Semantics as described in {@link accuracy}.
 */
export function retrievalMetrics(
  neighbors: Int32Array,
  stride: number,
  queryLabels: EvalLabels,
  referenceLabels: EvalLabels,
  sameSource: boolean,
  metrics: readonly RetrievalMetricName[] = RETRIEVAL_METRICS,
  options: RetrievalMetricsOptions = {},
): Record<string, number> {
  const q: ResolvedLabels = resolveLabels(queryLabels, labelCount(queryLabels), 'queryLabels');
  const r: ResolvedLabels = resolveLabels(referenceLabels, labelCount(referenceLabels), 'referenceLabels');
  if (neighbors.length !== q.n * stride) {
    throw new ShapeError(`retrievalMetrics: neighbors has ${neighbors.length} entries, expected numQueries * k = ${q.n} * ${stride}`);
  }
  const relevance = relevanceCounts(q, r, sameSource, options.labelComparison);
  const scores = scoreNeighbours(neighbors, stride, {
    k: options.k ?? stride, atK: options.atK ?? stride,
    queryLabels: q, referenceLabels: r, relevance, comparison: options.labelComparison, metrics,
  });
  const out: Record<string, number> = {};
  for (const name of metrics) out[name] = reduceScores(scores[name], q, options.avgOfAvgs ?? false);
  return out;
}
