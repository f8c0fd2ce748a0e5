import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import { maskedLogSumExp } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/lp-distance.js';
import { MeanReducer } from '../reducers/mean-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { BaseMetricLoss, distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { selectRows } from './rows.js';
import { checkTuple, convertToPairs } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link AngularLoss} (PML's keyword arguments). */
export interface AngularLossOptions extends DistanceLossOptions {
  /** The angle alpha, in degrees. Default `40`. */
  alpha?: number;
  /** Must be `LpDistance` with p = 2, power = 1 and normalisation on. Default `LpDistance()`. */
  distance?: DistanceLossOptions['distance'];
  /** Default `MeanReducer`. */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({ alpha: z.number().finite().default(40) }).strict();

/**
 * Angular loss (Wang et al. 2017; PML `AngularLoss`). Per positive pair (a, p), with a and p normalised and
 * t = tan^2(alpha): `log(1 + sum_n exp(4t (a + p)·x_n - 2(1 + t) a·p))` over every reference item n whose
 * label differs from a's (as PML, x_n is the raw, unnormalised embedding). Zero losses unless there is a
 * positive and a negative pair. Reduction type `pos_pair`. Records `averageAngle` (degrees).
 */
export class AngularLoss extends BaseMetricLoss {
  readonly className: string = 'AngularLoss';
  readonly distance: BaseDistance;
  readonly alpha: number;

  constructor(options: AngularLossOptions = {}) {
    super();
    const o = parseOptions('AngularLoss', schema, options);
    this.alpha = o.alpha;
    this.distance = resolveDistance(o.distance, () => new LpDistance());
    const d = this.distance;
    if (!(d instanceof LpDistance) || d.p !== 2 || d.power !== 1 || !d.normalizeEmbeddings) {
      throw new ConfigError(`AngularLoss: option 'distance' must be LpDistance with p 2, power 1 and normalizeEmbeddings true (got ${JSON.stringify(toConfig(d))})`);
    }
    this.setReducer(o.reducer);
  }

  protected computeLoss(input: LossInput): LossDict {
    const { embeddings, labels } = input;
    const ref = input.refEmbeddings ?? embeddings;
    const refLabels = input.refLabels ?? labels;
    if (input.indices) checkTuple(input.indices, labels.length, refLabels.length, this.className);
    const { anchors1: a1, positives: p, anchors2: a2 } = convertToPairs(input.indices, labels, input.refLabels);
    if (a1.length === 0 || a2.length === 0) return this.zeroLosses();
    const keep = new Uint8Array(a1.length * refLabels.length);
    for (let i = 0; i < a1.length; i++) {
      for (let j = 0; j < refLabels.length; j++) if (labels[a1[i]] !== refLabels[j]) keep[i * refLabels.length + j] = 1;
    }
    const anchors = this.distance.maybeNormalize(selectRows(embeddings, a1));
    const positives = this.distance.maybeNormalize(selectRows(ref, p));
    const t = Math.tan((this.alpha * Math.PI) / 180) ** 2;
    const apDot = tf.sum(tf.mul(anchors, positives), 1, true);
    const apX = tf.matMul(tf.add(anchors, positives), ref, false, true);
    const logits = tf.sub(tf.mul(apX, 4 * t), tf.mul(apDot, 2 * (1 + t))) as tf.Tensor2D;
    const keepT = tf.tensor2d(keep, [a1.length, refLabels.length], 'bool');
    this.recordAngle(anchors, positives, ref, keepT);
    const losses = maskedLogSumExp(logits, keepT, true);
    return { loss: { losses, indices: [a1, p], reductionType: 'pos_pair' } };
  }

  /** Mean of atan(|a - p| / (2 |c - x_n|)), c the pair's centre, over the kept (pair, n) entries, in degrees. */
  private recordAngle(anchors: tf.Tensor2D, positives: tf.Tensor2D, ref: tf.Tensor2D, keep: tf.Tensor2D): void {
    const deg = tf.tidy(() => {
      const ap = tf.norm(tf.sub(anchors, positives), 2, 1);
      const c = tf.div(tf.add(anchors, positives), 2);
      const nc = tf.norm(tf.sub(tf.expandDims(c, 1), tf.expandDims(ref, 0)), 2, 2);
      const angles = tf.atan(tf.div(tf.expandDims(ap, 1), tf.mul(nc, 2)));
      const k = tf.cast(keep, 'float32');
      return tf.div(tf.sum(tf.mul(angles, k)), tf.sum(k));
    });
    this.records.averageAngle = (deg.dataSync()[0] * 180) / Math.PI;
    deg.dispose();
  }

  getConfig(): Record<string, unknown> {
    return { alpha: this.alpha, distance: toConfig(this.distance), reducer: toConfig(this.reducer) };
  }
}

registry.register('AngularLoss', (c) => new AngularLoss(c as AngularLossOptions));
