import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { ComponentConfig, Serializable } from '../core/registry.js';
import type { IndexTuple } from '../core/indices.js';
import { as2D, toLabelArray, type LabelsLike } from '../core/tensor.js';
import { ShapeError } from '../core/errors.js';
import { BaseReducer, type LossDict } from '../reducers/base-reducer.js';
import { registry as reducerRegistry } from '../reducers/index.js';
import { BaseDistance } from '../distances/base-distance.js';
import { registry as distanceRegistry } from '../distances/index.js';

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

/** Options every loss takes. */
export interface BaseLossOptions {
  /** The reducer that turns per-element losses into one scalar. Default: the loss's own (see `defaultReducer`). */
  reducer?: ReducerSpec;
}

/** Options of losses computed from a distance matrix. */
export interface DistanceLossOptions extends BaseLossOptions {
  /** The distance or similarity between embeddings. Default: the loss's own (see each loss). */
  distance?: DistanceSpec;
}

/** Schema of {@link BaseLossOptions}; losses `.extend` it with their own options. */
export const baseLossSchema = z.object({ reducer: reducerSpecSchema.optional() }).strict();

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

  /** Scalar loss for a batch. `labels` may be a 1-D tensor, an Int32Array or a number[]. */
  compute(
    embeddings: tf.Tensor2D,
    labels: LabelsLike,
    indices?: IndexTuple,
    refEmbeddings?: tf.Tensor2D,
    refLabels?: LabelsLike,
  ): tf.Scalar {
    const input = this.prepare(embeddings, labels, indices, refEmbeddings, refLabels);
    return tf.tidy(() => this.reducer.reduce(this.computeLoss(input), input.embeddings, input.labels));
  }

  /** The per-element losses before reduction (what `DoNothingReducer` would hand back). */
  computeLossDict(
    embeddings: tf.Tensor2D,
    labels: LabelsLike,
    indices?: IndexTuple,
    refEmbeddings?: tf.Tensor2D,
    refLabels?: LabelsLike,
  ): LossDict {
    return this.computeLoss(this.prepare(embeddings, labels, indices, refEmbeddings, refLabels));
  }

  /** Names of the sub-losses `computeLoss` returns, e.g. `['posLoss', 'negLoss']`. */
  abstract subLossNames(): string[];

  /** The reducer used when none is given. */
  abstract defaultReducer(): BaseReducer;

  /** Sets {@link reducer} from `spec`, or to {@link defaultReducer} when `spec` is undefined. */
  protected setReducer(spec: ReducerSpec | undefined): void {
    this.reducer = spec === undefined ? this.defaultReducer() : reducerRegistry.fromConfig(spec);
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
