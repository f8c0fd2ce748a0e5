import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { createRandom, type Random } from '../core/random.js';
import type { IndexTuple } from '../core/indices.js';
import { safeRandomChoice, samplerRandomSchema } from './random-option.js';

/** What the sampler needs of a miner: index tuples for a set of embeddings and labels. */
export interface TupleMiner {
  mine(embeddings: tf.Tensor2D, labels: Int32Array): IndexTuple;
}

/** Embeds the dataset samples at `indices` (e.g. the model applied to those rows). */
export type EmbedFn = (indices: Int32Array) => tf.Tensor2D | Promise<tf.Tensor2D>;

/** Options of {@link TuplesToWeightsSampler} (PML's keyword arguments, camelCased; `model`+`dataset` become `embed`+`labels`). */
export interface TuplesToWeightsSamplerOptions {
  /** The miner whose tuples decide the weights. Required. */
  miner: TupleMiner;
  /** Embeds dataset samples by index. Required. */
  embed: EmbedFn;
  /** The label of every dataset sample. Required. */
  labels: ArrayLike<number>;
  /** Mine on a random subset of this many samples (and draw this many per epoch). Default: the whole dataset. */
  subsetSize?: number | null;
  /** Random source. Default `createRandom(0)`. */
  random?: Random;
}

const schema = z
  .object({
    miner: z.custom<TupleMiner>((v) => typeof v === 'object' && v !== null && typeof (v as TupleMiner).mine === 'function', { message: 'must be a miner' }),
    embed: z.custom<EmbedFn>((v) => typeof v === 'function', { message: 'must be a function (indices) => embeddings' }),
    labels: z.custom<ArrayLike<number>>((v) => (Array.isArray(v) || ArrayBuffer.isView(v)) && (v as ArrayLike<number>).length > 0, { message: 'must be a non-empty array of labels' }),
    subsetSize: z.number().int().min(1).nullable().default(null),
    random: samplerRandomSchema.optional(),
  })
  .strict();

/**
 * PML `convert_to_weights`: each batch element's number of appearances in the tuple (all index arrays
 * together) over the largest count; all ones without tuples.
 */
export function tupleWeights(tuple: IndexTuple | undefined, n: number): Float32Array {
  const w = new Float32Array(n);
  const arrays = tuple === undefined ? [] : (Object.values(tuple) as Int32Array[]);
  if (arrays.every((a) => a.length === 0)) return w.fill(1);
  for (const arr of arrays) for (const i of arr) w[i] += 1;
  let max = 0;
  for (const v of w) max = Math.max(max, v);
  for (let i = 0; i < n; i++) w[i] /= max;
  return w;
}

/**
 * Samples the dataset in proportion to how often a miner uses each sample (PML
 * `TuplesToWeightsSampler`): every epoch embeds the dataset (or a random subset of `subsetSize`), mines
 * tuples, turns them into per-sample weights ({@link tupleWeights}; samples outside the subset weigh 0)
 * and draws `length` indices with replacement in proportion to the weights.
 */
export class TuplesToWeightsSampler {
  readonly className = 'TuplesToWeightsSampler';
  readonly subsetSize: number | null;
  /** The weights of the last epoch (one per dataset sample), or null before the first. */
  weights: Float32Array | null = null;
  private readonly miner: TupleMiner;
  private readonly embed: EmbedFn;
  private readonly labels: Int32Array;
  private readonly random: Random;

  constructor(options: TuplesToWeightsSamplerOptions) {
    const o = parseOptions('TuplesToWeightsSampler', schema, options);
    this.miner = o.miner;
    this.embed = o.embed;
    this.labels = Int32Array.from(o.labels);
    this.subsetSize = o.subsetSize;
    this.random = o.random ?? createRandom(0);
  }

  /** Samples drawn per epoch: `subsetSize`, or the dataset size. */
  get length(): number {
    return this.subsetSize ?? this.labels.length;
  }

  /** Embeds, mines, reweights and draws one epoch of `length` dataset indices. */
  async indices(): Promise<Int32Array> {
    const n = this.labels.length;
    const subset = this.subsetSize === null
      ? Int32Array.from({ length: n }, (_, i) => i)
      : Int32Array.from(safeRandomChoice(Int32Array.from({ length: n }, (_, i) => i), this.subsetSize, this.random));
    const emb = await this.embed(subset);
    let tuple: IndexTuple;
    try {
      tuple = this.miner.mine(emb, Int32Array.from(subset, (i) => this.labels[i]));
    } finally {
      emb.dispose();
    }
    const local = tupleWeights(tuple, subset.length);
    const weights = new Float32Array(n);
    subset.forEach((idx, k) => { weights[idx] = local[k]; });
    this.weights = weights;
    let total = 0;
    const cum = new Float64Array(n);
    for (let i = 0; i < n; i++) { total += weights[i]; cum[i] = total; }
    const out = new Int32Array(this.length);
    for (let k = 0; k < out.length; k++) {
      const u = this.random.next() * total;
      let lo = 0, hi = n - 1;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (cum[mid] > u) hi = mid; else lo = mid + 1; }
      out[k] = lo;
    }
    return out;
  }

  getConfig(): Record<string, unknown> {
    return { subsetSize: this.subsetSize };
  }
}
