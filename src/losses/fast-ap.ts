import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import { detached, gather1D } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/lp-distance.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { BaseMetricLoss, distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { requireNormalizedL2 } from './distance-checks.js';
import { minerWeights } from './miner-weights.js';
import { cumsumRows, gridNodes, triangularKernel } from './soft-histogram.js';
import { checkTuple } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link FastAPLoss} (PML's keyword arguments, in camelCase). */
export interface FastAPLossOptions extends DistanceLossOptions {
  /** Number of histogram bins L (the grid has L + 1 nodes). Default `10`. */
  numBins?: number;
  /** Must be `LpDistance` with p = 2 and normalisation on (any power). Default `LpDistance({ power: 2 })`. */
  distance?: DistanceLossOptions['distance'];
  /** Default `MeanReducer` (over the elements with a positive). */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  numBins: z.number().int().min(1).default(10),
}).strict();

/**
 * FastAP (Cakir et al. 2019; PML `FastAPLoss`): one minus a soft-histogram approximation of average
 * precision, per query. Each element of the batch queries the others; its distances d (squared L2 by
 * default, in [0, 2^power]) are binned at the L + 1 nodes `z_l = l 2^power / L` with the triangular
 * kernel `relu(1 - |d - z_l| / delta)`, delta = 2^power / L, giving a positive histogram h+ and a
 * negative histogram h-. With H+ and H the cumulative sums of h+ and h+ + h-:
 * `loss_q = (1 - sum_l h+_l H+_l / H_l / N+_q) w_q`, where bins with `h+_l H+_l = 0` add nothing,
 * N+_q is the number of positives of q and w_q its miner weight (miner tuples only weight queries;
 * pairs always come from the labels). Queries without a positive are left out; zero losses when no
 * query has one. Reduction type `element`. No reference set (as PML).
 */
export class FastAPLoss extends BaseMetricLoss {
  readonly className: string = 'FastAPLoss';
  readonly distance: BaseDistance;
  readonly numBins: number;

  constructor(options: FastAPLossOptions = {}) {
    super();
    const o = parseOptions('FastAPLoss', schema, options);
    this.numBins = o.numBins;
    this.distance = resolveDistance(o.distance, () => new LpDistance({ power: 2 }));
    requireNormalizedL2('FastAPLoss', this.distance);
    this.setReducer(o.reducer);
  }

  protected computeLoss(input: LossInput): LossDict {
    if (input.refEmbeddings !== undefined) {
      throw new ShapeError(`${this.className}: reference embeddings are not supported (each batch element queries the rest of the batch)`);
    }
    const { embeddings, labels } = input;
    const n = labels.length;
    if (input.indices) checkTuple(input.indices, n, n, this.className);
    const isPos = new Float32Array(n * n), isNeg = new Float32Array(n * n);
    const nPos = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        if (labels[i] === labels[j]) { isPos[i * n + j] = 1; nPos[i]++; } else isNeg[i * n + j] = 1;
      }
    }
    const queries: number[] = [];
    for (let i = 0; i < n; i++) if (nPos[i] > 0) queries.push(i);
    this.records.numQueries = queries.length;
    if (queries.length === 0) return this.zeroLosses();
    const dist = this.distance.matrix(embeddings);
    const max = 2 ** this.distance.power;
    const pulse = triangularKernel(dist, gridNodes(0, max, this.numBins + 1), max / this.numBins); // [L + 1, n, n]
    const hist = (mask: Float32Array): tf.Tensor2D => tf.transpose(tf.sum(tf.mul(pulse, tf.tensor2d(mask, [n, n])), 2)) as tf.Tensor2D;
    const posHist = hist(isPos), negHist = hist(isNeg); // [n, L + 1]
    const hPosProduct = tf.mul(posHist, cumsumRows(posHist));
    const total = cumsumRows(tf.add(posHist, negHist) as tf.Tensor2D);
    // h+ H+ > 0 implies H >= H+ > 0, so this is PML's "h+ H+ > 0 and H > 0".
    const safe = detached(hPosProduct, (v) => tf.greater(v, 0));
    const ratio = tf.where(safe, tf.div(hPosProduct, tf.where(safe, total, tf.onesLike(total))), tf.zerosLike(total));
    const keep = Int32Array.from(queries);
    const fastAp = tf.div(gather1D(tf.sum(ratio, 1) as tf.Tensor1D, keep), tf.tensor1d(queries.map((q) => nPos[q])));
    const w = minerWeights(input.indices, n);
    const losses = tf.mul(tf.sub(1, fastAp), tf.tensor1d(queries.map((q) => w[q])));
    return { loss: { losses, indices: keep, reductionType: 'element' } };
  }

  getConfig(): Record<string, unknown> {
    return { numBins: this.numBins, distance: toConfig(this.distance), reducer: toConfig(this.reducer) };
  }
}

registry.register('FastAPLoss', (c) => new FastAPLoss(c as FastAPLossOptions));
