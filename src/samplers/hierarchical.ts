import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { createRandom, shuffleInPlace, type Random } from '../core/random.js';
import { safeRandomChoice, samplerRandomSchema } from './random-option.js';

/** Options of {@link HierarchicalSampler} (pytorch-metric-learning's keyword arguments, camelCased). */
export interface HierarchicalSamplerOptions {
  /** One row per sample: its labels at each level of the hierarchy (e.g. `[class, superclass]`). Required. */
  labels: ArrayLike<ArrayLike<number>>;
  /** Samples per batch; a multiple of `superClassesPerBatch`. Required. */
  batchSize: number;
  /**
   * Samples drawn per class, or `'all'` for the whole class. A number must divide
   * `batchSize / superClassesPerBatch`; a class with fewer samples is drawn with replacement. Required.
   */
  samplesPerClass: number | 'all';
  /** Batches made for each combination of `superClassesPerBatch` super-labels. Default `4`. */
  batchesPerSuperTuple?: number;
  /** Super-labels combined in one batch. Default `2`. */
  superClassesPerBatch?: number;
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
    samplesPerClass: z.union([z.number().int().min(1), z.literal('all')]),
    batchesPerSuperTuple: z.number().int().min(1).default(4),
    superClassesPerBatch: z.number().int().min(1).default(2),
    innerLabel: z.number().int().min(0).default(0),
    outerLabel: z.number().int().min(0).default(1),
    random: samplerRandomSchema.optional(),
  })
  .strict();

/**
 * Batches built from tuples of super-labels (PML `HierarchicalSampler`, after Cakir et al.'s
 * hierarchical sampling): for every combination of `superClassesPerBatch` super-labels (ascending) and
 * `batchesPerSuperTuple` times, each super-label fills a sub-batch of `batchSize / superClassesPerBatch`
 * by visiting its classes in random order and drawing `samplesPerClass` samples (the whole class with
 * `'all'`) from each class that still fits, without replacement, or with replacement when the class is
 * smaller (PML's `safe_random_choice`); a class that does not fit is skipped and a full sub-batch stops
 * the visit. Each batch is shuffled, then the list of batches; batches may be shorter than `batchSize`
 * (with `'all'`, or when the classes cannot fill a sub-batch). {@link epoch} reshuffles every time.
 */
export class HierarchicalSampler {
  readonly className = 'HierarchicalSampler';
  readonly batchSize: number;
  readonly samplesPerClass: number | 'all';
  readonly batchesPerSuperTuple: number;
  readonly superClassesPerBatch: number;
  readonly subBatchLen: number;
  /** The super-label combinations, in the order batches are made for them. */
  readonly superPairs: number[][];
  private readonly lists: Map<number, Map<number, number[]>>;
  private readonly random: Random;

  constructor(options: HierarchicalSamplerOptions) {
    const o = parseOptions('HierarchicalSampler', schema, options);
    this.batchSize = o.batchSize;
    this.batchesPerSuperTuple = o.batchesPerSuperTuple;
    this.superClassesPerBatch = o.superClassesPerBatch;
    this.random = o.random ?? createRandom(0);
    if (o.batchSize % o.superClassesPerBatch !== 0) {
      throw new ConfigError(`HierarchicalSampler: option 'batchSize' (${o.batchSize}) must be a multiple of superClassesPerBatch (${o.superClassesPerBatch})`);
    }
    this.subBatchLen = o.batchSize / o.superClassesPerBatch;
    if (o.samplesPerClass !== 'all' && this.subBatchLen % o.samplesPerClass !== 0) {
      throw new ConfigError(`HierarchicalSampler: option 'samplesPerClass' (${o.samplesPerClass}) must divide batchSize / superClassesPerBatch (${this.subBatchLen})`);
    }
    this.samplesPerClass = o.samplesPerClass;
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
    this.superPairs = combinations([...this.lists.keys()].sort((a, b) => a - b), o.superClassesPerBatch);
  }

  /** Number of batches per epoch. */
  get length(): number {
    return this.superPairs.length * this.batchesPerSuperTuple;
  }

  /** Draws one epoch of batches (dataset indices). */
  epoch(): Int32Array[] {
    const batches: Int32Array[] = [];
    for (const combo of this.superPairs) {
      for (let b = 0; b < this.batchesPerSuperTuple; b++) {
        const batch: number[] = [];
        for (const slb of combo) {
          const byClass = this.lists.get(slb)!;
          const classes = shuffleInPlace([...byClass.keys()], this.random);
          let filled = 0;
          for (const cl of classes) {
            if (filled >= this.subBatchLen) break;
            const instances = byClass.get(cl)!;
            const take = this.samplesPerClass === 'all' ? instances.length : this.samplesPerClass;
            if (filled + take > this.subBatchLen) continue;
            batch.push(...safeRandomChoice(instances, take, this.random));
            filled += take;
          }
        }
        batches.push(Int32Array.from(shuffleInPlace(batch, this.random)));
      }
    }
    return shuffleInPlace(batches, this.random);
  }

  getConfig(): Record<string, unknown> {
    return {
      batchSize: this.batchSize, samplesPerClass: this.samplesPerClass,
      batchesPerSuperTuple: this.batchesPerSuperTuple, superClassesPerBatch: this.superClassesPerBatch,
    };
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
