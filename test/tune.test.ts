import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as akin from 'akin';
import { initBackend, tempDir } from './helpers.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

before(async () => {
  await initBackend();
});

const base = { data: { source: 'embedded' }, batchSize: 100, m: 20, epochs: 9 };

test('values are drawn within their bounds, log-uniform spread evenly in log space, the same seed giving the same draws', () => {
  const space = akin.pipeline.parseSearchSpace({
    'optimizer.learningRate': { logUniform: [1e-4, 1e-2] },
    'model.dropout': { uniform: [0.1, 0.3] },
    'model.embeddingDim': { int: [2, 4] },
    loss: { choice: [{ className: 'ContrastiveLoss' }, { className: 'MultiSimilarityLoss' }] },
  });
  const r = akin.createRandom(1);
  const draws = Array.from({ length: 2000 }, () => akin.pipeline.sampleParams(space, r));
  const lrs = draws.map((d) => d['optimizer.learningRate'] as number);
  assert.ok(lrs.every((v) => v >= 1e-4 && v <= 1e-2));
  // Log-uniform on [1e-4, 1e-2]: half the draws below the geometric mean 1e-3, a quarter below 10^-3.5.
  const below = (x: number): number => lrs.filter((v) => v < x).length / lrs.length;
  assert.ok(Math.abs(below(1e-3) - 0.5) < 0.04, `below 1e-3: ${below(1e-3)}`);
  assert.ok(Math.abs(below(10 ** -3.5) - 0.25) < 0.04, `below 10^-3.5: ${below(10 ** -3.5)}`);
  assert.ok(draws.every((d) => (d['model.dropout'] as number) >= 0.1 && (d['model.dropout'] as number) <= 0.3));
  const dims = new Set(draws.map((d) => d['model.embeddingDim']));
  assert.deepEqual([...dims].sort(), [2, 3, 4]);
  assert.equal(new Set(draws.map((d) => JSON.stringify(d.loss))).size, 2);
  const again = akin.createRandom(1);
  assert.deepEqual(akin.pipeline.sampleParams(space, again), draws[0]);
});

test('a sampled value replaces its dotted path in a copy of the base config', () => {
  const b = { optimizer: { name: 'adam', learningRate: 1e-3 }, epochs: 3 };
  const out = akin.pipeline.applyParams(b, { 'optimizer.learningRate': 0.01, 'optimizer.schedule.type': 'cosine', epochs: 5 });
  assert.deepEqual(out, { optimizer: { name: 'adam', learningRate: 0.01, schedule: { type: 'cosine' } }, epochs: 5 });
  assert.equal(b.optimizer.learningRate, 1e-3, 'the base is not modified');
  assert.throws(() => akin.pipeline.applyParams({ epochs: 3 }, { 'epochs.x': 1 }), /epochs/);
});

test('bad search spaces fail naming the path', () => {
  assert.throws(() => akin.pipeline.parseSearchSpace({ lr: { logUniform: [0, 1] } }), /lr.*positive/);
  assert.throws(() => akin.pipeline.parseSearchSpace({ epochs: { int: [5, 2] } }), /epochs/);
  assert.throws(() => akin.pipeline.parseSearchSpace({ 'a..b': { choice: [1] } }), /a\.\.b/);
  assert.throws(() => akin.pipeline.parseSearchSpace({}), /empty/);
});

/** A fake runner: validation MAP@R peaks at learning rate 1e-3 and grows with the epochs trained. */
function fakeRunner(calls: { lr: number; epochs: number; validationClasses: unknown[] }[]): akin.pipeline.TrialRunner {
  return async (config) => {
    const lr = config.optimizer.learningRate;
    calls.push({ lr, epochs: config.epochs, validationClasses: config.data.validationClasses });
    const peak = 3 - Math.abs(Math.log10(lr) + 3);
    const history = Array.from({ length: config.epochs }, (_, e) => ({ epoch: e, loss: 1, val_mapAtR: peak * (1 - 1 / (e + 2)) }));
    return { history, seconds: 0.01 };
  };
}

