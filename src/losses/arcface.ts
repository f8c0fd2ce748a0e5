import * as tf from '@tensorflow/tfjs';
import { parseOptions } from '../core/options.js';
import { MarginSoftmaxBase, type MarginSoftmaxParsed, marginSoftmaxSchema, type MarginSoftmaxLossOptions } from './margin-softmax-base.js';
import { registry } from './registry.js';

/** Options of {@link ArcFaceLoss} (PML's keyword arguments, in camelCase). */
export interface ArcFaceLossOptions extends MarginSoftmaxLossOptions {
  /** Additive angular margin, in degrees. Default `28.6` (0.5 radians). */
  margin?: number;
  /** Logit scale s. Default `64`. */
  scale?: number;
}

/**
 * ArcFace (Deng et al. 2019; PML `ArcFaceLoss`): the target logit becomes `s cos(theta + m)` (m given in
 * degrees), every other logit `s cos(theta_j)`; cross entropy per element. `W` is [embeddingSize, numClasses].
 */
export class ArcFaceLoss extends MarginSoftmaxBase {
  readonly className: string = 'ArcFaceLoss';

  constructor(options: ArcFaceLossOptions, owner = 'ArcFaceLoss', parsed?: MarginSoftmaxParsed, columns?: number) {
    const o = parsed ?? parseOptions(owner, marginSoftmaxSchema(28.6, 64), options);
    super(owner, o, columns);
  }

  protected modifyTarget(cosTarget: tf.Tensor1D): tf.Tensor1D {
    return tf.cos(tf.add(this.angles(cosTarget), (this.margin * Math.PI) / 180)) as tf.Tensor1D;
  }

  getConfig(): Record<string, unknown> {
    return this.baseConfig();
  }
}

registry.register('ArcFaceLoss', (c) => new ArcFaceLoss(c as unknown as ArcFaceLossOptions));
