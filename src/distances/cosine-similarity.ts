import { baseDistanceSchema, type BaseDistanceOptions } from './base-distance.js';
import { DotProductSimilarity } from './dot-product-similarity.js';
import { registry } from './registry.js';

/** Options of {@link CosineSimilarity} (pytorch-metric-learning's keyword arguments). */
export interface CosineSimilarityOptions extends BaseDistanceOptions {
  /** Must stay `true` (cosine similarity is the dot product of normalised embeddings). Default `true`. */
  normalizeEmbeddings?: boolean;
  /** The norm used for normalisation (PML normalises with `p`, so keep 2 for true cosines). Default `2`. */
  p?: number;
  /** Raise every similarity to this power. Default `1`. */
  power?: number;
}

const cosineSchema = baseDistanceSchema.refine((o) => o.normalizeEmbeddings, {
  message: 'CosineSimilarity requires normalizeEmbeddings to be true (use DotProductSimilarity for raw dot products)',
  path: ['normalizeEmbeddings'],
});

/**
 * Cosine similarity: the dot product of embeddings normalised to unit length (PML `CosineSimilarity`;
 * inverted: larger = closer, values in [-1, 1]).
 */
export class CosineSimilarity extends DotProductSimilarity {
  override readonly className: string = 'CosineSimilarity';

  constructor(options: CosineSimilarityOptions = {}) {
    super(options, 'CosineSimilarity', cosineSchema);
  }
}

registry.register('CosineSimilarity', (c) => new CosineSimilarity(c));
