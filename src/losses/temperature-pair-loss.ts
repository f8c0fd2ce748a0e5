import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import { distanceLossSchema, resolveDistance, type DistanceLossOptions } from './base-loss.js';
import { GenericPairLoss } from './generic-pair-loss.js';

/** Options of the softmax-over-pairs losses (NT-Xent, SupCon). */
export interface TemperaturePairLossOptions extends DistanceLossOptions {
  /** Softmax temperature; smaller sharpens. Default: `0.07` for NTXentLoss, `0.1` for SupConLoss. */
  temperature?: number;
  /** Default `CosineSimilarity()`; with a distance, negated distances are used as similarities. */
  distance?: DistanceLossOptions['distance'];
}

/**
 * The shared part of NT-Xent and SupCon: a temperature, a similarity (cosine by default) and
 * {@link logits}, the similarities divided by the temperature (negated distances for a distance).
 */
export abstract class TemperaturePairLoss extends GenericPairLoss {
  readonly distance: BaseDistance;
  readonly temperature: number;

  protected constructor(owner: string, defaultTemperature: number, options: TemperaturePairLossOptions) {
    super();
    const schema = distanceLossSchema.extend({ temperature: z.number().finite().positive().default(defaultTemperature) }).strict();
    const o = parseOptions(owner, schema, options);
    this.temperature = o.temperature;
    this.distance = resolveDistance(o.distance, () => new CosineSimilarity());
    this.setReducer(o.reducer);
  }

  /** `s / temperature`, with s the similarity (or the negated distance). */
  protected logits(mat: tf.Tensor2D): tf.Tensor2D {
    return tf.div(this.distance.isInverted ? mat : tf.neg(mat), this.temperature) as tf.Tensor2D;
  }

  getConfig(): Record<string, unknown> {
    return this.configWith({ temperature: this.temperature });
  }
}
