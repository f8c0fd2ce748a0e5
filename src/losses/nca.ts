import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { IndexTuple } from '../core/indices.js';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import { gather1D, maskedLogSumExp } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/lp-distance.js';
import { MeanReducer } from '../reducers/mean-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { BaseMetricLoss, distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { minerWeights } from './miner-weights.js';
import { registry } from './registry.js';

/** Options of {@link NCALoss} (PML's keyword arguments, in camelCase). */
export interface NCALossOptions extends DistanceLossOptions {
  /** Multiplies the (negated) distances before the softmax. Default `1`. */
  softmaxScale?: number;
  /** Default `LpDistance({ power: 2 })` (squared L2 on normalised embeddings). */
  distance?: DistanceLossOptions['distance'];
  /** Default `MeanReducer`. */
  reducer?: DistanceLossOptions['reducer'];
}

/** Schema of the NCA options (ProxyNCALoss extends it). */
export const ncaSchema = distanceLossSchema.extend({
  softmaxScale: z.number().finite().default(1),
}).strict();

/**
 * PML's `nca_computation`: per query i, `-log(sum_{j: y_j = y_i} softmax_j(scale * s_ij))` with s the
 * similarity (negated distance), the diagonal left out when the query set is the reference set. Queries
 * without a same-label reference are dropped (PML drops the rows whose probability is exactly 0).
 * Computed as `logsumexp_all - logsumexp_same`, so it never overflows. Times the miner weights.
 */
export function ncaLosses(
  distance: BaseDistance, softmaxScale: number, query: tf.Tensor2D, queryLabels: Int32Array,
  ref: tf.Tensor2D | undefined, refLabels: Int32Array, indices: IndexTuple | undefined,
): LossDict[string] {
  const same = ref === undefined;
  const nq = queryLabels.length, nr = refLabels.length;
  const keepAll = new Uint8Array(nq * nr), keepSame = new Uint8Array(nq * nr);
  const rows: number[] = [];
  for (let i = 0; i < nq; i++) {
    let any = false;
    for (let j = 0; j < nr; j++) {
      if (same && i === j) continue;
      keepAll[i * nr + j] = 1;
      if (queryLabels[i] === refLabels[j]) { keepSame[i * nr + j] = 1; any = true; }
    }
    if (any) rows.push(i);
  }
  if (rows.length === 0) return { losses: null, indices: null, reductionType: 'already_reduced' };
  const mat = distance.matrix(query, ref);
  const sim = tf.mul(distance.isInverted ? mat : tf.neg(mat), softmaxScale) as tf.Tensor2D;
  const lseAll = maskedLogSumExp(sim, tf.tensor2d(keepAll, [nq, nr], 'bool'), false);
  const lseSame = maskedLogSumExp(sim, tf.tensor2d(keepSame, [nq, nr], 'bool'), false);
  const w = tf.tensor1d(minerWeights(indices, nq, !same));
  const perRow = tf.mul(tf.sub(lseAll, lseSame), w) as tf.Tensor1D;
  const keep = Int32Array.from(rows);
  return { losses: rows.length === nq ? perRow : gather1D(perRow, keep), indices: keep, reductionType: 'element' };
}

/**
 * Neighbourhood components analysis (Goldberger et al. 2004; PML `NCALoss`): the negative log
 * probability that a softmax over the other embeddings picks one of the same class. Reduction type
 * `element` (only elements with a same-class reference). Zero losses for a batch of one, and when no
 * element has a same-class reference (PML then reduces an empty tensor, NaN with its MeanReducer).
 */
export class NCALoss extends BaseMetricLoss {
  readonly className: string = 'NCALoss';
  readonly softmaxScale: number;
  readonly distance: BaseDistance;

  constructor(options: NCALossOptions = {}) {
    super();
    const o = parseOptions('NCALoss', ncaSchema, options);
    this.softmaxScale = o.softmaxScale;
    this.distance = resolveDistance(o.distance, () => new LpDistance({ power: 2 }));
    this.setReducer(o.reducer);
  }

  protected computeLoss(input: LossInput): LossDict {
    if (input.embeddings.shape[0] <= 1) return this.zeroLosses();
    const refLabels = input.refLabels ?? input.labels;
    return { loss: ncaLosses(this.distance, this.softmaxScale, input.embeddings, input.labels, input.refEmbeddings, refLabels, input.indices) };
  }

  getConfig(): Record<string, unknown> {
    return { softmaxScale: this.softmaxScale, distance: toConfig(this.distance), reducer: toConfig(this.reducer) };
  }
}

registry.register('NCALoss', (c) => new NCALoss(c as NCALossOptions));
