import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, assertClose, randomRows } from './helpers.js';

const tf = akin.tf;
const D = akin.distances;

before(async () => {
  await initBackend();
});

test('BatchedDistance: tiles of query rows equal the rows of the full matrix', () => {
  const q = randomRows(11, 5, 3), r = randomRows(7, 5, 4);
  for (const distance of [new D.LpDistance(), new D.CosineSimilarity(), new D.LpDistance({ p: 1, normalizeEmbeddings: false })]) {
    const calls: [number, number, number[][]][] = [];
    const batched = new D.BatchedDistance({ distance, batchSize: 4, iterFn: (mat, s, e) => { calls.push([s, e, mat.arraySync() as number[][]]); } });
    const qt = tf.tensor2d(q), rt = tf.tensor2d(r);
    const before = tf.memory().numTensors;
    batched.compute(qt, rt);
    assert.equal(tf.memory().numTensors, before, 'tiles are disposed');
    const full = tf.tidy(() => distance.matrix(qt, rt).arraySync() as number[][]);
    assert.deepEqual(calls.map(([s, e]) => [s, e]), [[0, 4], [4, 8], [8, 12]]);
    assertClose(calls.flatMap(([, , m]) => m.flat()), full.flat());
    assert.equal(calls[2][2].length, 3, 'the last tile has the remaining rows');
    // without a reference set: the query against itself
    const self: number[][] = [];
    batched.compute(qt);
    new D.BatchedDistance({ distance, batchSize: 5, iterFn: (mat) => { self.push(...(mat.arraySync() as number[][])); } }).compute(qt);
    assertClose(self.flat(), tf.tidy(() => distance.matrix(qt, tf.tensor2d(q)).arraySync() as number[][]).flat());
    tf.dispose([qt, rt]);
  }
});

test('BatchedDistance: defaults, validation and config', () => {
  const b = new D.BatchedDistance({ distance: { className: 'CosineSimilarity' }, iterFn: () => undefined });
  assert.equal(b.batchSize, 32);
  assert.ok(b.isInverted);
  assert.deepEqual(b.getConfig(), { distance: { className: 'CosineSimilarity', config: new D.CosineSimilarity().getConfig() }, batchSize: 32 });
  assert.throws(() => new D.BatchedDistance({ distance: new D.LpDistance(), iterFn: () => undefined, batchSize: 0 }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'batchSize'"));
  assert.throws(() => new D.BatchedDistance({ distance: new D.LpDistance(), iterFn: 'f' as unknown as akin.distances.IterFn }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'iterFn'"));
});
