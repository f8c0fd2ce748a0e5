import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { AkinError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { BaseReducer, type LossTerm } from './base-reducer.js';
import { anchorIndices } from './reducer-spec.js';
import { registry } from './registry.js';

/** Options of {@link ClassWeightedReducer} (PML's keyword arguments). */
export interface ClassWeightedReducerOptions {
  /** `weights[c]` is the weight of class c (labels index it). Required. */
  weights: ArrayLike<number> | tf.Tensor1D;
}

const schema = z
  .object({
    weights: z.custom<ArrayLike<number> | tf.Tensor1D>(
      (v) => v instanceof tf.Tensor ? v.rank === 1 : (Array.isArray(v) || ArrayBuffer.isView(v)) && Array.from(v as ArrayLike<number>).every(Number.isFinite),
      { message: 'must be an array (or 1-D tensor) of finite class weights' },
    ),
  })
  .strict();

/**
 * Multiplies each loss by the weight of its class and takes the mean (PML `ClassWeightedReducer`). The
 * class is the label of the element for `element` losses and of the anchor for pairs and triplets.
 */
export class ClassWeightedReducer extends BaseReducer {
  readonly className: string = 'ClassWeightedReducer';
  /** The class weights. */
  readonly weights: Float32Array;

  constructor(options: ClassWeightedReducerOptions) {
    super();
    const o = parseOptions('ClassWeightedReducer', schema, options);
    const w = o.weights;
    this.weights = w instanceof tf.Tensor ? Float32Array.from(w.dataSync() as Float32Array) : Float32Array.from(w);
  }

  protected reduceLosses(losses: tf.Tensor, term: LossTerm, _embeddings: tf.Tensor, labels: Int32Array): tf.Scalar {
    const idx = anchorIndices(term, this.className);
    if (idx.length !== losses.size) {
      throw new AkinError('E_REDUCER', `${this.className}: ${losses.size} losses but ${idx.length} indices`);
    }
    const w = new Float32Array(idx.length);
    for (let i = 0; i < idx.length; i++) {
      const label = labels[idx[i]];
      if (!(label >= 0 && label < this.weights.length)) {
        throw new AkinError('E_REDUCER', `${this.className}: label ${label} has no weight (weights cover classes 0..${this.weights.length - 1})`);
      }
      w[i] = this.weights[label];
    }
    return tf.mean(tf.mul(tf.reshape(losses, [-1]), tf.tensor1d(w)));
  }

  override getConfig(): Record<string, unknown> {
    return { weights: Array.from(this.weights) };
  }
}

registry.register('ClassWeightedReducer', (c) => new ClassWeightedReducer(c as unknown as ClassWeightedReducerOptions));
