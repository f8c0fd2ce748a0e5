import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from './helpers.js';

before(async () => {
  await initBackend();
});

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'akin-pairs-'));
}

/** A small deterministic random source (32-bit LCG), independent of akin's. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('pairs: a missing match field or an empty match cell is a positive pair; triplets give anchor-positive and anchor-negative', () => {
  const dir = tempDir();
  try {
    const jsonl = join(dir, 'p.jsonl');
    writeFileSync(jsonl, ['{"text_a": "a", "text_b": "b"}', '', '{"text_a": "b", "text_b": "c", "match": 0}', '{"text_a": "c", "text_b": "d", "match": "true"}'].join('\n'));
    assert.deepEqual(
      akin.data.readPairRecords(jsonl).map(({ a, b, match }) => [a, b, match]),
      [['a', 'b', true], ['b', 'c', false], ['c', 'd', true]],
    );
    const csv = join(dir, 'p.csv');
    writeFileSync(csv, 'q1,q2,dup\n"x, y",z,\nz,w,0\n');
    assert.deepEqual(
      akin.data.readPairRecords(csv, { a: 'q1', b: 'q2', match: 'dup' }).map(({ a, b, match, where }) => [a, b, match, where]),
      [['x, y', 'z', true, `${csv}:2`], ['z', 'w', false, `${csv}:3`]],
    );
    const tri = join(dir, 't.jsonl');
    writeFileSync(tri, '{"anchor": "q", "positive": "p", "negative": "n"}\n');
    assert.deepEqual(
      akin.data.readPairRecords(tri, { layout: 'triplets' }).map(({ a, b, match }) => [a, b, match]),
      [['q', 'p', true], ['q', 'n', false]],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pairs: errors name the file, the line and the field', () => {
  const dir = tempDir();
  try {
    const bad = (name: string, body: string, options: akin.data.ReadPairsOptions, pattern: RegExp) => {
      const p = join(dir, name);
      writeFileSync(p, body);
      assert.throws(() => akin.data.readPairRecords(p, options), (e: Error) => e instanceof akin.DataError && pattern.test(e.message) && e.message.includes(p), `${name}: ${pattern}`);
    };
    bad('a.jsonl', '{"text_a": "x", "text_b": "y"}\n{"text_a": "x"}\n', {}, /:2: no field 'text_b'/);
    bad('b.jsonl', '{"text_a": "x", "text_b": "y", "match": 2}\n', {}, /:1: match field 'match' must be 1 \/ 0/);
    bad('c.jsonl', '{"text_a": "x", "text_b": "y"}\n{oops\n', {}, /:2: not valid JSON/);
    bad('d.csv', 'text_a,other\nx,y\n', {}, /column 'text_b' is not in the header/);
    bad('e.csv', 'text_a,text_b,match\nx,y,maybe\n', {}, /:2: match field 'match'/);
    bad('f.jsonl', '{"anchor": "q", "positive": "p", "negative": 3}\n', { layout: 'triplets' }, /:1: field 'negative' must be a non-empty string/);
    bad('g.jsonl', '{"text_a": "", "text_b": "y"}\n', {}, /:1: field 'text_a' must be a non-empty string/);
    bad('h.txt', 'x\n', {}, /must be JSON lines \(\.jsonl\) or CSV/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pairs: run config fields are validated and named; class lists are refused with pairs', () => {
  const cfg = (pairs: unknown, extra: object = {}) => ({ data: { kind: 'text', source: 'p.jsonl', pairs, ...extra } });
  assert.throws(() => akin.pipeline.parseRunConfig(cfg({ heldOut: 2 })), /data\.pairs\.heldOut/);
  assert.throws(() => akin.pipeline.parseRunConfig(cfg({ layout: 'quads' })), /data\.pairs\.layout/);
  assert.throws(() => akin.pipeline.parseRunConfig(cfg({ colour: 1 })), /colour/);
  assert.throws(() => akin.pipeline.parseRunConfig(cfg({}, { trainClasses: [0, 1] })), /'data\.trainClasses' cannot be given with pairs/);
  assert.throws(() => akin.pipeline.parseRunConfig({ data: { kind: 'vectors', source: 'v.jsonl', pairs: { a: 'x' } } }), /data\.pairs\.file/);
  const c = akin.pipeline.parseRunConfig(cfg({}), 'cfg');
  assert.equal(c.m, 2, 'pairs train 2 items per class per batch');
  // A saved config (with the class lists the pipeline wrote) parses again.
  assert.deepEqual(akin.pipeline.parseRunConfig(JSON.parse(JSON.stringify(c))).data, c.data);
});

test('pairs: classes are the connected components of the positive pairs; items only in negatives are classes of one', () => {
  const P = (a: string, b: string, match = true) => ({ a, b, match, where: '' });
  const g = akin.data.pairGraph([P('a', 'b'), P('d', 'e'), P('b', 'c'), P('a', 'f', false), P('a', 'c', false), P('e', 'd')]);
  assert.deepEqual(g.keys, ['a', 'b', 'd', 'e', 'c', 'f']);
  // {a, b, c} by the chain a~b, b~c; {d, e}; f only in a negative pair.
  assert.deepEqual(Array.from(g.labels), [0, 0, 1, 1, 0, 2]);
  assert.equal(g.classes, 3);
  assert.equal(g.positives, 4);
  assert.equal(g.negatives, 2);
  assert.equal(g.conflicts, 1, 'a and c are marked different but chained by b');
  const split = akin.data.splitPairClasses(Int32Array.from([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]), { heldOut: 0.2, validation: 0.1, random: akin.createRandom(3) });
  assert.equal(split.test.length, 2);
  assert.equal(split.validation.length, 1);
  assert.equal(split.train.length, 7);
  assert.deepEqual([...split.train, ...split.validation, ...split.test].sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(split.seen.every((c) => split.train.includes(c)));
});

/**
 * Paraphrase-like pairs: 30 concepts, each written as one of 4 unrelated made-up words; a sentence is
 * 6 distinct concepts. Its partner says the same concepts, each word picked again at random (the same
 * word 1 time in 4), with two neighbouring words swapped and one letter changed. Word TF-IDF sees
 * only the words the two happen to share; a model trained on other pairs can learn which words mean
 * the same.
 */
