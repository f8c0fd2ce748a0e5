import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import type { Serializable } from '../core/registry.js';
import { as2D } from '../core/tensor.js';
import { l2NormalizeRows } from '../backend/fused.js';

/** Options every distance takes (pytorch-metric-learning's BaseDistance keyword arguments). */
export interface BaseDistanceOptions {
  /** L2-normalise embeddings (rows) before computing distances. Default `true`. */
  normalizeEmbeddings?: boolean;
  /** The norm used for normalisation (and by LpDistance for the distance itself). Default `2`. */
  p?: number;
  /** Raise every distance to this power. Default `1`. */
  power?: number;
}

export const baseDistanceSchema = z
  .object({
    normalizeEmbeddings: z.boolean().default(true),
    p: z.number().positive().default(2),
    power: z.number().finite().default(1),
  })
  .strict();

/** The parsed options every distance holds. */
export type ParsedDistanceOptions = z.output<typeof baseDistanceSchema>;

/** A schema that validates (and defaults) distance options. */
export type DistanceSchema = z.ZodType<ParsedDistanceOptions, unknown>;

/**
 * A pairwise distance or similarity between embeddings. `isInverted` is true for similarities
 * (larger = closer), so that losses and miners can be written once for both kinds.
 */
export abstract class BaseDistance implements Serializable {
  abstract readonly className: string;
  /** True when larger values mean more similar (cosine, dot product). */
  abstract readonly isInverted: boolean;
  readonly normalizeEmbeddings: boolean;
  readonly p: number;
  readonly power: number;

  /**
   * @param options  The options (validated; a bad one raises a ConfigError naming it).
   * @param owner  The class name used in error messages.
   * @param schema  The schema to validate with; subclasses pass {@link baseDistanceSchema} extended or refined.
   */
  constructor(options: BaseDistanceOptions = {}, owner = 'distance', schema: DistanceSchema = baseDistanceSchema) {
    const o = parseOptions(owner, schema, options);
    this.normalizeEmbeddings = o.normalizeEmbeddings;
    this.p = o.p;
    this.power = o.power;
  }

  /** The [nQuery, nRef] matrix of distances (or similarities); `ref` defaults to `query`. */
  matrix(query: tf.Tensor2D, ref?: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const q = this.maybeNormalize(as2D(query, 'query'));
      const r = ref === undefined || ref === query ? q : this.maybeNormalize(as2D(ref, 'reference'));
      const mat = this.computeMatrix(q, r);
      return (this.power === 1 ? mat : tf.pow(mat, this.power)) as tf.Tensor2D;
    });
  }

  /**
   * Row-wise distances between `a[i]` and `b[i]` (same shapes), as a 1-D tensor: the diagonal of
   * `matrix(a, b)` (rows normalised when `normalizeEmbeddings`, `power` applied). PML's
   * `pairwise_distance` is a raw helper that does neither.
   */
  pairwise(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const d = this.computePairwise(this.maybeNormalize(as2D(a)), this.maybeNormalize(as2D(b)));
      return (this.power === 1 ? d : tf.pow(d, this.power)) as tf.Tensor1D;
    });
  }

  /** Normalises rows to unit p-norm when `normalizeEmbeddings` is on. */
  maybeNormalize(x: tf.Tensor2D): tf.Tensor2D {
    if (!this.normalizeEmbeddings) return x;
    if (this.p === 2) return l2NormalizeRows(x, 1e-12);
    return tf.tidy(() => {
      const norm = tf.pow(tf.sum(tf.pow(tf.abs(x), this.p), 1, true), 1 / this.p);
      return tf.div(x, tf.maximum(norm, 1e-12)) as tf.Tensor2D;
    });
  }

  /** PML's `margin(x, y)`: `x - y` for distances, `y - x` for similarities. */
  margin(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
    return this.isInverted ? tf.sub(y, x) : tf.sub(x, y);
  }

  /** Scalar host-side version of {@link margin}. */
  marginValue(x: number, y: number): number {
    return this.isInverted ? y - x : x - y;
  }

  /** True when distance value `a` means "closer" than `b`. */
  closer(a: number, b: number): boolean {
    return this.isInverted ? a > b : a < b;
  }

  getConfig(): Record<string, unknown> {
    return { normalizeEmbeddings: this.normalizeEmbeddings, p: this.p, power: this.power };
  }

  /**
   * The [nQuery, nRef] matrix on already-normalised embeddings. `ref === query` (the same object) when
   * the distance is taken within one set, so implementations can make the diagonal exact.
   */
  protected abstract computeMatrix(query: tf.Tensor2D, ref: tf.Tensor2D): tf.Tensor2D;
  protected abstract computePairwise(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D;
}
