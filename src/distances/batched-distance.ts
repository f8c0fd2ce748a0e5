import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions, zs } from '../core/options.js';
import { isComponentConfig, toConfig, type ComponentConfig } from '../core/registry.js';
import { as2D } from '../core/tensor.js';
import { BaseDistance } from './base-distance.js';
import { registry } from './registry.js';

/**
 * Called once per tile with the [rows, nRef] block of the matrix for query rows `s` (inclusive) to `e`
 * (exclusive; as in PML, `e = s + batchSize` even for a shorter last tile). The block is disposed when
 * the function returns: read it (or `tf.clone` it) inside.
 */
export type IterFn = (mat: tf.Tensor2D, s: number, e: number) => void;

/** Options of {@link BatchedDistance} (PML's keyword arguments, camelCased). */
export interface BatchedDistanceOptions {
  /** The distance computed tile by tile (a distance or its `{ className, config }`). Required. */
  distance: BaseDistance | ComponentConfig;
  /** Receives every tile. Required. */
  iterFn: IterFn;
  /** Query rows per tile. Default `32`. */
  batchSize?: number;
}

const schema = z
  .object({
    distance: z.custom<BaseDistance | ComponentConfig>((v) => v instanceof BaseDistance || isComponentConfig(v), {
      message: 'must be a distance (e.g. new LpDistance()) or its { className, config }',
    }),
    iterFn: z.custom<IterFn>((v) => typeof v === 'function', { message: 'must be a function (mat, s, e) => void' }),
    batchSize: zs.posInt().default(32),
  })
  .strict();

/**
 * Applies a distance to large inputs a tile of query rows at a time (PML `BatchedDistance`), so the
 * full [nQuery, nRef] matrix never exists at once: `compute(query, ref?)` calls `iterFn` with the
 * matrix of query rows `[s, s + batchSize)` against the whole reference set (the query itself when
 * `ref` is omitted). Each tile equals the corresponding rows of `distance.matrix(query, ref)`.
 */
export class BatchedDistance {
  readonly className = 'BatchedDistance';
  readonly distance: BaseDistance;
  readonly iterFn: IterFn;
  readonly batchSize: number;

  constructor(options: BatchedDistanceOptions) {
    const o = parseOptions('BatchedDistance', schema, options);
    this.distance = registry.fromConfig(o.distance);
    this.iterFn = o.iterFn;
    this.batchSize = o.batchSize;
  }

  /** True when the wrapped distance is a similarity. */
  get isInverted(): boolean {
    return this.distance.isInverted;
  }

  /** Runs `iterFn` over every tile of `query` against `ref` (default: `query`). */
  compute(query: tf.Tensor2D, ref?: tf.Tensor2D): void {
    const q = as2D(query, 'query');
    const r = ref === undefined ? q : as2D(ref, 'reference');
    const n = q.shape[0];
    for (let s = 0; s < n; s += this.batchSize) {
      const e = s + this.batchSize;
      const mat = tf.tidy(() => {
        const rows = tf.slice(q, [s, 0], [Math.min(e, n) - s, -1]) as tf.Tensor2D;
        return this.distance.matrix(rows, r);
      });
      try {
        this.iterFn(mat, s, e);
      } finally {
        mat.dispose();
      }
    }
  }

  /** `{ distance, batchSize }` (the function `iterFn` is not saved). */
  getConfig(): Record<string, unknown> {
    return { distance: toConfig(this.distance), batchSize: this.batchSize };
  }
}
