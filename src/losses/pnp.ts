import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { toConfig } from '../core/registry.js';
import { gatherPairs } from '../core/tensor.js';
import type { BaseDistance } from '../distances/base-distance.js';
import { CosineSimilarity } from '../distances/cosine-similarity.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { BaseMetricLoss, distanceLossSchema, resolveDistance, type DistanceLossOptions, type LossInput } from './base-loss.js';
import { requireCosine } from './distance-checks.js';
import { selectRows } from './rows.js';
import { registry } from './registry.js';

/** PNP variants by PML's names. */
export type PNPVariant = 'Ds' | 'Dq' | 'Iu' | 'Ib' | 'O';

/** The paper's names of the variants (accepted as aliases of PML's). */
const PAPER_NAMES: Record<string, PNPVariant> = {
  'PNP-D_s': 'Ds', 'PNP-D_q': 'Dq', 'PNP-I_u': 'Iu', 'PNP-I_b': 'Ib', 'PNP-O': 'O',
};

/** Options of {@link PNPLoss} (PML's keyword arguments, in camelCase). */
export interface PNPLossOptions extends DistanceLossOptions {
  /** The `b` of variant `Ib`. Default `2`. */
  b?: number;
  /** The exponent of variant `Dq`. Default `1`. */
  alpha?: number;
  /** Temperature of the sigmoid that counts negatives ranked before a positive. Default `0.01`. */
  anneal?: number;
  /**
   * How the soft count r of negatives before a positive is penalised: `Ds` log(1 + r), `Dq`
   * 1 - 1/(1 + r)^alpha, `Iu` (1 + r) log(1 + r), `Ib` (b r - log(1 + b r)) / b^2, `O` r. The paper's
   * names `PNP-D_s`, `PNP-D_q`, `PNP-I_u`, `PNP-I_b`, `PNP-O` are accepted too. Default `O`.
   */
  variant?: PNPVariant | 'PNP-D_s' | 'PNP-D_q' | 'PNP-I_u' | 'PNP-I_b' | 'PNP-O';
  /** Default `CosineSimilarity()` (the only distance allowed, as PML). */
  distance?: DistanceLossOptions['distance'];
  /** Default `MeanReducer` (the loss is already reduced, so any reducer passes it through). */
  reducer?: DistanceLossOptions['reducer'];
}

const schema = distanceLossSchema.extend({
  b: z.number().finite().default(2),
  alpha: z.number().finite().default(1),
  anneal: z.number().finite().positive().default(0.01),
  variant: z.enum(['Ds', 'Dq', 'Iu', 'Ib', 'O', ...Object.keys(PAPER_NAMES)]).default('O'),
}).strict();

/**
 * PNP loss (Li et al. 2022, "Only Penalizing Negative Instances before Positive Ones is Enough"; PML
 * `PNPLoss`). With s the cosine similarity matrix, for each query q with a same-label item and each
 * item i in P(q) = {q} and the other items with q's label, the soft number of negatives ranked above i
 * is `r_qi = sum_{j: y_j != y_q} sigmoid((s_qj - s_qi) / anneal)` (the exponent clamped to +-50, as PML).
 * The loss is `(1/Q) sum_q (1/|P(q)|) sum_{i in P(q)} g(r_qi)` over the Q queries with a same-label
 * partner (a query whose label occurs once in the batch is left out, as PML) with g given by `variant`
 * (for `Dq`, `1 -` that mean of `1/(1 + r)^alpha`). Already reduced. Labels are required; index tuples
 * and reference embeddings are not supported (as PML). Zero losses when no item has a same-label
 * partner. Memory is [pairs, N] instead of PML's N^3.
 */
export class PNPLoss extends BaseMetricLoss {
  readonly className: string = 'PNPLoss';
  readonly b: number;
  readonly alpha: number;
  readonly anneal: number;
  readonly variant: PNPVariant;
  readonly distance: BaseDistance;

  constructor(options: PNPLossOptions = {}) {
    super();
    const o = parseOptions('PNPLoss', schema, options);
    this.b = o.b;
    this.alpha = o.alpha;
    this.anneal = o.anneal;
    this.variant = PAPER_NAMES[o.variant] ?? (o.variant as PNPVariant);
    this.distance = resolveDistance(o.distance, () => new CosineSimilarity());
    requireCosine('PNPLoss', this.distance);
    this.setReducer(o.reducer);
  }

  protected computeLoss(input: LossInput): LossDict {
    if (input.indices !== undefined) throw new ShapeError('PNPLoss: index tuples are not supported');
    if (input.refEmbeddings !== undefined) throw new ShapeError('PNPLoss: reference embeddings are not supported');
    const { embeddings, labels } = input;
    const n = labels.length;
    // The (query, item) pairs: every query with a same-label partner, with itself and each partner.
    const groups: number[][] = [];
    for (let a = 0; a < n; a++) {
      const members: number[] = [];
      for (let j = 0; j < n; j++) if (labels[j] === labels[a] && j !== a) members.push(j);
      if (members.length === 0) continue;
      members.push(a);
      groups.push(members);
    }
    // The mean is over the queries with a partner: a query whose label occurs once is left out.
    const numQueries = groups.length;
    this.records.numQueries = numQueries;
    if (numQueries === 0) return this.zeroLosses();
    const q: number[] = [], items: number[] = [], weight: number[] = [];
    for (const members of groups) {
      const a = members[members.length - 1];
      for (const i of members) { q.push(a); items.push(i); weight.push(1 / (members.length * numQueries)); }
    }
    const qa = Int32Array.from(q), ia = Int32Array.from(items);
    const negatives = new Float32Array(q.length * n);
    for (let p = 0; p < q.length; p++) for (let j = 0; j < n; j++) if (labels[j] !== labels[q[p]]) negatives[p * n + j] = 1;
    const sim = this.distance.matrix(embeddings);
    const rows = selectRows(sim, qa);
    const diff = tf.sub(rows, tf.reshape(gatherPairs(sim, qa, ia), [-1, 1]));
    const exponent = tf.clipByValue(tf.div(diff, -this.anneal), -50, 50);
    const sg = tf.div(1, tf.add(1, tf.exp(exponent)));
    const r = tf.sum(tf.mul(sg, tf.tensor2d(negatives, [q.length, n])), 1);
    const total = tf.sum(tf.mul(this.penalty(r), tf.tensor1d(weight)));
    const losses = this.variant === 'Dq' ? tf.sub(1, total) : total;
    return { loss: { losses, indices: null, reductionType: 'already_reduced' } };
  }

  /** The variant's function of the soft counts. */
  private penalty(r: tf.Tensor): tf.Tensor {
    switch (this.variant) {
      case 'Ds': return tf.log1p(r);
      case 'Dq': return tf.pow(tf.add(1, r), -this.alpha);
      case 'Iu': return tf.mul(tf.add(1, r), tf.log1p(r));
      case 'Ib': return tf.div(tf.sub(tf.mul(r, this.b), tf.log1p(tf.mul(r, this.b))), this.b * this.b);
      default: return r;
    }
  }

  getConfig(): Record<string, unknown> {
    return {
      b: this.b, alpha: this.alpha, anneal: this.anneal, variant: this.variant,
      distance: toConfig(this.distance), reducer: toConfig(this.reducer),
    };
  }
}

registry.register('PNPLoss', (c) => new PNPLoss(c as PNPLossOptions));
