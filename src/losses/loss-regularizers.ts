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

/** Zod fields of {@link RegularizerOptions}. */
export const regularizerFields = {
  embeddingRegularizer: regularizerSpecSchema.nullable().optional(),
  embeddingRegWeight: z.number().finite().default(1),
  weightRegularizer: regularizerSpecSchema.nullable().optional(),
  weightRegWeight: z.number().finite().default(1),
};

/** The regularizers of a loss, built. */
export interface RegularizerSettings {
  embeddingRegularizer: BaseRegularizer | null;
  embeddingRegWeight: number;
  weightRegularizer: BaseRegularizer | null;
  weightRegWeight: number;
}

const PACKED = Symbol('akin.lossOptions');

/** The parsed `reducer` option together with the regularizer options parsed beside it. */
interface Packed {
  [PACKED]: true;
  spec: ReducerSpec | undefined;
  settings: RegularizerSettings;
}

type ParsedBase = { reducer?: ReducerSpec } & {
  embeddingRegularizer?: RegularizerSpec | null;
  embeddingRegWeight: number;
  weightRegularizer?: RegularizerSpec | null;
  weightRegWeight: number;
};

/**
 * Object-level step of `baseLossSchema`: every loss hands its parsed `reducer` option to
 * `setReducer`, so the regularizer options travel with it (losses need no code of their own).
 */
export function packReducerOption(ctx: { value: ParsedBase }): void {
  const v = ctx.value;
  const build = (s: RegularizerSpec | null | undefined): BaseRegularizer | null => (s === undefined || s === null ? null : regularizers.fromConfig(s));
  const packed: Packed = {
    [PACKED]: true,
    spec: v.reducer,
    settings: {
      embeddingRegularizer: build(v.embeddingRegularizer),
      embeddingRegWeight: v.embeddingRegWeight,
      weightRegularizer: build(v.weightRegularizer),
      weightRegWeight: v.weightRegWeight,
    },
  };
  v.reducer = packed as unknown as ReducerSpec;
}

/** Splits a `reducer` option packed by {@link packReducerOption} (anything else passes through). */
export function unpackReducerOption(spec: ReducerSpec | undefined): { spec: ReducerSpec | undefined; settings: RegularizerSettings | null } {
  if (typeof spec === 'object' && spec !== null && (spec as unknown as Packed)[PACKED] === true) {
    const p = spec as unknown as Packed;
    return { spec: p.spec, settings: p.settings };
  }
  return { spec, settings: null };
}

/** The `already_reduced` term `weight x regularizer(x)` (PML's `*_regularization_loss`). */
export function regularizationTerm(regularizer: BaseRegularizer, weight: number, x: tf.Tensor2D): LossTerm {
  const value = regularizer.compute(x);
  return { losses: weight === 1 ? value : value.mul(weight), indices: null, reductionType: 'already_reduced' };
}
