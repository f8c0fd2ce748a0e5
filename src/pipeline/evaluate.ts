import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import { sampleSize } from '../data/dataset.js';
import { embed } from '../models/embed.js';
import { accuracy } from '../eval/retrieval.js';
import { clusteringScores } from '../eval/clustering.js';
import { createRandom } from '../core/random.js';

/** The metrics akin reports for one set of embeddings. */
export interface SplitMetrics {
  precisionAt1: number;
  rPrecision: number;
  mapAtR: number;
  nmi: number;
  ami: number;
}

/**
 * Retrieval (query = reference, self excluded, k = max bin count, cosine) and clustering (k-means with
 * k = number of classes, then NMI/AMI) metrics of embeddings stored flat with `dim` columns.
 */
export async function embeddingMetrics(embeddings: Float32Array, labels: Int32Array, dim: number, seed = 0): Promise<SplitMetrics> {
  const r = await accuracy({ query: embeddings, queryLabels: labels, dim });
  const c = await clusteringScores(embeddings, labels, dim, { random: createRandom(seed) });
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
    const r = await accuracy({ query: embeddings, queryLabels: ds.labels, dim });
    return { precisionAt1: r.precisionAt1, rPrecision: r.rPrecision, mapAtR: r.mapAtR };
  };
}
