import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as akin from 'akin';
import { initBackend, tempDir } from './helpers.js';

const tf = akin.tf;

before(async () => {
  await initBackend();
});

/** Rows of `classes` classes, `perClass` each, centred on the class's corner of a cube, plus noise. */
function rows(classes: number, perClass: number, dim: number, seed: number): { x: number[][]; y: number[] } {
  const r = akin.createRandom(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < classes * perClass; i++) {
    const c = i % classes;
    x.push(Array.from({ length: dim }, (_, d) => ((c >> (d % 3)) & 1 ? 2 : -2) + 0.5 * akin.core.randNormal(r)));
    y.push(c);
  }
  return { x, y };
}

function net(seed = 0): akin.SequentialEmbedder {
  return akin.sequential([
    tf.layers.dense({ units: 16, activation: 'relu', inputShape: [6], kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
    tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
  ]);
}

/** Collects the warnings emitted with akin's NaN code while `fn` runs (and the ticks after it). */
async function warningsDuring(fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const on = (w: Error & { code?: string }): void => {
    if (w.code === akin.train.NAN_MONITOR_WARNING) seen.push(w.message);
  };
  process.on('warning', on);
  try {
    await fn();
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', on);
  }
  return seen;
}

test('EarlyStoppingTracker: NaN is never the best; a NaN validation metric neither improves nor uses up patience; one warning', () => {
  const warnings: string[] = [];
  const cfg = akin.train.parseEarlyStopping({ monitor: 'val_mapAtR', patience: 1 });
  const t = new akin.train.EarlyStoppingTracker(cfg, (m) => warnings.push(m));
  const state = { best: null as number | null, bestEpoch: -1, wait: 0 };
  // Hand-worked: NaN, NaN (no verdict), 0.5 (best), NaN (no verdict), 0.4 (wait 1), 0.45 (wait 2 > 1: stop).
  const seq = [Number.NaN, Number.NaN, 0.5, Number.NaN, 0.4, 0.45];
  const verdicts = seq.map((v, epoch) => t.update(epoch, { loss: 1, val_mapAtR: v, val_rPrecision: v }, state));
  assert.deepEqual(verdicts, ['continue', 'continue', 'improved', 'continue', 'continue', 'stop']);
  assert.equal(state.best, 0.5);
  assert.equal(state.bestEpoch, 2);
  assert.equal(warnings.length, 1, 'warned once');
  assert.match(warnings[0], /val_mapAtR, val_rPrecision/);
  assert.match(warnings[0], /the validation split has no class with two members/);

  // All NaN: nothing is ever the best and the run is never stopped by it.
  const s2 = { best: null as number | null, bestEpoch: -1, wait: 0 };
  const t2 = new akin.train.EarlyStoppingTracker(akin.train.parseEarlyStopping({ monitor: 'val_mapAtR', patience: 0 }), () => undefined);
  for (let e = 0; e < 5; e++) assert.equal(t2.update(e, { val_mapAtR: Number.NaN }, s2), 'continue');
  assert.deepEqual(s2, { best: null, bestEpoch: -1, wait: 0 });

  // A NaN training loss (divergence) is no improvement and counts towards patience.
  const w3: string[] = [];
  const s3 = { best: null as number | null, bestEpoch: -1, wait: 0 };
  const t3 = new akin.train.EarlyStoppingTracker(akin.train.parseEarlyStopping({ monitor: 'loss', patience: 1 }), (m) => w3.push(m));
  assert.deepEqual([2, Number.NaN, Number.NaN].map((v, e) => t3.update(e, { loss: v }, s3)), ['improved', 'continue', 'stop']);
  assert.equal(s3.best, 2);
  assert.equal(w3.length, 1);
  assert.match(w3[0], /'loss' is NaN: training has diverged/);
});

test('fit with a validation set of singletons: val metrics NaN (null in log.jsonl), never the best, no crash, one warning', async () => {
  const train = rows(4, 12, 6, 1);
  const single = rows(5, 1, 6, 2); // five classes, one sample each: every validation query is lone
  // Sequential API: early stopping on val_mapAtR (its default with validationData), patience 0.
  const model = net();
  model.compile({ loss: 'ContrastiveLoss', learningRate: 1e-2 });
  let history: akin.History | undefined;
  const warnings = await warningsDuring(async () => {
    history = await model.fit(train.x, train.y, { epochs: 3, batchSize: 16, m: 4, validationData: [single.x, single.y], earlyStopping: { patience: 0 }, progress: false });
  });
  assert.ok(history);
  assert.deepEqual(history.epoch, [0, 1, 2], 'NaN epochs do not use up patience: all three epochs run');
  assert.equal(history.history.val_mapAtR.length, 3);
  assert.ok(history.history.val_mapAtR.every((v) => Number.isNaN(v)), JSON.stringify(history.history.val_mapAtR));
  assert.equal(history.stoppedEarly, false);
  assert.equal(history.bestEpoch, 2, 'no finite value: the last epoch stands as the best');
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0], /validation split has no class with two members/);

  // Trainer with a run folder: log.jsonl holds null for NaN, no best/ model is written from a NaN.
  const dir = tempDir('akin-nan-val-');
  const valDs = { features: Float32Array.from(single.x.flat()), labels: Int32Array.from(single.y), count: 5, shape: [6] };
  const data = { features: Float32Array.from(train.x.flat()), labels: Int32Array.from(train.y), count: train.y.length, shape: [6] };
  const lines: string[] = [];
  const progress = new akin.train.ProgressCallback({ write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream, false);
  let result: akin.train.FitResult | undefined;
  const w2 = await warningsDuring(async () => {
    result = await new akin.train.Trainer().fit({
      model: net(1).model, loss: new akin.losses.ContrastiveLoss(), data, batchSize: 16, m: 4, epochs: 2, progress: false, runDir: dir,
      validation: { evaluate: akin.pipeline.retrievalValidator(valDs) },
      earlyStopping: { monitor: 'val_mapAtR', patience: 0 }, callbacks: [progress],
    });
  });
  assert.ok(result);
  assert.equal(result.best, null);
  assert.equal(result.bestEpoch, 1);
  assert.equal(result.epochsRun, 2);
  assert.equal(w2.length, 1);
  assert.ok(!existsSync(join(dir, 'best')), 'a NaN epoch is never saved as the best model');
  const epochs = readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'epoch');
  assert.equal(epochs.length, 2);
  for (const e of epochs) {
    assert.equal(e.val_mapAtR, null);
    assert.equal(e.val_precisionAt1, null);
    assert.ok(Number.isFinite(e.loss));
  }
  assert.equal(lines.length, 2);
  assert.match(lines[0], /val_mapAtR NaN/);
});
