import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import type { TripletIndices } from '../core/indices.js';
import { BaseMiner, type MinerInput } from './base-miner.js';
import { registry } from './registry.js';
import { clearRecords } from './mining-utils.js';

/** EmbeddingsAlreadyPackagedAsTriplets takes no options. */
export type EmbeddingsAlreadyPackagedAsTripletsOptions = Record<string, never>;

/**
 * For batches laid out as consecutive triplets `[a0, p0, n0, a1, p1, n1, ...]` (pytorch-metric-learning's
 * `EmbeddingsAlreadyPackagedAsTriplets`): returns anchors `0, 3, 6, ...`, positives `1, 4, 7, ...`
 * and negatives `2, 5, 8, ...`, whatever the labels. The batch size must be a multiple of 3.
 * Records `numTriplets`.
 */
export class EmbeddingsAlreadyPackagedAsTriplets extends BaseMiner {
  readonly className = 'EmbeddingsAlreadyPackagedAsTriplets';

  constructor(options: EmbeddingsAlreadyPackagedAsTripletsOptions = {}) {
    super();
    parseOptions('EmbeddingsAlreadyPackagedAsTriplets', z.object({}).strict(), options);
  }

  getConfig(): Record<string, unknown> {
    return {};
  }

  protected mineImpl(input: MinerInput): TripletIndices {
    clearRecords(this.records);
    const n = (input.embeddings as tf.Tensor2D).shape[0];
    if (n % 3 !== 0) {
      throw new ShapeError(`${this.className}: the batch has ${n} embeddings, which is not a multiple of 3 (anchor, positive, negative)`);
    }
    const k = n / 3;
    const a = new Int32Array(k), p = new Int32Array(k), neg = new Int32Array(k);
    for (let i = 0; i < k; i++) { a[i] = 3 * i; p[i] = 3 * i + 1; neg[i] = 3 * i + 2; }
    this.records.numTriplets = k;
    return { anchors: a, positives: p, negatives: neg };
  }
}

registry.register('EmbeddingsAlreadyPackagedAsTriplets', (c) => new EmbeddingsAlreadyPackagedAsTriplets(c as EmbeddingsAlreadyPackagedAsTripletsOptions));
