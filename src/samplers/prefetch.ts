/**
 * Batches prepared ahead of the training step that consumes them. Assembling a batch on the host (the
 * dataset rows, each view augmented, labels, instance ids) costs little for flat vectors but a lot for
 * augmented images; with a worker thread it runs in parallel with the step, `depth` batches ahead.
 */
import type { Dataset } from '../data/dataset.js';
import { sampleSize } from '../data/dataset.js';
import { ImageAugmenter, type ImageAugmentOptions } from '../data/augment.js';
import { createRandom, type Random } from '../core/random.js';
import { ConfigError } from '../core/errors.js';

/** One batch on the host, ready to become tensors. */
export interface HostBatch {
  /** `views` copies of the rows one after another (each copy augmented independently), flat. */
  x: Float32Array;
  /** Shape of `x`: `[rows * views, ...sample shape]`. */
  shape: number[];
  /** Class label of every row of `x`. */
  labels: Int32Array;
  /** Position of every row of `x` within the sampled rows (the same for every view of a row). */
  instances: Int32Array;
  /** The sampled rows without augmentation (`[rows, ...sample shape]`), when asked for. */
  clean?: Float32Array;
}

/** How batches are built from dataset rows. */
export interface BatchAssembly {
  /** Copies of each sampled row in a batch (e.g. 2 for two-view contrastive batches). Default `1`. */
  views?: number;
  /** Augmentation of each view (images `[h, w, c]` only), or null for none. Default none. */
  augment?: ImageAugmenter | ImageAugmentOptions | null;
  /** Also return the rows without augmentation (`clean`). Default `false`. */
  withClean?: boolean;
}

/**
 * Builds one batch from dataset rows `idx`: the rows gathered, `views` copies of them (augmented with
 * `random` when there is an augmenter, copy after copy), their labels and instance ids.
 */
export function assembleBatch(
  data: Dataset, idx: Int32Array, views: number, augmenter: ImageAugmenter | null, random: Random, withClean = false,
): HostBatch {
  const size = sampleSize(data);
  const rows = new Float32Array(idx.length * size);
  for (let i = 0; i < idx.length; i++) rows.set(data.features.subarray(idx[i] * size, (idx[i] + 1) * size), i * size);
  const n = idx.length * views;
  const labels = new Int32Array(n);
  const instances = new Int32Array(n);
  const x = views === 1 && !augmenter ? rows : new Float32Array(n * size);
  for (let v = 0; v < views; v++) {
    if (x !== rows) x.set(augmenter ? augmenter.apply(rows, idx.length, data.shape, random) : rows, v * idx.length * size);
    for (let i = 0; i < idx.length; i++) {
      labels[v * idx.length + i] = data.labels[idx[i]];
      instances[v * idx.length + i] = i;
    }
  }
  return { x, shape: [n, ...data.shape], labels, instances, ...(withClean ? { clean: x === rows ? rows.slice() : rows } : {}) };
}

/** Options of {@link BatchPrefetcher}. */
export interface BatchPrefetcherOptions extends BatchAssembly {
  /** Batches assembled ahead of the one being consumed (worker mode). Default `2`. */
  depth?: number;
  /**
   * Assemble in a worker thread (Node), in parallel with the training step. Default: only when there is
   * augmentation (gathering plain rows is cheaper than a message to a worker). The worker gets the
   * dataset once, shared without a copy when `features` lives in a SharedArrayBuffer, else copied once.
   * An augmenter of a subclass of ImageAugmenter always runs inline (the worker can only rebuild the
   * stock one from its options).
   */
  worker?: boolean;
}

/** What the worker is sent first (the dataset, shared) and then per batch. */
export interface WorkerSetup {
  features: Float32Array;
  labels: Int32Array;
  shape: number[];
  views: number;
  augment: ImageAugmentOptions | null;
  withClean: boolean;
}
export interface WorkerRequest { epoch: number; seed: number; idx: Int32Array }
export type WorkerReply = { epoch: number; batch: HostBatch } | { error: string };

/** Structural view of node:worker_threads' Worker (kept loose so the module loads without it). */
interface WorkerLike {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  on(event: 'message', f: (m: WorkerReply) => void): void;
  on(event: 'error', f: (e: Error) => void): void;
  terminate(): Promise<number>;
  ref(): void;
  unref(): void;
}

