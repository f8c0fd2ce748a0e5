import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, tempDir } from './helpers.js';

before(async () => {
  await initBackend();
});

test('an Adam run interrupted and resumed ends with exactly the weights of an uninterrupted run', async () => {
  // Adam's bias correction uses beta^t kept as a running float32 product; if a resume recomputed it
  // as pow(beta, t) the last bit would differ and the two runs would drift apart.
  const r = akin.createRandom(3);
  const n = 128;
  const dim = 12;
  const features = new Float32Array(n * dim).map(() => r.next() * 2 - 1);
  const data: akin.data.Dataset = { features, labels: Int32Array.from({ length: n }, (_, i) => i % 8), count: n, shape: [dim] };
  const common = { data, batchSize: 32, m: 4, learningRate: 1e-3, progress: false, optimizer: 'adam' as const, epochs: 5 };
  const build = () => akin.models.mlp({ inputDim: dim, hidden: [16], embeddingDim: 8, seed: 5 });
  const full = build();
  await new akin.train.Trainer().fit({ ...common, model: full, loss: new akin.losses.ContrastiveLoss() });
  const dir = tempDir('akin-resume-exact-');
  const first = build();
  await new akin.train.Trainer().fit({ ...common, model: first, loss: new akin.losses.ContrastiveLoss(), runDir: dir, callbacks: [{ onEpochEnd: (e: number) => (e === 1 ? 'stop' : undefined) }] });
  const resumed = build();
  const result = await new akin.train.Trainer().fit({ ...common, model: resumed, loss: new akin.losses.ContrastiveLoss(), runDir: dir, resume: true });
  assert.equal(result.epochsRun, 3);
  const flat = (m: akin.tf.LayersModel) => m.getWeights().flatMap((w) => Array.from(w.dataSync()));
  assert.deepEqual(flat(resumed), flat(full));
  assert.notDeepEqual(flat(first), flat(full));
});
