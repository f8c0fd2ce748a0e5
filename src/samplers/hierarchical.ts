import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { createRandom, shuffleInPlace, type Random } from '../core/random.js';
import { choiceWithoutReplacement, samplerRandomSchema } from './random-option.js';

/** Options of {@link HierarchicalSampler} (pytorch-metric-learning's keyword arguments, camelCased). */
export interface HierarchicalSamplerOptions {
  /** One row per sample: its labels at each level of the hierarchy (e.g. `[class, superclass]`). Required. */
  labels: ArrayLike<ArrayLike<number>>;
  /** Samples per batch; a multiple of `nbCategories`. Required. */
  batchSize: number;
  /** Samples drawn per class (without replacement); 0 takes whole classes. Must divide `batchSize / nbCategories`. Required. */
  samplesPerClass: number;
  /** Batches made for each combination of `nbCategories` super-labels. Required. */
  batchesPerSuperPair: number;
  /** Super-labels combined in one batch. Default `2`. */
  nbCategories?: number;
  /** Column of `labels` holding the class. Default `0`. */
  innerLabel?: number;
  /** Column of `labels` holding the super-label. Default `1`. */
  outerLabel?: number;
  /** Random source. Default `createRandom(0)`. */
  random?: Random;
}

const schema = z
  .object({
    labels: z.custom<ArrayLike<ArrayLike<number>>>((v) => Array.isArray(v) && v.length > 0, { message: 'must be a non-empty array of label rows' }),
    batchSize: z.number().int().min(1),
    samplesPerClass: z.number().int().min(0),
    batchesPerSuperPair: z.number().int().min(1),
    nbCategories: z.number().int().min(1).default(2),
    innerLabel: z.number().int().min(0).default(0),
    outerLabel: z.number().int().min(0).default(1),
    random: samplerRandomSchema.optional(),
  })
  .strict();

/**
 * Batches built from pairs of super-labels (PML `HierarchicalSampler`, after Cakir et al.'s
 * hierarchical sampling): for every combination of `nbCategories` super-labels (ascending) and
 * `batchesPerSuperPair` times, each super-label fills a sub-batch of `batchSize / nbCategories` by
 * visiting its classes in random order and taking `min(classSize, samplesPerClass)` samples of each
 * class that still fits (classes that do not fit are skipped). Each batch is shuffled, then the list of
 * batches; batches may be shorter than `batchSize`. {@link epoch} reshuffles every time.
 */
export class HierarchicalSampler {
  readonly className = 'HierarchicalSampler';
  readonly batchSize: number;
  readonly samplesPerClass: number;
  readonly batchesPerSuperPair: number;
  readonly nbCategories: number;
  readonly subBatchLen: number;
  /** The super-label combinations, in the order batches are made for them. */
  readonly superPairs: number[][];
  private readonly lists: Map<number, Map<number, number[]>>;
  private readonly random: Random;

  constructor(options: HierarchicalSamplerOptions) {
    const o = parseOptions('HierarchicalSampler', schema, options);
    this.batchSize = o.batchSize;
    this.batchesPerSuperPair = o.batchesPerSuperPair;
    this.nbCategories = o.nbCategories;
    this.random = o.random ?? createRandom(0);
    if (o.batchSize % o.nbCategories !== 0) {
      throw new ConfigError(`HierarchicalSampler: option 'batchSize' (${o.batchSize}) must be a multiple of nbCategories (${o.nbCategories})`);
    }
    this.subBatchLen = o.batchSize / o.nbCategories;
    if (o.samplesPerClass > 0 && this.subBatchLen % o.samplesPerClass !== 0) {
      throw new ConfigError(`HierarchicalSampler: option 'samplesPerClass' (${o.samplesPerClass}) must divide batchSize / nbCategories (${this.subBatchLen})`);
    }
    this.samplesPerClass = o.samplesPerClass > 0 ? o.samplesPerClass : o.labels.length;
    this.lists = new Map();
    for (let i = 0; i < o.labels.length; i++) {
      const row = o.labels[i];
      const outer = row[o.outerLabel], inner = row[o.innerLabel];
      if (!Number.isInteger(outer) || !Number.isInteger(inner)) {
        throw new ConfigError(`HierarchicalSampler: option 'labels': row ${i} has no integer labels at columns ${o.innerLabel} and ${o.outerLabel}`);
      }
      let byClass = this.lists.get(outer);
      if (!byClass) this.lists.set(outer, (byClass = new Map()));
      const list = byClass.get(inner);
      if (list) list.push(i);
      else byClass.set(inner, [i]);
    }
    this.superPairs = combinations([...this.lists.keys()].sort((a, b) => a - b), o.nbCategories);
  }

  /** Number of batches per epoch. */
  get length(): number {
    return this.superPairs.length * this.batchesPerSuperPair;
  }

  /** Draws one epoch of batches (dataset indices). */
  epoch(): Int32Array[] {
    const batches: Int32Array[] = [];
    for (const combo of this.superPairs) {
      for (let b = 0; b < this.batchesPerSuperPair; b++) {
        const batch: number[] = [];
        for (const slb of combo) {
          const byClass = this.lists.get(slb)!;
          const classes = shuffleInPlace([...byClass.keys()], this.random);
          let filled = 0;
          for (const cl of classes) {
            const instances = byClass.get(cl)!;
            const take = Math.min(instances.length, this.samplesPerClass);
            if (filled + take > this.subBatchLen) continue;
            batch.push(...choiceWithoutReplacement(instances, take, this.random));
            filled += take;
          }
        }
        batches.push(Int32Array.from(shuffleInPlace(batch, this.random)));
      }
    }
    return shuffleInPlace(batches, this.random);
  }

  getConfig(): Record<string, unknown> {
    return { batchSize: this.batchSize, samplesPerClass: this.samplesPerClass, batchesPerSuperPair: this.batchesPerSuperPair, nbCategories: this.nbCategories };
  }
}

/** Every `k`-subset of `items`, in lexicographic order (Python's `itertools.combinations`). */
function combinations(items: number[], k: number): number[][] {
  const out: number[][] = [];
  const pick = (start: number, acc: number[]): void => {
    if (acc.length === k) { out.push(acc.slice()); return; }
    for (let i = start; i < items.length; i++) { acc.push(items[i]); pick(i + 1, acc); acc.pop(); }
  };
  pick(0, []);
  return out;
}