/**
 * Serves the batches of an epoch in order. In a worker thread it assembles up to `depth` batches ahead
 * of the one being consumed, so they are built while the caller trains on it; inline it builds each
 * batch when it is asked for. Results are identical to calling {@link assembleBatch} batch after batch with one
 * `createRandom(seed)` per epoch.
 *
 * ```ts
 * const prefetcher = new BatchPrefetcher(data, { augment: { pad: 2, flip: 0.5 } });
 * for await (const b of prefetcher.epoch(batches, seed)) step(tf.tensor(b.x, b.shape), b.labels);
 * await prefetcher.close();
 * ```
 */
export class BatchPrefetcher {
  readonly depth: number;
  private readonly views: number;
  private readonly augmenter: ImageAugmenter | null;
  private readonly withClean: boolean;
  private readonly useWorker: boolean;
  private worker: Promise<WorkerLike> | null = null;
  private epochs = 0;
  /** Replies of the worker not yet consumed, by request order. */
  private readonly pending: { resolve: (b: HostBatch) => void; reject: (e: Error) => void }[] = [];

  constructor(private readonly data: Dataset, options: BatchPrefetcherOptions = {}) {
    const views = options.views ?? 1;
    const depth = options.depth ?? 2;
    if (!Number.isInteger(views) || views < 1) throw new ConfigError(`BatchPrefetcher: option 'views' must be an integer >= 1 (got ${views})`);
    if (!Number.isInteger(depth) || depth < 1) throw new ConfigError(`BatchPrefetcher: option 'depth' must be an integer >= 1 (got ${depth})`);
    this.views = views;
    this.depth = depth;
    const aug = options.augment ? (options.augment instanceof ImageAugmenter ? options.augment : new ImageAugmenter(options.augment)) : null;
    this.augmenter = aug && !aug.isIdentity ? aug : null;
    this.withClean = options.withClean ?? false;
    // The worker rebuilds the augmenter from its options: a subclass (its own apply) must run here.
    const portable = this.augmenter === null || this.augmenter.constructor === ImageAugmenter;
    this.useWorker = portable && (options.worker ?? this.augmenter !== null);
  }

  /** The batches of `batches` (dataset rows each), in order; augmentation draws from `createRandom(seed)`. */
  async *epoch(batches: Int32Array[], seed: number): AsyncGenerator<HostBatch> {
    if (!this.useWorker) {
      const random = createRandom(seed);
      for (const idx of batches) yield assembleBatch(this.data, idx, this.views, this.augmenter, random, this.withClean);
      return;
    }
    const worker = await this.startWorker();
    const epoch = ++this.epochs;
    const replies: Promise<HostBatch>[] = [];
    const request = (k: number): void => {
      // The worker keeps the process alive only while it owes replies.
      if (this.pending.length === 0) worker.ref();
      replies[k] = new Promise<HostBatch>((resolve, reject) => this.pending.push({ resolve, reject }));
      const msg: WorkerRequest = { epoch, seed, idx: batches[k] };
      worker.postMessage(msg);
    };
    let sent = 0;
    try {
      for (let k = 0; k < batches.length; k++) {
        while (sent < batches.length && sent <= k + this.depth) request(sent++);
        yield await replies[k];
      }
    } finally {
      // An epoch left early: let the requests in flight finish (in order) before the next epoch's start.
      await Promise.allSettled(replies.slice(0, sent));
    }
  }

  /** Stops the worker thread, if one was started. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await (await w).terminate();
  }

  private startWorker(): Promise<WorkerLike> {
    this.worker ??= (async () => {
      const { Worker } = await import('node:worker_threads');
      const features = this.data.features.buffer instanceof SharedArrayBuffer ? this.data.features : sharedCopy(this.data.features);
      const setup: WorkerSetup = {
        features, labels: this.data.labels, shape: this.data.shape, views: this.views,
        augment: this.augmenter ? this.augmenter.options : null, withClean: this.withClean,
      };
      const w = new Worker(new URL('./prefetch-worker.js', import.meta.url), { workerData: setup }) as unknown as WorkerLike;
      w.on('message', (m) => {
        const p = this.pending.shift();
        if (this.pending.length === 0) w.unref();
        if (!p) return;
        if ('error' in m) p.reject(new Error(`BatchPrefetcher worker: ${m.error}`));
        else p.resolve(m.batch);
      });
      w.on('error', (e) => {
        w.unref();
        for (const p of this.pending.splice(0)) p.reject(e);
      });
      w.unref();
      return w;
    })();
    return this.worker;
  }
}

function sharedCopy(x: Float32Array): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(x.byteLength));
  out.set(x);
  return out;
}