function paraphrasePairs(count: number, seed: number): { a: string; b: string }[] {
  const r = lcg(seed);
  const letters = 'bcdfghjklmnpqrstvwxz';
  const vowels = 'aeiou';
  const word = () => Array.from({ length: 2 + Math.floor(r() * 2) }, () => letters[Math.floor(r() * letters.length)] + vowels[Math.floor(r() * vowels.length)]).join('');
  const forms = Array.from({ length: 30 }, () => Array.from({ length: 4 }, word));
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const out: { a: string; b: string }[] = [];
  for (let n = 0; n < count; n++) {
    const concepts: number[] = [];
    while (concepts.length < 6) {
      const c = Math.floor(r() * forms.length);
      if (!concepts.includes(c)) concepts.push(c);
    }
    const a = concepts.map((c) => pick(forms[c]));
    const b = concepts.map((c) => pick(forms[c]));
    const k = Math.floor(r() * 5);
    [b[k], b[k + 1]] = [b[k + 1], b[k]];
    const t = Math.floor(r() * 6);
    const w = b[t];
    const at = Math.floor(r() * w.length);
    b[t] = w.slice(0, at) + letters[Math.floor(r() * letters.length)] + w.slice(at + 1);
    out.push({ a: a.join(' '), b: b.join(' ') });
  }
  return out;
}

/** Recall@1 of each text's partner among all 2n texts (rows 2i and 2i+1 are partners), by cosine, in plain loops. */
function partnerRecallAt1(x: Float32Array, dim: number): number {
  const n = x.length / dim;
  const norm = (i: number) => Math.sqrt(x.subarray(i * dim, (i + 1) * dim).reduce((s, v) => s + v * v, 0)) || 1;
  const norms = Array.from({ length: n }, (_, i) => norm(i));
  let hits = 0;
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestScore = -Infinity;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += x[i * dim + d] * x[j * dim + d];
      const s = dot / (norms[i] * norms[j]);
      if (s > bestScore) [best, bestScore] = [j, s];
    }
    if (best === (i ^ 1)) hits++;
  }
  return hits / n;
}

