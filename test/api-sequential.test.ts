import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import * as akin from 'akin';
import { initBackend, assertClose, tempDir } from './helpers.js';

const tf = akin.tf;
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

before(async () => {
  await initBackend();
});

/** Rows whose class shows in the first 3 of `dim` columns; the rest is noise twice as large. */
function rows(classes: number, perClass: number, dim: number, seed: number): { x: number[][]; y: number[] } {
  const r = akin.createRandom(seed);
  const centres = Array.from({ length: classes }, (_, c) => [Math.cos(c), Math.sin(c), c % 2 === 0 ? 1 : -1].map((v) => 2 * v));
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < classes * perClass; i++) {
    const c = i % classes;
    x.push(Array.from({ length: dim }, (_, d) => (d < 3 ? centres[c][d] + 0.3 * akin.core.randNormal(r) : 2 * akin.core.randNormal(r))));
    y.push(c);
  }
  return { x, y };
}

/** Mean of (1 - |row|) over rows: 0 when every row has unit L2 norm. */
function normError(emb: Float32Array, dim: number): number {
  let worst = 0;
  for (let i = 0; i < emb.length / dim; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += emb[i * dim + d] ** 2;
    worst = Math.max(worst, Math.abs(Math.sqrt(s) - 1));
  }
  return worst;
}

