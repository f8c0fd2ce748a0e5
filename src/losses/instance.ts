import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { BaseMetricLoss, distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { requireCosine } from './distance-checks.js';
import { crossEntropy, oneHot } from './parametric-loss.js';
import { range } from './rows.js';
import { registry } from './registry.js';

/** Options of {@link InstanceLoss} (PML's keyword arguments, in camelCase). */
export interface InstanceLossOptions extends DistanceLossOptions {
  /** Scale applied to the cosine similarity matrix. Default `64`. */
  gamma?: number;
  /** Must be a `CosineSimilarity`. Default `CosineSimilarity()`. */
  distance?: DistanceLossOptions['distance'];
  /** Default `MeanReducer`. */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  gamma: z.number().finite().default(64),
}).strict();

/**
 * Instance loss (Zheng et al. 2020; PML `InstanceLoss`): each embedding is classified against every
 * embedding of the batch, itself included, with logits `gamma cos(x_i, x_j)`; the loss per element is
 * the cross entropy with target column t_i, the rank of `labels[i]` among the batch's sorted distinct
 * labels (PML's `unique(labels, return_inverse=True)`). With one embedding per label and labels that
 * increase with position (e.g. `0..n-1`), t_i = i: each embedding is its own class, as in the paper;
 * with other labels the target column need not hold an embedding of the same label (as PML).
 * Reduction type `element`. Miner tuples and reference embeddings are not supported (as PML).
 */
export class InstanceLoss extends BaseMetricLoss {
  readonly className: string = 'InstanceLoss';
  readonly distance: BaseDistance;
  readonly gamma: number;

  constructor(options: InstanceLossOptions = {}) {
    super();
    const o = parseOptions('InstanceLoss', schema, options);
    this.gamma = o.gamma;
    this.distance = resolveDistance(o.distance, () => new CosineSimilarity());
    requireCosine('InstanceLoss', this.distance);
    this.setReducer(o.reducer);
  }

  protected computeLoss(input: LossInput): LossDict {
    if (input.indices !== undefined) {
      throw new ShapeError(`${this.className}: miner indices are not supported (the loss uses every embedding of the batch)`);
    }
    if (input.refEmbeddings !== undefined) {
      throw new ShapeError(`${this.className}: reference embeddings are not supported`);
    }
    const { embeddings, labels } = input;
    const n = labels.length;
    const sorted = [...new Set(labels)].sort((a, b) => a - b);
    const rank = new Map(sorted.map((l, r) => [l, r]));
    const targets = Int32Array.from(labels, (l) => rank.get(l)!);
    const logits = tf.mul(this.distance.matrix(embeddings), this.gamma) as tf.Tensor2D;
    const losses = crossEntropy(logits, oneHot(targets, n));
    return { loss: { losses, indices: range(n), reductionType: 'element' } };
  }

  getConfig(): Record<string, unknown> {
    return { gamma: this.gamma, distance: toConfig(this.distance), reducer: toConfig(this.reducer) };
  }
}

registry.register('InstanceLoss', (c) => new InstanceLoss(c as InstanceLossOptions));
