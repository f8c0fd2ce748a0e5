import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as akin from 'akin';
import { assertClose, initBackend, tempDir } from './helpers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const runDir = tempDir('akin-cli-run-');

// A tiny run: 300 embedded images of classes 0-4 (20% validation), a small MLP, 3 epochs with early
// stopping on val_mapAtR (patience 0, so it may stop after a worse epoch and restore the best one).
before(async () => {
  await initBackend();
  const config = akin.pipeline.parseRunConfig({
    data: { source: 'embedded', maxTrain: 300, validation: 0.2 },
    model: { type: 'mlp', hidden: [32], embeddingDim: 16 },
    batchSize: 20, m: 4, epochs: 3,
    earlyStopping: { monitor: 'val_mapAtR', patience: 0, minDelta: 0 },
  });
  await akin.pipeline.runExperiment(config, { runDir, progress: false, baselines: false, log: () => undefined });
});

test('training validates every epoch and the saved model/ is the best epoch (best/)', async () => {
  const epochs = readFileSync(join(runDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'epoch');
  assert.ok(epochs.length >= 1);
  for (const e of epochs) assert.equal(typeof e.val_mapAtR, 'number', `epoch ${e.epoch} has no val_mapAtR`);
  const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
  const best = epochs.reduce((a, b) => (b.val_mapAtR > a.val_mapAtR ? b : a));
  assert.equal(run.bestEpoch, best.epoch);
  const final = await akin.models.loadModel(join(runDir, 'model'));
  const kept = await akin.models.loadModel(join(runDir, 'best'));
  const a = final.getWeights(), b = kept.getWeights();
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.deepEqual(a[i].dataSync(), b[i].dataSync(), `weight ${i}`);
  final.dispose();
  kept.dispose();
});

test("'akin calibrate' saves thresholds.json, loadRun exposes it, and it matches a plain-loop calibration", async () => {
  const p = spawnSync(process.execPath, [join(root, 'bin', 'akin.js'), '--backend', 'wasm', 'calibrate', '--run', runDir, '--target-precision', '0.5', '--target-recall', '0.9', '--json'], { encoding: 'utf8' });
  assert.equal(p.status, 0, p.stderr);
  assert.ok(existsSync(join(runDir, 'thresholds.json')));
  const printed = JSON.parse(p.stdout);
  const run = await akin.pipeline.loadRun(runDir);
  assert.ok(run.thresholds);
  assert.deepEqual(run.thresholds.optimal, printed.optimal);
  assert.equal(run.thresholds.split, 'validation');
  assert.deepEqual(Object.keys(run.thresholds.targets).sort(), ['precision@0.5', 'recall@0.9']);

  // Independent check: embed the validation split, 1-NN by cosine distance in plain loops, sweep.
  const data = await akin.pipeline.loadRunData(run.config);
  const ds = data.validation!;
  const { embeddings, dim } = await akin.models.embed(run.model, ds.features, ds.count, ds.shape);
  run.model.dispose();
  const n = ds.count;
  const row = (i: number): Float32Array => embeddings.subarray(i * dim, (i + 1) * dim);
  const pairs: { d: number; same: boolean }[] = [];
  for (let i = 0; i < n; i++) {
    let bestD = Infinity, bestJ = -1;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let dot = 0, na = 0, nb = 0;
      const a = row(i), b = row(j);
      for (let t = 0; t < dim; t++) { dot += a[t] * b[t]; na += a[t] * a[t]; nb += b[t] * b[t]; }
      const d = 1 - dot / Math.sqrt(na * nb);
      if (d < bestD) { bestD = d; bestJ = j; }
    }
    pairs.push({ d: bestD, same: ds.labels[bestJ] === ds.labels[i] });
  }
  pairs.sort((x, y) => x.d - y.d);
  const positives = pairs.filter((x) => x.same).length;
  let bestF1 = 0, tp = 0;
  pairs.forEach((x, j) => {
    tp += x.same ? 1 : 0;
    const prec = tp / (j + 1), rec = tp / positives;
    if (prec + rec > 0) bestF1 = Math.max(bestF1, (2 * prec * rec) / (prec + rec));
  });
  assert.equal(run.thresholds.count, n);
  assert.equal(run.thresholds.positives, positives);
  assertClose(run.thresholds.optimal.f1, bestF1, { atol: 1e-9, rtol: 0 });

  // A bad target is refused with a message naming the flag.
  const bad = spawnSync(process.execPath, [join(root, 'bin', 'akin.js'), 'calibrate', '--run', runDir, '--target-precision', '2'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--target-precision/);
});

test('evaluate table: one row per metric, one column per split', async () => {
  const { formatAllMetrics } = await import(join(root, 'dist', 'cli', 'evaluate.js')) as { formatAllMetrics: (r: Record<string, Record<string, number>>, h: Record<string, string>) => string };
  const text = formatAllMetrics({ seen: { precisionAt1: 0.5, mapAtR: 0.25 }, unseen: { precisionAt1: 0.125 } }, { seen: 'seen', unseen: 'unseen' });
  const lines = text.split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0], /seen\s+unseen/);
  assert.match(lines[1], /^P@1\s+0\.5000\s+0\.1250$/);
  assert.match(lines[2], /^MAP@R\s+0\.2500\s+-$/);
});

