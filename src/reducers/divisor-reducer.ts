import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { AkinError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { zeroLoss } from '../core/tensor.js';
import { BaseReducer, type LossTerm } from './base-reducer.js';
import { registry } from './registry.js';

/** DivisorReducer takes no options. */
export type DivisorReducerOptions = Record<string, never>;

/**
 * The sum of the per-element losses divided by the term's own `divisor` (PML `DivisorReducer`, the
 * default of ProxyAnchorLoss: positive terms over the proxies that have positives, negative terms over
 * all classes). A divisor of 0 gives a zero loss that keeps its gradient path. Records `divisor`.
 */
export class DivisorReducer extends BaseReducer {
  readonly className: string = 'DivisorReducer';

  constructor(options: DivisorReducerOptions = {}) {
    super();
    parseOptions('DivisorReducer', z.object({}).strict(), options);
  }

  protected reduceLosses(losses: tf.Tensor, term: LossTerm, embeddings: tf.Tensor): tf.Scalar {
    if (term.divisor === undefined) {
      throw new AkinError('E_REDUCER', 'DivisorReducer: the loss term has no divisor (use a loss that provides one, e.g. ProxyAnchorLoss)');
    }
    this.records.divisor = term.divisor;
    if (term.divisor === 0) return zeroLoss(embeddings);
    return tf.div(tf.sum(losses), term.divisor);
  }
}

registry.register('DivisorReducer', (c) => new DivisorReducer(c as DivisorReducerOptions));
