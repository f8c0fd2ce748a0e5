import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { requireSimilarity } from './distance-checks.js';
import { minerWeights } from './miner-weights.js';
import { crossEntropy, oneHot, ParametricLoss, parametricFields, type ParametricLossOptions } from './parametric-loss.js';
import { range } from './rows.js';
import { checkTuple } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link SoftTripleLoss} (PML's keyword arguments, in camelCase). */
export interface SoftTripleLossOptions extends DistanceLossOptions, ParametricLossOptions {
  /** Number of centres per class (K). Default `10`. */
  centersPerClass?: number;
  /** Scale lambda of the logits. Default `20`. */
  la?: number;
  /** Temperature gamma of the softmax over a class's centres (the similarities are divided by it). Default `0.1`. */
  gamma?: number;
  /** Margin delta subtracted from the target class's similarity. Default `0.01`. */
  margin?: number;
  /** Must be a similarity (larger = closer). Default `CosineSimilarity()`. */
  distance?: DistanceLossOptions['distance'];
  /** Default `MeanReducer`. */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  ...parametricFields,
  centersPerClass: z.number().int().min(1).default(10),
  la: z.number().finite().default(20),
  gamma: z.number().finite().positive().default(0.1),
  margin: z.number().finite().default(0.01),
}).strict();

/**
 * SoftTriple loss (Qian et al. 2019; PML `SoftTripleLoss`). K trainable centres per class, the columns of
 * `fc` [embeddingSize, numClasses x K] (Kaiming-uniform initialisation, bound `1 / sqrt(numClasses x K)`).
 * With s_ck the similarity of an embedding to centre k of class c, the class similarity is
 * `S_c = sum_k softmax_k(s_ck / gamma) s_ck`; the loss per element is the cross entropy of
 * `la (S - margin onehot(y))`, times the miner weights. Reduction type `element`.
 *
 * The paper's sparse-centres regulariser is PML's `weightRegularizer` option: pass
 * `new SparseCentersRegularizer({ numClasses, centersPerClass })`; it receives `fc` transposed,
 * [numClasses x K, embeddingSize] (rows `c K .. c K + K - 1` are class c's centres).
 */
export class SoftTripleLoss extends ParametricLoss {
  readonly className: string = 'SoftTripleLoss';
  readonly numClasses: number;
  readonly embeddingSize: number;
  readonly centersPerClass: number;
  readonly la: number;
  readonly gamma: number;
  readonly margin: number;
  readonly seed: number;
  readonly distance: BaseDistance;
  /** The centres, [embeddingSize, numClasses x centersPerClass]. */
  readonly fc: tf.Variable<tf.Rank.R2>;

  constructor(options: SoftTripleLossOptions) {
    super();
    const o = parseOptions('SoftTripleLoss', schema, options);
    this.numClasses = o.numClasses;
    this.embeddingSize = o.embeddingSize;
    this.centersPerClass = o.centersPerClass;
    this.la = o.la;
    this.gamma = o.gamma;
    this.margin = o.margin;
    this.seed = o.seed;
    this.distance = resolveDistance(o.distance, () => new CosineSimilarity());
    requireSimilarity('SoftTripleLoss', this.distance);
    this.setReducer(o.reducer);
    this.fc = this.addWeight(o.embeddingSize, o.numClasses * o.centersPerClass, 'kaimingUniform', o.seed);
  }

  /** The centres as rows, [numClasses x centersPerClass, embeddingSize] (what the weight regulariser sees). */
  protected override regularizedWeights(): tf.Tensor2D {
    return tf.transpose(this.fc) as tf.Tensor2D;
  }

  protected computeLoss(input: LossInput): LossDict {
    this.checkClassInput(input);
    const { embeddings, labels } = input;
    const n = labels.length;
    if (input.indices) checkTuple(input.indices, n, n, this.className);
    const simToCenters = tf.reshape(
      this.distance.matrix(embeddings, tf.transpose(this.fc) as tf.Tensor2D),
      [n, this.numClasses, this.centersPerClass],
    );
    const prob = tf.softmax(tf.mul(simToCenters, 1 / this.gamma));
    const simToClasses = tf.sum(tf.mul(prob, simToCenters), 2) as tf.Tensor2D;
    const target = oneHot(labels, this.numClasses);
    const logits = tf.mul(tf.sub(simToClasses, tf.mul(target, this.margin)), this.la) as tf.Tensor2D;
    const losses = tf.mul(crossEntropy(logits, target), tf.tensor1d(minerWeights(input.indices, n)));
    return { loss: { losses, indices: range(n), reductionType: 'element' } };
  }

  getConfig(): Record<string, unknown> {
    return {
      numClasses: this.numClasses, embeddingSize: this.embeddingSize, centersPerClass: this.centersPerClass,
      la: this.la, gamma: this.gamma, margin: this.margin, seed: this.seed,
      distance: toConfig(this.distance), reducer: toConfig(this.reducer),
    };
  }
}

registry.register('SoftTripleLoss', (c) => new SoftTripleLoss(c as unknown as SoftTripleLossOptions));
