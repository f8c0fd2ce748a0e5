import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { detached } from '../core/tensor.js';
import { BaseReducer, type LossTerm } from './base-reducer.js';
import { registry } from './registry.js';

/** Options of {@link ThresholdReducer} (PML's keyword arguments). At least one must be given. */
export interface ThresholdReducerOptions {
  /** Keep only losses strictly greater than this. Default: none (no lower bound). */
  low?: number | null;
  /** Keep only losses strictly less than this. Default: none (no upper bound). */
  high?: number | null;
}

const thresholdSchema = z
  .object({
    low: z.number().finite().nullable().default(null),
    high: z.number().finite().nullable().default(null),
  })
  .strict()
  .refine((o) => o.low !== null || o.high !== null, {
    message: "at least one of 'low' and 'high' must be given",
    path: ['low'],
  });

/**
 * The mean of the losses that lie strictly between `low` and `high` (PML `ThresholdReducer`); the same
 * for elements, pairs and triplets. When no loss passes, the result is a zero that keeps a gradient
 * path (so training never sees NaN). Computed without reading values back to the host.
 */
export class ThresholdReducer extends BaseReducer {
  readonly className: string = 'ThresholdReducer';
  /** Lower bound (exclusive), or null for none. */
  readonly low: number | null;
  /** Upper bound (exclusive), or null for none. */
  readonly high: number | null;

  constructor(options: ThresholdReducerOptions = {}, owner = 'ThresholdReducer') {
    super();
    const o = parseOptions(owner, thresholdSchema, options);
    this.low = o.low;
    this.high = o.high;
  }

  protected reduceLosses(losses: tf.Tensor, _term: LossTerm): tf.Scalar {
    const { low, high } = this;
    const k = detached(losses, (v) => {
      const above = low === null ? null : tf.greater(v, low);
      const below = high === null ? null : tf.less(v, high);
      return above && below ? tf.logicalAnd(above, below) : (above ?? below)!;
    });
    const kept = tf.where(k, losses, tf.zerosLike(losses));
    const count = tf.sum(tf.cast(k, 'float32'));
    return tf.div(tf.sum(kept), tf.maximum(count, 1)) as tf.Scalar;
  }

  override getConfig(): Record<string, unknown> {
    return { low: this.low, high: this.high };
  }
}

registry.register('ThresholdReducer', (c) => new ThresholdReducer(c as ThresholdReducerOptions));