test('text pairs end to end: trained on pairs, held-out partners are retrieved far better than by word TF-IDF', async () => {
  const dir = tempDir();
  try {
    const pairs = paraphrasePairs(400, 7);
    const rows = pairs.map((p) => JSON.stringify({ text_a: p.a, text_b: p.b }));
    // Negative pairs between different sentences (match 0): counted, no class of their own.
    for (let i = 0; i + 1 < 40; i += 2) rows.push(JSON.stringify({ text_a: pairs[i].a, text_b: pairs[i + 1].b, match: 0 }));
    const source = join(dir, 'pairs.jsonl');
    writeFileSync(source, `${rows.join('\n')}\n`);
    const config = akin.pipeline.parseRunConfig({
      name: 'pairs',
      seed: 1,
      data: { kind: 'text', source, validation: 0, pairs: { heldOut: 0.25 }, ngrams: { dim: 2048 } },
      model: { type: 'mlp', hidden: [], embeddingDim: 64 },
      loss: { className: 'NTXentLoss', config: { temperature: 0.1 } },
      batchSize: 64,
      epochs: 15,
      optimizer: { name: 'sgd', learningRate: 0.5 },
    });
    const runDir = join(dir, 'run');
    const result = await akin.pipeline.runExperiment(config, { runDir, progress: false, report: false, log: () => undefined });
    assert.match(result.description, /800 distinct texts in 400 classes from 400 positive and 20 negative pairs/);
    assert.match(result.description, /unseen classes \[held-out pairs\]: 200 test/);
    const u = (k: 'raw' | 'untrained' | 'trained') => result.metrics[k]!.unseen!;
    const line = (k: 'raw' | 'untrained' | 'trained') => `${u(k).precisionAt1.toFixed(3)} / ${u(k).mapAtR.toFixed(3)}`;
    process.stdout.write(`# held-out pairs P@1 / MAP@R: TF-IDF ${line('raw')}, untrained ${line('untrained')}, trained ${line('trained')}\n`);
    // For pairs P@1 is the partner's recall@1 and MAP@R (R = 1) its reciprocal rank at 1: the same here.
    assert.ok(u('trained').mapAtR > u('raw').mapAtR + 0.4, `trained ${line('trained')} vs TF-IDF ${line('raw')}`);

    // Fresh pairs never seen by the run, embedded from raw text through the saved run, scored in plain loops.
    const fresh = paraphrasePairs(460, 7).slice(400);
    const texts = fresh.flatMap((p) => [p.a, p.b]);
    const run = await akin.pipeline.loadRun(runDir);
    const inputs = akin.pipeline.parseRunInputs(run, texts, 'texts');
    const { embeddings, dim } = await akin.models.embed(run.model, inputs, texts.length, run.preprocessing.input.shape);
    run.model.dispose();
    const trainTexts = pairs.flatMap((p) => [p.a, p.b]);
    const tfidf = new akin.data.TfidfVectorizer().fit(trainTexts);
    const trained = partnerRecallAt1(embeddings, dim);
    const baseline = partnerRecallAt1(tfidf.transform(texts), tfidf.dim);
    process.stdout.write(`# fresh pairs recall@1: TF-IDF ${baseline.toFixed(3)}, trained ${trained.toFixed(3)}\n`);
    assert.ok(trained > baseline + 0.4, `fresh pairs: trained recall@1 ${trained.toFixed(3)} vs TF-IDF ${baseline.toFixed(3)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vector pairs end to end: an adapter trained on pairs of ids beats the raw vectors on held-out pairs', async () => {
  const dir = tempDir();
  try {
    // 16-d vectors: 4 dims carry what a pair shares, 12 dims are noise of twice the size that each
    // vector draws on its own, so raw cosine mostly compares noise.
    const r = lcg(11);
    const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const lines: string[] = [];
    const pairRows: string[] = ['a,b'];
    for (let p = 0; p < 240; p++) {
      const shared = Array.from({ length: 4 }, gauss);
      for (const side of ['x', 'y']) {
        const v = [...shared.map((s) => s + 0.1 * gauss()), ...Array.from({ length: 12 }, () => 2 * gauss())];
        lines.push(JSON.stringify({ id: `${side}${p}`, vector: v.map((x) => Number(x.toFixed(5))) }));
      }
      pairRows.push(`x${p},y${p}`);
    }
    const source = join(dir, 'vectors.jsonl');
    writeFileSync(source, `${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'pairs.csv'), `${pairRows.join('\n')}\n`);
    const config = akin.pipeline.parseRunConfig({
      seed: 2,
      data: { kind: 'vectors', source, validation: 0, pairs: { file: join(dir, 'pairs.csv'), heldOut: 0.25 } },
      loss: { className: 'NTXentLoss', config: { temperature: 0.1 } },
      batchSize: 32,
      epochs: 20,
      optimizer: { name: 'sgd', learningRate: 0.5 },
    });
    const result = await akin.pipeline.runExperiment(config, { runDir: join(dir, 'run'), progress: false, report: false, log: () => undefined });
    const u = (k: 'raw' | 'untrained' | 'trained') => result.metrics[k]!.unseen!.mapAtR;
    process.stdout.write(`# held-out vector pairs MAP@R: raw ${u('raw').toFixed(3)}, untrained ${u('untrained').toFixed(3)}, trained ${u('trained').toFixed(3)}\n`);
    assert.match(result.description, /480 vectors of dim 16 .* in 240 classes from 240 positive and 0 negative pairs/);
    assert.ok(u('trained') > u('raw') + 0.3, `trained ${u('trained')} vs raw ${u('raw')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vector pairs: an id the vectors file lacks is named with the pairs file line', async () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'v.jsonl'), '{"id": "a", "vector": [1, 0]}\n{"id": "b", "vector": [0, 1]}\n');
    writeFileSync(join(dir, 'p.jsonl'), '{"a": "a", "b": "b"}\n{"a": "a", "b": "zz"}\n');
    const config = akin.pipeline.parseRunConfig({ data: { kind: 'vectors', source: join(dir, 'v.jsonl'), pairs: { file: join(dir, 'p.jsonl') } } });
    await assert.rejects(akin.pipeline.loadRunData(config), /p\.jsonl:2: no vector with id 'zz'/);
    writeFileSync(join(dir, 'v.jsonl'), '{"id": "a", "vector": [1, 0]}\n{"id": "a", "vector": [0, 1]}\n');
    await assert.rejects(akin.pipeline.loadRunData(config), /id 'a' is given to more than one vector/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
