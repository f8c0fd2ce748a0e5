/*
 * A worker thread of RowWork: builds the row task it was given once, then for each block it is sent
 * (segments in the shared wasm heap) does its share of the rows, writing to the task's shared arrays.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type RowTaskSpec, rowTask } from './row-tasks.js';
import type { RowWorkerReply, RowWorkerRequest } from './row-threads.js';

const task = rowTask(workerData as RowTaskSpec);

parentPort!.on('message', (req: RowWorkerRequest) => {
  let reply: RowWorkerReply;
  try {
    const segments = req.segments.map((s) => ({
      values: new Float32Array(req.heap, s.byteOffset, s.length),
      bits: new Int32Array(req.heap, s.byteOffset, s.length),
      column: s.column,
      width: s.width,
    }));
    task({ start: req.start, rows: req.rows, segments }, req.from, req.to);
    reply = { done: true };
  } catch (e) {
    reply = { error: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
