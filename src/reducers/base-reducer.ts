import * as tf from '@tensorflow/tfjs';
import type { Serializable } from '../core/registry.js';
import type { IndexTuple } from '../core/indices.js';
import { zeroLoss } from '../core/tensor.js';
import { AkinError } from '../core/errors.js';

/** What a loss's per-element values are indexed by (PML's `reduction_type`). */
export type ReductionType = 'element' | 'pos_pair' | 'neg_pair' | 'triplet' | 'already_reduced';

/**
 * One sub-loss as computed by a loss before reduction. `losses === null` is PML's "zero loss" (no valid
 * tuple): every reducer turns it into a zero that keeps a gradient path to the embeddings.
 * `indices` says what each element belongs to: element indices for `element`, `[anchors, others]` for
 * pairs, `[anchors, positives, negatives]` for triplets.
 */
export interface LossTerm {
  losses: tf.Tensor | null;
  indices?: Int32Array | Int32Array[] | IndexTuple | null;
  reductionType: ReductionType;
  /** What `DivisorReducer` divides the summed losses by (PML's `divisor` entry); other reducers ignore it. */
  divisor?: number;
}

/** Sub-loss name -> term, e.g. `{ posLoss, negLoss }` for ContrastiveLoss. */
export type LossDict = Record<string, LossTerm>;

/**
 * Turns a loss dictionary into one scalar: each sub-loss is reduced by {@link reduceTerm} and the
 * results are summed (PML: `BaseReducer` / `MultipleReducers`).
 */
export abstract class BaseReducer implements Serializable {
  abstract readonly className: string;
  /** Stats from the last call (e.g. `lossesSize`, `numPastFilter`), for logging. */
  readonly records: Record<string, number> = {};

  /** Reduces every term of `dict` and sums them. `embeddings` provide the zero loss's gradient path. */
  reduce(dict: LossDict, embeddings: tf.Tensor, labels: Int32Array): tf.Scalar {
    return tf.tidy(() => {
      const parts = Object.entries(dict).map(([name, term]) => this.reduceNamed(name, term, embeddings, labels));
      if (parts.length === 0) return zeroLoss(embeddings);
      return (parts.length === 1 ? parts[0] : tf.addN(parts)) as tf.Scalar;
    });
  }

  /** Hook for reducers that treat sub-losses differently (MultipleReducers). */
  protected reduceNamed(_name: string, term: LossTerm, embeddings: tf.Tensor, labels: Int32Array): tf.Scalar {
    return this.reduceTerm(term, embeddings, labels);
  }

  /** Reduces one term; handles the zero loss and the empty tensor, then dispatches on the reduction type. */
  reduceTerm(term: LossTerm, embeddings: tf.Tensor, labels: Int32Array): tf.Scalar {
    const { losses } = term;
    this.records.lossesSize = losses === null ? 0 : losses.size;
    if (losses === null) return zeroLoss(embeddings);
    if (term.reductionType === 'already_reduced') {
      if (losses.size !== 1) {
        throw new AkinError('E_REDUCER', `${this.className}: an 'already_reduced' loss must be a scalar (got shape [${losses.shape}])`);
      }
      return tf.reshape(losses, []) as tf.Scalar;
    }
    if (losses.size === 0) return zeroLoss(embeddings);
    return this.reduceLosses(losses, term, embeddings, labels);
  }

  /** Reduces a non-empty tensor of per-element losses. */
  protected abstract reduceLosses(losses: tf.Tensor, term: LossTerm, embeddings: tf.Tensor, labels: Int32Array): tf.Scalar;

  getConfig(): Record<string, unknown> {
    return {};
  }
}
