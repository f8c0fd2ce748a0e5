import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { AkinError } from '../core/errors.js';
import { isPairs } from '../core/indices.js';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import { gather1D } from '../core/tensor.js';
import { BaseReducer, type LossTerm } from './base-reducer.js';
import { MeanReducer } from './mean-reducer.js';
import { reducerLikeSchema, resolveReducer, type ReducerLike } from './reducer-spec.js';
import { registry } from './registry.js';

/**
 * Turns the [N, M] matrix of pair losses (0 where a row has no pair) and the number of pairs per row
 * into one loss per row.
 */
export type AggregationFunc = (x: tf.Tensor2D, numPerRow: tf.Tensor1D) => tf.Tensor1D;

/** PML's default aggregation: the mean of each row's pair losses, 0 for rows without pairs. */
export const meanPerRow: AggregationFunc = (x, numPerRow) => {
  const sum = tf.sum(x, 1);
  const has = tf.greater(numPerRow, 0);
  return tf.where(has, tf.div(sum, tf.maximum(numPerRow, 1)), tf.zerosLike(sum)) as tf.Tensor1D;
};

/** Options of {@link PerAnchorReducer} (PML's keyword arguments, camelCased). */
export interface PerAnchorReducerOptions {
  /** The reducer fed the per-anchor losses. Default `new MeanReducer()`. */
  reducer?: ReducerLike;
  /** How a row of pair losses becomes one loss (not saved by `getConfig`). Default: the mean per row, 0 for empty rows. */
  aggregationFunc?: AggregationFunc;
}

const schema = z
  .object({
    reducer: reducerLikeSchema.optional(),
    aggregationFunc: z.custom<AggregationFunc>((v) => typeof v === 'function', { message: 'must be a function (x, numPerRow) => losses' }).optional(),
  })
  .strict();

/**
 * Converts pair losses into one loss per batch element before reducing (PML `PerAnchorReducer`): the
 * losses are laid into an [N, M] matrix at (anchor, other) (N the batch size, M at least N; a pair
 * given twice keeps its last loss, and +inf losses count as absent), each row is aggregated by
 * `aggregationFunc` (default: its mean, 0 without pairs) and the N row losses (rows without pairs
 * included) go to the inner reducer as `element` losses. Element losses go to the inner reducer
 * unchanged; triplet losses are not supported (as in PML).
 *
 * Gradients differ from PML's when a pair is given more than once (e.g. pairs split from triplets):
 * only the copy that is kept gets a gradient here, the derivative of the value; PyTorch's backward of
 * PML's indexed assignment gives every copy the gradient of the cell, so a pair given k times gets k
 * times its share there. Values are the same.
 */
export class PerAnchorReducer extends BaseReducer {
  readonly className: string = 'PerAnchorReducer';
  readonly reducer: BaseReducer;
  readonly aggregationFunc: AggregationFunc;

  constructor(options: PerAnchorReducerOptions = {}) {
    super();
    const o = parseOptions('PerAnchorReducer', schema, options);
    this.reducer = o.reducer === undefined ? new MeanReducer() : resolveReducer(o.reducer);
    this.aggregationFunc = o.aggregationFunc ?? meanPerRow;
  }

  protected reduceLosses(losses: tf.Tensor, term: LossTerm, embeddings: tf.Tensor, labels: Int32Array): tf.Scalar {
    if (term.reductionType === 'element') {
      return this.reducer.reduce({ loss: { losses, indices: term.indices, reductionType: 'element' } }, embeddings, labels);
    }
    if (term.reductionType === 'triplet') {
      throw new AkinError('E_REDUCER', `${this.className}: triplet losses are not supported (as in PML); use pair or element losses`);
    }
    const [anchors, others] = pairIndices(term, this.className);
    const flat = tf.reshape(losses, [-1]) as tf.Tensor1D;
    if (anchors.length !== flat.size) throw new AkinError('E_REDUCER', `${this.className}: ${flat.size} losses but ${anchors.length} pairs`);
    const n = embeddings.shape[0];
    let m = n;
    for (const o of others) m = Math.max(m, o + 1);
    // the last loss given for each (anchor, other) wins, as PML's indexed assignment
    const last = new Map<number, number>();
    for (let k = 0; k < anchors.length; k++) last.set(anchors[k] * m + others[k], k);
    const keep = Int32Array.from(last.values());
    const pos = Int32Array.from(last.keys());
    // +inf losses count as absent (PML's sentinel); the mask is a constant, off the gradient path
    const values = flat.dataSync();
    const valid = new Uint8Array(n * m);
    last.forEach((k, p) => { valid[p] = values[k] === Infinity ? 0 : 1; });
    const validT = tf.tensor1d(valid, 'bool');
    const dense = scatter1D(gather1D(flat, keep), pos, n * m);
    const x = tf.reshape(tf.where(validT, dense, tf.zerosLike(dense)), [n, m]) as tf.Tensor2D;
    const numPerRow = tf.sum(tf.reshape(tf.cast(validT, 'float32'), [n, m]), 1) as tf.Tensor1D;
    const perRow = this.aggregationFunc(x, numPerRow);
    const indices = Int32Array.from({ length: n }, (_, i) => i);
    return this.reducer.reduce({ loss: { losses: perRow, indices, reductionType: 'element' } }, embeddings, labels);
  }

  override getConfig(): Record<string, unknown> {
    return { reducer: toConfig(this.reducer) };
  }
}

/** (anchors, others) of a pair term. */
function pairIndices(term: LossTerm, owner: string): [Int32Array, Int32Array] {
  const ind = term.indices;
  if (Array.isArray(ind) && ind.length >= 2) return [ind[0], ind[1]];
  if (ind && !Array.isArray(ind) && !(ind instanceof Int32Array) && isPairs(ind)) {
    return term.reductionType === 'neg_pair' ? [ind.anchors2, ind.negatives] : [ind.anchors1, ind.positives];
  }
  throw new AkinError('E_REDUCER', `${owner}: a '${term.reductionType}' loss term needs [anchors, others] indices`);
}

/**
 * A [size] vector that holds `values[i]` at `positions[i]` (distinct) and 0 elsewhere; its gradient
 * gathers `dy` back (ScatterNd has no gradient in tfjs).
 */
function scatter1D(values: tf.Tensor1D, positions: Int32Array, size: number): tf.Tensor1D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const v = args[0] as tf.Tensor;
    return {
      value: tf.scatterND(tf.tensor2d(positions, [positions.length, 1], 'int32'), v, [size]),
      gradFunc: (dy: tf.Tensor) => tf.gather(dy, tf.tensor1d(positions, 'int32')),
    };
  });
  return f(values) as tf.Tensor1D;
}

registry.register('PerAnchorReducer', (c) => new PerAnchorReducer(c as PerAnchorReducerOptions));