test('random search logs one JSON line per trial, picks the best by validation, and resumes without rerunning', async () => {
  const out = tempDir('akin-tune-');
  const space = { 'optimizer.learningRate': { logUniform: [1e-5, 1e-1] } } as akin.pipeline.SearchSpace;
  const calls: { lr: number; epochs: number; validationClasses: unknown[] }[] = [];
  const first = await akin.pipeline.tune({ base, space, budget: 5, seed: 3, outDir: out, runner: fakeRunner(calls) });
  assert.equal(calls.length, 5);
  const lines = readFileSync(join(out, 'trials.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 5);
  // Each trial scores its best epoch: the last one here, peak * (1 - 1/10) with 9 epochs.
  for (const l of lines) {
    const peak = 3 - Math.abs(Math.log10(l.params['optimizer.learningRate']) + 3);
    assert.ok(Math.abs(l.objective - peak * 0.9) < 1e-12);
    assert.equal(l.bestEpoch, 8);
    assert.equal(l.config.optimizer.learningRate, l.params['optimizer.learningRate']);
  }
  const bestLine = lines.reduce((a, b) => (b.objective > a.objective ? b : a));
  assert.equal(first.best.trial, bestLine.trial);
  const bestConfig = JSON.parse(readFileSync(join(out, 'best-config.json'), 'utf8'));
  assert.equal(bestConfig.optimizer.learningRate, bestLine.params['optimizer.learningRate']);
  assert.equal(akin.pipeline.parseRunConfig(bestConfig).epochs, 9, 'best-config.json is a valid run config');
  // Resume with a larger budget: the first 5 trials are read back, only 3 new ones run, with the same first draws.
  const more = await akin.pipeline.tune({ base, space, budget: 8, seed: 3, outDir: out, runner: fakeRunner(calls) });
  assert.equal(calls.length, 8);
  assert.equal(more.trials.length, 8);
  assert.equal(readFileSync(join(out, 'trials.jsonl'), 'utf8').trim().split('\n').length, 8);
  // Another seed in the same folder is refused.
  await assert.rejects(akin.pipeline.tune({ base, space, budget: 2, seed: 4, outDir: out, runner: fakeRunner(calls) }), /another seed or space/);
});

test('successive halving keeps the best third at each rung and triples their epochs', async () => {
  assert.deepEqual(akin.pipeline.halvingRungs(9, 3, 1, 9), [{ size: 9, epochs: 1 }, { size: 3, epochs: 3 }, { size: 1, epochs: 9 }]);
  assert.deepEqual(akin.pipeline.halvingRungs(10, 3, 2, 10), [{ size: 10, epochs: 2 }, { size: 3, epochs: 6 }, { size: 1, epochs: 10 }]);
  const out = tempDir('akin-halving-');
  const calls: { lr: number; epochs: number; validationClasses: unknown[] }[] = [];
  const space = { 'optimizer.learningRate': { logUniform: [1e-5, 1e-1] } } as akin.pipeline.SearchSpace;
  const r = await akin.pipeline.tune({ base, space, budget: 9, seed: 5, method: 'halving', outDir: out, runner: fakeRunner(calls) });
  assert.deepEqual(calls.map((c) => c.epochs), [...Array(9).fill(1), 3, 3, 3, 9]);
  // The three promoted are the three learning rates closest to 1e-3 (in log10) among the nine.
  const dist = (lr: number): number => Math.abs(Math.log10(lr) + 3);
  const top3 = calls.slice(0, 9).map((c) => c.lr).sort((a, b) => dist(a) - dist(b)).slice(0, 3);
  assert.deepEqual(calls.slice(9, 12).map((c) => c.lr).sort(), top3.slice().sort());
  assert.equal(calls[12].lr, top3[0]);
  assert.equal(r.best.rung, 2);
  await assert.rejects(
    akin.pipeline.tune({ base, space: { ...space, epochs: { int: [1, 3] } }, budget: 3, method: 'halving', outDir: out, runner: fakeRunner(calls) }),
    /resource/,
  );
});

test('class-disjoint k-fold: each fold validates on its own group of classes and the score is the mean', async () => {
  assert.deepEqual(akin.data.classFoldGroups([4, 0, 3, 1, 2], 2), [[0, 1, 2], [3, 4]]);
  assert.deepEqual(akin.data.classFoldGroups([0, 1, 2, 3, 4], 5), [[0], [1], [2], [3], [4]]);
  const ds: akin.data.Dataset = { features: new Float32Array(12), labels: Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]), count: 12, shape: [1] };
  const folds = akin.data.classKFold(ds, { folds: 2 });
  assert.deepEqual(folds.map((f) => f.validationClasses), [[0, 1], [2, 3]]);
  assert.deepEqual(folds.map((f) => f.trainClasses), [[2, 3], [0, 1]]);
  assert.deepEqual(Array.from(folds[0].validation.labels), [0, 1, 0, 1, 0, 1]);
  assert.deepEqual(Array.from(folds[0].train.labels), [2, 3, 2, 3, 2, 3]);
  assert.throws(() => akin.data.classKFold(ds, { folds: 5 }), /folds/);

  const out = tempDir('akin-folds-');
  const seen: unknown[][] = [];
  const runner: akin.pipeline.TrialRunner = async (config, ctx) => {
    seen.push(config.data.validationClasses);
    return { history: [{ epoch: 0, val_mapAtR: 0.1 * (ctx.fold! + 1) }], seconds: 0 };
  };
  const r = await akin.pipeline.tune({
    base: { ...base, batchSize: 60, m: 20 }, space: { seed: { int: [0, 3] } }, budget: 1, folds: 5, outDir: out, runner,
  });
  assert.deepEqual(seen, [[0], [1], [2], [3], [4]]);
  assert.ok(Math.abs(r.best.objective! - 0.3) < 1e-12, 'mean of 0.1 .. 0.5');
  assert.deepEqual(r.best.folds!.map((v) => Number(v.toFixed(6))), [0.1, 0.2, 0.3, 0.4, 0.5]);
});

