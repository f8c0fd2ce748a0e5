import { z } from 'zod';
import { ConfigError, ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { toLabelArray } from '../core/tensor.js';
import { scoresToDistances } from './calibration.js';
import { type EmbeddingsLike, embeddingShape, toHostMatrix } from './embeddings.js';
import { type KnnMetric, knn } from './knn.js';

/**
 * Anything that finds nearest labelled rows: `search` returns, for `numQueries` rows of `dim` floats,
 * the `k` nearest row indices (best first) and their distances (smaller is closer, in the units the
 * threshold was calibrated in); `labels` holds each indexed row's label.
 */
export interface MatchIndex {
  labels: ArrayLike<number>;
  search(queries: Float32Array, dim: number, k: number): Promise<{ indices: Int32Array; distances: Float32Array }>;
}

/** Options of {@link match}. */
export interface MatchOptions {
  /** The rows to classify. */
  queries: EmbeddingsLike;
  /** Row length; required for Float32Array queries. */
  dim?: number;
  /** Labelled rows to match against (exact search); give either these or `index`. */
  reference?: EmbeddingsLike;
  /** Labels of `reference`. */
  referenceLabels?: Int32Array | number[];
  /** An index to search instead of `reference`. */
  index?: MatchIndex;
  /** Largest distance that still counts as a match (inclusive), e.g. a calibration's `optimal.threshold`. */
  threshold: number;
  /** Distance for exact search over `reference` (as in {@link calibrate}). Default `'cosine'`. */
  distance?: KnnMetric;
  /** Label reported for a query without a match. Default `-1`. */
  noMatchLabel?: number;
}

/** What {@link match} returns, one entry per query. */
export interface MatchResult {
  /** The nearest row's label when its distance is within the threshold, else `noMatchLabel`. */
  labels: Int32Array;
  /** 1 where the query matched. */
  matched: Uint8Array;
  /** Distance to the nearest row (whether or not it matched). */
  distances: Float32Array;
  /** Index of the nearest row. */
  indices: Int32Array;
}

const schema = z
  .object({
    queries: z.any(),
    dim: z.number().int().min(1).optional(),
    reference: z.any().optional(),
    referenceLabels: z.any().optional(),
    index: z.custom<MatchIndex>((v) => typeof (v as MatchIndex | undefined)?.search === 'function' && (v as MatchIndex).labels !== undefined).optional(),
    threshold: z.number().refine(Number.isFinite, 'must be a finite number'),
    distance: z.enum(['cosine', 'l2', 'ip']).default('cosine'),
    noMatchLabel: z.number().int().default(-1),
  })
  .strict();

/**
 * Matching in the manner of TensorFlow Similarity's `match()`: each query takes the label of its
 * nearest reference row when that row is within `threshold`, and `noMatchLabel` (-1) otherwise.
 *
 * ```ts
 * const { labels, distances } = await match({ queries, dim: 128, reference, referenceLabels, threshold: 0.3 });
 * ```
 */
export async function match(options: MatchOptions): Promise<MatchResult> {
  const o = parseOptions('match', schema, options);
  const hasRef = o.reference !== undefined;
  if (hasRef === (o.index !== undefined)) throw new ConfigError("match: give exactly one of 'reference' (with 'referenceLabels') or 'index'");
  const shape = embeddingShape(o.queries as EmbeddingsLike, o.dim, 'queries');
  let indices: Int32Array;
  let distances: Float32Array;
  let refLabels: ArrayLike<number>;
  if (hasRef) {
    if (o.referenceLabels === undefined) throw new ConfigError("match: 'referenceLabels' is required with 'reference'");
    const rs = embeddingShape(o.reference as EmbeddingsLike, o.dim ?? shape.dim, 'reference');
    if (rs.dim !== shape.dim) throw new ShapeError(`match: queries have dim ${shape.dim} but reference has dim ${rs.dim}`);
    refLabels = toLabelArray(o.referenceLabels as Int32Array | number[], rs.n, 'referenceLabels');
    const res = await knn({ query: o.queries as EmbeddingsLike, reference: o.reference as EmbeddingsLike, dim: o.dim, k: 1, metric: o.distance, excludeSelf: false });
    indices = res.indices;
    distances = scoresToDistances(res);
  } else {
    const index = o.index as MatchIndex;
    const host = toHostMatrix(o.queries as EmbeddingsLike, o.dim, 'queries');
    const res = await index.search(host.data, host.dim, 1);
    if (res.indices.length !== shape.n || res.distances.length !== shape.n) {
      throw new ShapeError(`match: index returned ${res.indices.length} results for ${shape.n} queries`);
    }
    indices = res.indices;
    distances = res.distances;
    refLabels = index.labels;
  }
  const labels = new Int32Array(shape.n);
  const matched = new Uint8Array(shape.n);
  for (let i = 0; i < shape.n; i++) {
    const ok = indices[i] >= 0 && distances[i] <= o.threshold;
    matched[i] = ok ? 1 : 0;
    labels[i] = ok ? refLabels[indices[i]] : o.noMatchLabel;
  }
  return { labels, matched, distances, indices };
}
