import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { DotProductSimilarity } from '../distances/dot-product-similarity.js';
import { MeanReducer } from '../reducers/mean-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { BaseMetricLoss, distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { oneHot, crossEntropy } from './parametric-loss.js';
import { range, selectRows } from './rows.js';
import { checkTuple, convertToPairs } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link NPairsLoss}. */
export interface NPairsLossOptions extends DistanceLossOptions {
  /** Default `DotProductSimilarity()` (which normalises embeddings, as in PML). */
  distance?: DistanceLossOptions['distance'];
  /** Default `MeanReducer`. */
  reducer?: DistanceLossOptions['reducer'];
}

/**
 * N-pairs loss (Sohn 2016; PML `NPairsLoss`). One positive pair per label (PML
 * `convert_to_pos_pairs_with_unique_labels`: the first positive pair of each anchor label, labels in
 * ascending order); with anchors a_k and positives p_k, cross entropy of row k of `s(a, p)` (negated if a
 * distance) against target k. Reduction type `element` (indexed by anchor). Records `numPairs`. No
 * reference set (as PML).
 */
export class NPairsLoss extends BaseMetricLoss {
  readonly className: string = 'NPairsLoss';
  readonly distance: BaseDistance;

  constructor(options: NPairsLossOptions = {}) {
    super();
    const o = parseOptions('NPairsLoss', distanceLossSchema, options);
    this.distance = resolveDistance(o.distance, () => new DotProductSimilarity());
    this.setReducer(o.reducer);
  }

  protected computeLoss(input: LossInput): LossDict {
    if (input.refEmbeddings !== undefined) throw new ShapeError('NPairsLoss: reference embeddings are not supported');
    const { embeddings, labels } = input;
    const n = labels.length;
    if (input.indices) checkTuple(input.indices, n, n, this.className);
    const pairs = convertToPairs(input.indices, labels);
    const first = new Map<number, number>();
    for (let i = 0; i < pairs.anchors1.length; i++) {
      const l = labels[pairs.anchors1[i]];
      if (!first.has(l)) first.set(l, i);
    }
    const order = [...first.keys()].sort((x, y) => x - y).map((l) => first.get(l)!);
    const a = Int32Array.from(order, (i) => pairs.anchors1[i]);
    const p = Int32Array.from(order, (i) => pairs.positives[i]);
    this.records.numPairs = a.length;
    if (a.length === 0) return this.zeroLosses();
    const mat = this.distance.matrix(selectRows(embeddings, a), selectRows(embeddings, p));
    const sim = (this.distance.isInverted ? mat : tf.neg(mat)) as tf.Tensor2D;
    const losses = crossEntropy(sim, oneHot(range(a.length), a.length));
    return { loss: { losses, indices: a, reductionType: 'element' } };
  }

  getConfig(): Record<string, unknown> {
    return { distance: toConfig(this.distance), reducer: toConfig(this.reducer) };
  }
}

registry.register('NPairsLoss', (c) => new NPairsLoss(c as NPairsLossOptions));
