import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import * as akin from 'akin';
import { initBackend, tempDir } from './helpers.js';

const tf = akin.tf;

/** Gaussian blobs: `classes` clusters in `dim` dimensions, `perClass` points each (seeded). */
function blobs(classes: number, perClass: number, dim: number, seed: number, spread = 0.6): akin.data.Dataset {
  const r = akin.createRandom(seed);
  const centers = Array.from({ length: classes }, () => Array.from({ length: dim }, () => akin.core.randNormal(r)));
  const features = new Float32Array(classes * perClass * dim);
  const labels = new Int32Array(classes * perClass);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < perClass; i++) {
      const row = c * perClass + i;
      labels[row] = c;
      for (let d = 0; d < dim; d++) features[row * dim + d] = centers[c][d] + spread * akin.core.randNormal(r);
    }
  }
  return { features, labels, count: classes * perClass, shape: [dim] };
}

/** Mean cosine similarity within classes minus across classes, computed in plain loops. */
function separation(emb: Float32Array, labels: Int32Array, dim: number): number {
  let within = 0, nw = 0, across = 0, na = 0;
  const n = labels.length;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) {
    let dot = 0, ni = 0, nj = 0;
    for (let d = 0; d < dim; d++) {
      dot += emb[i * dim + d] * emb[j * dim + d];
      ni += emb[i * dim + d] ** 2;
      nj += emb[j * dim + d] ** 2;
    }
    const cos = dot / Math.sqrt(ni * nj);
    if (labels[i] === labels[j]) { within += cos; nw++; } else { across += cos; na++; }
  }
  return within / nw - across / na;
}

function makeModel(seed = 0): akin.tf.Sequential {
  return akin.models.mlp({ inputDim: 8, hidden: [16], embeddingDim: 4, seed });
}

before(async () => {
  await initBackend();
});

test('training lowers the loss and separates classes better than the untrained network', async () => {
  const data = blobs(4, 32, 8, 1, 1.2);
  const model = makeModel();
  const before = await akin.models.embed(model, data.features, data.count, data.shape);
  const result = await new akin.train.Trainer().fit({
    model, data, loss: new akin.losses.ContrastiveLoss(), batchSize: 32, m: 8, epochs: 8, progress: false, learningRate: 1e-2,
  });
  const after = await akin.models.embed(model, data.features, data.count, data.shape);
  assert.equal(result.epochsRun, 8);
  assert.ok(result.history[7].loss < result.history[0].loss, `loss did not fall: ${result.history.map((h) => h.loss)}`);
  const s0 = separation(before.embeddings, data.labels, 4);
  const s1 = separation(after.embeddings, data.labels, 4);
  assert.ok(s1 > s0 + 0.1, `separation ${s0} -> ${s1}`);
});

test('the number of live tensors does not grow across epochs (with a miner)', async () => {
  const data = blobs(4, 16, 8, 2);
  const model = makeModel(1);
  const counts: number[] = [];
  await new akin.train.Trainer().fit({
    model, data, loss: new akin.losses.TripletMarginLoss(), miner: new akin.miners.TripletMarginMiner({ typeOfTriplets: 'semihard' }),
    batchSize: 16, m: 4, epochs: 4, progress: false,
    callbacks: [{ onEpochEnd: () => { counts.push(tf.memory().numTensors); } }],
  });
  assert.equal(counts.length, 4);
  assert.equal(counts[3], counts[1], `numTensors per epoch: ${counts}`);
  assert.equal(counts[2], counts[1], `numTensors per epoch: ${counts}`);
});

test('early stopping on a training-loss plateau stops after patience + 1 epochs without improvement', async () => {
  const data = blobs(4, 16, 8, 3);
  const result = await new akin.train.Trainer().fit({
    model: makeModel(2), data, loss: new akin.losses.ContrastiveLoss(), batchSize: 16, m: 4, epochs: 20, progress: false,
    // minDelta larger than any change the loss can make: no epoch after the first counts as better.
    earlyStopping: { monitor: 'loss', patience: 1, minDelta: 1e6 },
  });
  assert.equal(result.stoppedEarly, true);
  assert.equal(result.epochsRun, 3);
  assert.equal(result.bestEpoch, 0);
});

