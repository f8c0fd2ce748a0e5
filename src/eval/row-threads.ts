import * as tf from '@tensorflow/tfjs';
import { info } from '../backend/backend.js';
import { type RowTask, type RowTaskSpec, rowTask } from './row-tasks.js';
import type { ScoreBlock } from './score-blocks.js';

/** A block as a row worker is sent it: where its segments lie in the (shared) wasm heap. */
export interface RowWorkerRequest {
  heap: SharedArrayBuffer;
  start: number;
  rows: number;
  from: number;
  to: number;
  segments: { byteOffset: number; length: number; column: number; width: number }[];
}

/** A row worker's answer to one request. */
export type RowWorkerReply = { done: true } | { error: string };

/** Structural view of node:worker_threads' Worker (kept loose so the module loads without it). */
interface WorkerLike {
  postMessage(message: RowWorkerRequest): void;
  on(event: 'message', f: (m: RowWorkerReply) => void): void;
  on(event: 'error', f: (e: Error) => void): void;
  terminate(): Promise<number>;
}

/** Jobs smaller than this many scores (queries x references) stay on one thread: starting workers costs more. */
let parallelMinScores = 1 << 25;

/**
 * Sets the job size (queries x references) from which row work uses worker threads (default 2^25);
 * returns the previous value. For tests and benchmarks.
 */
export function setParallelMinScores(scores: number): number {
  const previous = parallelMinScores;
  parallelMinScores = scores;
  return previous;
}

/**
 * Row work over score blocks on this thread and, for large jobs on the threaded wasm backend, on
 * worker threads too (one per wasm thread beyond the first): each block's rows are split between
 * them, the workers reading the scores in place in the wasm heap, which is shared memory. The block
 * stays alive until every thread is done with it; the matmuls, which use all the threads, run in
 * between. Results go to the task's arrays, made shared when workers run; rows are independent, so
 * they are the same whichever thread did a row.
 */
export class RowWork {
  /** Worker threads started so far (for tests). */
  static workersStarted = 0;
  private readonly pending: ({ resolve: () => void; reject: (e: Error) => void } | null)[];

  private constructor(private readonly local: RowTask, private readonly workers: WorkerLike[]) {
    this.pending = workers.map(() => null);
    workers.forEach((w, i) => {
      const settle = (error: Error | null): void => {
        const p = this.pending[i];
        this.pending[i] = null;
        if (p) error ? p.reject(error) : p.resolve();
      };
      w.on('message', (m) => settle('error' in m ? new Error(`row worker: ${m.error}`) : null));
      w.on('error', (e) => settle(e));
    });
  }

  /**
   * Starts row work for a job of `scores` query-reference pairs. `make(shared)` builds the task; its
   * result arrays must live in SharedArrayBuffers when `shared` is true. `portable`: false when the
   * task cannot be sent to a worker (e.g. it holds a function). Returns the work and the task built.
   */
  static async start<S extends RowTaskSpec>(scores: number, portable: boolean, make: (shared: boolean) => S): Promise<{ work: RowWork; spec: S }> {
    const threads = workerThreads(scores, portable);
    const spec = make(threads > 0);
    const workers: WorkerLike[] = [];
    if (threads > 0) {
      const { Worker } = await import('node:worker_threads');
      for (let i = 0; i < threads; i++) {
        workers.push(new Worker(new URL('./row-worker.js', import.meta.url), { workerData: spec }) as unknown as WorkerLike);
        RowWork.workersStarted++;
      }
    }
    return { work: new RowWork(rowTask(spec), workers), spec };
  }

  /** Does every row of `block`: a share here, the others' shares on the workers. */
  async run(block: ScoreBlock): Promise<void> {
    const heap = block.segments[0]?.values.buffer;
    if (this.workers.length === 0 || !(heap instanceof SharedArrayBuffer)) {
      this.local(block, 0, block.rows);
      return;
    }
    const share = Math.ceil(block.rows / (this.workers.length + 1));
    const segments = block.segments.map((s) => ({ byteOffset: s.values.byteOffset, length: s.values.length, column: s.column, width: s.width }));
    const replies = this.workers.map((w, i) => {
      const from = Math.min(block.rows, (i + 1) * share), to = Math.min(block.rows, (i + 2) * share);
      if (from >= to) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        this.pending[i] = { resolve, reject };
        w.postMessage({ heap, start: block.start, rows: block.rows, from, to, segments });
      });
    });
    try {
      this.local(block, 0, Math.min(share, block.rows));
    } finally {
      await Promise.allSettled(replies); // never free the block under a worker
    }
    await Promise.all(replies);
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Worker threads to use for a job: one per wasm thread beyond this one, for large jobs in Node only. */
function workerThreads(scores: number, portable: boolean): number {
  const backend = info();
  const isNode = typeof process !== 'undefined' && Boolean(process.versions?.node);
  if (!portable || !isNode || scores < parallelMinScores || tf.getBackend() !== 'wasm' || backend?.backend !== 'wasm') return 0;
  return Math.max(0, backend.threads - 1);
}

/** A zero-filled typed array, in a SharedArrayBuffer when `shared`. */
export function typedArray<T extends Int32Array | Float64Array>(
  kind: { new (buffer: ArrayBufferLike): T; BYTES_PER_ELEMENT: number }, length: number, shared: boolean,
): T {
  const bytes = length * kind.BYTES_PER_ELEMENT;
  return new kind(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
}
