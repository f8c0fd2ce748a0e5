import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as akin from 'akin';
import { initBackend, tempDir } from './helpers.js';

before(async () => {
  await initBackend();
});

type CalibrateRun = (o: { run: string; data?: string; split?: 'validation' | 'seen'; log?: (l: string) => void }) => Promise<akin.eval.SavedThresholds>;

/** Texts of 4 classes: each class has its own words; `extra` words are added to every text (a different vocabulary per file). */
function texts(extra: string[], perClass: number): string {
  const classWords: Record<string, string[]> = {
    a: ['river', 'boat', 'water', 'fish', 'shore'],
    b: ['mountain', 'snow', 'peak', 'climb', 'rope'],
    c: ['market', 'price', 'trade', 'coin', 'stall'],
    d: ['garden', 'flower', 'seed', 'soil', 'rain'],
  };
  const lines: string[] = [];
  for (const [label, words] of Object.entries(classWords)) {
    for (let i = 0; i < perClass; i++) {
      const w = [words[i % 5], words[(i + 2) % 5], words[(i + 3) % 5], extra[i % extra.length], extra[(i * 3 + 1) % extra.length]];
      lines.push(JSON.stringify({ text: w.join(' '), label }));
    }
  }
  return `${lines.join('\n')}\n`;
}

test('akin calibrate embeds with the run\'s saved preprocessing (the fitted TF-IDF vocabulary), as akin embed does, never a re-fit', async () => {
  const dir = tempDir('akin-cal-');
  try {
    const trainFile = join(dir, 'train.jsonl');
    const calFile = join(dir, 'cal.jsonl');
    writeFileSync(trainFile, texts(['north', 'south', 'east'], 12));
    // Calibration texts with other filler words: a vocabulary re-fitted on them has another size and other terms.
    writeFileSync(calFile, texts(['red', 'green', 'blue', 'yellow', 'black', 'white', 'grey'], 12));
    const config = akin.pipeline.parseRunConfig({
      seed: 3,
      data: { kind: 'text', source: trainFile, features: 'tfidf', trainClasses: ['a', 'b', 'c'], testClasses: ['d'], validation: 0, seenHoldout: 0.5 },
      batchSize: 12,
      m: 4,
      epochs: 1,
    });
    const runDir = join(dir, 'run');
    await akin.pipeline.runExperiment(config, { runDir, progress: false, report: false, baselines: false, log: () => undefined });
    const run = await akin.pipeline.loadRun(runDir);
    const savedDim = run.preprocessing.input.shape[0];
    // The test can fail: a re-fit on the calibration texts gives other inputs than the saved preprocessing.
    const refit = await akin.pipeline.loadRunData(run.config, { source: calFile });
    assert.notEqual(refit.preprocessing.input.shape[0], savedDim, 'a re-fit vocabulary must differ from the saved one for this test to mean anything');

    const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const { calibrateRun } = (await import(join(repo, 'dist', 'cli', 'calibrate.js'))) as { calibrateRun: CalibrateRun };
    const saved = await calibrateRun({ run: runDir, data: calFile, split: 'seen', log: () => undefined });

    // What calibrate should have seen: the seen-class test texts of the calibration file, as akin embed
    // turns raw texts into inputs (the saved vocabulary), each row one of the file's texts.
    const all = akin.data.readTexts(calFile);
    const embedRows = akin.pipeline.parseRunInputs(run, all.texts, 'texts');
    const data = await akin.pipeline.loadRunData(run.config, { source: calFile, preprocessing: run.preprocessing });
    const ds = data.testSeen;
    assert.equal(ds.shape[0], savedDim);
    const key = (x: Float32Array) => Array.from(x).join(',');
    const embedKeys = new Set(Array.from({ length: all.texts.length }, (_, i) => key(embedRows.subarray(i * savedDim, (i + 1) * savedDim))));
    for (let i = 0; i < ds.count; i++) assert.ok(embedKeys.has(key(ds.features.subarray(i * savedDim, (i + 1) * savedDim))), `calibration row ${i} is not an akin embed input row`);
    const { embeddings, dim } = await akin.models.embed(run.model, ds.features, ds.count, ds.shape);
    run.model.dispose();
    const expected = await akin.eval.calibrate({ embeddings, labels: ds.labels, dim, metric: 'f1', distance: 'cosine', targets: { precision: [], recall: [] } });
    assert.equal(saved.count, ds.count);
    assert.equal(saved.positives, expected.positives);
    assert.ok(saved.optimal && expected.optimal);
    assert.ok(Math.abs(saved.optimal.threshold - expected.optimal.threshold) < 1e-6, `threshold ${saved.optimal.threshold} vs ${expected.optimal.threshold}`);
    assert.equal(saved.optimal.f1, expected.optimal.f1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