function net(seed = 0): akin.SequentialEmbedder {
  return akin.sequential([
    tf.layers.dense({ units: 24, activation: 'relu', inputShape: [12], kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
    tf.layers.dense({ units: 8, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
  ]);
}

test('compile + fit trains on held-out data above the untrained network, with a Keras-like history', async () => {
  const train = rows(6, 40, 12, 1);
  const held = rows(6, 20, 12, 2);
  const model = net();
  model.compile({ loss: 'MultiSimilarityLoss', miner: { className: 'MultiSimilarityMiner', config: { epsilon: 0.1 } }, learningRate: 1e-2 });
  const untrained = await model.evaluate(held.x, held.y);
  const history = await model.fit(train.x, train.y, { epochs: 8, batchSize: 48, validationData: [held.x, held.y], progress: false });
  const trained = await model.evaluate(held.x, held.y);
  assert.deepEqual(history.epoch, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(history.history.loss.length, 8);
  assert.equal(history.history.val_mapAtR.length, 8);
  assert.equal(history.stoppedEarly, false);
  assertClose(history.history.val_mapAtR[7], trained.mapAtR, { atol: 1e-6, msg: 'last val_mapAtR is the held-out MAP@R' });
  assert.ok(trained.mapAtR > untrained.mapAtR + 0.15, `held-out MAP@R ${untrained.mapAtR.toFixed(3)} -> ${trained.mapAtR.toFixed(3)}`);
  assert.ok(history.history.loss[7] < history.history.loss[0], `loss ${history.history.loss}`);
  model.dispose();
});

test('embed takes number[][], Float32Array rows or a tensor and returns unit-norm rows', async () => {
  const { x } = rows(3, 4, 12, 3);
  const model = net(5);
  assert.equal(model.outputDim, 8);
  assert.deepEqual(model.inputShape, [12]);
  const a = await model.embed(x);
  const b = await model.embed(Float32Array.from(x.flat()));
  const t = tf.tensor2d(x);
  const c = await model.embed(t);
  const d = model.embedTensor(t);
  assert.equal(a.length, 12 * 8);
  assert.ok(normError(a, 8) < 1e-5);
  assertClose(b, a, { atol: 1e-6 });
  assertClose(c, a, { atol: 1e-6 });
  assert.deepEqual(d.shape, [12, 8]);
  assertClose(d.dataSync(), a, { atol: 1e-6 });
  // the same network without the normalisation layer: rows are no longer unit-norm
  const raw = akin.sequential([tf.layers.dense({ units: 8, inputShape: [12], kernelInitializer: tf.initializers.glorotUniform({ seed: 9 }) })], { normalize: false });
  assert.ok(normError(await raw.embed(x), 8) > 1e-3);
  tf.dispose([t, d]);
  model.dispose();
  raw.dispose();
});

test('save and loadSequential keep the weights and the compile settings', async () => {
  const { x, y } = rows(4, 8, 12, 4);
  const model = net(2);
  model.compile({ loss: new akin.losses.TripletMarginLoss({ margin: 0.2 }), miner: 'TripletMarginMiner', optimizer: 'sgd', learningRate: 0.05 });
  await model.fit(x, y, { epochs: 1, batchSize: 16, progress: false });
  const dir = join(tempDir('akin-seq-'), 'net');
  await model.save(dir);
  assert.ok(existsSync(join(dir, 'akin.json')) && existsSync(join(dir, 'model', 'model.json')));
  const loaded = await akin.loadSequential(dir);
  assertClose(await loaded.embed(x), await model.embed(x), { atol: 1e-6 });
  assert.equal(loaded.loss?.className, 'TripletMarginLoss');
  assert.equal((loaded.loss?.getConfig() as { margin: number }).margin, 0.2);
  assert.equal(loaded.miner?.className, 'TripletMarginMiner');
  const h = await loaded.fit(x, y, { epochs: 1, batchSize: 16, progress: false });
  assert.ok(Number.isFinite(h.history.loss[0]));
  await assert.rejects(akin.loadSequential(join(dir, 'nope')), /akin\.json is missing/);
  model.dispose();
  loaded.dispose();
});

test('early stopping: true monitors the loss without validation data and stops after patience', async () => {
  const { x, y } = rows(4, 8, 12, 6);
  const model = net(3);
  model.compile({ loss: 'ContrastiveLoss' });
  const h = await model.fit(x, y, { epochs: 6, batchSize: 16, earlyStopping: { patience: 1, minDelta: 1e6 }, progress: false });
  // epoch 0 sets the best; epochs 1 and 2 cannot improve by 1e6, so the second of them stops training
  assert.equal(h.stoppedEarly, true);
  assert.deepEqual(h.epoch, [0, 1, 2]);
  assert.equal(h.bestEpoch, 0);
  model.dispose();
});

test('bad calls name what is wrong', async () => {
  const { x, y } = rows(2, 4, 12, 7);
  const model = net();
  await assert.rejects(model.fit(x, y), /fit: call compile\(\{ loss \}\) first/);
  assert.throws(() => model.compile({ loss: 'NopeLoss' }), /unknown loss 'NopeLoss'; known: .*TripletMarginLoss/);
  assert.throws(() => model.compile({} as akin.CompileOptions), /compile: option 'loss'/);
  assert.throws(() => model.compile({ loss: 'ContrastiveLoss', learningRate: -1 }), /compile: option 'learningRate'/);
  model.compile({ loss: 'ContrastiveLoss' });
  await assert.rejects(model.fit(x, y.slice(1), { progress: false }), /fit: labels has 7 labels but there are 8 samples/);
  await assert.rejects(model.fit(x, y.map((v) => v + 0.5), { progress: false }), /fit: labels\[0\] must be a non-negative integer/);
  await assert.rejects(model.fit([[1, 2]], [0], { progress: false }), /fit: x: row 0 has 2 values, the model takes 12/);
  await assert.rejects(model.fit(x, y, { epochs: 0 }), /fit: option 'epochs'/);
  assert.throws(() => akin.sequential([]), /non-empty array of layers/);
  assert.throws(() => akin.sequential([tf.layers.dense({ units: 3 })]), /first layer an inputShape/);
  model.dispose();
});

test('the sequential example runs', () => {
  const r = spawnSync(process.execPath, [join(repo, 'examples', 'sequential.mjs')], { cwd: repo, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const m = /held-out MAP@R: untrained (\d\.\d+), trained (\d\.\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.ok(Number(m[2]) > Number(m[1]), r.stdout);
});

test('the per-modality sequential example trains text, audio, tabular and vector nets above their untrained selves', () => {
  const r = spawnSync(process.execPath, [join(repo, 'examples', 'sequential-modalities.mjs')], { cwd: repo, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // margins well inside what the example reaches (text +0.03, audio +0.37, tabular +0.40, vectors +0.77)
  const margins: Record<string, number> = { text: 0.015, audio: 0.15, tabular: 0.2, vectors: 0.4 };
  for (const [kind, margin] of Object.entries(margins)) {
    const m = new RegExp(`^${kind}: held-out MAP@R untrained (\\d\\.\\d+), trained (\\d\\.\\d+)$`, 'm').exec(r.stdout);
    if (kind === 'audio' && !m) {
      assert.match(r.stdout, /audio: skipped \(espeak-ng is not installed\)/);
      continue;
    }
    assert.ok(m, `${kind} line missing in:\n${r.stdout}`);
    assert.ok(Number(m[2]) > Number(m[1]) + margin, `${kind}: ${m[0]}`);
  }
  assert.match(r.stdout, /tabular: a new row embeds to 16 numbers/);
});
