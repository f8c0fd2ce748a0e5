import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError, ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { gather1D } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { DivisorReducer } from '../reducers/divisor-reducer.js';
import { BaseRegularizer, baseRegularizerFields, rowIndices, type BaseRegularizerOptions } from './base-regularizer.js';
import { registry } from './registry.js';

/** Options of {@link SparseCentersRegularizer} (PML's keyword arguments, camelCased). */
export interface SparseCentersRegularizerOptions extends BaseRegularizerOptions {
  /** Number of classes. Required. */
  numClasses: number;
  /** Centres per class (rows `c * centersPerClass ..` belong to class c). Required; at least 2. */
  centersPerClass: number;
  /** Must be a `CosineSimilarity`. Default `new CosineSimilarity()`. */
  distance?: BaseRegularizerOptions['distance'];
  /** Default `new DivisorReducer()` (sum over twice the number of compared pairs). */
  reducer?: BaseRegularizerOptions['reducer'];
}

const schema = z
  .object({ numClasses: z.number().int().min(1), centersPerClass: z.number().int().min(2), ...baseRegularizerFields })
  .strict();

/** float32's smallest normal number (`torch.finfo(float32).tiny`), PML's `small_val`. */
const TINY = 1.1754943508222875e-38;

/**
 * The sparse-centres term of SoftTriple (Qian et al. 2019; PML `SparseCentersRegularizer`), for a
 * [numClasses x centersPerClass, dim] matrix of centres: for every pair i < j of centres of the same
 * class, `sqrt(2 + tiny - min(2 s_ij, 2))` with s the cosine similarity, summed and divided by twice the
 * number of such pairs (`divisor` of `DivisorReducer`, the default reducer). Records
 * `sameClassCenterSim` and `diffClassCenterSim` (mean similarities).
 */
export class SparseCentersRegularizer extends BaseRegularizer {
  readonly className: string = 'SparseCentersRegularizer';
  readonly numClasses: number;
  readonly centersPerClass: number;

  constructor(options: SparseCentersRegularizerOptions) {
    const o = parseOptions('SparseCentersRegularizer', schema, options);
    super(o.reducer, o.distance);
    this.numClasses = o.numClasses;
    this.centersPerClass = o.centersPerClass;
    if (!(this.distance instanceof CosineSimilarity)) {
      throw new ConfigError(`SparseCentersRegularizer: option 'distance' must be a CosineSimilarity (got ${this.distance.className})`);
    }
  }

  override defaultDistance(): BaseDistance {
    return new CosineSimilarity();
  }

  override defaultReducer(): BaseReducer {
    return new DivisorReducer();
  }

  protected computeLoss(x: tf.Tensor2D): LossDict {
    const total = this.numClasses * this.centersPerClass;
    if (x.shape[0] !== total) {
      throw new ShapeError(`${this.className}: expected ${total} centres (numClasses x centersPerClass) but got ${x.shape[0]} rows`);
    }
    const same: number[] = [], diff: number[] = [];
    const k = this.centersPerClass;
    for (let i = 0; i < total; i++) {
      for (let j = 0; j < total; j++) {
        const sameClass = Math.floor(i / k) === Math.floor(j / k);
        if (sameClass && j > i) same.push(i * total + j);
        else if (!sameClass) diff.push(i * total + j);
      }
    }
    const sim = tf.reshape(this.distance.matrix(x), [-1]) as tf.Tensor1D;
    this.setStats(sim, same, diff);
    const masked = tf.minimum(tf.mul(gather1D(sim, Int32Array.from(same)), 2), 2);
    const reg = tf.sqrt(tf.sub(2 + TINY, masked));
    return { loss: { losses: reg, indices: rowIndices(same.length), reductionType: 'element', divisor: 2 * same.length } };
  }

  private setStats(sim: tf.Tensor1D, same: number[], diff: number[]): void {
    const v = sim.dataSync();
    const meanOf = (idx: number[]): number => idx.reduce((s, i) => s + v[i], 0) / idx.length;
    this.records.sameClassCenterSim = meanOf(same);
    if (diff.length > 0) this.records.diffClassCenterSim = meanOf(diff);
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), numClasses: this.numClasses, centersPerClass: this.centersPerClass };
  }
}

registry.register('SparseCentersRegularizer', (c) => new SparseCentersRegularizer(c as unknown as SparseCentersRegularizerOptions));
