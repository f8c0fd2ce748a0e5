import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError, ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import { as2D } from '../core/tensor.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { BaseMetricLoss, baseLossSchema, type BaseLossOptions, type LossInput } from './base-loss.js';
import { range } from './rows.js';
import { registry } from './registry.js';

/** Options of {@link VICRegLoss} (PML's keyword arguments, in camelCase). No distance, no embedding regularizer (as PML). */
export interface VICRegLossOptions extends BaseLossOptions {
  /** Weight lambda of the invariance term. Default `25`. */
  invarianceLambda?: number;
  /** Weight mu of the variance terms. Default `25`. */
  varianceMu?: number;
  /** Weight nu of the covariance term. Default `1`. */
  covarianceV?: number;
  /** Added to the variance before the square root. Default `1e-4`. */
  eps?: number;
  /** Default `MeanReducer`, applied to each sub-loss; the results are summed. */
  reducer?: BaseLossOptions['reducer'];
}

const schema = baseLossSchema.extend({
  invarianceLambda: z.number().finite().default(25),
  varianceMu: z.number().finite().default(25),
  covarianceV: z.number().finite().default(1),
  eps: z.number().finite().min(0).default(1e-4),
}).strict();

/**
 * VICReg (Bardes et al. 2022; PML `VICRegLoss`): variance-invariance-covariance regularisation of two
 * views Z (the embeddings) and Z' (the reference embeddings, `ref_emb` in PML), both [N, D] with row i
 * of one a view of row i of the other. Sub-losses, each reduced by the reducer and summed:
 * - `invarianceLoss` (element, per row): `invarianceLambda * mean_d (z_id - z'_id)^2`;
 * - `varianceLoss1` / `varianceLoss2` (element, per dimension): `varianceMu * relu(1 - sqrt(var_d + eps)) / 2`
 *   for Z and Z', with the unbiased variance;
 * - `covarianceLoss` (already reduced): `covarianceV * (sum_{d != e} C(Z)_de^2 + sum_{d != e} C(Z')_de^2) / D`
 *   with C the unbiased covariance matrix.
 *
 * **Inputs.** PML's call is `loss(embeddings, ref_emb)`, without labels; here that is
 * {@link computeViews}`(embeddings, refEmbeddings)`. The generic `compute(embeddings, labels, indices,
 * refEmbeddings, refLabels)` works too when the reference embeddings are given: the labels are ignored
 * except by reducers (PML hands the reducer `0..N-1`, as `computeViews` does). Index tuples are not
 * supported. PML's variance and covariance are NaN for N = 1; here that raises a ShapeError.
 */
export class VICRegLoss extends BaseMetricLoss {
  readonly className: string = 'VICRegLoss';
  readonly invarianceLambda: number;
  readonly varianceMu: number;
  readonly covarianceV: number;
  readonly eps: number;

  constructor(options: VICRegLossOptions = {}) {
    super();
    const o = parseOptions('VICRegLoss', schema, options);
    if (o.embeddingRegularizer) throw new ConfigError("VICRegLoss: option 'embeddingRegularizer' is not supported (as PML)");
    this.invarianceLambda = o.invarianceLambda;
    this.varianceMu = o.varianceMu;
    this.covarianceV = o.covarianceV;
    this.eps = o.eps;
    this.setReducer(o.reducer);
  }

  /** The scalar loss of two views of a batch (PML's `loss(embeddings, ref_emb)`). */
  computeViews(embeddings: tf.Tensor2D, refEmbeddings: tf.Tensor2D): tf.Scalar {
    const ids = (x: tf.Tensor2D, what: string): Int32Array => range(as2D(x, what).shape[0]);
    return this.compute(embeddings, ids(embeddings, 'embeddings'), undefined, refEmbeddings, ids(refEmbeddings, 'refEmbeddings'));
  }

  override subLossNames(): string[] {
    return ['invarianceLoss', 'varianceLoss1', 'varianceLoss2', 'covarianceLoss'];
  }

  protected computeLoss(input: LossInput): LossDict {
    if (input.indices !== undefined) throw new ShapeError('VICRegLoss: index tuples are not supported');
    const z1 = input.embeddings, z2 = input.refEmbeddings;
    if (z2 === undefined) {
      throw new ShapeError('VICRegLoss: the second view is missing: call computeViews(embeddings, refEmbeddings) or pass refEmbeddings');
    }
    const [n, d] = z1.shape;
    if (z2.shape[0] !== n) throw new ShapeError(`VICRegLoss: refEmbeddings have ${z2.shape[0]} rows but embeddings have ${n} (row i of each must be views of one item)`);
    if (n < 2) throw new ShapeError('VICRegLoss: the variance and covariance terms need at least 2 embeddings');
    const invariance = tf.mul(tf.mean(tf.squaredDifference(z1, z2), 1), this.invarianceLambda);
    const dims = range(d);
    const centered1 = tf.sub(z1, tf.mean(z1, 0, true)) as tf.Tensor2D;
    const centered2 = tf.sub(z2, tf.mean(z2, 0, true)) as tf.Tensor2D;
    const offDiagonal = tf.sub(1, tf.eye(d));
    const offDiagonalSquares = (c: tf.Tensor2D): tf.Tensor => tf.sum(tf.mul(tf.square(tf.div(tf.matMul(c, c, true, false), n - 1)), offDiagonal));
    const covariance = tf.mul(tf.div(tf.add(offDiagonalSquares(centered1), offDiagonalSquares(centered2)), d), this.covarianceV);
    return {
      invarianceLoss: { losses: invariance, indices: range(n), reductionType: 'element' },
      varianceLoss1: { losses: this.variance(centered1, n), indices: dims, reductionType: 'element' },
      varianceLoss2: { losses: this.variance(centered2, n), indices: dims, reductionType: 'element' },
      covarianceLoss: { losses: covariance, indices: null, reductionType: 'already_reduced' },
    };
  }

  /** `varianceMu * relu(1 - sqrt(var + eps)) / 2` per dimension of centred rows `c` (unbiased variance). */
  private variance(c: tf.Tensor2D, n: number): tf.Tensor1D {
    const std = tf.sqrt(tf.add(tf.div(tf.sum(tf.square(c), 0), n - 1), this.eps));
    return tf.mul(tf.relu(tf.sub(1, std)), this.varianceMu / 2) as tf.Tensor1D;
  }

  getConfig(): Record<string, unknown> {
    return {
      invarianceLambda: this.invarianceLambda, varianceMu: this.varianceMu, covarianceV: this.covarianceV,
      eps: this.eps, reducer: toConfig(this.reducer),
    };
  }
}

registry.register('VICRegLoss', (c) => new VICRegLoss(c as VICRegLossOptions));
