import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, assertClose, tempDir } from './helpers.js';

before(async () => {
  await initBackend();
});

/** 32-bit FNV-1a over UTF-16 code units, written out from the published definition (offset basis 2166136261, prime 16777619). */
function fnv1a(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h = (h ^ s.charCodeAt(i)) >>> 0;
    h = Number((BigInt(h) * 16777619n) % 4294967296n);
  }
  return h;
}

test('the n-gram hash is 32-bit FNV-1a (published test vectors)', () => {
  assert.equal(akin.data.hashString(''), 0x811c9dc5);
  assert.equal(akin.data.hashString('a'), 0xe40c292c);
  assert.equal(akin.data.hashString('foobar'), 0xbf9cf968);
  for (const s of ['w\u0000nation', ' th', 'café']) assert.equal(akin.data.hashString(s), fnv1a(s));
});

test('tokenizer: NFKC, lower case, words of letters and digits joined across an inner apostrophe', () => {
  assert.deepEqual(akin.data.tokenizeWords("Don't stop, U.S.A. 2024!"), ["don't", 'stop', 'u', 's', 'a', '2024']);
  // U+FB01 (the fi ligature) becomes "fi" under NFKC; the curly apostrophe joins like the straight one.
  assert.deepEqual(akin.data.tokenizeWords('\uFB01ne Caf\u00e9 \u2014 nation\u2019s -end-'), ['fine', 'caf\u00e9', 'nation\u2019s', 'end']);
  assert.deepEqual(akin.data.tokenizeWords(' ...!? '), []);
});

test('character n-grams read the words joined by spaces with a space at each end; word n-grams join words', () => {
  assert.deepEqual(akin.data.charNgrams('The cat!', 3, 3), [' th', 'the', 'he ', 'e c', ' ca', 'cat', 'at ']);
  assert.deepEqual(akin.data.charNgrams('ab', 1, 2), [' ', 'a', 'b', ' ', ' a', 'ab', 'b ']);
  assert.deepEqual(akin.data.charNgrams('!!', 1, 3), []);
  assert.deepEqual(akin.data.wordNgrams(['a', 'b', 'c'], 1, 2), ['a', 'b', 'c', 'a b', 'b c']);
});

test('hashed n-gram bag: counts, signs and tf-idf worked by hand', () => {
  const dim = 1024;
  const bucket = (w: string) => fnv1a(`w\u0000${w}`) % dim;
  const sign = (w: string) => (fnv1a(`w\u0000${w}`) >= 2 ** 31 ? -1 : 1);
  assert.notEqual(bucket('a'), bucket('b'), 'the example needs two distinct buckets');
  // Raw counts, unsigned, not normalised: "a b a" has a twice, b once.
  const counts = new akin.data.HashedNgramVectorizer({ char: null, word: [1, 1], dim, weighting: 'count', signed: false, normalize: false }).transform(['a b a']);
  const expected = new Float32Array(dim);
  expected[bucket('a')] = 2;
  expected[bucket('b')] = 1;
  assert.deepEqual(Array.from(counts), Array.from(expected));
  // Signed: each occurrence adds the sign its hash's bit 31 gives.
  const signed = new akin.data.HashedNgramVectorizer({ char: null, word: [1, 1], dim, weighting: 'count', normalize: false }).transform(['a b a']);
  assert.equal(signed[bucket('a')], 2 * sign('a'));
  assert.equal(signed[bucket('b')], sign('b'));
  // tf-idf with training texts ["a b", "a"]: idf(a) = ln(3/3) + 1 = 1, idf(b) = ln(3/2) + 1;
  // "a a b" -> a: (1 + ln 2) * 1, b: 1 * (1 + ln 1.5), then unit norm.
  const v = new akin.data.HashedNgramVectorizer({ char: null, word: [1, 1], dim, signed: false }).fit(['a b', 'a']);
  const x = v.transform(['a a b']);
  const va = 1 + Math.log(2);
  const vb = 1 + Math.log(1.5);
  const norm = Math.hypot(va, vb);
  assertClose([x[bucket('a')], x[bucket('b')]], [va / norm, vb / norm], { atol: 1e-6 });
  assert.equal(x.reduce((n, y) => n + (y !== 0 ? 1 : 0), 0), 2);
  // Saved and restored, it encodes the same.
  const again = akin.data.HashedNgramVectorizer.fromConfig(JSON.parse(JSON.stringify(v.getConfig())));
  assert.deepEqual(Array.from(again.transform(['a a b', 'b c'])), Array.from(v.transform(['a a b', 'b c'])));
});

