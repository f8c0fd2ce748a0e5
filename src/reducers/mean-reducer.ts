import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { BaseReducer, type LossTerm } from './base-reducer.js';
import { registry } from './registry.js';

/** MeanReducer takes no options. */
export type MeanReducerOptions = Record<string, never>;

/**
 * The mean of all per-element losses, whatever they are indexed by (elements, pairs or triplets),
 * as PML's `MeanReducer`. Already-reduced losses pass through.
 */
export class MeanReducer extends BaseReducer {
  readonly className: string = 'MeanReducer';

  constructor(options: MeanReducerOptions = {}) {
    super();
    parseOptions('MeanReducer', z.object({}).strict(), options);
  }

  protected reduceLosses(losses: tf.Tensor, _term: LossTerm): tf.Scalar {
    return tf.mean(losses);
  }
}

registry.register('MeanReducer', (c) => new MeanReducer(c as MeanReducerOptions));
