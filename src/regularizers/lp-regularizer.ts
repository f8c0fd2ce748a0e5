import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { BaseRegularizer, baseRegularizerFields, rowIndices, type BaseRegularizerOptions } from './base-regularizer.js';
import { registry } from './registry.js';

/** Options of {@link LpRegularizer} (PML's keyword arguments). */
export interface LpRegularizerOptions extends BaseRegularizerOptions {
  /** The norm `||x_i||_p` of each row. Default `2`. */
  p?: number;
  /** Each norm is raised to this power. Default `1`. */
  power?: number;
}

const schema = z.object({ p: z.number().positive().default(2), power: z.number().finite().default(1), ...baseRegularizerFields }).strict();

/** `||x_i||_p ^ power` per row (PML `LpRegularizer`), reduced by `MeanReducer` by default: keeps embeddings small. */
export class LpRegularizer extends BaseRegularizer {
  readonly className: string = 'LpRegularizer';
  readonly p: number;
  readonly power: number;

  constructor(options: LpRegularizerOptions = {}) {
    const o = parseOptions('LpRegularizer', schema, options);
    super(o.reducer, o.distance);
    this.p = o.p;
    this.power = o.power;
  }

  protected computeLoss(x: tf.Tensor2D): LossDict {
    let reg = this.p === 2 ? tf.norm(x, 'euclidean', 1) : tf.pow(tf.sum(tf.pow(tf.abs(x), this.p), 1), 1 / this.p);
    if (this.power !== 1) reg = tf.pow(reg, this.power);
    return { loss: { losses: reg, indices: rowIndices(x.shape[0]), reductionType: 'element' } };
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), p: this.p, power: this.power };
  }
}

registry.register('LpRegularizer', (c) => new LpRegularizer(c as LpRegularizerOptions));
