import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { DotProductSimilarity } from '../distances/dot-product-similarity.js';
import { MeanReducer } from '../reducers/mean-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { minerWeights } from './miner-weights.js';
import { crossEntropy, oneHot, ParametricLoss, parametricFields, type ParametricLossOptions } from './parametric-loss.js';
import { registry } from './registry.js';

/** Options of {@link NormalizedSoftmaxLoss} (PML's keyword arguments, in camelCase). */
export interface NormalizedSoftmaxLossOptions extends DistanceLossOptions, ParametricLossOptions {
  /** Softmax temperature. Default `0.05`. */
  temperature?: number;
  /** Must be a DotProductSimilarity (or CosineSimilarity). Default `DotProductSimilarity()` (normalising). */
  distance?: DistanceLossOptions['distance'];
  /** Default `MeanReducer`. */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  ...parametricFields,
  temperature: z.number().finite().positive().default(0.05),
}).strict();

/**
 * Normalized softmax (Zhai & Wu 2018; PML `NormalizedSoftmaxLoss`): cross entropy of
 * `s(x_i, w_j / |w_j|) / temperature` over the columns of `W` [embeddingSize, numClasses] (N(0, 1)
 * initialisation), times the miner weights. Reduction type `element`.
 */
export class NormalizedSoftmaxLoss extends ParametricLoss {
  readonly className: string = 'NormalizedSoftmaxLoss';
  readonly numClasses: number;
  readonly embeddingSize: number;
  readonly temperature: number;
  readonly seed: number;
  readonly distance: BaseDistance;
  /** The class weights, [embeddingSize, numClasses]. */
  readonly W: tf.Variable<tf.Rank.R2>;

  constructor(options: NormalizedSoftmaxLossOptions) {
    super();
    const o = parseOptions('NormalizedSoftmaxLoss', schema, options);
    this.numClasses = o.numClasses;
    this.embeddingSize = o.embeddingSize;
    this.temperature = o.temperature;
    this.seed = o.seed;
    this.distance = resolveDistance(o.distance, () => new DotProductSimilarity());
    if (!(this.distance instanceof DotProductSimilarity)) {
      throw new ConfigError(`NormalizedSoftmaxLoss: option 'distance' must be a DotProductSimilarity or CosineSimilarity (got ${this.distance.className})`);
    }
    this.setReducer(o.reducer);
    this.W = this.addWeight(o.embeddingSize, o.numClasses, 'normal', o.seed);
  }

  protected computeLoss(input: LossInput): LossDict {
    this.checkClassInput(input);
    const { embeddings, labels } = input;
    const wt = tf.transpose(this.W) as tf.Tensor2D;
    const unitW = tf.div(wt, tf.maximum(tf.norm(wt, 2, 1, true), 1e-12)) as tf.Tensor2D;
    const logits = tf.div(this.distance.matrix(embeddings, unitW), this.temperature) as tf.Tensor2D;
    const w = tf.tensor1d(minerWeights(input.indices, labels.length));
    const losses = tf.mul(crossEntropy(logits, oneHot(labels, this.numClasses)), w);
    return { loss: { losses, indices: Int32Array.from({ length: labels.length }, (_, i) => i), reductionType: 'element' } };
  }

  /** The class weights as rows, `W` transposed (what PML hands its weight regularizer: `W.t()`). */
  protected override regularizedWeights(): tf.Tensor2D {
    return tf.transpose(this.W) as tf.Tensor2D;
  }

  getConfig(): Record<string, unknown> {
    return {
      numClasses: this.numClasses, embeddingSize: this.embeddingSize, temperature: this.temperature, seed: this.seed,
      distance: toConfig(this.distance), reducer: toConfig(this.reducer),
    };
  }
}

registry.register('NormalizedSoftmaxLoss', (c) => new NormalizedSoftmaxLoss(c as unknown as NormalizedSoftmaxLossOptions));
