import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { isComponentConfig, toConfig, type ComponentConfig, type Serializable } from '../core/registry.js';
import { as2D } from '../core/tensor.js';
import { BaseDistance } from '../distances/base-distance.js';
import { registry as distances } from '../distances/registry.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { MeanReducer } from '../reducers/mean-reducer.js';
import { reducerLikeSchema, resolveReducer, type ReducerLike } from '../reducers/reducer-spec.js';

/** A distance given as a live object or as its `{ className, config }`. */
export type RegularizerDistanceSpec = BaseDistance | ComponentConfig;

/** Options every regularizer takes (PML's BaseRegularizer keyword arguments). */
export interface BaseRegularizerOptions {
  /** Reduces the per-row penalties to one scalar. Default: the regularizer's own (`MeanReducer` unless stated). */
  reducer?: ReducerLike;
  /** The distance the regularizer measures with. Default: the regularizer's own (`LpDistance()` unless stated). */
  distance?: RegularizerDistanceSpec;
}

/** Zod fields of {@link BaseRegularizerOptions}; regularizers spread them into their schema. */
export const baseRegularizerFields = {
  reducer: reducerLikeSchema.optional(),
  distance: z.custom<RegularizerDistanceSpec>((v) => v instanceof BaseDistance || isComponentConfig(v), {
    message: 'must be a distance (e.g. new CosineSimilarity()) or its { className, config }',
  }).optional(),
};

/**
 * A penalty on embeddings or on a loss's weight matrix (PML `BaseRegularizer`): `computeLoss` gives
 * per-row penalties as a loss dictionary and the regularizer's own reducer turns them into one scalar.
 * Rows play the part of labels (row i has label i), so class-aware reducers see one class per row.
 * Pass one to a loss as `embeddingRegularizer` (applied to the batch embeddings) or, for losses with
 * weights, `weightRegularizer`.
 */
export abstract class BaseRegularizer implements Serializable {
  abstract readonly className: string;
  readonly reducer: BaseReducer;
  readonly distance: BaseDistance;
  /** Stats from the last call, for logging. */
  readonly records: Record<string, number> = {};

  constructor(reducer: ReducerLike | undefined, distance: RegularizerDistanceSpec | undefined) {
    this.reducer = reducer === undefined ? this.defaultReducer() : resolveReducer(reducer);
    this.distance = distance === undefined ? this.defaultDistance() : distances.fromConfig(distance);
  }

  /** The scalar penalty of `x` ([rows, dim]: embeddings or weights); differentiable. */
  compute(x: tf.Tensor2D): tf.Scalar {
    const m = as2D(x, 'regularizer input');
    const rows = Int32Array.from({ length: m.shape[0] }, (_, i) => i);
    return tf.tidy(() => this.reducer.reduce(this.computeLoss(m), m, rows));
  }

  /** The reducer used when none is given. */
  defaultReducer(): BaseReducer {
    return new MeanReducer();
  }

  /** The distance used when none is given. */
  defaultDistance(): BaseDistance {
    return distances.fromConfig({ className: 'LpDistance' });
  }

  getConfig(): Record<string, unknown> {
    return { reducer: toConfig(this.reducer), distance: toConfig(this.distance) };
  }

  /** Per-row penalties of `x`; runs inside the caller's `tf.tidy`. */
  protected abstract computeLoss(x: tf.Tensor2D): LossDict;
}

/** Row indices 0..n-1, the `indices` of an `element` penalty per row. */
export function rowIndices(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}