test('akin tune runs real trials end to end and writes a best config that akin train accepts', () => {
  const dir = tempDir('akin-tune-cli-');
  const cfg = join(dir, 'base.json');
  const spacePath = join(dir, 'space.json');
  writeFileSync(cfg, JSON.stringify({
    data: { source: 'embedded', maxTrain: 600, validationClasses: [4] },
    model: { type: 'mlp', hidden: [32], embeddingDim: 16 }, batchSize: 40, m: 10, epochs: 1,
    augment: { pad: 1 },
  }));
  writeFileSync(spacePath, JSON.stringify({ 'optimizer.learningRate': { logUniform: [1e-4, 1e-2] } }));
  const out = join(dir, 'out');
  const bin = join(repo, 'bin', 'akin.js');
  const env = { ...process.env, AKIN_BACKEND: process.env.AKIN_BACKEND ?? 'wasm' };
  const r = spawnSync(process.execPath, [bin, 'tune', '--config', cfg, '--space', spacePath, '--budget', '2', '--seed', '1', '--out', out], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /best: trial \d/);
  const lines = readFileSync(join(out, 'trials.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  for (const l of lines) assert.ok(l.objective > 0 && l.objective <= 1, `objective ${l.objective}`);
  assert.ok(existsSync(join(out, 'best-config.json')));
  const best = akin.pipeline.parseRunConfig(JSON.parse(readFileSync(join(out, 'best-config.json'), 'utf8')));
  assert.deepEqual(best.augment?.pad, 1);
  const bad = spawnSync(process.execPath, [bin, 'tune', '--config', cfg, '--space', cfg, '--budget', '1', '--out', out], { encoding: 'utf8', env });
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /space/);
});
