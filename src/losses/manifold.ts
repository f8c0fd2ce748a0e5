import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ShapeError } from '../core/errors.js';
import { matrixInverse } from '../core/linalg.js';
import { parseOptions } from '../core/options.js';
import { createRandom, randInt, shuffleInPlace, type Random } from '../core/random.js';
import { toConfig } from '../core/registry.js';
import { detached } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { oneHot, ParametricLoss } from './parametric-loss.js';
import { registry } from './registry.js';

/** Options of {@link ManifoldLoss} (PML's keyword arguments, in camelCase; PML's `l` and `K` named as below). */
export interface ManifoldLossOptions extends DistanceLossOptions {
  /** Embedding dimension (PML `l`). Required. */
  embeddingSize: number;
  /** Number of proxies (PML `K`). Default `50`. */
  numProxies?: number;
  /** Weight of the context loss: `loss = intrinsic + lambdaC * context` (PML `lambdaC`; finite, >= 0). Default `1`. */
  lambdaC?: number;
  /** Random-walk parameter in (0, 1): how much similarity each node passes to its neighbours. Default `0.8`. */
  alpha?: number;
  /** Margin inside both hinge terms. Default `5e-4`. */
  margin?: number;
  /** Seed of the proxy initialisation and of {@link ManifoldLoss.randomAssignments} (akin addition). Default `0`. */
  seed?: number;
  /** Default `CosineSimilarity()`. */
  distance?: DistanceLossOptions['distance'];
  /** Default `MeanReducer` (the loss is already reduced, so any reducer passes it through). */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  embeddingSize: z.number().int().min(1),
  numProxies: z.number().int().min(1).default(50),
  lambdaC: z.number().finite().min(0).default(1),
  alpha: z.number().finite().gt(0).lt(1).default(0.8),
  margin: z.number().finite().default(5e-4),
  seed: z.number().int().default(0),
}).strict();

/**
 * Ensemble deep manifold similarity loss with hard proxies (Aziere & Todorovic 2019; PML `ManifoldLoss`).
 * The N embeddings and K trainable proxies (`proxies`, [numProxies, embeddingSize], N(0, 1) initialised)
 * form a graph with `S_ij = exp(max(s_ij, 0) / 0.5)` off the diagonal (s: the distance, cosine by
 * default), `S_bar = D^-1/2 S D^-1/2` (D: row sums) and random-walk affinities
 * `F = (1 - alpha) (I - alpha S_bar)^-1`. With c(i) the proxy assigned to embedding i:
 * - intrinsic: `mean_i log(1 + sum_{k != c(i), v_ik >= 0} exp(v_ik))`, `v_ik = F[i, N+k] - F[i, N+c(i)] + margin`;
 * - context: the same with `v_ik = cos(F_i, F_{N+k}) - cos(F_i, F_{N+c(i)}) + margin` over full rows of F;
 * - loss = intrinsic + lambdaC * context, already reduced.
 *
 * **Labels are the proxy assignments** c(i), integers in [0, numProxies), not class labels (PML passes
 * them as `indices_tuple` and takes no labels; index tuples are not accepted here). Passing class labels
 * with `numProxies >= numClasses` assigns class c to proxy c. For PML's unlabelled mode (every proxy used
 * at least once, the rest random) pass `loss.randomAssignments(n)`. No reference set (as PML); embedding
 * regularizers are accepted, a weight regularizer is not (as PML).
 */
export class ManifoldLoss extends ParametricLoss {
  readonly className: string = 'ManifoldLoss';
  readonly embeddingSize: number;
  readonly numProxies: number;
  /** Equals {@link numProxies}: the labels index the proxies. */
  readonly numClasses: number;
  readonly lambdaC: number;
  readonly alpha: number;
  readonly margin: number;
  readonly seed: number;
  readonly distance: BaseDistance;
  /** The proxies, [numProxies, embeddingSize]. */
  readonly proxies: tf.Variable<tf.Rank.R2>;
  private readonly assignRandom: Random;

  constructor(options: ManifoldLossOptions) {
    super();
    const o = parseOptions('ManifoldLoss', schema, options);
    this.embeddingSize = o.embeddingSize;
    this.numProxies = o.numProxies;
    this.numClasses = o.numProxies;
    this.lambdaC = o.lambdaC;
    this.alpha = o.alpha;
    this.margin = o.margin;
    this.seed = o.seed;
    this.distance = resolveDistance(o.distance, () => new CosineSimilarity());
    this.setReducer(o.reducer);
    this.proxies = this.addWeight(o.numProxies, o.embeddingSize, 'normal', o.seed);
    this.assignRandom = createRandom(o.seed);
  }

