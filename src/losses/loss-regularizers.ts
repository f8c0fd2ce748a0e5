/**
 * Embedding and weight regularizers inside losses (pytorch-metric-learning's `EmbeddingRegularizerMixin`
 * and `WeightRegularizerMixin`): the options every loss accepts and the sub-loss terms they add.
 */
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { isComponentConfig, type ComponentConfig } from '../core/registry.js';
import type { LossTerm } from '../reducers/base-reducer.js';
import { BaseRegularizer } from '../regularizers/base-regularizer.js';
import { registry as regularizers } from '../regularizers/index.js';
import type { ReducerSpec } from './base-loss.js';

/** A regularizer given as a live object, as `{ className, config }`, or by class name. */
export type RegularizerSpec = BaseRegularizer | ComponentConfig | string;

/** Zod schema for a {@link RegularizerSpec} option. */
export const regularizerSpecSchema = z.custom<RegularizerSpec>(
  (v) => v instanceof BaseRegularizer || isComponentConfig(v) || (typeof v === 'string' && v.length > 0),
  { message: 'must be a regularizer (e.g. new LpRegularizer()), its { className, config } or its class name' },
);

/** Regularizer options every loss takes. */
export interface RegularizerOptions {
  /** Penalty on the batch embeddings, added as the `embeddingRegLoss` sub-loss. Default: none. */
  embeddingRegularizer?: RegularizerSpec | null;
  /** Multiplies the embedding penalty. Default `1`. */
  embeddingRegWeight?: number;
  /** Penalty on the loss's weight matrix (losses with class weights or proxies only), added as `weightRegLoss`. Default: none. */
  weightRegularizer?: RegularizerSpec | null;
  /** Multiplies the weight penalty. Default `1`. */
  weightRegWeight?: number;
}

/** A regularizer option, built while parsing (`null` when absent). */
const builtRegularizer = regularizerSpecSchema
  .nullable()
  .optional()
  .transform((s): BaseRegularizer | null => (s === undefined || s === null ? null : regularizers.fromConfig(s)));

/** Zod fields of {@link RegularizerOptions}; the regularizers come out built. */
export const regularizerFields = {
  embeddingRegularizer: builtRegularizer,
  embeddingRegWeight: z.number().finite().default(1),
  weightRegularizer: builtRegularizer,
  weightRegWeight: z.number().finite().default(1),
};

/** The regularizers of a loss, built. */
export interface RegularizerSettings {
  embeddingRegularizer: BaseRegularizer | null;
  embeddingRegWeight: number;
  weightRegularizer: BaseRegularizer | null;
  weightRegWeight: number;
}

/**
 * A loss's parsed `reducer` option with the regularizer options parsed beside it. Every loss hands its
 * `reducer` option to `setReducer`; carrying the regularizers in it means no loss needs code of its own
 * for them.
 */
export class ReducerWithRegularizers {
  constructor(readonly reducer: ReducerSpec | undefined, readonly regularizers: RegularizerSettings) {}
}

/** Object-level step of `baseLossSchema`: wraps the parsed `reducer` option in a {@link ReducerWithRegularizers}. */
export function packReducerOption(ctx: { value: RegularizerSettings & { reducer?: ReducerSpec } }): void {
  const { reducer, embeddingRegularizer, embeddingRegWeight, weightRegularizer, weightRegWeight } = ctx.value;
  const packed = new ReducerWithRegularizers(reducer, { embeddingRegularizer, embeddingRegWeight, weightRegularizer, weightRegWeight });
  ctx.value.reducer = packed as unknown as ReducerSpec;
}

/** The `already_reduced` term `weight x regularizer(x)` (PML's `*_regularization_loss`). */
export function regularizationTerm(regularizer: BaseRegularizer, weight: number, x: tf.Tensor2D): LossTerm {
  const value = regularizer.compute(x);
  return { losses: weight === 1 ? value : value.mul(weight), indices: null, reductionType: 'already_reduced' };
}
