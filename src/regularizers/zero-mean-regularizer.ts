import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { BaseRegularizer, baseRegularizerFields, rowIndices, type BaseRegularizerOptions } from './base-regularizer.js';
import { registry } from './registry.js';

/** Options of {@link ZeroMeanRegularizer}: only the base ones. */
export type ZeroMeanRegularizerOptions = BaseRegularizerOptions;

const schema = z.object({ ...baseRegularizerFields }).strict();

/** `|sum_k x_ik|` per row (PML `ZeroMeanRegularizer`): pushes each row's components to sum to 0. */
export class ZeroMeanRegularizer extends BaseRegularizer {
  readonly className: string = 'ZeroMeanRegularizer';

  constructor(options: ZeroMeanRegularizerOptions = {}) {
    const o = parseOptions('ZeroMeanRegularizer', schema, options);
    super(o.reducer, o.distance);
  }

  protected computeLoss(x: tf.Tensor2D): LossDict {
    return { loss: { losses: tf.abs(tf.sum(x, 1)), indices: rowIndices(x.shape[0]), reductionType: 'element' } };
  }
}

registry.register('ZeroMeanRegularizer', (c) => new ZeroMeanRegularizer(c as ZeroMeanRegularizerOptions));
