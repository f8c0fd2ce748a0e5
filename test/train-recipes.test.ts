import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as akin from 'akin';
import { initBackend, assertClose } from './helpers.js';

const tf = akin.tf;
const repo = fileURLToPath(new URL('../../', import.meta.url));

before(async () => {
  await initBackend();
});

test('inputPool average-pools the image before the dense layers (worked by hand)', () => {
  // The 4x4 image 1..16 (row by row) pooled 2x2: [[1+2+5+6, 3+4+7+8], [9+10+13+14, 11+12+15+16]] / 4.
  const model = akin.models.mlp({ inputShape: [4, 4, 1], hidden: [], embeddingDim: 4, normalize: false, inputPool: 2 });
  const dense = model.layers[model.layers.length - 1];
  dense.setWeights([tf.eye(4), tf.zeros([4])]);
  const x = tf.tensor4d(Float32Array.from({ length: 16 }, (_, i) => i + 1), [1, 4, 4, 1]);
  assertClose((model.predict(x) as akin.tf.Tensor).dataSync(), [3.5, 5.5, 11.5, 13.5]);
  x.dispose();
  assert.throws(() => akin.models.mlp({ inputDim: 16, inputPool: 2 }), /inputPool/);
  const spec = akin.pipeline.parseRunConfig({ model: { type: 'mlp', inputPool: 2 } });
  assert.equal(spec.model.inputPool, 2);
});

test('convnet inputPool average-pools the image before the first conv (worked by hand)', () => {
  // 4x4 image 1..16 pooled 2x2 -> [[3.5, 5.5], [11.5, 13.5]]; a 1x1 conv with weight 1 keeps it (ReLU of
  // positives), the 2x2 max pool takes 13.5, and a dense layer with weight 2 and bias 1 gives 28.
  const model = akin.models.convnet({ inputShape: [4, 4, 1], filters: [1], kernelSize: 1, embeddingDim: 1, normalize: false, inputPool: 2 });
  const [conv, dense] = model.layers.filter((l) => l.getWeights().length > 0);
  conv.setWeights([tf.ones([1, 1, 1, 1]), tf.zeros([1])]);
  dense.setWeights([tf.fill([1, 1], 2), tf.ones([1])]);
  const x = tf.tensor4d(Float32Array.from({ length: 16 }, (_, i) => i + 1), [1, 4, 4, 1]);
  assertClose((model.predict(x) as akin.tf.Tensor).dataSync(), [28]);
  x.dispose();
  assert.throws(() => akin.models.convnet({ inputShape: [4, 4, 1], inputPool: 5 }), /inputPool/);
  const spec = akin.pipeline.parseRunConfig({ model: { type: 'convnet', inputPool: 2 } });
  assert.equal(spec.model.inputPool, 2);
});

test('every recipe is a valid run config', () => {
  const dir = join(repo, 'recipes');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 2, `recipes: ${files.join(', ')}`);
  for (const f of files) {
    const c = akin.pipeline.parseRunConfig(JSON.parse(readFileSync(join(dir, f), 'utf8')), f);
    assert.deepEqual(c.data.trainClasses, [0, 1, 2, 3, 4], f);
    assert.deepEqual(c.data.testClasses, [5, 6, 7, 8, 9], f);
  }
});

test("akin demo trains the seed-MLP recipe: same model, loss, optimiser and training terms", async () => {
  const { DEMO_CONFIG } = (await import(new URL('../../dist/cli/demo.js', import.meta.url).href)) as { DEMO_CONFIG: Record<string, unknown> };
  const recipe = JSON.parse(readFileSync(join(repo, 'recipes', 'mlp-seed-zero-shot.json'), 'utf8')) as Record<string, unknown>;
  const demo = akin.pipeline.parseRunConfig(DEMO_CONFIG, 'demo') as unknown as Record<string, unknown>;
  const parsed = akin.pipeline.parseRunConfig(recipe, 'recipe') as unknown as Record<string, unknown>;
  for (const key of ['model', 'projectionHead', 'loss', 'miner', 'optimizer', 'distill', 'batchSize', 'm', 'augment', 'lossWeight']) {
    assert.deepEqual(demo[key], parsed[key], key);
  }
});
