import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as akin from 'akin';
import * as server from 'akin/server';
import { initBackend, tempDir } from './helpers.js';

let model: akin.tf.LayersModel;
let items: akin.data.Dataset;
let predictCalls = 0;

before(async () => {
  await initBackend();
  const r = akin.createRandom(9);
  const n = 40;
  items = {
    features: Float32Array.from({ length: n * 16 }, () => r.next()),
    labels: Int32Array.from({ length: n }, (_, i) => i % 4),
    count: n, shape: [4, 4, 1], classNames: ['a', 'b', 'c', 'd'],
  };
  model = akin.models.mlp({ inputShape: [4, 4, 1], hidden: [8], embeddingDim: 3, seed: 1 });
  // Counts forward passes, to tell a computed layout from one read back from the cache.
  const predict = model.predict.bind(model);
  model.predict = ((x, config) => {
    predictCalls++;
    return predict(x, config);
  }) as typeof model.predict;
});

/** A fresh app, as a new server process would have. */
async function points(runDir: string | undefined, maxPoints = 25): Promise<{ body: any; computed: boolean }> {
  const ctx: server.ServeContext = { model, inputShape: [4, 4, 1], index: new akin.search.ExactIndex(), thresholds: null, items, info: {} };
  const app = await server.createApp(ctx, { runDir, layoutPoints: maxPoints });
  const before = predictCalls;
  try {
    const r = await app.inject({ method: 'GET', url: '/api/points' });
    assert.equal(r.statusCode, 200, r.body);
    return { body: r.json(), computed: predictCalls > before };
  } finally {
    await app.close();
  }
}

test('the projector layout is computed once, cached in the run folder, and recomputed when the index changes', async () => {
  const runDir = tempDir('akin-layout-');
  mkdirSync(join(runDir, 'index'));
  writeFileSync(join(runDir, 'index', 'index.json'), '{"format":"akin-index","version":1,"kind":"exact","size":40}');
  writeFileSync(join(runDir, 'index-source.json'), '{"split":"unseen","count":40,"built":"first"}');

  const first = await points(runDir);
  assert.ok(first.computed, 'the first request computes the layout');
  assert.equal(first.body.points.length, 25);
  // Evenly spaced rows, each with its own label.
  assert.deepEqual(first.body.points.map((p: any) => p.id), Array.from({ length: 25 }, (_, i) => Math.floor((i * 40) / 25)));
  for (const p of first.body.points) assert.equal(p.label, items.labels[p.id]);
  assert.deepEqual(first.body.classNames, ['a', 'b', 'c', 'd']);
  const saved = JSON.parse(readFileSync(join(runDir, 'layout.json'), 'utf8'));
  assert.deepEqual(saved.points, first.body.points);
  assert.deepEqual(readdirSync(runDir).sort(), ['index', 'index-source.json', 'layout.json'], 'written atomically: no temporaries');

  const second = await points(runDir);
  assert.equal(second.computed, false, 'a later server reads the cache: no forward pass, no UMAP');
  assert.deepEqual(second.body, first.body);

  const otherSize = await points(runDir, 30);
  assert.ok(otherSize.computed, 'a different number of points is a different layout');
  assert.equal(otherSize.body.points.length, 30);

  writeFileSync(join(runDir, 'index-source.json'), '{"split":"unseen","count":40,"built":"second"}');
  const rebuilt = await points(runDir, 30);
  assert.ok(rebuilt.computed, 'a rebuilt index invalidates the cache');
  assert.equal((await points(runDir, 30)).computed, false);
  writeFileSync(join(runDir, 'index', 'index.json'), '{"format":"akin-index","version":1,"kind":"exact","size":39}');
  assert.ok((await points(runDir, 30)).computed, 'so does a changed index manifest');

  writeFileSync(join(runDir, 'layout.json'), '{"key": "truncated');
  const corrupt = await points(runDir, 30);
  assert.ok(corrupt.computed, 'an unreadable cache is recomputed, not an error');
  assert.equal(corrupt.body.points.length, 30);
});

test('without a run folder (or an index record) the layout is computed per server and nothing is written', async () => {
  const a = await points(undefined);
  assert.ok(a.computed);
  const runDir = tempDir('akin-layout-');
  const b = await points(runDir);
  assert.ok(b.computed);
  assert.deepEqual(readdirSync(runDir), []);
  assert.deepEqual(b.body, a.body, 'the layout is seeded: the same items give the same layout');
});
