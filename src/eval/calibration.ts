import { z } from 'zod';
import { ConfigError, DataError, ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { toLabelArray } from '../core/tensor.js';
import { type EmbeddingsLike, embeddingShape } from './embeddings.js';
import { type KnnMetric, type KnnResult, knn } from './knn.js';

/** The metric a calibration optimises for its `optimal` cutpoint. */
export type CalibrationMetric = 'f1' | 'precision' | 'recall';

/** Options of {@link calibrate}. */
export interface CalibrateOptions {
  /** Held-out embeddings (not the training set). Each row is matched against the others. */
  embeddings: EmbeddingsLike;
  /** One integer label per row. */
  labels: Int32Array | number[];
  /** Row length; required for Float32Array embeddings. */
  dim?: number;
  /**
   * A separate reference set to match against (e.g. the rows an index will serve) with its labels.
   * Default: the embeddings themselves, each row's own row excluded.
   */
  reference?: EmbeddingsLike;
  /** Labels of `reference`; required with it. */
  referenceLabels?: Int32Array | number[];
  /** Thresholds wanted: the loosest one with precision >= each `precision` target, the tightest with recall >= each `recall` target. */
  targets?: { precision?: number | number[]; recall?: number | number[] };
  /** What the `optimal` cutpoint maximises. Default `'f1'`. */
  metric?: CalibrationMetric;
  /**
   * How distances are measured (smaller is closer), as the search indexes report them: `'cosine'`
   * (default): 1 - cosine similarity; `'l2'`: squared Euclidean distance; `'ip'`: minus the inner product.
   */
  distance?: KnnMetric;
}

/** One point of the calibration curve: "match when distance <= threshold". */
export interface CalibrationPoint {
  /** Distance threshold (inclusive). */
  threshold: number;
  /** Correct matches / matches. */
  precision: number;
  /** Correct matches / queries whose nearest neighbour has their label. */
  recall: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  f1: number;
  /** Fraction of queries matched at this threshold. */
  matchRate: number;
}

/** What {@link calibrate} returns (and {@link saveThresholds} stores). */
export interface CalibrationResult {
  /** The distance the thresholds are measured in. */
  distance: KnnMetric;
  /** The metric `optimal` maximises. */
  metric: CalibrationMetric;
  /** The cutpoint that maximises `metric` (ties: the smallest threshold; for precision, the largest). */
  optimal: CalibrationPoint;
  /** One cutpoint per target, keyed `precision@0.9`, `recall@0.8`; null when the target cannot be reached. */
  targets: Record<string, CalibrationPoint | null>;
  /** The whole curve, one point per distinct nearest-neighbour distance, ascending. */
  curve: CalibrationPoint[];
  /** Queries calibrated on, and how many of them have a same-label nearest neighbour. */
  count: number;
  positives: number;
}

const fraction = z.number().gt(0).max(1);
const schema = z
  .object({
    embeddings: z.any(),
    labels: z.any(),
    dim: z.number().int().min(1).optional(),
    reference: z.any().optional(),
    referenceLabels: z.any().optional(),
    targets: z.object({ precision: z.union([fraction, z.array(fraction)]).optional(), recall: z.union([fraction, z.array(fraction)]).optional() }).strict().default({}),
    metric: z.enum(['f1', 'precision', 'recall']).default('f1'),
    distance: z.enum(['cosine', 'l2', 'ip']).default('cosine'),
  })
  .strict();

/** Converts k-NN scores to distances where smaller is closer (the search indexes' `distance`): 1 - cos, squared L2, -ip. */
export function scoresToDistances(res: Pick<KnnResult, 'distances' | 'metric'>): Float32Array {
  const out = new Float32Array(res.distances.length);
  for (let i = 0; i < out.length; i++) {
    const s = res.distances[i];
    out[i] = res.metric === 'cosine' ? 1 - s : res.metric === 'l2' ? s : -s;
  }
  return out;
}

/**
 * Threshold calibration in the manner of TensorFlow Similarity's `calibrate()`: on held-out data,
 * each query's nearest neighbour (itself excluded) gives a pair (distance, same label?); sweeping a
 * threshold over the sorted distances gives the precision / recall / F1 of "match when distance <=
 * threshold", from which the cutpoints are read:
 * - for a precision target, the largest threshold whose precision reaches it (most recall);
 * - for a recall target, the smallest threshold whose recall reaches it (most precision);
 * - `optimal`: the threshold with the best `metric`.
 *
 * ```ts
 * const cal = await calibrate({ embeddings, labels, dim: 128, targets: { precision: 0.9 } });
 * const { labels: predicted } = await match({ queries, dim: 128, reference, referenceLabels, threshold: cal.optimal.threshold });
 * ```
 */
export async function calibrate(options: CalibrateOptions): Promise<CalibrationResult> {
  const o = parseOptions('calibrate', schema, options);
  const shape = embeddingShape(o.embeddings as EmbeddingsLike, o.dim, 'embeddings');
  const labels = toLabelArray(o.labels as Int32Array | number[], shape.n, 'labels');
  if ((o.reference === undefined) !== (o.referenceLabels === undefined)) {
    throw new ConfigError("calibrate: give both 'reference' and 'referenceLabels', or neither");
  }
  let refLabels = labels;
  if (o.reference !== undefined) {
    const rs = embeddingShape(o.reference as EmbeddingsLike, o.dim ?? shape.dim, 'reference');
    if (rs.dim !== shape.dim) throw new ShapeError(`calibrate: embeddings have dim ${shape.dim} but reference has dim ${rs.dim}`);
    refLabels = toLabelArray(o.referenceLabels as Int32Array | number[], rs.n, 'referenceLabels');
  }
  const minRows = o.reference === undefined ? 2 : 1;
  if (refLabels.length < minRows || shape.n < 1) {
    throw new DataError(`calibrate: need at least ${o.reference === undefined ? 2 : 1} reference row(s) and 1 query (got ${refLabels.length} and ${shape.n})`);
  }
  const res = await knn({
    query: o.embeddings as EmbeddingsLike,
    reference: (o.reference as EmbeddingsLike | undefined) ?? (o.embeddings as EmbeddingsLike),
    dim: o.dim,
    k: 1,
    metric: o.distance,
    excludeSelf: o.reference === undefined,
  });
  const distances = scoresToDistances(res);
  const same = new Uint8Array(shape.n);
  for (let i = 0; i < shape.n; i++) same[i] = labels[i] === refLabels[res.indices[i]] ? 1 : 0;
  return calibrationFromPairs(distances, same, o.targets, o.metric, o.distance);
}

/**
 * The calibration curve and cutpoints from (distance, same label?) pairs, one per query. Exposed for
 * pairs produced by any index; {@link calibrate} calls it after an exact 1-NN search.
 */
export function calibrationFromPairs(
  distances: ArrayLike<number>, same: ArrayLike<number>,
  targets: { precision?: number | number[]; recall?: number | number[] } = {},
  metric: CalibrationMetric = 'f1', distance: KnnMetric = 'cosine',
): CalibrationResult {
  const n = distances.length;
  if (same.length !== n) throw new ShapeError(`calibration: ${n} distances but ${same.length} same-label flags`);
  if (n === 0) throw new DataError('calibration: no pairs to calibrate on');
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => distances[a] - distances[b] || a - b);
  let positives = 0;
  for (let i = 0; i < n; i++) positives += same[i] ? 1 : 0;
  const curve: CalibrationPoint[] = [];
  let tp = 0;
  for (let j = 0; j < n; j++) {
    tp += same[order[j]] ? 1 : 0;
    const d = distances[order[j]];
    if (j + 1 < n && distances[order[j + 1]] === d) continue; // equal distances match together
    const precision = tp / (j + 1);
    const recall = positives === 0 ? 0 : tp / positives;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    curve.push({ threshold: d, precision, recall, f1, matchRate: (j + 1) / n });
  }
  let optimal = curve[0];
  for (const p of curve) {
    const better = metric === 'precision' ? p.precision >= optimal.precision : p[metric] > optimal[metric];
    if (better) optimal = p;
  }
  const out: Record<string, CalibrationPoint | null> = {};
  for (const t of asList(targets.precision)) {
    let pick: CalibrationPoint | null = null;
    for (const p of curve) if (p.precision >= t) pick = p;
    out[`precision@${t}`] = pick;
  }
  for (const t of asList(targets.recall)) out[`recall@${t}`] = curve.find((p) => p.recall >= t) ?? null;
  return { distance, metric, optimal, targets: out, curve, count: n, positives };
}

function asList(v: number | number[] | undefined): number[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
