import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError, ShapeError } from '../core/errors.js';
import { allPairs, isTriplets, tripletsToPairs, type IndexTuple } from '../core/indices.js';
import { parseOptions } from '../core/options.js';
import { createRandom } from '../core/random.js';
import { toConfig } from '../core/registry.js';
import { as2D, stopGradient, toLabelArray, type LabelsLike } from '../core/tensor.js';
import type { BaseMiner } from '../miners/base-miner.js';
import type { LossDict } from '../reducers/base-reducer.js';
import type { BaseMetricLoss, LossInput } from './base-loss.js';
import {
  checkLossSupport, LossWrapper, lossSpecSchema, minerSpecSchema, reducedTerm, resolveLoss, resolveMiner, type LossSpec, type MinerSpec,
} from './loss-wrapper.js';
import { convertToTriplets } from './tuples.js';
import { registry } from './registry.js';

/** The losses {@link CrossBatchMemory} accepts (PML's `supported_losses`: those that take a reference set). */
export const CROSS_BATCH_MEMORY_LOSSES: readonly string[] = [
  'AngularLoss', 'CircleLoss', 'ContrastiveLoss', 'GeneralizedLiftedStructureLoss', 'IntraPairVarianceLoss',
  'LiftedStructureLoss', 'MarginLoss', 'MultiSimilarityLoss', 'NCALoss', 'NTXentLoss',
  'SignalToNoiseRatioContrastiveLoss', 'SupConLoss', 'TripletMarginLoss', 'TupletMarginLoss',
];

/** Options of {@link CrossBatchMemory} (PML's keyword arguments, in camelCase). */
export interface CrossBatchMemoryOptions {
  /** The wrapped loss; one of {@link CROSS_BATCH_MEMORY_LOSSES}. Required. */
  loss: LossSpec;
  /** The embedding dimension (the width of the memory). Required. */
  embeddingSize: number;
  /** How many past embeddings the memory holds. Default `1024`. */
  memorySize?: number;
  /** Mines the batch against the memory; without one every batch-memory pair is used. Default: none. */
  miner?: MinerSpec | null;
}

const schema = z
  .object({
    loss: lossSpecSchema,
    embeddingSize: z.number().int().min(1),
    memorySize: z.number().int().min(1).default(1024),
    miner: minerSpecSchema.nullable().optional(),
  })
  .strict();

/**
 * Cross-batch memory (Wang et al. 2020, "Cross-Batch Memory for Embedding Learning"; PML
 * `CrossBatchMemory`). A ring buffer of the last `memorySize` embeddings and labels (stored without
 * gradient) is the reference set of the wrapped loss. Each call, as PML:
 * 1. the batch (or, with an enqueue mask, its masked rows) is written to the memory at slots
 *    `queueIdx, queueIdx + 1, ...` modulo `memorySize`, overwriting the oldest entries;
 * 2. the reference set is the memory's first `queueIdx` slots until it has wrapped once, then all of it
 *    (in slot order);
 * 3. the index tuples are the miner's (batch mined against the memory) or every batch-memory pair; without
 *    an enqueue mask, positive pairs (and triplets) whose positive is the anchor's own slot are dropped;
 * 4. index tuples given to `compute` are converted to the kind of those tuples and appended (as in PML,
 *    their positives and negatives then index the memory);
 * 5. the loss is the wrapped loss of the batch (the rows not enqueued, with a mask) against the memory.
 *
 * The memory lives on the backend as a non-trainable variable; {@link dispose} frees it.
 *
 * Three edge cases differ from PML on purpose: a one-row batch loses its self-pair too (PML's wrap test
 * takes start == end for a wrap and keeps it); enqueuing no row (an all-false mask) leaves the memory as
 * it was (PML then marks it full and reads its unused zero slots); and enqueuing more rows than
 * `memorySize` throws (PML writes overlapping slots).
 */
export class CrossBatchMemory extends LossWrapper {
  readonly className: string = 'CrossBatchMemory';
  readonly loss: BaseMetricLoss;
  readonly miner: BaseMiner | null;
  readonly embeddingSize: number;
  readonly memorySize: number;
  private readonly embeddingMemory: tf.Variable<tf.Rank.R2>;
  private readonly labelMemory: Int32Array;
  private queueIdxValue = 0;
  private filled = false;
  private enqueueMask: Uint8Array | null = null;

