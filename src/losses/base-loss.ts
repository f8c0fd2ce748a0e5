import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { ComponentConfig, Serializable } from '../core/registry.js';
import type { IndexTuple } from '../core/indices.js';
import { as2D, toLabelArray, type LabelsLike } from '../core/tensor.js';
import { ShapeError } from '../core/errors.js';
import { BaseReducer, type LossDict } from '../reducers/base-reducer.js';
import { registry as reducerRegistry } from '../reducers/index.js';
import { MeanReducer } from '../reducers/mean-reducer.js';
import { BaseDistance } from '../distances/base-distance.js';
import { registry as distanceRegistry } from '../distances/index.js';
import { ConfigError } from '../core/errors.js';
import { toConfig } from '../core/registry.js';
import type { BaseRegularizer } from '../regularizers/base-regularizer.js';
import {
  packReducerOption, ReducerWithRegularizers, regularizationTerm, regularizerFields, type RegularizerOptions,
} from './loss-regularizers.js';

/** A reducer given as a live object, as `{ className, config }`, or by class name. */
export type ReducerSpec = BaseReducer | ComponentConfig | string;

/** A distance given as a live object, as `{ className, config }`, or by class name. */
export type DistanceSpec = BaseDistance | ComponentConfig | string;

const componentConfigSchema = z
  .object({ className: z.string(), config: z.record(z.string(), z.unknown()).optional() })
  .strict();

/** Zod schema for a {@link ReducerSpec} option. */
export const reducerSpecSchema = z.union([
  z.custom<BaseReducer>((v) => v instanceof BaseReducer, { message: 'must be a reducer, { className, config } or a class name' }),
  componentConfigSchema,
  z.string(),
]);

/** Zod schema for a {@link DistanceSpec} option. */
export const distanceSpecSchema = z.union([
  z.custom<BaseDistance>((v) => v instanceof BaseDistance, { message: 'must be a distance, { className, config } or a class name' }),
  componentConfigSchema,
  z.string(),
]);

/** Options every loss takes (with the regularizer options of {@link RegularizerOptions}). */
export interface BaseLossOptions extends RegularizerOptions {
  /** The reducer that turns per-element losses into one scalar. Default: the loss's own (see `defaultReducer`). */
  reducer?: ReducerSpec;
}

/** Options of losses computed from a distance matrix. */
export interface DistanceLossOptions extends BaseLossOptions {
  /** The distance or similarity between embeddings. Default: the loss's own (see each loss). */
  distance?: DistanceSpec;
}

/** Schema of {@link BaseLossOptions}; losses `.extend` it with their own options. */
export const baseLossSchema = z
  .object({ reducer: reducerSpecSchema.optional(), ...regularizerFields })
  .strict()
  .check(packReducerOption);

/** Schema of {@link DistanceLossOptions}. */
export const distanceLossSchema = baseLossSchema.extend({ distance: distanceSpecSchema.optional() }).strict();

/** Builds the distance named by `spec` (a live one passes through), or `fallback()` when it is undefined. */
export function resolveDistance(spec: DistanceSpec | undefined, fallback: () => BaseDistance): BaseDistance {
  return spec === undefined ? fallback() : distanceRegistry.fromConfig(spec);
}

/** Everything a loss's compute step receives, with labels already on the host. */
export interface LossInput {
  embeddings: tf.Tensor2D;
  labels: Int32Array;
  indices?: IndexTuple;
  /** Reference embeddings (defaults to `embeddings`); pairs/triplets then index the reference set. */
  refEmbeddings?: tf.Tensor2D;
  refLabels?: Int32Array;
}

/**
 * A metric loss: `computeLoss` returns per-element losses (a {@link LossDict}), and a separate reducer
 * turns them into one scalar. `compute` runs both inside `tf.tidy`, so the only tensor it leaves is the
 * returned scalar, which is differentiable with respect to the embeddings.
 */
