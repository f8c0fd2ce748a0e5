import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { createRandom, randInt, shuffleInPlace, type Random } from '../core/random.js';

/** Options of {@link MPerClassSampler} (pytorch-metric-learning's keyword arguments, camelCased). */
export interface MPerClassSamplerOptions {
  /** The label of every dataset sample (index = dataset index). Required. */
  labels: ArrayLike<number>;
  /** Samples per class in each batch. Required; must divide `batchSize`. */
  m: number;
  /** Samples per batch. Required; a multiple of `m`, at most `m` x (number of classes). */
  batchSize: number;
  /**
   * Samples drawn per epoch before rounding down to a multiple of `batchSize`. Default `100000`.
   * Must be at least `batchSize`.
   */
  lengthBeforeNewIter?: number;
  /** Random source for choosing classes and samples. Default `createRandom(0)`. */
  random?: Random;
}

const schema = z
  .object({
    labels: z.custom<ArrayLike<number>>(
      (v) => (Array.isArray(v) || ArrayBuffer.isView(v)) && (v as ArrayLike<number>).length > 0,
      { message: 'must be a non-empty array of labels' },
    ),
    m: z.number().int().min(1),
    batchSize: z.number().int().min(1),
    lengthBeforeNewIter: z.number().int().min(1).default(100000),
    random: z
      .custom<Random>((v) => typeof v === 'object' && v !== null && typeof (v as Random).next === 'function', {
        message: 'must be a Random (an object with next(): number)',
      })
      .optional(),
  })
  .strict();

/**
 * Draws batches that hold `batchSize / m` classes with `m` samples each, following
 * pytorch-metric-learning's `MPerClassSampler`.
 *
 * **One epoch** (one call to {@link epoch}, one pass of PML's iterator) is `length` samples:
 * `lengthBeforeNewIter` rounded down to a multiple of `batchSize`, i.e. `length / batchSize` batches.
 * It is not tied to the dataset size: samples may repeat within an epoch and some may not appear.
 * For each batch the list of classes is reshuffled (in place, so the order carries over between
 * batches and epochs) and its first `batchSize / m` classes are used; from each, `m` samples are drawn
 * without replacement, or with replacement when the class has fewer than `m` samples.
 *
 * Classes are the distinct labels in order of first appearance. The random stream differs from
 * NumPy's, so the batches are not the ones PML would draw, only drawn the same way. `batchSize` is
 * required: PML's `batch_size=None` mode (every class in each pass, no batch structure) is not offered.
 */
export class MPerClassSampler {
  readonly className = 'MPerClassSampler';
  readonly m: number;
  readonly batchSize: number;
  readonly lengthBeforeNewIter: number;
  /** Samples per epoch: `lengthBeforeNewIter` rounded down to a multiple of `batchSize`. */
  readonly length: number;
  /** The distinct labels, in the (shuffled) order the sampler keeps between batches. */
  private readonly classes: number[];
  private readonly indicesByClass: Map<number, Int32Array>;
  private readonly random: Random;

  /**
   * @throws ConfigError naming the option: a bad value, `batchSize` not a multiple of `m`,
   *   `batchSize / m` above the number of classes, or `lengthBeforeNewIter < batchSize`
   */
  constructor(options: MPerClassSamplerOptions) {
    const o = parseOptions('MPerClassSampler', schema, options);
    this.m = o.m;
    this.batchSize = o.batchSize;
    this.lengthBeforeNewIter = o.lengthBeforeNewIter;
    this.random = o.random ?? createRandom(0);
    const lists = new Map<number, number[]>();
    for (let i = 0; i < o.labels.length; i++) {
      const label = o.labels[i];
      if (!Number.isInteger(label)) {
        throw new ConfigError(`MPerClassSampler: option 'labels': label at index ${i} is not an integer (got ${label})`);
      }
      const list = lists.get(label);
      if (list) list.push(i);
      else lists.set(label, [i]);
    }
    this.classes = [...lists.keys()];
    this.indicesByClass = new Map([...lists].map(([k, v]) => [k, Int32Array.from(v)]));
    if (this.lengthBeforeNewIter < this.batchSize) {
      throw new ConfigError(
        `MPerClassSampler: option 'lengthBeforeNewIter' (${this.lengthBeforeNewIter}) must be >= batchSize (${this.batchSize})`,
      );
    }
    if (this.batchSize % this.m !== 0) {
      throw new ConfigError(`MPerClassSampler: option 'batchSize' (${this.batchSize}) must be a multiple of m (${this.m})`);
    }
    if (this.batchSize / this.m > this.classes.length) {
      throw new ConfigError(
        `MPerClassSampler: option 'batchSize' (${this.batchSize}) needs batchSize / m = ${this.batchSize / this.m} classes ` +
          `per batch but the labels hold only ${this.classes.length}; lower batchSize or raise m`,
      );
    }
    this.length = this.lengthBeforeNewIter - (this.lengthBeforeNewIter % this.batchSize);
  }

  /** Number of distinct classes in `labels`. */
  get numClasses(): number {
    return this.classes.length;
  }

  /** Batches per epoch (`length / batchSize`). */
  get batchesPerEpoch(): number {
    return this.length / this.batchSize;
  }

  /** Draws one epoch: `batchesPerEpoch` batches of `batchSize` dataset indices each. */
  epoch(): Int32Array[] {
    const classesPerBatch = this.batchSize / this.m;
    const batches: Int32Array[] = [];
    for (let b = 0; b < this.batchesPerEpoch; b++) {
      shuffleInPlace(this.classes, this.random);
      const batch = new Int32Array(this.batchSize);
      for (let c = 0; c < classesPerBatch; c++) {
        this.drawFromClass(this.indicesByClass.get(this.classes[c])!, batch, c * this.m);
      }
      batches.push(batch);
    }
    return batches;
  }

  /** One epoch as a single flat list of `length` indices (PML's iteration order). */
  indices(): Int32Array {
    const out = new Int32Array(this.length);
    this.epoch().forEach((batch, b) => out.set(batch, b * this.batchSize));
    return out;
  }

  /** The options that rebuild this sampler, less `labels` and `random`. */
  getConfig(): Record<string, unknown> {
    return { m: this.m, batchSize: this.batchSize, lengthBeforeNewIter: this.lengthBeforeNewIter };
  }

  /** Writes `m` samples of one class into `out` at `at`: without replacement when the class has >= m. */
  private drawFromClass(pool: Int32Array, out: Int32Array, at: number): void {
    const n = pool.length;
    if (n < this.m) {
      for (let k = 0; k < this.m; k++) out[at + k] = pool[randInt(this.random, n)];
      return;
    }
    if (2 * this.m <= n) {
      // Few draws from a large class: rejection sampling avoids copying the class.
      const seen = new Set<number>();
      for (let k = 0; k < this.m; k++) {
        let j = randInt(this.random, n);
        while (seen.has(j)) j = randInt(this.random, n);
        seen.add(j);
        out[at + k] = pool[j];
      }
      return;
    }
    const copy = pool.slice();
    for (let k = 0; k < this.m; k++) {
      const j = k + randInt(this.random, n - k);
      const tmp = copy[k];
      copy[k] = copy[j];
      copy[j] = tmp;
      out[at + k] = copy[k];
    }
  }
}
