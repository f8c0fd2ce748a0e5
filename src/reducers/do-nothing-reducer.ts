import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { AkinError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { BaseReducer, type LossDict, type LossTerm } from './base-reducer.js';
import { registry } from './registry.js';

/** DoNothingReducer takes no options. */
export type DoNothingReducerOptions = Record<string, never>;

/**
 * PML's `DoNothingReducer` returns the loss dictionary unreduced. A reducer here must return one
 * scalar, so `reduce` throws an {@link AkinError} (`E_REDUCER`): to get the per-element losses, call
 * `loss.computeLossDict(embeddings, labels, ...)` instead, which returns the same dictionary
 * (sub-loss name -> `{ losses, indices, reductionType }`). It exists so that configs naming it load.
 */
export class DoNothingReducer extends BaseReducer {
  readonly className: string = 'DoNothingReducer';

  constructor(options: DoNothingReducerOptions = {}) {
    super();
    parseOptions('DoNothingReducer', z.object({}).strict(), options);
  }

  /** Always throws: use `loss.computeLossDict(...)` to get unreduced losses. */
  override reduce(_dict: LossDict, _embeddings: tf.Tensor, _labels: Int32Array): tf.Scalar {
    throw unreduced();
  }

  protected reduceLosses(_losses: tf.Tensor, _term: LossTerm): tf.Scalar {
    throw unreduced();
  }
}

function unreduced(): AkinError {
  return new AkinError(
    'E_REDUCER',
    'DoNothingReducer: this reducer returns no scalar; call loss.computeLossDict(embeddings, labels, ...) to get the unreduced per-element losses',
  );
}

registry.register('DoNothingReducer', (c) => new DoNothingReducer(c as DoNothingReducerOptions));