test('word TF-IDF baseline: vocabulary, smoothed idf and sublinear tf as scikit-learn defines them', () => {
  const v = new akin.data.TfidfVectorizer().fit(['the cat', 'the dog', 'the cat sat']);
  assert.equal(v.dim, 4); // cat, dog, sat, the (sorted)
  const x = v.transform(['cat cat the fish']);
  // idf(cat) = ln(4/3) + 1 (2 of 3 texts), idf(the) = ln(4/4) + 1 = 1; tf(cat) = 2 -> 1 + ln 2; fish is unknown.
  const c = (1 + Math.log(2)) * (Math.log(4 / 3) + 1);
  const t = 1;
  const n = Math.hypot(c, t);
  assertClose(Array.from(x), [c / n, 0, 0, t / n], { atol: 1e-6 });
  const capped = new akin.data.TfidfVectorizer({ maxFeatures: 2 }).fit(['the cat', 'the dog', 'the cat sat']);
  assert.deepEqual(capped.getConfig().terms, ['cat', 'the']); // the 2 most frequent terms
});

test("text runs with features 'tfidf': TF-IDF rows worked by hand on a 3-text corpus, saved and restored", async () => {
  const text = akin.pipeline.getModality('text');
  const options = text.schema.parse({ features: 'tfidf' }) as object;
  const corpus = ['a b', 'b c', 'b b d'];
  const pre = await text.fit(options, corpus, Int32Array.from([0, 1, 2]), { labels: Int32Array.from([0, 1, 2]), description: '' });
  assert.deepEqual(pre.input, { shape: [4] }); // vocabulary a, b, c, d
  // N = 3; df(b) = 3 -> idf 1; a, c, d are in one text each -> idf ln(4/2) + 1.
  // "b b b a e": tf(b) = 3 -> (1 + ln 3) * 1; tf(a) = 1 -> 1 * (1 + ln 2); e is not in the vocabulary.
  const a = 1 + Math.log(2);
  const b = 1 + Math.log(3);
  const n = Math.hypot(a, b);
  const x = pre.transform(['b b b a e', 'c d']);
  assertClose(Array.from(x), [a / n, b / n, 0, 0, 0, 0, Math.SQRT1_2, Math.SQRT1_2], { atol: 1e-6 });
  // Raw counts (sublinearTf false): "b b b a" -> b: 3 * 1, a: 1 * (1 + ln 2).
  const raw = await text.fit(text.schema.parse({ features: 'tfidf', tfidf: { sublinearTf: false } }) as object, corpus, Int32Array.from([0, 1, 2]), { labels: Int32Array.from([0, 1, 2]), description: '' });
  assertClose(Array.from(raw.transform(['b b b a'])), [a / Math.hypot(a, 3), 3 / Math.hypot(a, 3), 0, 0], { atol: 1e-6 });
  // The run folder keeps the fitted vocabulary and idf: restored, it encodes the same.
  const again = text.restore(JSON.parse(JSON.stringify(pre.toJSON())), options);
  assert.deepEqual(Array.from(again.transform(['b b b a e', 'c d'])), Array.from(x));
  assert.deepEqual(text.defaultModel(options), { type: 'text-expansion' });
  assert.throws(() => text.schema.parse({ features: 'tfidf', tfidf: { ngrams: [2, 1] } }));
});

