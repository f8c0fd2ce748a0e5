import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { gatherPairs } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { BaseRegularizer, baseRegularizerFields, rowIndices, type BaseRegularizerOptions } from './base-regularizer.js';
import { registry } from './registry.js';

/** Options of {@link RegularFaceRegularizer}. */
export interface RegularFaceRegularizerOptions extends BaseRegularizerOptions {
  /** A similarity (inverted distance). Default `new CosineSimilarity()`. */
  distance?: BaseRegularizerOptions['distance'];
}

const schema = z.object({ ...baseRegularizerFields }).strict();

/**
 * RegularFace (Zhao et al. 2019; PML `RegularFaceRegularizer`), for weight matrices: the penalty of
 * row i is its similarity to its most similar other row (the choice of that row carries no gradient),
 * spreading class weights apart. `MeanReducer` by default.
 */
export class RegularFaceRegularizer extends BaseRegularizer {
  readonly className: string = 'RegularFaceRegularizer';

  constructor(options: RegularFaceRegularizerOptions = {}) {
    const o = parseOptions('RegularFaceRegularizer', schema, options);
    super(o.reducer, o.distance);
    if (!this.distance.isInverted) {
      throw new ConfigError(`RegularFaceRegularizer: option 'distance' must be a similarity (isInverted), e.g. CosineSimilarity (got ${this.distance.className})`);
    }
  }

  override defaultDistance(): BaseDistance {
    return new CosineSimilarity();
  }

  protected computeLoss(x: tf.Tensor2D): LossDict {
    const n = x.shape[0];
    const sim = this.distance.matrix(x);
    const values = tf.tidy(() => tf.where(tf.cast(tf.eye(n), 'bool'), tf.fill([n, n], -Infinity), sim));
    const v = values.dataSync() as Float32Array;
    values.dispose();
    const cols = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = -1;
      for (let j = 0; j < n; j++) if (best < 0 || v[i * n + j] > v[i * n + best]) best = j;
      cols[i] = best;
    }
    const losses = gatherPairs(sim, rowIndices(n), cols);
    return { loss: { losses, indices: rowIndices(n), reductionType: 'element' } };
  }
}

registry.register('RegularFaceRegularizer', (c) => new RegularFaceRegularizer(c as RegularFaceRegularizerOptions));
