import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { createRandom, type Random } from '../core/random.js';
import { toConfig } from '../core/registry.js';
import { gatherPairs } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { LpDistance } from '../distances/lp-distance.js';
import { DivisorReducer } from '../reducers/divisor-reducer.js';
import type { BaseReducer, LossDict } from '../reducers/base-reducer.js';
import { BaseMetricLoss, distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { checkTuple, convertToTriplets } from './tuples.js';
import { registry } from './registry.js';

/** Options of {@link MarginLoss} (PML's keyword arguments, in camelCase). */
export interface MarginLossOptions extends DistanceLossOptions {
  /** Half-width of the band around beta that pairs should leave. Default `0.2`. */
  margin?: number;
  /** Weight of the beta regulariser `nu * beta` (only with `learnBeta`). Default `0`. */
  nu?: number;
  /** Initial boundary beta between positive and negative distances. Default `1.2`. */
  beta?: number;
  /** Without miner tuples: `'all'` triplets, or k random ones per anchor. Default `'all'`. */
  tripletsPerAnchor?: 'all' | number;
  /** Make beta a trainable variable (listed in `trainableWeights`). Default `false`. */
  learnBeta?: boolean;
  /** With a number, one beta per class (indexed by the anchor's label); `null` for one shared beta. Default `null`. */
  numClasses?: number | null;
  /** Seed of the random triplet sampling (akin addition). Default `0`. */
  seed?: number;
  /** Default `LpDistance()`. */
  distance?: DistanceLossOptions['distance'];
  /** Default `DivisorReducer` (divisor: the number of non-zero positive plus negative terms). */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  margin: z.number().finite().default(0.2),
  nu: z.number().finite().default(0),
  beta: z.number().finite().default(1.2),
  tripletsPerAnchor: z.union([z.literal('all'), z.number().int().min(1)]).default('all'),
  learnBeta: z.boolean().default(false),
  numClasses: z.number().int().min(1).nullable().default(null),
  seed: z.number().int().default(0),
}).strict();

/**
 * Margin loss (Wu et al. 2017; PML `MarginLoss`). Per triplet (a, p, n):
 * `relu(d_ap - beta + margin) + relu(beta - d_an + margin)` (signs flip for a similarity), with beta shared
 * or per class (the anchor's). Sub-losses `marginLoss` (reduction `triplet`, divisor = number of non-zero
 * positive terms + non-zero negative terms) and `betaRegLoss` (`nu * beta` when `learnBeta`: already
 * reduced for one beta, per triplet with the same divisor for per-class betas; otherwise zero).
 */
export class MarginLoss extends BaseMetricLoss {
  readonly className: string = 'MarginLoss';
  readonly distance: BaseDistance;
  readonly margin: number;
  readonly nu: number;
  readonly betaInit: number;
  readonly tripletsPerAnchor: 'all' | number;
  readonly learnBeta: boolean;
  readonly numClasses: number | null;
  readonly seed: number;
  /** beta, [1] or [numClasses]; a trainable variable when `learnBeta`. */
  readonly beta: tf.Tensor1D;
  private readonly random: Random;

  constructor(options: MarginLossOptions = {}) {
    super();
    const o = parseOptions('MarginLoss', schema, options);
    this.margin = o.margin;
    this.nu = o.nu;
    this.betaInit = o.beta;
    this.tripletsPerAnchor = o.tripletsPerAnchor;
    this.learnBeta = o.learnBeta;
    this.numClasses = o.numClasses;
    this.seed = o.seed;
    this.random = createRandom(o.seed);
    this.distance = resolveDistance(o.distance, () => new LpDistance());
    this.setReducer(o.reducer);
    const init = tf.fill([o.numClasses ?? 1], o.beta) as tf.Tensor1D;
    this.beta = o.learnBeta ? tf.variable(init, true) : tf.keep(init);
  }

  override get trainableWeights(): tf.Variable[] {
    return this.learnBeta && !this.beta.isDisposed ? [this.beta as tf.Variable] : [];
  }

  /** Frees beta. */
  override dispose(): void {
    this.beta.dispose();
  }

  override subLossNames(): string[] {
    return ['marginLoss', 'betaRegLoss'];
  }

  override defaultReducer(): BaseReducer {
    return new DivisorReducer();
  }

  protected computeLoss(input: LossInput): LossDict {
    const nRef = input.refLabels ? input.refLabels.length : input.labels.length;
    if (input.indices) checkTuple(input.indices, input.labels.length, nRef, this.className);
    const t = convertToTriplets(input.indices, input.labels, input.refLabels, this.tripletsPerAnchor, this.random);
    this.records.numTriplets = t.anchors.length;
    if (t.anchors.length === 0) return this.zeroLosses();
    let beta: tf.Tensor = this.beta;
    if (this.numClasses !== null) {
      const sel = new Float32Array(t.anchors.length * this.numClasses);
      t.anchors.forEach((a, i) => { sel[i * this.numClasses! + input.labels[a]] = 1; });
      beta = tf.reshape(tf.matMul(tf.tensor2d(sel, [t.anchors.length, this.numClasses]), tf.reshape(this.beta, [-1, 1])), [-1]);
    }
    const mat = this.distance.matrix(input.embeddings, input.refEmbeddings);
    const dap = gatherPairs(mat, t.anchors, t.positives);
    const dan = gatherPairs(mat, t.anchors, t.negatives);
    const posLoss = tf.relu(tf.add(this.distance.margin(dap, beta), this.margin));
    const negLoss = tf.relu(tf.add(this.distance.margin(beta, dan), this.margin));
    const counts = tf.tidy(() => tf.stack([tf.sum(tf.cast(tf.greater(posLoss, 0), 'int32')), tf.sum(tf.cast(tf.greater(negLoss, 0), 'int32'))]));
    const [np, nn] = counts.dataSync();
    counts.dispose();
    const divisor = np + nn;
    const dict: LossDict = {
      marginLoss: { losses: tf.add(posLoss, negLoss), indices: t, reductionType: 'triplet', divisor },
      betaRegLoss: { losses: null, indices: null, reductionType: 'already_reduced' },
    };
    if (this.learnBeta) {
      dict.betaRegLoss = this.numClasses === null
        ? { losses: tf.mul(beta, this.nu), indices: null, reductionType: 'already_reduced' }
        : { losses: tf.mul(beta, this.nu), indices: t.anchors, reductionType: 'element', divisor };
    }
    return dict;
  }

  getConfig(): Record<string, unknown> {
    return {
      margin: this.margin, nu: this.nu, beta: this.betaInit, tripletsPerAnchor: this.tripletsPerAnchor,
      learnBeta: this.learnBeta, numClasses: this.numClasses, seed: this.seed,
      distance: toConfig(this.distance), reducer: toConfig(this.reducer),
    };
  }
}

registry.register('MarginLoss', (c) => new MarginLoss(c as MarginLossOptions));
