import * as tf from '@tensorflow/tfjs';
import { BaseDistance, type BaseDistanceOptions, type DistanceSchema, baseDistanceSchema } from './base-distance.js';
import { registry } from './registry.js';
import { gramMatrix } from '../backend/fused.js';

/** Options of {@link DotProductSimilarity} (pytorch-metric-learning's keyword arguments). */
export interface DotProductSimilarityOptions extends BaseDistanceOptions {
  /**
   * Normalise embeddings (to unit p-norm) before taking dot products. Default `true`, as in PML, which
   * makes the default DotProductSimilarity equal to CosineSimilarity; set `false` for raw dot products.
   */
  normalizeEmbeddings?: boolean;
  /** The norm used for normalisation. Default `2`. */
  p?: number;
  /** Raise every similarity to this power. Default `1`. */
  power?: number;
}

/** The dot product `q · r` (PML `DotProductSimilarity`; inverted: larger = closer). */
export class DotProductSimilarity extends BaseDistance {
  readonly className: string = 'DotProductSimilarity';
  readonly isInverted = true;

  constructor(options: DotProductSimilarityOptions = {}, owner = 'DotProductSimilarity', schema: DistanceSchema = baseDistanceSchema) {
    super(options, owner, schema);
  }

  protected computeMatrix(query: tf.Tensor2D, ref: tf.Tensor2D): tf.Tensor2D {
    return query === ref ? gramMatrix(query) : tf.matMul(query, ref, false, true);
  }

  protected computePairwise(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
    return tf.sum(tf.mul(a, b), 1) as tf.Tensor1D;
  }
}

registry.register('DotProductSimilarity', (c) => new DotProductSimilarity(c));
