import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError, ShapeError } from '../core/errors.js';
import { parseOptions, zs } from '../core/options.js';
import type { Random } from '../core/random.js';
import { isComponentConfig, toConfig, type ComponentConfig, type Serializable } from '../core/registry.js';
import type { IndexTuple } from '../core/indices.js';
import { as2D, toLabelArray, type LabelsLike } from '../core/tensor.js';
import { registry as lossRegistry } from '../losses/registry.js';
import { BaseMiner } from './base-miner.js';
import { registry } from './registry.js';
import { clearRecords } from './mining-utils.js';
import { randomFields, resolveRandom } from './random-source.js';

/** What {@link MaximumLossMiner} needs of a loss: a scalar loss for a batch (and optional miner tuples). */
export interface LossLike extends Serializable {
  compute(embeddings: tf.Tensor2D, labels: LabelsLike, indices?: IndexTuple): tf.Scalar;
}

/** Options of {@link MaximumLossMiner} (pytorch-metric-learning's keyword arguments, camelCased). */
export interface MaximumLossMinerOptions {
  /** The loss evaluated on each random subset (a loss object or its `{ className, config }`). Required. */
  loss: LossLike | ComponentConfig;
  /** Size of the subset returned. Required. */
  outputBatchSize: number;
  /** A tuple miner run on each subset before the loss. Default: none (the loss uses every tuple). */
  miner?: BaseMiner | ComponentConfig | null;
  /** Number of random subsets tried. Default `5`. */
  numTrials?: number;
  /** Seed of the default random source (akin addition). Default `0`. */
  seed?: number;
  /** Random source for the subsets. Default `createRandom(seed)`. */
  random?: Random;
}

const schema = z
  .object({
    loss: z.custom<LossLike | ComponentConfig>(
      (v) => isComponentConfig(v) || (typeof v === 'object' && v !== null && typeof (v as LossLike).compute === 'function'),
      { message: 'must be a loss (e.g. new TripletMarginLoss()) or its { className, config }' },
    ),
    outputBatchSize: zs.posInt(),
    miner: z.custom<BaseMiner | ComponentConfig>((v) => v instanceof BaseMiner || isComponentConfig(v), {
      message: 'must be a miner or its { className, config }',
    }).nullable().default(null),
    numTrials: zs.posInt().default(5),
    ...randomFields,
  })
  .strict();

/**
 * A subset-batch miner (pytorch-metric-learning's `MaximumLossMiner`): draws `numTrials` random subsets
 * of `outputBatchSize` distinct batch elements, computes the loss on each (after the optional miner)
 * and returns the indices of the subset with the highest loss (the first one on ties), in the order
 * drawn. Unlike the tuple miners it returns batch indices, not pairs or triplets: select
 * `embeddings[subset]` and `labels[subset]` with them. Records `avgLoss` and `maxLoss`.
 */
export class MaximumLossMiner implements Serializable {
  readonly className = 'MaximumLossMiner';
  readonly records: Record<string, number> = {};
  readonly loss: LossLike;
  readonly miner: BaseMiner | null;
  readonly outputBatchSize: number;
  readonly numTrials: number;
  readonly seed: number;
  private readonly random: Random;

  constructor(options: MaximumLossMinerOptions) {
    const o = parseOptions('MaximumLossMiner', schema, options);
    this.loss = isComponentConfig(o.loss) ? (lossRegistry.fromConfig(o.loss) as unknown as LossLike) : o.loss;
    this.miner = o.miner === null ? null : registry.fromConfig(o.miner);
    this.outputBatchSize = o.outputBatchSize;
    this.numTrials = o.numTrials;
    this.seed = o.seed;
    this.random = resolveRandom(o.random, o.seed);
  }

  /** The batch indices of the subset with the highest loss. */
  mine(embeddings: tf.Tensor2D, labels: LabelsLike): Int32Array {
    clearRecords(this.records);
    const emb = as2D(embeddings);
    const lab = toLabelArray(labels, emb.shape[0]);
    const n = emb.shape[0];
    if (this.outputBatchSize > n) {
      throw new ShapeError(`${this.className}: outputBatchSize (${this.outputBatchSize}) is larger than the batch (${n})`);
    }
    const losses: number[] = [];
    const subsets: Int32Array[] = [];
    for (let t = 0; t < this.numTrials; t++) {
      const subset = this.drawSubset(n);
      subsets.push(subset);
      const picked = Int32Array.from(subset, (i) => lab[i]);
      const value = tf.tidy(() => {
        const e = tf.gather(emb, tf.tensor1d(subset, 'int32')) as tf.Tensor2D;
        const tuple = this.miner ? this.miner.mine(e, picked) : undefined;
        return this.loss.compute(e, picked, tuple);
      });
      losses.push((value.dataSync() as Float32Array)[0]);
      value.dispose();
    }
    let best = 0;
    for (let t = 1; t < losses.length; t++) if (losses[t] > losses[best]) best = t;
    this.records.avgLoss = losses.reduce((s, v) => s + v, 0) / losses.length;
    this.records.maxLoss = losses[best];
    return subsets[best];
  }

  getConfig(): Record<string, unknown> {
    return {
      loss: toConfig(this.loss),
      miner: this.miner ? toConfig(this.miner) : null,
      outputBatchSize: this.outputBatchSize,
      numTrials: this.numTrials,
      seed: this.seed,
    };
  }

  /** `outputBatchSize` distinct indices of [0, n), in random order (partial Fisher-Yates). */
  private drawSubset(n: number): Int32Array {
    const pool = Int32Array.from({ length: n }, (_, i) => i);
    for (let k = 0; k < this.outputBatchSize; k++) {
      const j = k + Math.floor(this.random.next() * (n - k));
      const tmp = pool[k]; pool[k] = pool[j]; pool[j] = tmp;
    }
    return pool.slice(0, this.outputBatchSize);
  }
}

/** Builds a MaximumLossMiner from its saved `{ className, config }`. */
export function maximumLossMinerFromConfig(spec: ComponentConfig): MaximumLossMiner {
  if (spec.className !== 'MaximumLossMiner') throw new ConfigError(`expected className 'MaximumLossMiner' (got '${spec.className}')`);
  return new MaximumLossMiner((spec.config ?? {}) as unknown as MaximumLossMinerOptions);
}
