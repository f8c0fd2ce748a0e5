import * as tf from '@tensorflow/tfjs';
import { parseOptions } from '../core/options.js';
import { MarginSoftmaxBase, marginSoftmaxSchema, type MarginSoftmaxLossOptions } from './margin-softmax-base.js';
import { registry } from './registry.js';

/** Options of {@link CosFaceLoss} (PML's keyword arguments, in camelCase). */
export interface CosFaceLossOptions extends MarginSoftmaxLossOptions {
  /** Additive cosine margin. Default `0.35`. */
  margin?: number;
  /** Logit scale s. Default `64`. */
  scale?: number;
}

/**
 * CosFace / large-margin cosine loss (Wang et al. 2018; PML `CosFaceLoss`): the target logit becomes
 * `s (cos(theta) - m)`, every other logit `s cos(theta_j)`. `W` is [embeddingSize, numClasses].
 */
export class CosFaceLoss extends MarginSoftmaxBase {
  readonly className: string = 'CosFaceLoss';

  constructor(options: CosFaceLossOptions) {
    super('CosFaceLoss', parseOptions('CosFaceLoss', marginSoftmaxSchema(0.35, 64), options));
  }

  protected modifyTarget(cosTarget: tf.Tensor1D): tf.Tensor1D {
    this.angles(cosTarget);
    return tf.sub(cosTarget, this.margin) as tf.Tensor1D;
  }

  getConfig(): Record<string, unknown> {
    return this.baseConfig();
  }
}

registry.register('CosFaceLoss', (c) => new CosFaceLoss(c as unknown as CosFaceLossOptions));
