/*
 * The worker thread of BatchPrefetcher: holds the dataset (shared memory) and assembles the batches it is
 * asked for, in the order asked, with one random source per epoch; each batch's arrays are transferred
 * back without a copy.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ImageAugmenter } from '../data/augment.js';
import { createRandom, type Random } from '../core/random.js';
import { assembleBatch, type WorkerReply, type WorkerRequest, type WorkerSetup } from './prefetch.js';

const setup = workerData as WorkerSetup;
const data = { features: setup.features, labels: setup.labels, shape: setup.shape, count: setup.labels.length };
const augmenter = setup.augment ? new ImageAugmenter(setup.augment) : null;
let epoch = -1;
let random: Random = createRandom(0);

parentPort!.on('message', (req: WorkerRequest) => {
  try {
    if (req.epoch !== epoch) {
      epoch = req.epoch;
      random = createRandom(req.seed);
    }
    const batch = assembleBatch(data, req.idx, setup.views, augmenter, random, setup.withClean);
    const transfer = [batch.x.buffer, batch.labels.buffer, batch.instances.buffer];
    if (batch.clean && batch.clean.buffer !== batch.x.buffer) transfer.push(batch.clean.buffer);
    const reply: WorkerReply = { epoch, batch };
    parentPort!.postMessage(reply, transfer as ArrayBuffer[]);
  } catch (e) {
    const reply: WorkerReply = { error: (e as Error).message };
    parentPort!.postMessage(reply);
  }
});
