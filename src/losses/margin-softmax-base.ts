import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { toConfig } from '../core/registry.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import { MeanReducer } from '../reducers/mean-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { distanceLossSchema, resolveDistance, type DistanceLossOptions, type DistanceSpec, type LossInput, type ReducerSpec } from './base-loss.js';
import { minerWeights } from './miner-weights.js';
import { crossEntropy, oneHot, ParametricLoss, parametricFields, type ParametricLossOptions } from './parametric-loss.js';

/** Options shared by the margin-softmax losses (each adds `margin` and `scale` with its own defaults). */
export interface MarginSoftmaxLossOptions extends ParametricLossOptions, DistanceLossOptions {
  /** Must be `CosineSimilarity`. Default `CosineSimilarity()`. */
  distance?: DistanceSpec;
  /** Default `MeanReducer`. */
  reducer?: ReducerSpec;
}

/** Schema of the margin-softmax options, with each loss's own `margin` and `scale` defaults. */
export function marginSoftmaxSchema(margin: number, scale: number) {
  return distanceLossSchema.extend({
    ...parametricFields,
    margin: z.number().finite().default(margin),
    scale: z.number().finite().default(scale),
  }).strict();
}

/** The parsed options every margin-softmax loss holds. */
export interface MarginSoftmaxParsed {
  numClasses: number;
  embeddingSize: number;
  margin: number;
  scale: number;
  seed: number;
  distance?: DistanceSpec;
  reducer?: ReducerSpec;
}

/**
 * The shared step of PML's `LargeMarginSoftmaxLoss` family (large-margin softmax, SphereFace, ArcFace,
 * CosFace, sub-centre ArcFace): class weights `W` [embeddingSize, columns] (N(0, 1) initialisation),
 * cosines between the embeddings and the columns of `W` (CosineSimilarity, the only distance allowed),
 * the target class's cosine replaced by {@link modifyTarget}, the logits scaled by {@link scaleLogits},
 * then cross entropy per element times the miner weights. Reduction type `element`, default
 * `MeanReducer`. Records `avgAngle` (degrees, mean angle to the target class).
 */
export abstract class MarginSoftmaxBase extends ParametricLoss {
  readonly numClasses: number;
  readonly embeddingSize: number;
  readonly margin: number;
  readonly scale: number;
  readonly seed: number;
  readonly distance: BaseDistance;
  /** The class weights, [embeddingSize, numClasses] (times `subCenters` for sub-centre ArcFace). */
  readonly W: tf.Variable<tf.Rank.R2>;

  protected constructor(owner: string, o: MarginSoftmaxParsed, columns = o.numClasses) {
    super();
    this.numClasses = o.numClasses;
    this.embeddingSize = o.embeddingSize;
    this.margin = o.margin;
    this.scale = o.scale;
    this.seed = o.seed;
    this.distance = resolveDistance(o.distance, () => new CosineSimilarity());
    if (!(this.distance instanceof CosineSimilarity)) {
      throw new ConfigError(`${owner}: option 'distance' must be a CosineSimilarity (got ${this.distance.className})`);
    }
    this.setReducer(o.reducer);
    this.W = this.addWeight(o.embeddingSize, columns, 'normal', o.seed);
  }

  /** The [n, numClasses] cosines between embeddings and class weights. */
  protected cosine(embeddings: tf.Tensor2D): tf.Tensor2D {
    return this.distance.matrix(embeddings, tf.transpose(this.W) as tf.Tensor2D);
  }

  /** The target class's cosine with the margin applied. */
  protected abstract modifyTarget(cosTarget: tf.Tensor1D): tf.Tensor1D;

  /** Default: `logits * scale` (ArcFace, CosFace). */
  protected scaleLogits(logits: tf.Tensor2D, _embeddings: tf.Tensor2D): tf.Tensor2D {
    return tf.mul(logits, this.scale) as tf.Tensor2D;
  }

  /** Angles (radians) of the clamped cosines, recording their mean in degrees. */
  protected angles(cosTarget: tf.Tensor1D): tf.Tensor1D {
    const a = tf.acos(tf.clipByValue(cosTarget, -1, 1)) as tf.Tensor1D;
    if (a.size > 0) this.records.avgAngle = (tf.mean(a).dataSync()[0] * 180) / Math.PI;
    return a;
  }

  /** The logits (cosines scaled, no margin), e.g. for classification at inference. */
  getLogits(embeddings: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.scaleLogits(this.cosine(embeddings), embeddings));
  }

  protected computeLoss(input: LossInput): LossDict {
    this.checkClassInput(input);
    const { embeddings, labels } = input;
    const target = oneHot(labels, this.numClasses);
    const cos = this.cosine(embeddings);
    const cosTarget = tf.sum(tf.mul(cos, target), 1) as tf.Tensor1D;
    const diff = tf.sub(this.modifyTarget(cosTarget), cosTarget);
    const logits = this.scaleLogits(tf.add(cos, tf.mul(target, tf.expandDims(diff, 1))) as tf.Tensor2D, embeddings);
    const w = tf.tensor1d(minerWeights(input.indices, labels.length));
    const losses = tf.mul(crossEntropy(logits, target), w);
    return { loss: { losses, indices: Int32Array.from({ length: labels.length }, (_, i) => i), reductionType: 'element' } };
  }

  /** The class weights as rows, `W` transposed (what PML hands its weight regularizer: `W.t()`). */
  protected override regularizedWeights(): tf.Tensor2D {
    return tf.transpose(this.W) as tf.Tensor2D;
  }

  /** The options shared by every loss of the family, for `getConfig`. */
  protected baseConfig(): Record<string, unknown> {
    return {
      numClasses: this.numClasses, embeddingSize: this.embeddingSize, margin: this.margin, scale: this.scale,
      seed: this.seed, distance: toConfig(this.distance), reducer: toConfig(this.reducer),
    };
  }
}

/** Row p-norms of `x` (PML `distance.get_norm`), as a 1-D tensor. */
export function rowNorms(x: tf.Tensor2D, p: number): tf.Tensor1D {
  return (p === 2 ? tf.norm(x, 2, 1) : tf.norm(x, p, 1)) as tf.Tensor1D;
}
