// The Keras-like way: stack layers, compile with a metric loss, fit, evaluate, embed, save.
// Run from the repository with: node examples/sequential.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as akin from 'akin';

const tf = akin.tf;
await akin.backend.init();
const { test } = await akin.data.loadFashionMnist({ source: 'embedded' });
const seen = akin.data.splitByClasses(test, [0, 1, 2, 3, 4]);
const { train, test: held } = akin.data.holdout(seen, { fraction: 0.2, random: akin.createRandom(0) });
const small = akin.data.holdout(train, { fraction: 0.3, random: akin.createRandom(1) }).test;  // ~1,200 images: quick

const net = akin.sequential([
  tf.layers.flatten({ inputShape: [28, 28, 1] }),
  tf.layers.dense({ units: 128, activation: 'relu' }),
  tf.layers.dense({ units: 64 }),
]);                                                                  // + an L2-normalisation layer
net.compile({ loss: 'MultiSimilarityLoss', miner: 'MultiSimilarityMiner', learningRate: 1e-3 });

const x = tf.tensor4d(small.features, [small.count, 28, 28, 1]);
const xHeld = held.features;                                         // Float32Array rows work too
const before = await net.evaluate(xHeld, held.labels);
const history = await net.fit(x, small.labels, {
  epochs: 3, batchSize: 100, validationData: [xHeld, held.labels], earlyStopping: { patience: 1 }, progress: false,
});
const after = await net.evaluate(xHeld, held.labels);
console.log(`val_mapAtR per epoch: ${history.history.val_mapAtR.map((v) => v.toFixed(3)).join(', ')}`);
console.log(`held-out MAP@R: untrained ${before.mapAtR.toFixed(3)}, trained ${after.mapAtR.toFixed(3)}`);

const emb = await net.embed(xHeld.subarray(0, 2 * 784));           // 2 rows of net.outputDim values
const d = net.outputDim;
console.log(`cosine similarity of two held-out images: ${akin.cosineSimilarity(emb.subarray(0, d), emb.subarray(d)).toFixed(3)}`);
const dir = mkdtempSync(join(tmpdir(), 'akin-sequential-'));
await net.save(join(dir, 'net'));                                   // model/ + akin.json (loss, miner, optimiser)
const again = await akin.loadSequential(join(dir, 'net'));          // compiled as saved; fit() continues
console.log(`reloaded: ${again.loss.className}, embeddings of size ${again.outputDim}`);
rmSync(dir, { recursive: true, force: true });
x.dispose();
net.dispose();
again.dispose();
