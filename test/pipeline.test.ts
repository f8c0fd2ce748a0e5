import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend } from './helpers.js';

before(async () => {
  await initBackend();
});

test('class-disjoint validation: validation classes are never trained on and hold all their images', async () => {
  const config = akin.pipeline.parseRunConfig({ data: { source: 'embedded', validationClasses: [4] }, batchSize: 40, m: 10 });
  const d = await akin.pipeline.loadRunData(config);
  const trainClasses = new Set(d.train.labels);
  const valClasses = new Set(d.validation!.labels);
  assert.deepEqual([...trainClasses].sort(), [0, 1, 2, 3]);
  assert.deepEqual([...valClasses], [4]);
  // The embedded split has 1,000 images per class; seenHoldout 0.2 keeps 800 of class 4 for the pool.
  assert.equal(d.validation!.count, 800);
  assert.equal(d.train.count, 4 * 800);
  assert.match(d.description, /not trained on/);
});

test('run config errors name the field: validation classes outside the training classes, or too few left', () => {
  assert.throws(() => akin.pipeline.parseRunConfig({ data: { validationClasses: [7] } }), /data\.validationClasses.*7/);
  assert.throws(() => akin.pipeline.parseRunConfig({ data: { trainClasses: [0, 1], validationClasses: [1] } }), /leaves 1 class/);
  assert.throws(() => akin.pipeline.parseRunConfig({ batchSize: 100, m: 10 }), /classes per batch/);
  const ok = akin.pipeline.parseRunConfig({});
  assert.equal(ok.batchSize % ok.m, 0);
  assert.ok(ok.batchSize / ok.m <= ok.data.trainClasses.length);
});
