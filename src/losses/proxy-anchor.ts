import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { maskedLogSumExp } from '../core/tensor.js';
import { toConfig } from '../core/registry.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import { DivisorReducer } from '../reducers/divisor-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { minerWeights } from './miner-weights.js';
import { oneHot, ParametricLoss, parametricFields, type ParametricLossOptions } from './parametric-loss.js';
import { registry } from './registry.js';

/** Options of {@link ProxyAnchorLoss} (PML's keyword arguments, in camelCase). */
export interface ProxyAnchorLossOptions extends DistanceLossOptions, ParametricLossOptions {
  /** Margin delta. Default `0.1`. */
  margin?: number;
  /** Scale alpha. Default `32`. */
  alpha?: number;
  /** Default `CosineSimilarity()`. */
  distance?: DistanceLossOptions['distance'];
  /** Default `DivisorReducer`: positive terms over the proxies with positives, negative terms over all classes. */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  ...parametricFields,
  margin: z.number().finite().default(0.1),
  alpha: z.number().finite().default(32),
}).strict();

/**
 * Proxy-Anchor loss (Kim et al. 2020; PML `ProxyAnchorLoss`). One trainable proxy per class,
 * `proxies` [numClasses, embeddingSize], initialised with Kaiming-normal (fan-out). With s the
 * similarity between embedding i and proxy c, per proxy c:
 * `posLoss_c = log(1 + sum_{i: y_i = c} exp(alpha (delta - s_ic)))`,
 * `negLoss_c = log(1 + sum_{i: y_i != c} exp(alpha (s_ic + delta)))` (for a distance the signs flip as
 * PML's `distance.margin`). Reduction type `element` over proxies, with divisors "number of proxies with a
 * positive" and "numClasses". Miner tuples weight the batch elements as PML does (`weight - 1` is added
 * to the exponent).
 */
export class ProxyAnchorLoss extends ParametricLoss {
  readonly className: string = 'ProxyAnchorLoss';
  readonly numClasses: number;
  readonly embeddingSize: number;
  readonly margin: number;
  readonly alpha: number;
  readonly seed: number;
  readonly distance: BaseDistance;
  /** The class proxies, [numClasses, embeddingSize]. */
  readonly proxies: tf.Variable<tf.Rank.R2>;

  constructor(options: ProxyAnchorLossOptions) {
    super();
    const o = parseOptions('ProxyAnchorLoss', schema, options);
    this.numClasses = o.numClasses;
    this.embeddingSize = o.embeddingSize;
    this.margin = o.margin;
    this.alpha = o.alpha;
    this.seed = o.seed;
    this.distance = resolveDistance(o.distance, () => new CosineSimilarity());
    this.setReducer(o.reducer);
    this.proxies = this.addWeight(o.numClasses, o.embeddingSize, 'kaimingNormalFanOut', o.seed);
  }

  override subLossNames(): string[] {
    return ['posLoss', 'negLoss'];
  }

  override defaultReducer(): BaseReducer {
    return new DivisorReducer();
  }

  protected computeLoss(input: LossInput): LossDict {
    this.checkClassInput(input);
    const { labels } = input;
    const n = labels.length;
    const w = minerWeights(input.indices, n);
    const shift = tf.tensor2d(w.map((v) => v - 1), [n, 1]);
    const sim = this.distance.matrix(input.embeddings, this.proxies as tf.Tensor2D);
    const pos = oneHot(labels, this.numClasses);
    const neg = tf.sub(1, pos) as tf.Tensor2D;
    const posExp = tf.add(tf.mul(this.distance.margin(sim, tf.scalar(this.margin)), this.alpha), shift);
    const negExp = tf.add(tf.mul(this.distance.margin(tf.scalar(-this.margin), sim), this.alpha), shift);
    // Per proxy (column): transpose so that the log-sum-exp runs over batch elements.
    const posTerm = maskedLogSumExp(tf.transpose(posExp) as tf.Tensor2D, tf.transpose(pos) as tf.Tensor2D, true);
    const negTerm = maskedLogSumExp(tf.transpose(negExp) as tf.Tensor2D, tf.transpose(neg) as tf.Tensor2D, true);
    const withPos = new Set(labels).size;
    this.records.numPosProxies = withPos;
    const indices = Int32Array.from({ length: this.numClasses }, (_, i) => i);
    return {
      posLoss: { losses: posTerm, indices, reductionType: 'element', divisor: withPos },
      negLoss: { losses: negTerm, indices, reductionType: 'element', divisor: this.numClasses },
    };
  }

  /** The proxies, one row per class (as PML regularizes them). */
  protected override regularizedWeights(): tf.Tensor2D {
    return this.proxies;
  }

  getConfig(): Record<string, unknown> {
    return {
      numClasses: this.numClasses, embeddingSize: this.embeddingSize, margin: this.margin, alpha: this.alpha,
      seed: this.seed, distance: toConfig(this.distance), reducer: toConfig(this.reducer),
    };
  }
}

registry.register('ProxyAnchorLoss', (c) => new ProxyAnchorLoss(c as unknown as ProxyAnchorLossOptions));
