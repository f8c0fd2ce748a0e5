import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { createRandom, shuffleInPlace, type Random } from '../core/random.js';
import { choiceWithoutReplacement, safeRandomChoice, samplerRandomSchema } from './random-option.js';

/** Options of {@link FixedSetOfTriplets} (pytorch-metric-learning's keyword arguments, camelCased). */
export interface FixedSetOfTripletsOptions {
  /** The label of every dataset sample. Required; at least two distinct labels. */
  labels: ArrayLike<number>;
  /** How many triplets to create. Required. */
  numTriplets: number;
  /** Random source. Default `createRandom(0)`. */
  random?: Random;
}

const schema = z
  .object({
    labels: z.custom<ArrayLike<number>>((v) => (Array.isArray(v) || ArrayBuffer.isView(v)) && (v as ArrayLike<number>).length > 0, {
      message: 'must be a non-empty array of labels',
    }),
    numTriplets: z.number().int().min(1),
    random: samplerRandomSchema.optional(),
  })
  .strict();

/**
 * A fixed set of triplets made once (PML `FixedSetOfTriplets`), for experiments where the only ground
 * truth is relative: for each triplet two distinct labels are drawn (anchor's and negative's), the
 * anchor and positive are two draws from the anchor's class (distinct unless the class has one sample)
 * and the negative one draw from the other class. {@link indices} reshuffles the triplets (the order
 * persists) and flattens them to `[a0, p0, n0, a1, p1, n1, ...]`, for `EmbeddingsAlreadyPackagedAsTriplets`.
 */
export class FixedSetOfTriplets {
  readonly className = 'FixedSetOfTriplets';
  readonly numTriplets: number;
  /** `[numTriplets][3]` dataset indices (anchor, positive, negative). */
  readonly triplets: Int32Array[];
  private readonly random: Random;

  constructor(options: FixedSetOfTripletsOptions) {
    const o = parseOptions('FixedSetOfTriplets', schema, options);
    this.numTriplets = o.numTriplets;
    this.random = o.random ?? createRandom(0);
    const byLabel = new Map<number, number[]>();
    for (let i = 0; i < o.labels.length; i++) {
      const list = byLabel.get(o.labels[i]);
      if (list) list.push(i);
      else byLabel.set(o.labels[i], [i]);
    }
    const labelList = [...byLabel.keys()];
    if (labelList.length < 2) throw new ConfigError(`FixedSetOfTriplets: option 'labels' must hold at least two distinct labels (got ${labelList.length})`);
    this.triplets = [];
    for (let t = 0; t < this.numTriplets; t++) {
      const [al, nl] = choiceWithoutReplacement(labelList, 2, this.random);
      const [a, p] = safeRandomChoice(byLabel.get(al)!, 2, this.random);
      const negs = byLabel.get(nl)!;
      const n = negs[Math.floor(this.random.next() * negs.length)];
      this.triplets.push(Int32Array.of(a, p, n));
    }
  }

  /** Samples per epoch (`3 x numTriplets`). */
  get length(): number {
    return this.numTriplets * 3;
  }

  /** Shuffles the triplets and returns them flattened. */
  indices(): Int32Array {
    shuffleInPlace(this.triplets, this.random);
    const out = new Int32Array(this.length);
    this.triplets.forEach((t, i) => out.set(t, 3 * i));
    return out;
  }

  /** One epoch as batches of `batchSize` (a multiple of 3) consecutive indices; the last may be shorter. */
  epoch(batchSize: number): Int32Array[] {
    if (!Number.isInteger(batchSize) || batchSize < 3 || batchSize % 3 !== 0) {
      throw new ConfigError(`FixedSetOfTriplets: batchSize must be a positive multiple of 3 (got ${batchSize})`);
    }
    const flat = this.indices();
    const out: Int32Array[] = [];
    for (let s = 0; s < flat.length; s += batchSize) out.push(flat.slice(s, s + batchSize));
    return out;
  }

  getConfig(): Record<string, unknown> {
    return { numTriplets: this.numTriplets };
  }
}