export abstract class BaseMetricLoss implements Serializable {
  abstract readonly className: string;
  /** The reducer in use (the loss's default one unless another was given). */
  reducer!: BaseReducer;
  /** Stats from the last call (counts of pairs or triplets, mean distances), for logging. */
  readonly records: Record<string, number> = {};
  /** Penalty on the batch embeddings, added as the `embeddingRegLoss` sub-loss (option `embeddingRegularizer`). */
  embeddingRegularizer: BaseRegularizer | null = null;
  /** Multiplies the embedding penalty (option `embeddingRegWeight`, default 1). */
  embeddingRegWeight = 1;
  /** Penalty on {@link regularizedWeights}, added as the `weightRegLoss` sub-loss (option `weightRegularizer`). */
  weightRegularizer: BaseRegularizer | null = null;
  /** Multiplies the weight penalty (option `weightRegWeight`, default 1). */
  weightRegWeight = 1;

  constructor() {
    // Every loss's config carries its regularizers without each loss listing them.
    const own = Object.getPrototypeOf(this) as { getConfig(): Record<string, unknown> };
    Object.defineProperty(this, 'getConfig', {
      configurable: true,
      writable: true,
      enumerable: false,
      value: (): Record<string, unknown> => ({ ...own.getConfig.call(this), ...this.regularizerConfig() }),
    });
  }

  /** Scalar loss for a batch. `labels` may be a 1-D tensor, an Int32Array or a number[]. */
  compute(
    embeddings: tf.Tensor2D,
    labels: LabelsLike,
    indices?: IndexTuple,
    refEmbeddings?: tf.Tensor2D,
    refLabels?: LabelsLike,
  ): tf.Scalar {
    const input = this.prepare(embeddings, labels, indices, refEmbeddings, refLabels);
    return tf.tidy(() => this.reducer.reduce(this.withRegularization(this.computeLoss(input), input.embeddings), input.embeddings, input.labels));
  }

  /** The per-element losses before reduction (what `DoNothingReducer` would hand back). */
  computeLossDict(
    embeddings: tf.Tensor2D,
    labels: LabelsLike,
    indices?: IndexTuple,
    refEmbeddings?: tf.Tensor2D,
    refLabels?: LabelsLike,
  ): LossDict {
    const input = this.prepare(embeddings, labels, indices, refEmbeddings, refLabels);
    return this.withRegularization(this.computeLoss(input), input.embeddings);
  }

  /**
   * Frees the tensors the loss owns (its trainable weights by default; losses holding other tensors
   * free those too). The loss cannot be used afterwards.
   */
  dispose(): void {
    for (const w of this.trainableWeights) w.dispose();
  }

  /** Names of the sub-losses `computeLoss` returns, e.g. `['posLoss', 'negLoss']`. Default `['loss']` (as PML). */
  subLossNames(): string[] {
    return ['loss'];
  }

  /** The reducer used when none is given. Default: {@link MeanReducer} (as PML). */
  defaultReducer(): BaseReducer {
    return new MeanReducer();
  }

  /**
   * Sets {@link reducer} from `spec`, or to {@link defaultReducer} when `spec` is undefined. Given the
   * `reducer` option parsed by `baseLossSchema`, it also sets the regularizers parsed with it.
   */
  protected setReducer(spec: ReducerSpec | undefined): void {
    const packed = spec instanceof ReducerWithRegularizers ? spec : null;
    const own = packed ? packed.reducer : spec;
    this.reducer = own === undefined ? this.defaultReducer() : reducerRegistry.fromConfig(own);
    if (packed) this.setRegularizers(packed.regularizers);
  }

