import * as tf from '@tensorflow/tfjs';
import type { PairIndices } from '../core/indices.js';
import { maskedLogSumExp } from '../core/tensor.js';
import type { LossDict } from '../reducers/base-reducer.js';
import type { LossInput } from './base-loss.js';
import { LiftedStructureLoss, type LiftedStructureLossOptions } from './lifted-structure.js';
import { range } from './rows.js';
import { pairMask } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link GeneralizedLiftedStructureLoss}: negMargin (default `1`), posMargin (default `0`), distance (default `LpDistance()`), reducer (default `MeanReducer`). */
export type GeneralizedLiftedStructureLossOptions = LiftedStructureLossOptions;

/**
 * The generalised lifted structure loss (Hermans et al. 2017, p. 4; PML `GeneralizedLiftedStructureLoss`).
 * Per batch element i: `relu(logsumexp_p(d_ip - posMargin) + logsumexp_n(negMargin - d_in))` over its
 * positive and negative pairs (signs flip for a similarity; an empty set contributes 0). Reduction type
 * `element`. Shares LiftedStructureLoss's options and defaults.
 */
export class GeneralizedLiftedStructureLoss extends LiftedStructureLoss {
  override readonly className: string = 'GeneralizedLiftedStructureLoss';

  constructor(options: GeneralizedLiftedStructureLossOptions = {}) {
    super(options, 'GeneralizedLiftedStructureLoss');
  }

  protected override pairLoss(mat: tf.Tensor2D, pairs: PairIndices, _input: LossInput): LossDict {
    const [nq, nr] = mat.shape;
    const pos = maskedLogSumExp(this.distance.margin(mat, tf.scalar(this.posMargin)) as tf.Tensor2D, pairMask(pairs.anchors1, pairs.positives, nq, nr), false);
    const neg = maskedLogSumExp(this.distance.margin(tf.scalar(this.negMargin), mat) as tf.Tensor2D, pairMask(pairs.anchors2, pairs.negatives, nq, nr), false);
    return { loss: { losses: tf.relu(tf.add(pos, neg)), indices: range(nq), reductionType: 'element' } };
  }
}

registry.register('GeneralizedLiftedStructureLoss', (c) => new GeneralizedLiftedStructureLoss(c as GeneralizedLiftedStructureLossOptions));
