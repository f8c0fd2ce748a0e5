import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { BaseReducer, type LossTerm } from './base-reducer.js';
import { registry } from './registry.js';

/** SumReducer takes no options. */
export type SumReducerOptions = Record<string, never>;

/** The sum of all per-element losses (PML `SumReducer`). Already-reduced losses pass through. */
export class SumReducer extends BaseReducer {
  readonly className: string = 'SumReducer';

  constructor(options: SumReducerOptions = {}) {
    super();
    parseOptions('SumReducer', z.object({}).strict(), options);
  }

  protected reduceLosses(losses: tf.Tensor, _term: LossTerm): tf.Scalar {
    return tf.sum(losses);
  }
}

registry.register('SumReducer', (c) => new SumReducer(c as SumReducerOptions));
