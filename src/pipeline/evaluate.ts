import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import { sampleSize } from '../data/dataset.js';
import { embed } from '../models/embed.js';
import { accuracy } from '../eval/retrieval.js';
import { clusteringScores } from '../eval/clustering.js';
import { createRandom } from '../core/random.js';
import { l2NormalizeRow } from '../data/text.js';

/** The metrics akin reports for one set of embeddings. */
export interface SplitMetrics {
  precisionAt1: number;
  rPrecision: number;
  mapAtR: number;
  nmi: number;
  ami: number;
}

/**
 * Retrieval (query = reference, self excluded, k = max bin count, cosine similarity) and clustering
 * (k-means with k = number of classes on the unit-normalised rows, then NMI/AMI) metrics of embeddings
 * stored flat with `dim` columns. Cosine throughout, as akin's models compare embeddings: for unit-norm
 * embeddings it ranks exactly as L2 does, and for raw inputs (the baseline rows) it is the cosine
 * baseline rather than Euclidean distance on unnormalised features.
 */
export async function embeddingMetrics(embeddings: Float32Array, labels: Int32Array, dim: number, seed = 0): Promise<SplitMetrics> {
  const r = await accuracy({ query: embeddings, queryLabels: labels, dim, metric: 'cosine' });
  const c = clusteringScores(unitRows(embeddings, dim), labels, dim, { random: createRandom(seed) });
  return { precisionAt1: r.precisionAt1, rPrecision: r.rPrecision, mapAtR: r.mapAtR, nmi: c.nmi, ami: c.ami };
}

/** Metrics of a model's embeddings of `ds` (or of the raw features when `model` is null). */
export async function datasetMetrics(model: tf.LayersModel | null, ds: Dataset, seed = 0): Promise<SplitMetrics> {
  if (model === null) return embeddingMetrics(ds.features, ds.labels, sampleSize(ds), seed);
  const { embeddings, dim } = await embed(model, ds.features, ds.count, ds.shape);
  return embeddingMetrics(embeddings, ds.labels, dim, seed);
}

/** A validation function for `Trainer.fit({ validation })`: retrieval metrics on `ds`. */
export function retrievalValidator(ds: Dataset): (model: tf.LayersModel) => Promise<Record<string, number>> {
  return async (model) => {
    const { embeddings, dim } = await embed(model, ds.features, ds.count, ds.shape);
    const r = await accuracy({ query: embeddings, queryLabels: ds.labels, dim, metric: 'cosine' });
    return { precisionAt1: r.precisionAt1, rPrecision: r.rPrecision, mapAtR: r.mapAtR };
  };
}

/** `x` ([n, dim] flat) with every row scaled to unit length (zero rows stay zero); `x` itself when it already is. */
function unitRows(x: Float32Array, dim: number): Float32Array {
  for (let i = 0; i < x.length; i += dim) {
    let s = 0;
    for (let j = i; j < i + dim; j++) s += x[j] * x[j];
    if (Math.abs(Math.sqrt(s) - 1) > 1e-4) {
      const out = Float32Array.from(x);
      for (let k = 0; k < out.length; k += dim) l2NormalizeRow(out.subarray(k, k + dim));
      return out;
    }
  }
  return x;
}
