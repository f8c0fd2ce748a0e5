import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { baseLossSchema, type BaseLossOptions, type LossInput } from './base-loss.js';
import { oneHot, ParametricLoss, parametricFields, type ParametricLossOptions } from './parametric-loss.js';
import { registry } from './registry.js';

/**
 * Options of {@link P2SGradLoss}: `numClasses`, `embeddingSize` (PML `descriptors_dim`), `seed`, and
 * `reducer` (default `MeanReducer`; the loss is already reduced, so any reducer passes it through).
 */
export interface P2SGradLossOptions extends BaseLossOptions, ParametricLossOptions {}

const schema = baseLossSchema.extend({ ...parametricFields }).strict();

/**
 * Columns of `w` scaled as PyTorch's `w.renorm(2, 1, 1e-5).mul(1e5)`: a column whose norm exceeds 1e-5
 * becomes `w / (norm + 1e-7)` (unit length up to 1e-7), a smaller one is multiplied by 1e5.
 */
function renormColumns(w: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const norm = tf.norm(w, 2, 0, true);
    return tf.where(tf.greater(norm, 1e-5), tf.div(w, tf.add(norm, 1e-7)), tf.mul(w, 1e5)) as tf.Tensor2D;
  });
}

/**
 * P2SGrad loss (Zhang et al. 2019; PML `P2SGradLoss`): the mean squared error between the cosines of
 * the embeddings with the class weights and the one-hot labels,
 * `mean_{i,j} (clamp(cos theta_ij, -1, 1) - [j == y_i])^2` over the N x numClasses matrix, whose gradient
 * is the paper's P2SGrad. `W` is [embeddingSize, numClasses] (PML's layout), drawn uniformly and scaled
 * to unit columns; as in PML, every call first rescales the columns of `W` to unit length in place
 * (outside the gradient), then computes the loss. Already reduced. Index tuples and reference
 * embeddings are not supported (as PML); embedding regularizers are accepted, a weight regularizer is
 * not (as PML).
 */
export class P2SGradLoss extends ParametricLoss {
  readonly className: string = 'P2SGradLoss';
  readonly numClasses: number;
  readonly embeddingSize: number;
  readonly seed: number;
  /** The class weights, [embeddingSize, numClasses], unit columns. */
  readonly W: tf.Variable<tf.Rank.R2>;

  constructor(options: P2SGradLossOptions) {
    super();
    const o = parseOptions('P2SGradLoss', schema, options);
    this.numClasses = o.numClasses;
    this.embeddingSize = o.embeddingSize;
    this.seed = o.seed;
    this.setReducer(o.reducer);
    // PML draws U(-1, 1) and renormalises; the columns are scaled to unit length, so U(-b, b) is equivalent.
    this.W = this.addWeight(o.embeddingSize, o.numClasses, 'kaimingUniform', o.seed);
    tf.tidy(() => this.W.assign(renormColumns(this.W)));
  }

  protected computeLoss(input: LossInput): LossDict {
    if (input.indices !== undefined) throw new ShapeError('P2SGradLoss: index tuples are not supported');
    this.checkClassInput(input);
    const { embeddings, labels } = input;
    if (embeddings.shape[1] !== this.embeddingSize) {
      throw new ShapeError(`P2SGradLoss: embeddings have dim ${embeddings.shape[1]} but embeddingSize is ${this.embeddingSize}`);
    }
    this.W.assign(renormColumns(this.W));
    const norms = tf.sqrt(tf.sum(tf.square(embeddings), 1, true));
    const cos = tf.clipByValue(tf.div(tf.matMul(embeddings, this.W), norms), -1, 1);
    const loss = tf.mean(tf.squaredDifference(cos, oneHot(labels, this.numClasses)));
    return { loss: { losses: loss, indices: null, reductionType: 'already_reduced' } };
  }

  getConfig(): Record<string, unknown> {
    return { numClasses: this.numClasses, embeddingSize: this.embeddingSize, seed: this.seed, reducer: toConfig(this.reducer) };
  }
}

registry.register('P2SGradLoss', (c) => new P2SGradLoss(c as unknown as P2SGradLossOptions));
