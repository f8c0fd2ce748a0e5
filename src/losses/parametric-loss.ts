import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError, ShapeError } from '../core/errors.js';
import { createRandom, randNormal, type Random } from '../core/random.js';
import { BaseMetricLoss, type LossInput } from './base-loss.js';

/**
 * How a loss's weight matrix is initialised, following the PyTorch initialisers PML uses:
 * - `normal`: N(0, 1) (`torch.nn.init.normal_`, PML's default `weight_init_func`);
 * - `kaimingNormalFanOut`: N(0, 2 / shape[0]) (`kaiming_normal_(mode='fan_out')`: a 2-D tensor's fan-out is
 *   its first dimension; gain sqrt(2));
 * - `kaimingUniform`: U(-b, b) with b = 1 / sqrt(shape[1]) (`kaiming_uniform_(a=sqrt(5))`, fan-in = second dimension).
 */
export type WeightInit = 'normal' | 'kaimingNormalFanOut' | 'kaimingUniform';

/** Options shared by losses that own trainable weights. */
export interface ParametricLossOptions {
  /** Number of classes (labels must lie in [0, numClasses)). Required. */
  numClasses: number;
  /** Embedding dimension (the length of each class weight or proxy). Required. */
  embeddingSize: number;
  /** Seed of the weight initialisation (so that runs reproduce). Default `0`. */
  seed?: number;
}

/** Zod fields for `numClasses` / `embeddingSize` / `seed`. */
export const parametricFields = {
  numClasses: z.number().int().min(1),
  embeddingSize: z.number().int().min(1),
  seed: z.number().int().default(0),
};

/** Draws `rows * cols` initial values with `init`. */
export function initialValues(rows: number, cols: number, init: WeightInit, random: Random): Float32Array {
  const out = new Float32Array(rows * cols);
  if (init === 'kaimingUniform') {
    const bound = 1 / Math.sqrt(cols);
    for (let i = 0; i < out.length; i++) out[i] = (random.next() * 2 - 1) * bound;
    return out;
  }
  const std = init === 'normal' ? 1 : Math.sqrt(2 / rows);
  for (let i = 0; i < out.length; i++) out[i] = randNormal(random) * std;
  return out;
}

/**
 * A loss that owns trainable weights (class weights, proxies, centres). The weights are `tf.Variable`s
 * listed by {@link trainableWeights} in PML's parameter order; the Trainer optimises them with the model.
 * Call {@link dispose} to free them. These losses take no reference set (as PML: `ref_not_supported`).
 */
export abstract class ParametricLoss extends BaseMetricLoss {
  /** The number of classes the weights cover (labels must lie in [0, numClasses)). */
  abstract readonly numClasses: number;
  private readonly weights: tf.Variable[] = [];
  private random: Random | undefined;

  override get trainableWeights(): tf.Variable[] {
    return [...this.weights];
  }

  /** Frees the weight variables; the loss cannot be used afterwards. */
  override dispose(): void {
    for (const w of this.weights) w.dispose();
    this.weights.length = 0;
  }

  /** Creates a [rows, cols] trainable variable initialised with `init`, drawing from a generator seeded with `seed`. */
  protected addWeight(rows: number, cols: number, init: WeightInit, seed: number): tf.Variable<tf.Rank.R2> {
    this.random ??= createRandom(seed);
    const v = tf.variable(tf.tensor2d(initialValues(rows, cols, init, this.random), [rows, cols]), true) as tf.Variable<tf.Rank.R2>;
    this.weights.push(v);
    return v;
  }

  /** Throws unless the input has no reference set and every label indexes a class. */
  protected checkClassInput(input: LossInput): void {
    if (input.refEmbeddings !== undefined) {
      throw new ShapeError(`${this.className}: reference embeddings are not supported (the loss compares embeddings with its own weights)`);
    }
    if (this.weights.length === 0 || this.weights[0].isDisposed) {
      throw new ConfigError(`${this.className}: the loss has been disposed`);
    }
    for (let i = 0; i < input.labels.length; i++) {
      const l = input.labels[i];
      if (l < 0 || l >= this.numClasses) {
        throw new ShapeError(`${this.className}: labels[${i}] = ${l} is out of range [0, numClasses = ${this.numClasses})`);
      }
    }
  }
}

/** A [n, numClasses] float one-hot matrix of `labels`. */
export function oneHot(labels: Int32Array, numClasses: number): tf.Tensor2D {
  const m = new Float32Array(labels.length * numClasses);
  for (let i = 0; i < labels.length; i++) m[i * numClasses + labels[i]] = 1;
  return tf.tensor2d(m, [labels.length, numClasses]);
}

/** Per-row cross entropy `logsumexp(logits_i) - logits_i[y_i]` (PyTorch `CrossEntropyLoss(reduction='none')`). */
export function crossEntropy(logits: tf.Tensor2D, target: tf.Tensor2D): tf.Tensor1D {
  return tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, target), 1)) as tf.Tensor1D;
}
