import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend } from './helpers.js';

before(async () => {
  await initBackend();
});

/** Every weight of a model, read back. */
function weights(model: akin.tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

/**
 * tfjs's normal initialisers (heNormal, glorotNormal, randomNormal, orthogonal) draw from an
 * unseeded source when their seed is 0 or absent, so each builder is built twice with seed 0 (the
 * run default) and twice with another seed: equal weights within a seed, different across seeds.
 */
const builders: [string, (seed: number) => akin.tf.LayersModel][] = [
  ['textEncoder conv', (seed) => akin.models.textEncoder({ sequenceLength: 12, vocabSize: 50, tokenDim: 8, filters: [6, 5], embeddingDim: 4, seed })],
  ['textEncoder gru', (seed) => akin.models.textEncoder({ sequenceLength: 12, vocabSize: 50, tokenDim: 8, layer: 'gru', filters: [6], embeddingDim: 4, dropout: 0.1, seed })],
  ['textExpansion', (seed) => akin.models.textExpansion({ inputDim: 30, projectionDim: 5, seed })],
  ['audioConvnet', (seed) => akin.models.audioConvnet({ inputShape: [16, 8, 1], filters: [4, 6], embeddingDim: 4, seed })],
  ['mlp (n-gram text)', (seed) => akin.models.mlp({ inputDim: 40, hidden: [7], embeddingDim: 4, seed })],
  ['adapter residual', (seed) => akin.models.adapter({ dim: 6, type: 'residual', hidden: [5], seed })],
];

for (const [name, build] of builders) {
  test(`${name}: the same seed gives the same initial weights, another seed other weights`, () => {
    const runs = [0, 0, 5, 5].map((seed) => {
      const m = build(seed);
      const w = weights(m);
      m.dispose();
      return w;
    });
    assert.deepEqual(runs[1], runs[0], 'seed 0 twice');
    assert.deepEqual(runs[3], runs[2], 'seed 5 twice');
    assert.notDeepEqual(runs[2], runs[0], 'seeds 0 and 5');
  });
}