  /**
   * PML's assignments when no meta-classes are given: proxies 0..K-1 once each, then `n - K` uniform
   * draws, shuffled. Seeded by the `seed` option; successive calls continue the same stream.
   * @throws ShapeError when `n < numProxies`
   */
  randomAssignments(n: number): Int32Array {
    if (n < this.numProxies) {
      throw new ShapeError(`ManifoldLoss: random proxy assignments need a batch of at least numProxies = ${this.numProxies} embeddings (got ${n})`);
    }
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i < this.numProxies ? i : randInt(this.assignRandom, this.numProxies);
    return shuffleInPlace(out, this.assignRandom);
  }

  protected computeLoss(input: LossInput): LossDict {
    if (input.indices !== undefined) {
      throw new ShapeError('ManifoldLoss: index tuples are not supported (pass the proxy assignments as labels)');
    }
    const { embeddings, labels } = input;
    if (embeddings.shape[1] !== this.embeddingSize) {
      throw new ShapeError(`ManifoldLoss: embeddings have dim ${embeddings.shape[1]} but embeddingSize is ${this.embeddingSize}`);
    }
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= this.numProxies) {
        throw new ShapeError(`ManifoldLoss: labels[${i}] = ${labels[i]} is not a proxy index in [0, numProxies = ${this.numProxies})`);
      }
    }
    this.checkClassInput(input);
    const n = labels.length, k = this.numProxies, m = n + k;
    const nodes = tf.concat([embeddings, this.proxies], 0) as tf.Tensor2D;
    const offDiagonal = tf.sub(1, tf.eye(m));
    const s = tf.mul(tf.exp(tf.div(tf.maximum(this.distance.matrix(nodes), 0), 0.5)), offDiagonal);
    const dInvHalf = tf.rsqrt(tf.sum(s, 1));
    const sBar = tf.mul(tf.mul(s, tf.reshape(dInvHalf, [m, 1])), tf.reshape(dInvHalf, [1, m]));
    const f = tf.mul(matrixInverse(tf.sub(tf.eye(m), tf.mul(sBar, this.alpha)) as tf.Tensor2D), 1 - this.alpha) as tf.Tensor2D;
    const own = oneHot(labels, k);
    const intrinsic = this.hinge(tf.slice(f, [0, n], [n, k]), own);
    let loss: tf.Tensor = intrinsic;
    if (this.lambdaC !== 0) {
      const unit = (x: tf.Tensor2D): tf.Tensor2D => tf.div(x, tf.maximum(tf.norm(x, 2, 1, true), 1e-8));
      const cos = tf.matMul(unit(tf.slice(f, [0, 0], [n, m])), unit(tf.slice(f, [n, 0], [k, m])), false, true);
      loss = tf.add(intrinsic, tf.mul(this.hinge(cos as tf.Tensor2D, own), this.lambdaC));
    }
    return { loss: { losses: loss, indices: null, reductionType: 'already_reduced' } };
  }

  /**
   * `mean_i log(1 + sum exp(v_ik))` over k != c(i) with `v_ik = x_ik - x_ic(i) + margin >= 0`. Affinities
   * and cosines differ by at most a few units, so the exponentials are summed directly.
   */
  private hinge(x: tf.Tensor2D, own: tf.Tensor2D): tf.Scalar {
    const v = tf.add(tf.sub(x, tf.sum(tf.mul(x, own), 1, true)), this.margin);
    const notOwn = tf.equal(own, 0);
    const keep = detached(v, (t) => tf.logicalAnd(notOwn, tf.greaterEqual(t, 0)));
    const e = tf.exp(v);
    return tf.mean(tf.log1p(tf.sum(tf.where(keep, e, tf.zerosLike(e)), 1)));
  }

  getConfig(): Record<string, unknown> {
    return {
      embeddingSize: this.embeddingSize, numProxies: this.numProxies, lambdaC: this.lambdaC, alpha: this.alpha,
      margin: this.margin, seed: this.seed, distance: toConfig(this.distance), reducer: toConfig(this.reducer),
    };
  }
}

registry.register('ManifoldLoss', (c) => new ManifoldLoss(c as unknown as ManifoldLossOptions));
