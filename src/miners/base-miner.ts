import * as tf from '@tensorflow/tfjs';
import type { Serializable } from '../core/registry.js';
import type { IndexTuple } from '../core/indices.js';
import { as2D, toLabelArray, type LabelsLike } from '../core/tensor.js';
import { ShapeError } from '../core/errors.js';

/** What a miner's mining step receives, with labels on the host. */
export interface MinerInput {
  embeddings: tf.Tensor2D;
  labels: Int32Array;
  /** The reference set mined against; `undefined` means the batch itself (self-pairs excluded). */
  refEmbeddings?: tf.Tensor2D;
  refLabels?: Int32Array;
}

/**
 * A miner picks informative pairs or triplets from a batch and returns them as index tuples that any
 * loss accepts. Mining never contributes gradients.
 */
export abstract class BaseMiner implements Serializable {
  abstract readonly className: string;
  /** Stats from the last call (e.g. `numTriplets`, `posPairDist`), for logging. */
  readonly records: Record<string, number> = {};

  mine(embeddings: tf.Tensor2D, labels: LabelsLike, refEmbeddings?: tf.Tensor2D, refLabels?: LabelsLike): IndexTuple {
    const emb = as2D(embeddings);
    const lab = toLabelArray(labels, emb.shape[0]);
    if ((refEmbeddings === undefined) !== (refLabels === undefined)) {
      throw new ShapeError(`${this.className}: refEmbeddings and refLabels must be given together`);
    }
    const input: MinerInput = { embeddings: emb, labels: lab };
    // As in PML, passing the batch's own tensor and labels as the reference set is the same as passing
    // none (self-comparisons are excluded); any other reference set is compared in full.
    const refIsBatch = refEmbeddings === embeddings && refLabels === labels;
    if (refEmbeddings !== undefined && !refIsBatch) {
      input.refEmbeddings = as2D(refEmbeddings, 'refEmbeddings');
      input.refLabels = toLabelArray(refLabels!, input.refEmbeddings.shape[0], 'refLabels');
    }
    return this.mineImpl(input);
  }

  abstract getConfig(): Record<string, unknown>;

  /** Mines index tuples. Must dispose every tensor it creates (use `tf.tidy`). */
  protected abstract mineImpl(input: MinerInput): IndexTuple;
}