test('text-expansion model: the input followed by its learned projection, scaled to unit norm (worked by hand)', async () => {
  const tf = akin.tf;
  const model = akin.models.textExpansion({ inputDim: 2, projectionDim: 1 });
  const dense = model.getLayer('expansion_projection');
  dense.setWeights([tf.tensor2d([[1], [2]])]); // P x = x0 + 2 x1
  // x = (3, 4): P x = 11; [3, 4, 11] / sqrt(9 + 16 + 121).
  const y = (model.predict(tf.tensor2d([[3, 4], [0, 0]])) as akin.tf.Tensor).arraySync() as number[][];
  const n = Math.sqrt(146);
  assertClose(y[0], [3 / n, 4 / n, 11 / n], { atol: 1e-6 });
  assertClose(y[1], [0, 0, 0], { atol: 0 }); // an empty text stays zero
  // Untrained (small projection), it ranks like the input: cosines within 0.01 of the inputs' cosines.
  const fresh = akin.models.textExpansion({ inputDim: 50, projectionDim: 8, seed: 3 });
  const rows = Array.from({ length: 6 }, (_, i) => Array.from({ length: 50 }, (_, j) => ((i * 7 + j * 13) % 11 === 0 ? 1 + ((i + j) % 3) : 0)));
  const e = (fresh.predict(tf.tensor2d(rows)) as akin.tf.Tensor).arraySync() as number[][];
  const cos = (u: number[], v: number[]) => u.reduce((s, x, k) => s + x * v[k], 0) / (Math.hypot(...u) * Math.hypot(...v));
  for (let i = 0; i < 6; i++) for (let j = 0; j < i; j++) assertClose(cos(e[i], e[j]), cos(rows[i], rows[j]), { atol: 0.01, rtol: 0 });
  // Saved and loaded through a run's model files, it embeds the same.
  const dir = tempDir('akin-expansion-');
  try {
    await akin.models.saveModel(model, dir);
    const loaded = await akin.models.loadModel(dir);
    assertClose((loaded.predict(tf.tensor2d([[3, 4]])) as akin.tf.Tensor).dataSync(), y[0], { atol: 1e-6 });
    loaded.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  model.dispose();
  fresh.dispose();
});

test('the State of the Union example configs are valid run configs', () => {
  const dir = fileURLToPath(new URL('../../examples/', import.meta.url));
  const names = readdirSync(dir).filter((f) => /^sotu-.*\.json$/.test(f));
  assert.ok(names.includes('sotu-tfidf.json'), names.join(', '));
  for (const f of names) {
    const c = akin.pipeline.parseRunConfig(JSON.parse(readFileSync(join(dir, f), 'utf8')));
    assert.equal(c.data.kind, 'text', f);
  }
  const tfidf = akin.pipeline.parseRunConfig(JSON.parse(readFileSync(join(dir, 'sotu-tfidf.json'), 'utf8')));
  assert.equal(tfidf.model.type, 'text-expansion');
  // Early stopping watches speakers that are neither trained on nor tested.
  const val = tfidf.data.validationClasses as number[];
  assert.equal(val.length, 7);
  for (const c of val) assert.ok(!(tfidf.data.testClasses as number[]).includes(c));
});

test('token ids: hashed words and a fitted character vocabulary, cut and padded to maxLength', () => {
  const words = new akin.data.TokenEncoder({ unit: 'words', buckets: 100, maxLength: 4 });
  const ids = Array.from(words.transform(['The cat sat.', 'a b c d e']));
  const id = (w: string) => 2 + (fnv1a(w) % 100);
  assert.deepEqual(ids, [id('the'), id('cat'), id('sat'), 0, id('a'), id('b'), id('c'), id('d')]);
  assert.equal(words.vocabSize, 102);
  // Characters: "abca" gives a (2 times) id 2, then b and c (once each, in code-point order) ids 3 and 4;
  // the space and 'd' are unknown (id 1).
  const chars = new akin.data.TokenEncoder({ unit: 'chars', maxChars: 3, maxLength: 4 }).fit(['abca']);
  assert.deepEqual(Array.from(chars.transform(['Cab d', 'c'])), [4, 2, 3, 1, 4, 0, 0, 0]);
  const again = akin.data.TokenEncoder.fromConfig(JSON.parse(JSON.stringify(chars.getConfig())));
  assert.deepEqual(Array.from(again.transform(['Cab d'])), [4, 2, 3, 1]);
});

test('State of the Union passages: whole sentences of at least N words, by speaker', () => {
  assert.deepEqual(akin.data.splitSentences('One two. "Three?" Four! Five'), ['One two.', '"Three?"', 'Four!', 'Five']);
  assert.deepEqual(akin.data.passages('A b c. D e. F g h i. J.', 3), ['A b c.', 'D e. F g h i.']);
  const s = akin.data.loadSotuPassages({ words: 100, maxPerSpeaker: 5 });
  assert.equal(s.speakers[0], 'George Washington');
  assert.ok(s.speakers.length >= 40, `${s.speakers.length} speakers`);
  for (const t of s.texts.slice(0, 20)) assert.ok(akin.data.tokenizeWords(t).length >= 100);
  assert.ok([...new Set(s.labels)].every((c) => s.labels.filter((l) => l === c).length <= 5));
});

/** MAP@R with cosine similarity in plain loops (each row queries all the others). */
function mapAtR(x: Float32Array, labels: Int32Array, dim: number): number {
  const n = labels.length;
  const norms = Array.from({ length: n }, (_, i) => Math.hypot(...x.subarray(i * dim, (i + 1) * dim)) || 1);
  let total = 0;
  for (let q = 0; q < n; q++) {
    const others: { s: number; rel: boolean }[] = [];
    for (let j = 0; j < n; j++) {
      if (j === q) continue;
      let d = 0;
      for (let k = 0; k < dim; k++) d += x[q * dim + k] * x[j * dim + k];
      others.push({ s: d / (norms[q] * norms[j]), rel: labels[j] === labels[q] });
    }
    others.sort((a, b) => b.s - a.s);
    const R = others.filter((o) => o.rel).length;
    let hits = 0;
    let ap = 0;
    for (let i = 0; i < R; i++) if (others[i].rel) ap += ++hits / (i + 1);
    total += R ? ap / R : 0;
  }
  return total / n;
}

test('trained on State of the Union speakers (SupCon), the n-gram MLP retrieves held-out speakers\' passages better than untrained', async () => {
  // Every speaker, 16 passages of >= 80 words each; every third speaker (in time order) is held out.
  const s = akin.data.loadSotuPassages({ words: 80, maxPerSpeaker: 16 });
  const speakers = s.speakers.map((_, i) => i);
  const trainSpeakers = new Set(speakers.filter((c) => c % 3 !== 0));
  const testSpeakers = new Set(speakers.filter((c) => c % 3 === 0));
  const pick = (keep: Set<number>) => {
    const idx = [...s.labels.keys()].filter((i) => keep.has(s.labels[i]));
    return { texts: idx.map((i) => s.texts[i]), labels: Int32Array.from(idx, (i) => s.labels[i]) };
  };
  const train = pick(trainSpeakers);
  const test = pick(testSpeakers);
  const vec = new akin.data.HashedNgramVectorizer({ char: null, word: [1, 1], dim: 2048 }).fit(train.texts);
  const data = { features: vec.transform(train.texts), labels: train.labels, count: train.texts.length, shape: [2048] };
  const model = akin.models.mlp({ inputDim: 2048, hidden: [], embeddingDim: 128, seed: 1 });
  const before = await akin.models.embed(model, vec.transform(test.texts), test.texts.length, [2048]);
  const untrained = mapAtR(before.embeddings, test.labels, before.dim);
  const loss = new akin.losses.SupConLoss({ temperature: 0.1 });
  await new akin.train.Trainer().fit({ model, loss, data, batchSize: 112, m: 4, epochs: 20, learningRate: 3e-3, seed: 1, progress: false });
  loss.dispose();
  const after = await akin.models.embed(model, vec.transform(test.texts), test.texts.length, [2048]);
  const trained = mapAtR(after.embeddings, test.labels, after.dim);
  const tfidf = new akin.data.TfidfVectorizer().fit(train.texts);
  const baseline = mapAtR(tfidf.transform(test.texts), test.labels, tfidf.dim);
  model.dispose();
  process.stdout.write(`# held-out speakers MAP@R: TF-IDF ${baseline.toFixed(3)}, untrained ${untrained.toFixed(3)}, trained ${trained.toFixed(3)}\n`);
  // In seconds of training the network does not reach word TF-IDF on held-out speakers (about 0.087
  // against 0.07 when this was written; bench/sotu.mjs measures the longer runs), so the claim tested
  // is the weaker one: training on other speakers clearly improves on the untrained network (0.035).
  assert.ok(trained > untrained + 0.02, `trained MAP@R ${trained.toFixed(3)} is not above untrained ${untrained.toFixed(3)} + 0.02`);
  assert.ok(baseline > 0.06, `TF-IDF MAP@R ${baseline.toFixed(3)}: the slice lost its signal`);
});

/**
 * Training of the held-out comparison below: 6 epochs over 28 speakers x 24 passages. When this was
 * written, TF-IDF reached MAP@R 0.099 on this slice and the expansion 0.114 and 0.120 after 6 epochs
 * (seeds 1 and 2); the margin asked for is about half that gain. bench/sotu.mjs measures the full
 * benchmark (40 passages per speaker, early stopping on validation speakers, 3 seeds).
 */
const EXPANSION_EPOCHS = 6;
const EXPANSION_MARGIN = 0.01;

test('trained on State of the Union speakers, the TF-IDF expansion retrieves held-out speakers\' passages better than word TF-IDF', async () => {
  // Every speaker, 24 passages of >= 100 words each; every third speaker (in time order) is held out.
  const s = akin.data.loadSotuPassages({ words: 100, maxPerSpeaker: 24 });
  const speakers = s.speakers.map((_, i) => i);
  const pick = (keep: (c: number) => boolean) => {
    const idx = [...s.labels.keys()].filter((i) => keep(s.labels[i]));
    return { texts: idx.map((i) => s.texts[i]), labels: Int32Array.from(idx, (i) => s.labels[i]) };
  };
  const train = pick((c) => c % 3 !== 0);
  const test = pick((c) => c % 3 === 0);
  assert.equal(new Set(test.labels).size, speakers.filter((c) => c % 3 === 0).length);
  const tfidf = new akin.data.TfidfVectorizer().fit(train.texts);
  const dim = tfidf.dim;
  const xTest = tfidf.transform(test.texts);
  const baseline = mapAtR(xTest, test.labels, dim);
  const model = akin.models.textExpansion({ inputDim: dim, projectionDim: 128, seed: 1 });
  const data = { features: tfidf.transform(train.texts), labels: train.labels, count: train.texts.length, shape: [dim] };
  const loss = new akin.losses.SupConLoss({ temperature: 0.1 });
  await new akin.train.Trainer().fit({ model, loss, data, batchSize: 112, m: 4, epochs: EXPANSION_EPOCHS, learningRate: 3e-3, seed: 1, progress: false });
  loss.dispose();
  const after = await akin.models.embed(model, xTest, test.texts.length, [dim]);
  const trained = mapAtR(after.embeddings, test.labels, after.dim);
  model.dispose();
  process.stdout.write(`# held-out speakers MAP@R: TF-IDF ${baseline.toFixed(3)}, TF-IDF expansion trained ${trained.toFixed(3)}\n`);
  assert.ok(trained > baseline + EXPANSION_MARGIN, `trained MAP@R ${trained.toFixed(3)} is not above TF-IDF ${baseline.toFixed(3)} + ${EXPANSION_MARGIN}`);
});
