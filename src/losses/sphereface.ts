import * as tf from '@tensorflow/tfjs';
import { parseOptions } from '../core/options.js';
import { LargeMarginSoftmaxLoss, type LargeMarginSoftmaxLossOptions } from './large-margin-softmax.js';
import { marginSoftmaxSchema, rowNorms } from './margin-softmax-base.js';
import { registry } from './registry.js';

/** Options of {@link SphereFaceLoss}: those of LargeMarginSoftmaxLoss (margin default `4`, scale default `1`). */
export type SphereFaceLossOptions = LargeMarginSoftmaxLossOptions;

/**
 * SphereFace / A-Softmax (Liu et al. 2017; PML `SphereFaceLoss`): large-margin softmax with the class
 * weights treated as unit vectors, i.e. every logit is scaled by `|x_i| * scale` only.
 */
export class SphereFaceLoss extends LargeMarginSoftmaxLoss {
  override readonly className: string = 'SphereFaceLoss';

  constructor(options: SphereFaceLossOptions) {
    parseOptions('SphereFaceLoss', marginSoftmaxSchema(4, 1), options);
    super(options);
  }

  protected override scaleLogits(logits: tf.Tensor2D, embeddings: tf.Tensor2D): tf.Tensor2D {
    const en = rowNorms(embeddings, this.distance.p);
    return tf.mul(tf.mul(logits, tf.expandDims(en, 1)), this.scale) as tf.Tensor2D;
  }
}

registry.register('SphereFaceLoss', (c) => new SphereFaceLoss(c as unknown as SphereFaceLossOptions));
