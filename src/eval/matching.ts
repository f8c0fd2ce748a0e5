import { z } from 'zod';
import { ConfigError, ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { toLabelArray } from '../core/tensor.js';
import { scoresToDistances } from './calibration.js';
import { type EmbeddingsLike, embeddingShape, toHostMatrix } from './embeddings.js';
import { type KnnMetric, knn } from './knn.js';
import type { NearestNeighborIndex, SearchHit } from '../search/types.js';

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
  /**
   * An index to search instead of `reference` (its hits' `distance` must be in the units the threshold
   * was calibrated in: calibrate with the index's metric).
   */
  index?: NearestNeighborIndex;
  /** The label of an index hit. Default: the hit's `metadata.label`, which must be an integer. */
  labelOf?: (hit: SearchHit) => number;
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
  /** Row of the nearest reference row (exact search over `reference`), else -1. */
  indices: Int32Array;
  /** Id of the nearest item: its row with `reference`, its index id with `index`; null when none was found. */
  ids: (string | number | null)[];
}

function metadataLabel(hit: SearchHit): number {
  const label = hit.metadata?.label;
  if (typeof label !== 'number' || !Number.isInteger(label)) {
    throw new ConfigError(`match: index item ${JSON.stringify(hit.id)} has no integer 'label' in its metadata; pass 'labelOf'`);
  }
  return label;
}

const schema = z
  .object({
    queries: z.any(),
    dim: z.number().int().min(1).optional(),
    reference: z.any().optional(),
    referenceLabels: z.any().optional(),
    index: z.custom<NearestNeighborIndex>((v) => typeof (v as NearestNeighborIndex | undefined)?.search === 'function', 'must be a NearestNeighborIndex').optional(),
    labelOf: z.custom<(hit: SearchHit) => number>((v) => typeof v === 'function').optional(),
    threshold: z.number().refine(Number.isFinite, 'must be a finite number'),
    distance: z.enum(['cosine', 'l2', 'ip']).default('cosine'),
    noMatchLabel: z.number().int().default(-1),
  })
  .strict();

/** An index that answers many queries in one call (the exact index's tiled search does). */
interface BatchSearch {
  searchBatch(queries: Float32Array, k: number): Promise<SearchHit[][]>;
}

/**
 * The nearest item for each of `n` queries (`dim` values each): all in one call to the index's
 * `searchBatch` when it has one, else one `search` per query (the interface's only search).
 */
async function nearestHits(index: NearestNeighborIndex, queries: Float32Array, dim: number, n: number): Promise<(SearchHit | undefined)[]> {
  const batch = (index as Partial<BatchSearch>).searchBatch;
  if (typeof batch === 'function') {
    if (index.size === 0) return Array.from({ length: n }, () => undefined); // an empty index may not know its dim yet
    return (await batch.call(index, queries, 1)).map((hits) => hits[0]);
  }
  const out: (SearchHit | undefined)[] = [];
  for (let i = 0; i < n; i++) out.push((await index.search(queries.subarray(i * dim, (i + 1) * dim), 1))[0]);
  return out;
}

/** Options of {@link match} when the queries are its first argument: everything but `queries`. */
export type MatchWithOptions = Omit<MatchOptions, 'queries'>;

function isOptionsObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/**
 * Matching in the manner of TensorFlow Similarity's `match()`: each query takes the label of its
 * nearest reference row when that row is within `threshold`, and `noMatchLabel` (-1) otherwise. Searches
 * `reference` exactly in one tiled pass ({@link knn}, k = 1), or a {@link NearestNeighborIndex}: in one
 * call when it offers `searchBatch` (the exact index does), else one query at a time.
 *
 * Two call forms, the same result: the queries first and the options after them, as the issue and
 * TensorFlow Similarity write it, or one options object holding `queries`.
 *
 * ```ts
 * const m1 = await match(queries, { index, threshold: cal.optimal.threshold });
 * const m2 = await match({ queries, dim: 128, reference, referenceLabels, threshold: 0.3 });
 * ```
 */
export async function match(queries: EmbeddingsLike, options: MatchWithOptions): Promise<MatchResult>;
export async function match(options: MatchOptions): Promise<MatchResult>;
export async function match(first: EmbeddingsLike | MatchOptions, second?: MatchWithOptions): Promise<MatchResult> {
  let options: MatchOptions;
  if (second === undefined) {
    if (!isOptionsObject(first)) {
      throw new ConfigError("match: options are missing: call match(queries, { threshold, index | reference, ... }) or match({ queries, threshold, ... })");
    }
    if (first.queries === undefined) throw new ConfigError("match: 'queries' is required (or pass the queries as the first argument)");
    options = first as unknown as MatchOptions;
  } else {
    if (!isOptionsObject(second)) throw new ConfigError(`match: the second argument must be an options object, got ${second === null ? 'null' : typeof second}`);
    if ('queries' in second) throw new ConfigError("match: 'queries' is given twice: as the first argument and in the options; drop one");
    options = { ...second, queries: first as EmbeddingsLike };
  }
  const o = parseOptions('match', schema, options);
  const hasRef = o.reference !== undefined;
  if (hasRef === (o.index !== undefined)) throw new ConfigError("match: give exactly one of 'reference' (with 'referenceLabels') or 'index'");
  const shape = embeddingShape(o.queries as EmbeddingsLike, o.dim, 'queries');
  const labels = new Int32Array(shape.n);
  const matched = new Uint8Array(shape.n);
  const distances = new Float32Array(shape.n);
  const indices = new Int32Array(shape.n).fill(-1);
  const ids: (string | number | null)[] = new Array<string | number | null>(shape.n).fill(null);
  if (hasRef) {
    if (o.referenceLabels === undefined) throw new ConfigError("match: 'referenceLabels' is required with 'reference'");
    const rs = embeddingShape(o.reference as EmbeddingsLike, o.dim ?? shape.dim, 'reference');
    if (rs.dim !== shape.dim) throw new ShapeError(`match: queries have dim ${shape.dim} but reference has dim ${rs.dim}`);
    const refLabels = toLabelArray(o.referenceLabels as Int32Array | number[], rs.n, 'referenceLabels');
    const res = await knn({ query: o.queries as EmbeddingsLike, reference: o.reference as EmbeddingsLike, dim: o.dim, k: 1, metric: o.distance, excludeSelf: false });
    distances.set(scoresToDistances(res));
    for (let i = 0; i < shape.n; i++) {
      indices[i] = res.indices[i];
      ids[i] = res.indices[i];
      labels[i] = refLabels[res.indices[i]];
    }
  } else {
    const index = o.index as NearestNeighborIndex;
    const labelOf = (o.labelOf as ((hit: SearchHit) => number) | undefined) ?? metadataLabel;
    const host = toHostMatrix(o.queries as EmbeddingsLike, o.dim, 'queries');
    const nearest = await nearestHits(index, host.data, host.dim, shape.n);
    nearest.forEach((hit, i) => {
      if (!hit) {
        distances[i] = Number.POSITIVE_INFINITY;
        return;
      }
      distances[i] = hit.distance;
      ids[i] = hit.id;
      labels[i] = labelOf(hit);
    });
  }
  for (let i = 0; i < shape.n; i++) {
    const ok = ids[i] !== null && distances[i] <= o.threshold;
    matched[i] = ok ? 1 : 0;
    if (!ok) labels[i] = o.noMatchLabel;
  }
  return { labels, matched, distances, indices, ids };
}
