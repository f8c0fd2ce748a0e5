import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/lp-distance.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { BaseRegularizer, baseRegularizerFields, rowIndices, type BaseRegularizerOptions } from './base-regularizer.js';
import { registry } from './registry.js';

/** Options of {@link CenterInvariantRegularizer}. */
export interface CenterInvariantRegularizerOptions extends BaseRegularizerOptions {
  /** Must be an `LpDistance` with power 1 and no normalisation (its `p` is the norm). Default `new LpDistance({ normalizeEmbeddings: false })`. */
  distance?: BaseRegularizerOptions['distance'];
}

const schema = z.object({ ...baseRegularizerFields }).strict();

/**
 * Centre-invariant regularisation (Wu et al. 2017; PML `CenterInvariantRegularizer`), for weight
 * matrices: with `s_i = ||w_i||_p²`, the penalty per row is `(s_i - mean(s))² / 4`, pulling every class
 * weight to the same norm. `MeanReducer` by default.
 */
export class CenterInvariantRegularizer extends BaseRegularizer {
  readonly className: string = 'CenterInvariantRegularizer';

  constructor(options: CenterInvariantRegularizerOptions = {}) {
    const o = parseOptions('CenterInvariantRegularizer', schema, options);
    super(o.reducer, o.distance);
    const d = this.distance;
    if (!(d instanceof LpDistance) || d.power !== 1 || d.normalizeEmbeddings) {
      throw new ConfigError(`CenterInvariantRegularizer: option 'distance' must be an LpDistance with power 1 and normalizeEmbeddings false (got ${d.className} ${JSON.stringify(d.getConfig())})`);
    }
  }

  override defaultDistance(): BaseDistance {
    return new LpDistance({ normalizeEmbeddings: false });
  }

  protected computeLoss(x: tf.Tensor2D): LossDict {
    const p = this.distance.p;
    const norms = p === 2 ? tf.sqrt(tf.sum(tf.square(x), 1)) : tf.pow(tf.sum(tf.pow(tf.abs(x), p), 1), 1 / p);
    const sq = tf.square(norms);
    const dev = tf.sub(sq, tf.mean(sq));
    return { loss: { losses: tf.div(tf.square(dev), 4), indices: rowIndices(x.shape[0]), reductionType: 'element' } };
  }
}

registry.register('CenterInvariantRegularizer', (c) => new CenterInvariantRegularizer(c as CenterInvariantRegularizerOptions));
