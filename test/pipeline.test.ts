import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import * as akin from 'akin';
import * as server from 'akin/server';
import { initBackend, assertClose, tempDir } from './helpers.js';

before(async () => {
  await initBackend();
});

test('class-disjoint validation: validation classes are never trained on and hold all their images', async () => {
  const config = akin.pipeline.parseRunConfig({ data: { source: 'embedded', validationClasses: [4] }, batchSize: 40, m: 10 });
  const d = await akin.pipeline.loadRunData(config);
  const trainClasses = new Set(d.train.labels);
  const valClasses = new Set(d.validation!.labels);
  assert.deepEqual([...trainClasses].sort(), [0, 1, 2, 3]);
  assert.deepEqual([...valClasses], [4]);
  // The embedded split has 1,000 images per class; seenHoldout 0.2 keeps 800 of class 4 for the pool.
  assert.equal(d.validation!.count, 800);
  assert.equal(d.train.count, 4 * 800);
  assert.match(d.description, /not trained on/);
});

test('run config errors name the field: validation classes outside the training classes, or too few left', () => {
  assert.throws(() => akin.pipeline.parseRunConfig({ data: { validationClasses: [7] } }), /data\.validationClasses.*7/);
  assert.throws(() => akin.pipeline.parseRunConfig({ data: { trainClasses: [0, 1], validationClasses: [1] } }), /leaves 1 class/);
  assert.throws(() => akin.pipeline.parseRunConfig({ batchSize: 100, m: 10 }), /classes per batch/);
  const ok = akin.pipeline.parseRunConfig({});
  assert.equal(ok.batchSize % ok.m, 0);
  assert.ok(ok.batchSize / ok.m <= ok.data.trainClasses.length);
});

/** 32-bit FNV-1a over UTF-16 code units, from the published definition. */
function fnv1a(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Number((BigInt((h ^ s.charCodeAt(i)) >>> 0) * 16777619n) % 4294967296n);
  return h;
}

test('a text run from a config: trains on JSON lines, saves its preprocessing, embeds raw text lines from the run folder (CLI and server)', async () => {
  const dir = tempDir('akin-text-run-');
  // Real passages: 6 State of the Union speakers, 12 passages each; 4 speakers train, 2 are held out.
  const s = akin.data.loadSotuPassages({ words: 40, maxPerSpeaker: 12 });
  const lines: string[] = [];
  s.texts.forEach((t, i) => {
    if (s.labels[i] < 6) lines.push(JSON.stringify({ body: t, speaker: s.speakers[s.labels[i]] }));
  });
  writeFileSync(join(dir, 'talks.jsonl'), `${lines.join('\n')}\n`);
  const names = s.speakers.slice(0, 6);
  const buckets = 512;
  const maxLength = 32;
  const configPath = join(dir, 'text.json');
  writeFileSync(configPath, JSON.stringify({
    name: 'text',
    data: {
      kind: 'text', source: join(dir, 'talks.jsonl'), textField: 'body', labelField: 'speaker',
      features: 'tokens', tokens: { unit: 'words', maxLength, buckets },
      trainClasses: names.slice(0, 4), testClasses: names.slice(4), validation: 0,
    },
    model: { type: 'text-encoder', tokenDim: 8, filters: [8], embeddingDim: 6 },
    loss: { className: 'SupConLoss', config: { temperature: 0.1 } },
    batchSize: 16, m: 4, epochs: 1,
  }));
  const config = akin.pipeline.readRunConfig(configPath);
  assert.equal(config.data.kind, 'text');
  const runDir = join(dir, 'run');
  const result = await akin.pipeline.runExperiment(config, { runDir, progress: false, report: false, log: () => undefined });
  assert.ok(result.metrics.raw?.unseen && result.metrics.trained?.unseen);
  assert.match(result.table, /TF-IDF \(words\)/);
  const saved = JSON.parse(readFileSync(join(runDir, 'preprocessing.json'), 'utf8'));
  assert.equal(saved.kind, 'text');
  assert.equal(saved.preprocessing.encoder.buckets, buckets);

  // Raw text lines, embedded by the CLI from the run folder alone.
  const texts = ['the union is strong', 'we must balance the budget'];
  writeFileSync(join(dir, 'queries.txt'), `${texts.join('\n')}\n`);
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const out = join(dir, 'out.jsonl');
  const r = spawnSync(process.execPath, [join(repo, 'bin', 'akin.js'), 'embed', '--run', runDir, '--input', join(dir, 'queries.txt'), '--output', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const cli = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l).embedding as number[]);
  // Expected: the saved network on token ids worked out here (2 + FNV-1a(word) mod buckets, 0-padded).
  const ids = texts.map((t) => {
    const row = t.split(' ').map((w) => 2 + (fnv1a(w) % buckets));
    return [...row, ...new Array(maxLength - row.length).fill(0)];
  });
  const model = await akin.models.loadModel(join(runDir, 'model'));
  const expected = akin.tf.tidy(() => (model.predict(akin.tf.tensor2d(ids)) as akin.tf.Tensor2D).arraySync());
  model.dispose();
  assertClose(cli.flat(), expected.flat(), { atol: 1e-5 });

  // The server takes the same texts as strings, for /embed and /search.
  const { buildRunIndex } = (await import(join(repo, 'dist', 'cli', 'index-cmd.js'))) as { buildRunIndex: (dir: string, o: { log: (l: string) => void }) => Promise<unknown> };
  await buildRunIndex(runDir, { log: () => undefined });
  const ctx = await server.openRunContext(runDir);
  const app = await server.createApp(ctx, { ui: false });
  const embedRes = await app.inject({ method: 'POST', url: '/embed', payload: { inputs: texts } });
  assert.equal(embedRes.statusCode, 200, embedRes.body);
  assertClose((embedRes.json().embeddings as number[][]).flat(), expected.flat(), { atol: 1e-5 });
  const searchRes = await app.inject({ method: 'POST', url: '/search', payload: { input: texts[0], k: 3 } });
  assert.equal(searchRes.statusCode, 200, searchRes.body);
  assert.equal(searchRes.json().results.length, 3);
  const bad = await app.inject({ method: 'POST', url: '/embed', payload: { inputs: [[1, 2]] } });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().error.message, /^body\.inputs\[0\] must be a text/);
  await app.close();
  ctx.model.dispose();
  await ctx.index.close?.();
});

