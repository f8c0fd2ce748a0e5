// BatchPrefetcher: batches assembled ahead (inline or in a worker thread) are exactly the batches built one
// after another by hand (gathered rows, views, augmentation with one random source per epoch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';

const { BatchPrefetcher, assembleBatch } = akin.samplers;

/** 12 images of 4 x 3 x 1 with distinct values, labels 0..3. */
function dataset(shared: boolean): akin.data.Dataset {
  const n = 12, size = 12;
  const features = shared ? new Float32Array(new SharedArrayBuffer(n * size * 4)) : new Float32Array(n * size);
  for (let i = 0; i < n * size; i++) features[i] = i / 10;
  return { features, labels: Int32Array.from({ length: n }, (_, i) => i % 4), count: n, shape: [4, 3, 1] };
}

const BATCHES = [Int32Array.of(3, 0, 7, 11), Int32Array.of(5, 5, 2, 9), Int32Array.of(1, 10, 4, 8), Int32Array.of(6, 0, 3, 2)];

/** The batches built by hand: rows gathered in plain loops, each view augmented in turn from one random source. */
function byHand(data: akin.data.Dataset, views: number, aug: akin.data.ImageAugmenter | null, seed: number) {
  const random = akin.createRandom(seed);
  return BATCHES.map((idx) => {
    const rows = new Float32Array(idx.length * 12);
    idx.forEach((r, i) => { for (let k = 0; k < 12; k++) rows[i * 12 + k] = data.features[r * 12 + k]; });
    const x: number[] = [];
    const labels: number[] = [];
    const instances: number[] = [];
    for (let v = 0; v < views; v++) {
      x.push(...(aug ? aug.apply(rows, idx.length, [4, 3, 1], random) : rows));
      idx.forEach((r, i) => { labels.push(data.labels[r]); instances.push(i); });
    }
    return { x, labels, instances, clean: Array.from(rows) };
  });
}

async function collect(p: akin.samplers.BatchPrefetcher, seed: number): Promise<akin.samplers.HostBatch[]> {
  const out: akin.samplers.HostBatch[] = [];
  for await (const b of p.epoch(BATCHES, seed)) out.push(b);
  return out;
}

test('assembleBatch gathers the rows, repeats them per view and numbers the instances', () => {
  const data = dataset(false);
  const b = assembleBatch(data, Int32Array.of(2, 9), 2, null, akin.createRandom(1), true);
  assert.deepEqual(b.shape, [4, 4, 3, 1]);
  assert.deepEqual(Array.from(b.labels), [2, 1, 2, 1]);
  assert.deepEqual(Array.from(b.instances), [0, 1, 0, 1]);
  assert.deepEqual(Array.from(b.x.subarray(0, 12)), Array.from(data.features.subarray(24, 36)));
  assert.deepEqual(Array.from(b.x.subarray(36, 48)), Array.from(data.features.subarray(108, 120)));
  assert.deepEqual(Array.from(b.clean!), Array.from(b.x.subarray(0, 24)));
});

test('BatchPrefetcher inline and in a worker yields the hand-built batches in order, epoch after epoch', async () => {
  const augment = { pad: 1, flip: 0.5, noise: 0.05 };
  for (const shared of [false, true]) {
    const data = dataset(shared);
    for (const [views, withAug] of [[1, false], [2, true], [1, true]] as const) {
      const aug = withAug ? new akin.data.ImageAugmenter(augment) : null;
      for (const worker of [false, true]) {
        const p = new BatchPrefetcher(data, { views, augment: withAug ? augment : null, withClean: true, worker, depth: 2 });
        for (const seed of [7, 8]) {
          const want = byHand(data, views, aug, seed);
          const got = await collect(p, seed);
          assert.equal(got.length, want.length);
          got.forEach((b, k) => {
            const msg = `shared ${shared} views ${views} aug ${withAug} worker ${worker} seed ${seed} batch ${k}`;
            assert.deepEqual(Array.from(b.x), want[k].x, `${msg} x`);
            assert.deepEqual(Array.from(b.labels), want[k].labels, `${msg} labels`);
            assert.deepEqual(Array.from(b.instances), want[k].instances, `${msg} instances`);
            assert.deepEqual(Array.from(b.clean!), want[k].clean, `${msg} clean`);
            assert.deepEqual(b.shape, [4 * views, 4, 3, 1]);
          });
        }
        await p.close();
      }
    }
  }
});

test('BatchPrefetcher: an epoch left early does not shift the next one; bad options are named', async () => {
  const data = dataset(false);
  const augment = { pad: 1, flip: 0.5 };
  const p = new BatchPrefetcher(data, { augment, worker: true, depth: 3 });
  for await (const _ of p.epoch(BATCHES, 3)) break;
  const again = await collect(p, 3);
  const want = byHand(data, 1, new akin.data.ImageAugmenter(augment), 3);
  assert.deepEqual(again.map((b) => Array.from(b.x)), want.map((w) => w.x));
  await p.close();
  assert.throws(() => new BatchPrefetcher(data, { depth: 0 }), /depth/);
  assert.throws(() => new BatchPrefetcher(data, { views: 1.5 }), /views/);
});

test('Trainer: batches augmented in the worker train exactly like batches augmented inline', async () => {
  await akin.backend.init({ backend: 'cpu' });
  const n = 32;
  const features = new Float32Array(n * 16);
  for (let i = 0; i < n; i++) for (let p = 0; p < 16; p++) features[i * 16 + p] = ((i * 7 + p * 3) % 11) / 10;
  const data: akin.data.Dataset = { features, labels: Int32Array.from({ length: n }, (_, i) => i % 4), count: n, shape: [4, 4, 1] };
  class Inline extends akin.data.ImageAugmenter {}
  const histories: number[][] = [];
  for (const augment of [{ pad: 1, flip: 0.5, noise: 0.1 }, new Inline({ pad: 1, flip: 0.5, noise: 0.1 })]) {
    const model = akin.models.mlp({ inputShape: [4, 4, 1], hidden: [8], embeddingDim: 4, seed: 3 });
    const r = await new akin.train.Trainer().fit({ model, data, loss: new akin.losses.ContrastiveLoss(), batchSize: 8, m: 2, epochs: 2, progress: false, augment });
    histories.push(r.history.map((h) => h.loss));
    model.dispose();
  }
  assert.deepEqual(histories[0], histories[1]);
});
