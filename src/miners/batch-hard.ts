import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import type { TripletIndices } from '../core/indices.js';
import type { MinerInput } from './base-miner.js';
import { BatchEasyHardMiner } from './batch-easy-hard.js';
import { registry } from './registry.js';
import { distanceSpecSchema, type DistanceSpec } from './mining-utils.js';

/** Options of {@link BatchHardMiner} (pytorch-metric-learning's keyword arguments, camelCased). */
export interface BatchHardMinerOptions {
  /** Distance (or similarity) to mine with. Default `new LpDistance()`. */
  distance?: DistanceSpec;
}

const schema = z.object({ distance: distanceSpecSchema.optional() }).strict();

/**
 * "In Defense of the Triplet Loss" batch-hard mining (Hermans et al. 2017; pytorch-metric-learning's
 * `BatchHardMiner`): for every anchor that has a positive and a negative, one triplet made of its
 * hardest positive (farthest; least similar) and hardest negative (closest; most similar). It is
 * {@link BatchEasyHardMiner} with `'hard'` on both sides, returned as triplets (anchors ascending).
 * Records as BatchEasyHardMiner, plus `numTriplets`.
 */
export class BatchHardMiner extends BatchEasyHardMiner {
  override readonly className: string = 'BatchHardMiner';

  constructor(options: BatchHardMinerOptions = {}) {
    const o = parseOptions('BatchHardMiner', schema, options);
    super({ posStrategy: 'hard', negStrategy: 'hard', distance: o.distance }, 'BatchHardMiner');
  }

  override getConfig(): Record<string, unknown> {
    return { distance: toConfig(this.distance) };
  }

  protected override mineImpl(input: MinerInput): TripletIndices {
    const pairs = this.minePairs(input);
    this.records.numTriplets = pairs.anchors1.length;
    return { anchors: pairs.anchors1, positives: pairs.positives, negatives: pairs.negatives };
  }
}

registry.register('BatchHardMiner', (c) => new BatchHardMiner(c as BatchHardMinerOptions));