test('tabular and vector runs from a config embed raw CSV rows and vectors from the run folder', async () => {
  const dir = tempDir('akin-kinds-');
  const rows = ['id,size,colour,kind'];
  const vecs: string[] = [];
  for (let i = 0; i < 120; i++) {
    const k = i % 6;
    rows.push(`${i},${k * 10},${['red', 'blue', 'green'][k % 3]},k${k}`);
    vecs.push(JSON.stringify({ vector: [k, (i % 5) / 5, 1], label: `c${k}` }));
  }
  writeFileSync(join(dir, 'rows.csv'), `${rows.join('\n')}\n`);
  writeFileSync(join(dir, 'vecs.jsonl'), `${vecs.join('\n')}\n`);
  const common = { validation: 0, trainClasses: [0, 1, 2, 3], testClasses: [4, 5] };
  const tab = akin.pipeline.parseRunConfig({ data: { kind: 'tabular', source: join(dir, 'rows.csv'), label: 'kind', ignore: ['id'], ...common }, batchSize: 16, m: 4, epochs: 1 });
  assert.deepEqual(tab.model, { type: 'mlp', hidden: [64], embeddingDim: 32, activation: 'relu', dropout: 0, inputPool: 1, normalize: true });
  await akin.pipeline.runExperiment(tab, { runDir: join(dir, 'tab'), progress: false, report: false, log: () => undefined });
  const tabRun = await akin.pipeline.loadRun(join(dir, 'tab'));
  writeFileSync(join(dir, 'new.csv'), 'kind,colour,size\n,blue,41\n');
  const x = await akin.pipeline.readRunInputs(tabRun, join(dir, 'new.csv'));
  // size standardised with the training rows' mean and population std: the stratified holdout keeps
  // 16 of the 20 rows of each training class (sizes 0, 10, 20, 30), so mean 15 and std sqrt(125);
  // colour one-hot in sorted order (blue, green, red).
  assertClose(Array.from(x.features), [(41 - 15) / Math.sqrt(125), 1, 0, 0], { atol: 1e-5 });
  tabRun.model.dispose();

  const vec = akin.pipeline.parseRunConfig({ data: { kind: 'vectors', source: join(dir, 'vecs.jsonl'), ...common }, batchSize: 16, m: 4, epochs: 1 });
  assert.equal(vec.model.type, 'adapter');
  const res = await akin.pipeline.runExperiment(vec, { runDir: join(dir, 'vec'), progress: false, report: false, log: () => undefined });
  assert.match(res.table, /your vectors/);
  const vecRun = await akin.pipeline.loadRun(join(dir, 'vec'));
  assert.deepEqual(Array.from(akin.pipeline.parseRunInputs(vecRun, [[1, 2, 3]], 'inputs')), [1, 2, 3]);
  assert.throws(() => akin.pipeline.parseRunInputs(vecRun, [[1, 2]], 'inputs'), /inputs has 2 values; the model takes 3/);
  vecRun.model.dispose();
  assert.throws(() => akin.pipeline.parseRunConfig({ data: { kind: 'sound' } }), /'data\.kind' is 'sound'; known kinds: .*images.*text/);
  assert.throws(() => akin.pipeline.parseRunConfig({ data: { kind: 'text', features: 'words' } }), /data \(kind 'text'\): option 'data\.features'/);
  assert.throws(() => akin.pipeline.parseRunConfig({ model: { type: 'mlp', hidden: 'big' } }), /option 'model\.hidden'/);
});
