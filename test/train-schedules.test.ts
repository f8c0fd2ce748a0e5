import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as akin from 'akin';
import { initBackend, assertClose, tempDir } from './helpers.js';

const tf = akin.tf;

before(async () => {
  await initBackend();
});

/** 4 classes x 8 points of 6 features (seeded), flat vectors. */
function smallData(seed = 1): akin.data.Dataset {
  const r = akin.createRandom(seed);
  const n = 32;
  const features = new Float32Array(n * 6).map(() => r.next() * 2 - 1);
  return { features, labels: Int32Array.from({ length: n }, (_, i) => i % 4), count: n, shape: [6] };
}

test('schedule values follow their formulas', () => {
  const at = (o: akin.train.LrScheduleOptions, step: number, spe = 10, epochs = 2): number =>
    akin.train.learningRateAt(akin.train.parseLrSchedule(o), 1, step, spe, epochs);
  // Cosine over 20 steps: 1 at the start, (1 + cos(pi/4)) / 2 = 0.853553 at a quarter, 0.5 halfway, 0 at the end.
  assertClose(at({ type: 'cosine' }, 0), 1);
  assertClose(at({ type: 'cosine' }, 5), 0.8535534);
  assertClose(at({ type: 'cosine' }, 10), 0.5);
  assertClose(at({ type: 'cosine' }, 20), 0, { atol: 1e-9 });
  // minFactor 0.1: 0.1 + 0.9 * 0.5 = 0.55 halfway.
  assertClose(at({ type: 'cosine', minFactor: 0.1 }, 10), 0.55);
  // Warm-up of half an epoch (5 steps): 0.2, 0.4, ..., 1.0; then cosine over the remaining 15 steps.
  assert.deepEqual([0, 1, 2, 3, 4].map((s) => Number(at({ type: 'cosine', warmupEpochs: 0.5 }, s).toFixed(6))), [0.2, 0.4, 0.6, 0.8, 1]);
  assertClose(at({ type: 'cosine', warmupEpochs: 0.5 }, 5), 1);
  assertClose(at({ type: 'cosine', warmupEpochs: 0.5 }, 5 + 7.5), 0.5);
  // Step: gamma 0.5 every 2 epochs of 3 steps: steps 0-5 -> 1, 6-11 -> 0.5, 12-17 -> 0.25.
  const step = { type: 'step', stepEpochs: 2, gamma: 0.5 } as const;
  assert.deepEqual([0, 5, 6, 11, 12].map((s) => at(step, s, 3, 6)), [1, 1, 0.5, 0.5, 0.25]);
  assert.equal(at({}, 7), 1);
  assert.throws(() => akin.train.parseLrSchedule({ type: 'linear' } as never), /type/);
  assert.throws(() => akin.train.parseLrSchedule({ gamma: 2 }), /gamma/);
});

test('the Trainer sets the scheduled rate before every step (SGD, warm-up then cosine)', async () => {
  const data = smallData();
  const opt = tf.train.sgd(0.1);
  const seen: number[] = [];
  await new akin.train.Trainer().fit({
    model: akin.models.mlp({ inputDim: 6, hidden: [8], embeddingDim: 4 }), data, loss: new akin.losses.ContrastiveLoss(),
    batchSize: 8, m: 2, epochs: 2, progress: false, optimizer: opt, lrSchedule: { type: 'cosine', warmupEpochs: 0.5 },
    callbacks: [{ onBatchEnd: () => { seen.push(akin.train.getLearningRate(opt)); } }],
  });
  // 4 steps per epoch, 8 in all; warm-up of 2 steps: 0.05, 0.1; then cosine over 6 steps: 0.1 * (1 + cos(pi t / 6)) / 2.
  const expected = [0.05, 0.1, ...[0, 1, 2, 3, 4, 5].map((t) => (0.1 * (1 + Math.cos((Math.PI * t) / 6))) / 2)];
  assertClose(seen, expected, { atol: 1e-9 });
  assert.equal(akin.train.getLearningRate(opt), 0.1, 'a caller-owned optimiser gets its rate back');
  opt.dispose();
});

