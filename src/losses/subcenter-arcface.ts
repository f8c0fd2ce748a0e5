import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { ArcFaceLoss, type ArcFaceLossOptions } from './arcface.js';
import { marginSoftmaxSchema } from './margin-softmax-base.js';
import { registry } from './registry.js';

/** Options of {@link SubCenterArcFaceLoss}: ArcFace's, plus the number of sub-centres per class. */
export interface SubCenterArcFaceLossOptions extends ArcFaceLossOptions {
  /** Sub-centres per class (columns of `W`). Default `3`. */
  subCenters?: number;
}

const schema = marginSoftmaxSchema(28.6, 64).extend({ subCenters: z.number().int().min(1).default(3) }).strict();

/**
 * Sub-centre ArcFace (Deng et al. 2020; PML `SubCenterArcFaceLoss`): `W` is
 * [embeddingSize, numClasses * subCenters] (column `c * subCenters + k` is sub-centre k of class c) and a
 * class's cosine is the largest of its sub-centres' cosines; then ArcFace.
 * Unlike PML (which drops them), `distance` and `reducer` options are honoured.
 */
export class SubCenterArcFaceLoss extends ArcFaceLoss {
  override readonly className: string = 'SubCenterArcFaceLoss';
  readonly subCenters: number;

  constructor(options: SubCenterArcFaceLossOptions) {
    const o = parseOptions('SubCenterArcFaceLoss', schema, options);
    super(options, 'SubCenterArcFaceLoss', o, o.numClasses * o.subCenters);
    this.subCenters = o.subCenters;
  }

  protected override cosine(embeddings: tf.Tensor2D): tf.Tensor2D {
    const all = super.cosine(embeddings);
    return tf.max(tf.reshape(all, [-1, this.numClasses, this.subCenters]), 2) as tf.Tensor2D;
  }

  override getConfig(): Record<string, unknown> {
    return { ...this.baseConfig(), subCenters: this.subCenters };
  }
}

registry.register('SubCenterArcFaceLoss', (c) => new SubCenterArcFaceLoss(c as unknown as SubCenterArcFaceLossOptions));