test("'akin evaluate --per-class': per-class JSON and tables agree with the overall values", async () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin', 'akin.js'), '--backend', 'wasm', 'evaluate', '--run', runDir, '--per-class', ...args], { encoding: 'utf8' });
  const p = cli('--json');
  assert.equal(p.status, 0, p.stderr);
  const out = JSON.parse(p.stdout) as Record<string, Record<string, number>> & { perClass: Record<string, Record<string, unknown[]>> };
  const run = await akin.pipeline.loadRun(runDir);
  run.model.dispose();
  const data = await akin.pipeline.loadRunData(run.config);
  const retrieval = ['precisionAt1', 'rPrecision', 'mapAtR', 'meanAveragePrecision', 'meanReciprocalRank', 'recallAtK', 'knnAccuracy'];
  for (const [split, ds] of [['seen', data.testSeen], ['unseen', data.testUnseen]] as const) {
    const per = out.perClass[split];
    const counts = new Map<number, number>();
    for (const l of ds.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    const classes = [...counts.keys()].sort((a, b) => a - b);
    assert.deepEqual(per.classes, classes, split);
    assert.deepEqual(per.names, classes.map((c) => ds.classNames![c]), split);
    // Every query has classmates here (no lone queries), so the overall mean is the class-size-weighted mean.
    for (const m of retrieval) {
      const values = per[m] as number[];
      assert.equal(values.length, classes.length, `${split} ${m}`);
      const weighted = classes.reduce((s, c, i) => s + counts.get(c)! * values[i], 0) / ds.count;
      assertClose(weighted, out[split][m], { atol: 1e-9, rtol: 0, msg: `${split} ${m}` });
    }
    assert.equal(typeof out[split].nmi, 'number');
  }
  const table = cli();
  assert.equal(table.status, 0, table.stderr);
  const lines = table.stdout.split('\n');
  for (const split of ['seen', 'unseen'] as const) {
    const at = lines.findIndex((l) => l.startsWith(`${split} classes`) && l.endsWith('per class'));
    assert.ok(at > 0, `no per-class table for ${split}`);
    assert.match(lines[at + 1], /^class\s+P@1\s+R-Precision\s+MAP@R/);
    const classes = out.perClass[split].classes as number[];
    classes.forEach((c, i) => {
      const row = lines[at + 2 + i];
      assert.ok(row.startsWith(`${c} ${(out.perClass[split].names as string[])[i]}`), row);
      assert.equal(Number(row.trim().split(/\s+/).at(-7)), Number((out.perClass[split].precisionAt1[i] as number).toFixed(4)), row);
    });
  }
});
