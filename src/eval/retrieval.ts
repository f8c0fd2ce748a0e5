import { z } from 'zod';
import { ConfigError, ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import type { Random } from '../core/random.js';
import { toLabelArray } from '../core/tensor.js';
import { clusteringScores } from './clustering.js';
import { type EmbeddingsLike, embeddingShape } from './embeddings.js';
import { type KnnMetric, knn } from './knn.js';

/** Retrieval metrics that {@link accuracy} computes from k nearest neighbours. */
export type RetrievalMetricName = 'precisionAt1' | 'rPrecision' | 'mapAtR' | 'meanAveragePrecision' | 'meanReciprocalRank';
/** Every metric {@link accuracy} knows: the retrieval metrics plus clustering NMI and AMI of the query set. */
export type AccuracyMetricName = RetrievalMetricName | 'nmi' | 'ami';

const RETRIEVAL_METRICS: readonly RetrievalMetricName[] = ['precisionAt1', 'rPrecision', 'mapAtR', 'meanAveragePrecision', 'meanReciprocalRank'];
const ALL_METRICS: readonly AccuracyMetricName[] = [...RETRIEVAL_METRICS, 'nmi', 'ami'];
/** The metrics computed when `metrics` is not given. */
export const DEFAULT_ACCURACY_METRICS: readonly AccuracyMetricName[] = ['precisionAt1', 'rPrecision', 'mapAtR'];

/** Options of {@link accuracy}. */
export interface AccuracyOptions {
  /** Query embeddings. */
  query: EmbeddingsLike;
  /** One label per query row. */
  queryLabels: Int32Array | number[];
  /** Reference embeddings. Default: the query set, each query's own row excluded from its neighbours. */
  reference?: EmbeddingsLike;
  /** One label per reference row; required with `reference`. */
  referenceLabels?: Int32Array | number[];
  /**
   * The query rows are the first rows of `reference` (PML's `ref_includes_query`): each query's own
   * row is excluded and counts as "itself". Default false; implied when `reference` is omitted.
   */
  referenceIncludesQuery?: boolean;
  /** Row length; required for Float32Array embeddings. */
  dim?: number;
  /**
   * Neighbours retrieved per query. `'maxBinCount'` (default): the largest number of reference rows
   * sharing a query label, minus 1 when a query is part of the reference set; R-precision and MAP@R
   * are exact with it. A number is clamped to the number of reference rows available.
   */
  k?: number | 'maxBinCount';
  /** Metrics to compute. Default `['precisionAt1', 'rPrecision', 'mapAtR']`. */
  metrics?: AccuracyMetricName[];
  /** Neighbour ranking. Default `'l2'` (squared Euclidean), as PML's default faiss `IndexFlatL2`. */
  metric?: KnnMetric;
  /** Random source for the k-means behind `'nmi'`/`'ami'`. Default `createRandom(0)`. */
  random?: Random;
  /** Query rows per k-NN tile (see {@link knn}). */
  queryTileSize?: number;
  /** Reference rows per k-NN tile (see {@link knn}). */
  referenceTileSize?: number;
  /** k-NN progress, in tile pairs. */
  onProgress?: (done: number, total: number) => void;
}

const accuracySchema = z
  .object({
    query: z.any(),
    queryLabels: z.any(),
    reference: z.any().optional(),
    referenceLabels: z.any().optional(),
    referenceIncludesQuery: z.boolean().default(false),
    dim: z.number().int().min(1).optional(),
    k: z.union([z.number().int().min(1), z.literal('maxBinCount')]).default('maxBinCount'),
    metrics: z.array(z.enum(ALL_METRICS as [AccuracyMetricName, ...AccuracyMetricName[]])).optional(),
    metric: z.enum(['cosine', 'ip', 'l2']).default('l2'),
    random: z.custom<Random>((v) => typeof (v as Random | undefined)?.next === 'function').optional(),
    queryTileSize: z.number().int().min(1).optional(),
    referenceTileSize: z.number().int().min(1).optional(),
    onProgress: z.custom<(done: number, total: number) => void>((v) => typeof v === 'function').optional(),
  })
  .strict();

/**
 * Retrieval accuracy with the semantics of pytorch-metric-learning's `AccuracyCalculator` (default
 * options, `avg_of_avgs=False`): every query retrieves its k nearest reference rows; R is the number
 * of reference rows with the query's label (minus the query itself when it is in the reference set).
 *
 * - `precisionAt1`: fraction of queries whose nearest neighbour has their label;
 * - `rPrecision`: same-label fraction of the first min(R, k) neighbours;
 * - `mapAtR`: MAP@R, the sum of precision@i over same-label hits i within the first min(R, k)
 *   neighbours, divided by min(R, k);
 * - `meanAveragePrecision`: the same over all k neighbours, divided by the number of hits (1 if none);
 * - `meanReciprocalRank`: 1 / rank of the first same-label neighbour within k (0 if none);
 * - `nmi`, `ami`: k-means on the query rows (k = number of distinct query labels) scored against the labels.
 *
 * Queries whose label has no other row in the reference set ("lone" queries) are left out of the
 * k-NN metrics; when every query is lone those metrics are 0. Each is the plain mean over queries.
 *
 * ```ts
 * const { precisionAt1, mapAtR } = await accuracy({ query: emb, queryLabels: labels, dim: 128 });
 * ```
 */
export async function accuracy(options: AccuracyOptions): Promise<Record<string, number>> {
  const o = parseOptions('accuracy', accuracySchema, options);
  const query = o.query as EmbeddingsLike;
  const qShape = embeddingShape(query, o.dim, 'query');
  const queryLabels = toLabelArray(o.queryLabels as Int32Array | number[], qShape.n, 'queryLabels');
  if ((o.reference === undefined) !== (o.referenceLabels === undefined)) {
    throw new ConfigError(`accuracy: give both 'reference' and 'referenceLabels', or neither (got only '${o.reference === undefined ? 'referenceLabels' : 'reference'}')`);
  }
  let referenceLabels = queryLabels;
  if (o.reference !== undefined) {
    const rShape = embeddingShape(o.reference as EmbeddingsLike, o.dim ?? qShape.dim, 'reference');
    if (rShape.dim !== qShape.dim) throw new ShapeError(`accuracy: query has dim ${qShape.dim} but reference has dim ${rShape.dim}`);
    referenceLabels = toLabelArray(o.referenceLabels as Int32Array | number[], rShape.n, 'referenceLabels');
  }
  const sameSource = o.reference === undefined || o.referenceIncludesQuery;
  if (sameSource && queryLabels.length > referenceLabels.length) {
    throw new ShapeError(`accuracy: referenceIncludesQuery needs at least as many reference rows (${referenceLabels.length}) as queries (${queryLabels.length})`);
  }
  const wanted = o.metrics ?? [...DEFAULT_ACCURACY_METRICS];
  const out: Record<string, number> = {};

  const retrieval = wanted.filter((m): m is RetrievalMetricName => (RETRIEVAL_METRICS as readonly string[]).includes(m));
  if (retrieval.length > 0) {
    const plan = planNeighbours(queryLabels, referenceLabels, sameSource, o.k);
    if (plan.k === 0) {
      for (const m of retrieval) out[m] = 0;
    } else {
      const res = await knn({
        query,
        reference: (o.reference as EmbeddingsLike | undefined) ?? query,
        dim: o.dim,
        k: plan.k,
        metric: o.metric,
        excludeSelf: sameSource,
        queryTileSize: o.queryTileSize,
        referenceTileSize: o.referenceTileSize,
        onProgress: o.onProgress,
      });
      Object.assign(out, retrievalMetrics(res.indices, plan.k, queryLabels, referenceLabels, sameSource, retrieval));
    }
  }
  if (wanted.includes('nmi') || wanted.includes('ami')) {
    const scores = clusteringScores(query, queryLabels, qShape.dim, { random: o.random });
    if (wanted.includes('nmi')) out.nmi = scores.nmi;
    if (wanted.includes('ami')) out.ami = scores.ami;
  }
  return out;
}

/** The k {@link accuracy} retrieves: 0 when every query is lone (no neighbours are needed). */
export function planNeighbours(
  queryLabels: Int32Array, referenceLabels: Int32Array, sameSource: boolean, k: number | 'maxBinCount',
): { k: number; maxBinCount: number } {
  const counts = labelCounts(referenceLabels);
  const self = sameSource ? 1 : 0;
  let maxBinCount = 0;
  let anyNotLone = false;
  for (const label of new Set(queryLabels)) {
    const c = counts.get(label) ?? 0;
    maxBinCount = Math.max(maxBinCount, c);
    if (c - self > 0) anyNotLone = true;
  }
  if (!anyNotLone) return { k: 0, maxBinCount };
  const wantedK = k === 'maxBinCount' ? maxBinCount - self : k;
  return { k: Math.min(wantedK, referenceLabels.length - self), maxBinCount };
}

/**
 * The retrieval metrics from precomputed neighbour lists (`neighbors`: `numQueries * k` reference
 * indices, best first, the query's own row already removed when `sameSource`). Use it to score any
 * index; {@link accuracy} calls it after an exact {@link knn}. Semantics as described in {@link accuracy}.
 */
export function retrievalMetrics(
  neighbors: Int32Array,
  k: number,
  queryLabels: Int32Array,
  referenceLabels: Int32Array,
  sameSource: boolean,
  metrics: readonly RetrievalMetricName[] = RETRIEVAL_METRICS,
): Record<string, number> {
  const nq = queryLabels.length;
  if (neighbors.length !== nq * k) {
    throw new ShapeError(`retrievalMetrics: neighbors has ${neighbors.length} entries, expected numQueries * k = ${nq} * ${k}`);
  }
  const counts = labelCounts(referenceLabels);
  const self = sameSource ? 1 : 0;
  let p1 = 0, rp = 0, mapr = 0, map = 0, mrr = 0, used = 0;
  for (let i = 0; i < nq; i++) {
    const y = queryLabels[i];
    const r = (counts.get(y) ?? 0) - self;
    if (r <= 0) continue; // lone query
    used++;
    const m = Math.min(r, k);
    let hits = 0, hitsInR = 0, apR = 0, ap = 0, firstHit = -1;
    for (let j = 0; j < k; j++) {
      const idx = neighbors[i * k + j];
      if (idx < 0 || idx >= referenceLabels.length) {
        throw new ShapeError(`retrievalMetrics: neighbour index ${idx} of query ${i} is outside the reference set`);
      }
      if (referenceLabels[idx] !== y) continue;
      hits++;
      ap += hits / (j + 1);
      if (firstHit < 0) firstHit = j;
      if (j < m) {
        hitsInR++;
        apR += hits / (j + 1);
      }
    }
    if (k > 0 && referenceLabels[neighbors[i * k]] === y) p1++;
    rp += hitsInR / m;
    mapr += apR / m;
    map += ap / Math.max(hits, 1);
    mrr += firstHit >= 0 ? 1 / (firstHit + 1) : 0;
  }
  const mean = (s: number): number => (used === 0 ? 0 : s / used);
  const all: Record<RetrievalMetricName, number> = {
    precisionAt1: mean(p1),
    rPrecision: mean(rp),
    mapAtR: mean(mapr),
    meanAveragePrecision: mean(map),
    meanReciprocalRank: mean(mrr),
  };
  const out: Record<string, number> = {};
  for (const name of metrics) out[name] = all[name];
  return out;
}

function labelCounts(labels: Int32Array): Map<number, number> {
  const counts = new Map<number, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return counts;
}