/** One SGD/Adam step on a batch whose loss has no gradient (every pair inside its margin), so only weight decay moves the weights. */
async function oneDecayStep(optimizer: 'sgd' | 'adam', mode: 'decoupled' | 'l2'): Promise<{ before: Float32Array[]; after: Float32Array[] }> {
  const data = smallData(2);
  const model = akin.models.mlp({ inputDim: 6, hidden: [8], embeddingDim: 4, seed: 3 });
  const before = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  await new akin.train.Trainer().fit({
    model, data, batchSize: 8, m: 2, epochs: 1, samplesPerEpoch: 8, progress: false,
    // Unit-norm embeddings are at most 2 apart: posMargin 3 and negMargin 0 make every pair loss 0.
    loss: new akin.losses.ContrastiveLoss({ posMargin: 3, negMargin: 0 }),
    optimizer, learningRate: 0.1, weightDecay: 0.2, weightDecayMode: mode,
  });
  return { before, after: model.getWeights().map((w) => w.dataSync().slice() as Float32Array) };
}

test('decoupled weight decay shrinks kernels by (1 - lr * wd) and leaves biases alone', async () => {
  const { before, after } = await oneDecayStep('adam', 'decoupled');
  // Weights: kernel [6, 8], bias [8], kernel [8, 4], bias [4].
  assertClose(after[0], before[0].map((w) => w * (1 - 0.1 * 0.2)), { atol: 1e-6 });
  assertClose(after[2], before[2].map((w) => w * (1 - 0.1 * 0.2)), { atol: 1e-6 });
  assertClose(after[1], before[1], { atol: 0 });
  assertClose(after[3], before[3], { atol: 0 });
});

test('L2 weight decay goes through the optimiser: SGD takes lr * wd * w, Adam its first step as lr * sign(w)', async () => {
  const sgd = await oneDecayStep('sgd', 'l2');
  assertClose(sgd.after[0], sgd.before[0].map((w) => w - 0.1 * 0.2 * w), { atol: 1e-6 });
  assertClose(sgd.after[1], sgd.before[1], { atol: 0 });
  // Adam's first step is lr * m_hat / (sqrt(v_hat) + eps) = lr * g / |g| for the gradient g = wd * w.
  const adam = await oneDecayStep('adam', 'l2');
  assertClose(adam.after[2], adam.before[2].map((w) => w - 0.1 * Math.sign(w)), { atol: 1e-4 });
});

test('lossLearningRate steps the proxies with their own rate; the model keeps its own', async () => {
  const data = smallData(4);
  const run = async (lossLearningRate: number | undefined) => {
    const model = akin.models.mlp({ inputDim: 6, hidden: [8], embeddingDim: 4, seed: 5 });
    const loss = new akin.losses.ProxyAnchorLoss({ numClasses: 4, embeddingSize: 4, seed: 1 });
    const p0 = loss.trainableWeights[0].dataSync().slice();
    const w0 = model.getWeights()[0].dataSync().slice();
    await new akin.train.Trainer().fit({
      model, data, loss, batchSize: 8, m: 2, epochs: 1, samplesPerEpoch: 8, progress: false,
      optimizer: 'sgd', learningRate: 0.01, lossLearningRate,
    });
    const dp = loss.trainableWeights[0].dataSync().map((v, i) => v - p0[i]);
    const dw = model.getWeights()[0].dataSync().map((v, i) => v - w0[i]);
    loss.dispose();
    return { dp, dw };
  };
  const same = await run(undefined);
  const big = await run(1);
  // SGD: a step is lr * gradient, and the first step's gradients are the same in both runs.
  assertClose(big.dp, same.dp.map((d) => d * 100), { atol: 1e-6, rtol: 1e-3 });
  assertClose(big.dw, same.dw, { atol: 1e-7 });
  assert.ok(same.dp.some((d) => Math.abs(d) > 1e-7), 'the proxies moved');
});