  constructor(options: CrossBatchMemoryOptions) {
    super();
    const o = parseOptions('CrossBatchMemory', schema, options);
    this.loss = resolveLoss(o.loss);
    checkLossSupport('CrossBatchMemory', this.loss, CROSS_BATCH_MEMORY_LOSSES);
    this.miner = o.miner === undefined || o.miner === null ? null : resolveMiner(o.miner);
    this.embeddingSize = o.embeddingSize;
    this.memorySize = o.memorySize;
    this.embeddingMemory = tf.variable(tf.zeros([o.memorySize, o.embeddingSize]), false) as tf.Variable<tf.Rank.R2>;
    this.labelMemory = new Int32Array(o.memorySize);
  }

  /** The next memory slot to write. */
  get queueIdx(): number {
    return this.queueIdxValue;
  }

  /** Whether the memory has wrapped once (every slot holds an embedding). */
  get hasBeenFilled(): boolean {
    return this.filled;
  }

  /** How many embeddings the memory holds. */
  get memoryCount(): number {
    return this.filled ? this.memorySize : this.queueIdxValue;
  }

  /** A copy of the stored embeddings and labels, in slot order (the reference set of the next call, before it enqueues). */
  memory(): { embeddings: tf.Tensor2D; labels: Int32Array } {
    const n = this.memoryCount;
    return { embeddings: tf.slice(this.embeddingMemory, [0, 0], [n, this.embeddingSize]), labels: this.labelMemory.slice(0, n) };
  }

  /** Empties the memory (PML `reset_queue`). */
  resetQueue(): void {
    tf.tidy(() => this.embeddingMemory.assign(tf.zerosLike(this.embeddingMemory)));
    this.labelMemory.fill(0);
    this.queueIdxValue = 0;
    this.filled = false;
  }

  /**
   * The loss where only the rows with `enqueueMask[i]` true go into the memory, and the others are the
   * batch compared with it (PML's `enqueue_mask`, e.g. a key encoder's embeddings enqueued while the
   * query encoder's are scored). Self-comparisons are then not removed. Takes no index tuples.
   */
  computeWithEnqueueMask(embeddings: tf.Tensor2D, labels: LabelsLike, enqueueMask: ArrayLike<boolean | number>): tf.Scalar {
    const n = as2D(embeddings).shape[0];
    if (enqueueMask.length !== n) {
      throw new ShapeError(`CrossBatchMemory: enqueueMask has ${enqueueMask.length} entries but embeddings have ${n} rows`);
    }
    this.enqueueMask = Uint8Array.from(Array.from(enqueueMask, (v) => (v ? 1 : 0)));
    try {
      return this.compute(embeddings, toLabelArray(labels, n));
    } finally {
      this.enqueueMask = null;
    }
  }

  innerLosses(): BaseMetricLoss[] {
    return [this.loss];
  }

  /** Frees the memory and the wrapped loss's tensors. */
  override dispose(): void {
    super.dispose();
    this.embeddingMemory.dispose();
  }

  protected computeLoss(input: LossInput): LossDict {
    if (input.refEmbeddings !== undefined) {
      throw new ShapeError('CrossBatchMemory: reference embeddings are not supported (the memory is the reference set)');
    }
    if (this.embeddingMemory.isDisposed) throw new ConfigError('CrossBatchMemory: the loss has been disposed');
    const mask = this.enqueueMask;
    if (mask !== null && input.indices !== undefined) {
      throw new ShapeError('CrossBatchMemory: index tuples and an enqueue mask cannot be given together');
    }
    const { embeddings, labels } = input;
    const queued = mask === null ? null : rowsWhere(mask, 1);
    const kept = mask === null ? null : rowsWhere(mask, 0);
    const queueCount = queued === null ? labels.length : queued.length;
    if (queueCount > this.memorySize) {
      throw new ShapeError(`CrossBatchMemory: ${queueCount} embeddings to enqueue but memorySize is ${this.memorySize}`);
    }
    const batch = kept === null ? embeddings : gatherRows(embeddings, kept);
    const batchLabels = kept === null ? labels : pick(labels, kept);
    const slots = this.enqueue(
      queued === null ? embeddings : gatherRows(embeddings, queued),
      queued === null ? labels : pick(labels, queued),
    );
    const mem = this.memory();
    const tuples = this.indicesTuple(batch, batchLabels, mem.embeddings, mem.labels, input.indices, mask === null ? slots : null);
    this.records.queueIdx = this.queueIdxValue;
    this.records.memoryCount = mem.labels.length;
    return { loss: reducedTerm(this.loss.compute(batch, batchLabels, tuples, mem.embeddings, mem.labels)) };
  }