test('validation metrics are logged and drive early stopping with the best weights restored', async () => {
  const data = blobs(4, 24, 8, 4);
  const val = blobs(4, 8, 8, 4);
  const model = makeModel(3);
  let calls = 0;
  const result = await new akin.train.Trainer().fit({
    model, data, loss: new akin.losses.ContrastiveLoss(), batchSize: 16, m: 4, epochs: 3, progress: false,
    validation: { evaluate: async (m) => { calls++; const e = await akin.models.embed(m, val.features, val.count, val.shape); return { sep: separation(e.embeddings, val.labels, 4) }; } },
    earlyStopping: { monitor: 'val_sep', mode: 'max', patience: 5 },
  });
  assert.equal(calls, 3);
  assert.ok(result.history.every((h) => typeof h.val_sep === 'number'));
  const best = Math.max(...result.history.map((h) => h.val_sep));
  assert.equal(result.best, best);
  const e = await akin.models.embed(model, val.features, val.count, val.shape);
  assert.ok(Math.abs(separation(e.embeddings, val.labels, 4) - best) < 1e-4, 'weights of the best epoch were not restored');
});

test('a run continues from its checkpoint and ends where an uninterrupted run ends', async () => {
  const data = blobs(4, 16, 8, 5);
  const dir = tempDir('akin-resume-');
  const opts = { data, batchSize: 16, m: 4, progress: false, seed: 7 } as const;
  const full = makeModel(4);
  await new akin.train.Trainer().fit({ ...opts, model: full, loss: new akin.losses.ContrastiveLoss(), epochs: 4 });
  const first = makeModel(4);
  await new akin.train.Trainer().fit({ ...opts, model: first, loss: new akin.losses.ContrastiveLoss(), epochs: 2, runDir: dir });
  assert.ok(existsSync(join(dir, 'checkpoint', 'state.json')));
  const second = makeModel(4);
  const r = await new akin.train.Trainer().fit({ ...opts, model: second, loss: new akin.losses.ContrastiveLoss(), epochs: 4, runDir: dir, resume: true });
  assert.equal(r.epochsRun, 2);
  assert.equal(r.history.length, 4);
  const a = full.getWeights().map((w) => Array.from(w.dataSync()));
  const b = second.getWeights().map((w) => Array.from(w.dataSync()));
  for (let i = 0; i < a.length; i++) for (let j = 0; j < a[i].length; j++) {
    assert.ok(Math.abs(a[i][j] - b[i][j]) < 1e-4, `weight ${i}[${j}]: ${a[i][j]} vs ${b[i][j]}`);
  }
  const lines = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.filter((l) => l.event === 'epoch').map((l) => l.epoch), [0, 1, 2, 3]);
});

test('a training process killed mid-run resumes from its last complete checkpoint', async () => {
  const dir = tempDir('akin-kill-');
  const script = join(dir, 'train.mjs');
  writeFileSync(script, `
    import * as akin from ${JSON.stringify(import.meta.resolve('akin'))};
    await akin.backend.init({ backend: 'cpu' });
    const r = akin.createRandom(1);
    const n = 64, dim = 8;
    const features = new Float32Array(n * dim).map(() => r.next());
    const labels = Int32Array.from({ length: n }, (_, i) => i % 4);
    const model = akin.models.mlp({ inputDim: dim, hidden: [16], embeddingDim: 4 });
    await new akin.train.Trainer().fit({ model, data: { features, labels, count: n, shape: [dim] },
      loss: new akin.losses.ContrastiveLoss(), batchSize: 16, m: 4, epochs: 100000, progress: false,
      runDir: ${JSON.stringify(dir)}, resume: true });
  `);
  const child = spawn(process.execPath, [script], { stdio: 'ignore' });
  const logPath = join(dir, 'log.jsonl');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    if (existsSync(logPath) && readFileSync(logPath, 'utf8').split('\n').filter((l) => l.includes('"epoch"')).length >= 3) break;
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const state = JSON.parse(readFileSync(join(dir, 'checkpoint', 'state.json'), 'utf8')) as akin.train.TrainState;
  assert.ok(state.epoch >= 2, `checkpoint epoch ${state.epoch}`);
  assert.equal(state.history.length, state.epoch + 1);
  const model = akin.models.mlp({ inputDim: 8, hidden: [16], embeddingDim: 4 });
  const r = akin.createRandom(1);
  const features = new Float32Array(64 * 8).map(() => r.next());
  const labels = Int32Array.from({ length: 64 }, (_, i) => i % 4);
  const res = await new akin.train.Trainer().fit({
    model, data: { features, labels, count: 64, shape: [8] }, loss: new akin.losses.ContrastiveLoss(),
    batchSize: 16, m: 4, epochs: state.epoch + 3, progress: false, runDir: dir, resume: true,
  });
  assert.equal(res.epochsRun, 2);
  assert.equal(res.history.length, state.epoch + 3);
});