test('a run with its own loss optimiser and a projection head resumes to where an uninterrupted run ends', async () => {
  const data = smallData(6);
  const setup = () => ({
    model: akin.models.mlp({ inputDim: 6, hidden: [8], embeddingDim: 4, seed: 7 }),
    head: tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [4], kernelInitializer: tf.initializers.glorotUniform({ seed: 8 }) })] }),
    loss: new akin.losses.ProxyAnchorLoss({ numClasses: 4, embeddingSize: 4, seed: 2 }),
  });
  const common = { data, batchSize: 8, m: 2, progress: false, seed: 3, learningRate: 0.01, lossLearningRate: 0.05, weightDecay: 0.01, lrSchedule: { type: 'cosine' as const } };
  const full = setup();
  await new akin.train.Trainer().fit({ ...common, ...full, epochs: 4 });
  const dir = tempDir('akin-resume-extras-');
  const a = setup();
  // Interrupted after its second epoch (the schedule is the 4-epoch one throughout).
  await new akin.train.Trainer().fit({ ...common, ...a, epochs: 4, runDir: dir, callbacks: [{ onEpochEnd: (e) => (e === 1 ? 'stop' : undefined) }] });
  const b = setup();
  const r = await new akin.train.Trainer().fit({ ...common, ...b, epochs: 4, runDir: dir, resume: true });
  assert.equal(r.epochsRun, 2);
  const flat = (ws: akin.tf.Tensor[]): number[] => ws.flatMap((w) => Array.from(w.dataSync()));
  assertClose(flat(b.model.getWeights()), flat(full.model.getWeights()), { atol: 1e-5 });
  assertClose(flat(b.head.getWeights()), flat(full.head.getWeights()), { atol: 1e-5 });
  assertClose(flat(b.loss.trainableWeights), flat(full.loss.trainableWeights), { atol: 1e-5 });
  // And the head moved: it was trained.
  const fresh = setup();
  assert.ok(flat(fresh.head.getWeights()).some((v, i) => Math.abs(v - flat(full.head.getWeights())[i]) > 1e-4));
});

test('run configs take the training options, and refuse combinations that cannot work', () => {
  const c = akin.pipeline.parseRunConfig({
    data: { source: 'embedded' },
    optimizer: { learningRate: 3e-4, weightDecay: 1e-4, lossLearningRate: 1e-2, schedule: { type: 'cosine', warmupEpochs: 1 } },
    augment: { pad: 2, flip: 0.5 }, views: 2, selfSupervised: { loss: { className: 'NTXentLoss', config: { temperature: 0.5 } } },
    projectionHead: { hidden: [128] },
  });
  assert.equal(c.optimizer.schedule.type, 'cosine');
  assert.equal(c.optimizer.schedule.minFactor, 0);
  assert.equal(c.optimizer.weightDecayMode, 'decoupled');
  assert.equal(c.augment?.noise, 0);
  assert.equal(c.selfSupervised?.weight, 1);
  const d = akin.pipeline.parseRunConfig({});
  assert.equal(d.optimizer.schedule.type, 'constant');
  assert.equal(d.augment, null);
  assert.equal(d.views, 1);
  assert.throws(() => akin.pipeline.parseRunConfig({ selfSupervised: { loss: { className: 'NTXentLoss' } } }), /views/);
  assert.throws(() => akin.pipeline.parseRunConfig({ lossWeight: 0 }), /nothing to train/);
  const dist = akin.pipeline.parseRunConfig({ lossWeight: 0, distill: { teacher: 'initial' } });
  assert.deepEqual(dist.distill, { teacher: 'initial', weight: 1, temperature: 0.05, augment: null });
  assert.throws(() => akin.pipeline.parseRunConfig({ distill: { teacher: 'raw' } }), /distill\.teacher/);
  assert.throws(() => akin.pipeline.parseRunConfig({ optimizer: { schedule: { type: 'cosine', gamma: 3 } } }), /optimizer\.schedule\.gamma/);
  assert.throws(() => akin.pipeline.parseRunConfig({ augment: { pad: 1.5 } }), /augment\.pad/);
  assert.throws(() => akin.pipeline.parseRunConfig({ data: { kind: 'vectors', source: 'x.npy' }, augment: { pad: 1 } }), /image inputs only/);
  // Retrieval within one class is always perfect: early stopping on it could never pick a later epoch.
  assert.throws(() => akin.pipeline.parseRunConfig({ data: { validationClasses: [4] }, earlyStopping: {} }), /at least 2 classes/);
  assert.equal(akin.pipeline.parseRunConfig({ data: { validationClasses: [3, 4] }, earlyStopping: {}, batchSize: 60, m: 20 }).data.validationClasses.length, 2);
});