  /** Writes rows at the next slots (PML `add_to_memory`); returns the slots written. */
  private enqueue(rows: tf.Tensor2D, labels: Int32Array): Int32Array {
    const b = labels.length, m = this.memorySize, start = this.queueIdxValue;
    const slots = Int32Array.from({ length: b }, (_, k) => (start + k) % m);
    if (b === 0) return slots;
    const stored = stopGradient(rows) as tf.Tensor2D;
    const mem = this.embeddingMemory;
    const part = (x: tf.Tensor2D, from: number, to: number): tf.Tensor2D[] => (to > from ? [tf.slice(x, [from, 0], [to - from, -1])] : []);
    // The slots are contiguous modulo m: [start, start + b) with at most one wrap.
    const wrapped = start + b - m;
    const next = wrapped <= 0
      ? [...part(mem, 0, start), stored, ...part(mem, start + b, m)]
      : [...part(stored, m - start, b), ...part(mem, wrapped, start), ...part(stored, 0, m - start)];
    mem.assign(tf.concat(next, 0));
    for (let k = 0; k < b; k++) this.labelMemory[slots[k]] = labels[k];
    this.queueIdxValue = (start + b) % m;
    if (!this.filled && this.queueIdxValue <= start) this.filled = true;
    return slots;
  }

  /** PML `create_indices_tuple`; `ownSlots` (the batch's memory slots) removes self-comparisons. */
  private indicesTuple(
    batch: tf.Tensor2D, labels: Int32Array, memEmbeddings: tf.Tensor2D, memLabels: Int32Array,
    given: IndexTuple | undefined, ownSlots: Int32Array | null,
  ): IndexTuple {
    let t: IndexTuple = this.miner ? this.miner.mine(batch, labels, memEmbeddings, memLabels) : allPairs(labels, memLabels);
    if (ownSlots !== null) t = removeSelfComparisons(t, ownSlots);
    if (given === undefined) return t;
    if (isTriplets(t)) {
      const g = isTriplets(given) ? given : convertToTriplets(given, labels, undefined, 'all', createRandom(0));
      return { anchors: cat(t.anchors, g.anchors), positives: cat(t.positives, g.positives), negatives: cat(t.negatives, g.negatives) };
    }
    const g = isTriplets(given) ? tripletsToPairs(given) : given;
    return {
      anchors1: cat(t.anchors1, g.anchors1), positives: cat(t.positives, g.positives),
      anchors2: cat(t.anchors2, g.anchors2), negatives: cat(t.negatives, g.negatives),
    };
  }

  getConfig(): Record<string, unknown> {
    return {
      loss: toConfig(this.loss), embeddingSize: this.embeddingSize, memorySize: this.memorySize,
      miner: this.miner ? toConfig(this.miner) : null,
    };
  }
}

/**
 * Drops the positive pairs (or triplets) whose positive is the anchor's own memory slot (`slots[a]`),
 * PML's `remove_self_comparisons`. Negative pairs are kept (an element is never its own negative).
 */
export function removeSelfComparisons(t: IndexTuple, slots: Int32Array): IndexTuple {
  if (isTriplets(t)) {
    const keep = rowsWhere(Uint8Array.from(t.anchors, (a, i) => (slots[a] === t.positives[i] ? 0 : 1)), 1);
    return { anchors: pick(t.anchors, keep), positives: pick(t.positives, keep), negatives: pick(t.negatives, keep) };
  }
  const keep = rowsWhere(Uint8Array.from(t.anchors1, (a, i) => (slots[a] === t.positives[i] ? 0 : 1)), 1);
  return { anchors1: pick(t.anchors1, keep), positives: pick(t.positives, keep), anchors2: t.anchors2, negatives: t.negatives };
}

function rowsWhere(mask: Uint8Array, value: number): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i] === value) out.push(i);
  return Int32Array.from(out);
}

function pick(x: Int32Array, rows: Int32Array): Int32Array {
  return Int32Array.from(rows, (r) => x[r]);
}

function cat(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Rows `rows` of `x`, differentiable: the gradient scatters back with ScatterNd (tf.gather's own
 * gradient needs UnsortedSegmentSum, which the wasm backend lacks).
 */
function gatherRows(x: tf.Tensor2D, rows: Int32Array): tf.Tensor2D {
  const shape = x.shape;
  const g = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.gather(args[0] as tf.Tensor, tf.tensor1d(rows, 'int32')),
    gradFunc: (dy: tf.Tensor) => tf.scatterND(tf.tensor2d(rows, [rows.length, 1], 'int32'), dy, shape),
  }));
  return g(x) as tf.Tensor2D;
}

registry.register('CrossBatchMemory', (c) => new CrossBatchMemory(c as unknown as CrossBatchMemoryOptions));