  /**
   * Sets the embedding and weight regularizers (PML's `embedding_regularizer` / `weight_regularizer`).
   * Losses built from `baseLossSchema` get them from their options automatically.
   * @throws ConfigError when a weight regularizer is given to a loss without weights
   */
  setRegularizers(settings: Partial<Pick<BaseMetricLoss, 'embeddingRegularizer' | 'embeddingRegWeight' | 'weightRegularizer' | 'weightRegWeight'>>): void {
    if (settings.weightRegularizer && this.regularizedWeights === BaseMetricLoss.prototype.regularizedWeights) {
      throw new ConfigError(`${this.className}: option 'weightRegularizer' needs a loss with class weights or proxies (this loss has none)`);
    }
    if (settings.embeddingRegularizer !== undefined) this.embeddingRegularizer = settings.embeddingRegularizer;
    if (settings.embeddingRegWeight !== undefined) this.embeddingRegWeight = settings.embeddingRegWeight;
    if (settings.weightRegularizer !== undefined) this.weightRegularizer = settings.weightRegularizer;
    if (settings.weightRegWeight !== undefined) this.weightRegWeight = settings.weightRegWeight;
  }

  /**
   * The [numClasses, dim] weights a `weightRegularizer` penalises (class weights, proxies); `null` for
   * losses without weights. Losses with weights override it. Called inside `tf.tidy`.
   */
  protected regularizedWeights(): tf.Tensor2D | null {
    return null;
  }

  /** The regularizer options, for configs (empty when none is set). */
  protected regularizerConfig(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (this.embeddingRegularizer) {
      out.embeddingRegularizer = toConfig(this.embeddingRegularizer);
      out.embeddingRegWeight = this.embeddingRegWeight;
    }
    if (this.weightRegularizer) {
      out.weightRegularizer = toConfig(this.weightRegularizer);
      out.weightRegWeight = this.weightRegWeight;
    }
    return out;
  }

  /** Adds `embeddingRegLoss` and `weightRegLoss` (already-reduced terms) when regularizers are set. */
  private withRegularization(dict: LossDict, embeddings: tf.Tensor2D): LossDict {
    if (this.embeddingRegularizer) {
      dict.embeddingRegLoss = regularizationTerm(this.embeddingRegularizer, this.embeddingRegWeight, embeddings);
    }
    if (this.weightRegularizer) {
      const w = this.regularizedWeights();
      if (w) dict.weightRegLoss = regularizationTerm(this.weightRegularizer, this.weightRegWeight, w);
    }
    return dict;
  }

  /**
   * PML's "zero losses": every sub-loss marked as having no valid tuple. Reducers turn this into a zero
   * that keeps a gradient path to the embeddings.
   */
  protected zeroLosses(): LossDict {
    const dict: LossDict = {};
    for (const name of this.subLossNames()) dict[name] = { losses: null, indices: null, reductionType: 'already_reduced' };
    return dict;
  }

  /** Trainable tensors the loss owns (proxies, class weights); empty for most losses. */
  get trainableWeights(): tf.Variable[] {
    return [];
  }

  abstract getConfig(): Record<string, unknown>;

  /** Computes the loss dictionary. Runs inside the caller's `tf.tidy`. */
  protected abstract computeLoss(input: LossInput): LossDict;

  private prepare(
    embeddings: tf.Tensor2D,
    labels: LabelsLike,
    indices?: IndexTuple,
    refEmbeddings?: tf.Tensor2D,
    refLabels?: LabelsLike,
  ): LossInput {
    const emb = as2D(embeddings);
    const lab = toLabelArray(labels, emb.shape[0]);
    if ((refEmbeddings === undefined) !== (refLabels === undefined)) {
      throw new ShapeError(`${this.className}: refEmbeddings and refLabels must be given together`);
    }
    if (refEmbeddings === undefined) return { embeddings: emb, labels: lab, indices };
    const ref = as2D(refEmbeddings, 'refEmbeddings');
    if (ref.shape[1] !== emb.shape[1]) {
      throw new ShapeError(`${this.className}: refEmbeddings have dim ${ref.shape[1]} but embeddings have ${emb.shape[1]}`);
    }
    return { embeddings: emb, labels: lab, indices, refEmbeddings: ref, refLabels: toLabelArray(refLabels!, ref.shape[0], 'refLabels') };
  }
}
