import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import * as akin from 'akin';
import { initBackend, assertClose, tempDir } from './helpers.js';

before(async () => {
  await initBackend();
});

test('parseCsv reads RFC 4180 quoting, a BOM, empty lines, and reports each record\'s line', () => {
  const text = '\uFEFFname,note,n\r\n"Smith, J","said ""hi""",1\n\nLee,"two\nlines",2\n  Kim  ,plain,3\n';
  const t = akin.data.parseCsv(text, 'people.csv');
  assert.deepEqual(t.columns, ['name', 'note', 'n']);
  assert.deepEqual(t.rows, [['Smith, J', 'said "hi"', '1'], ['Lee', 'two\nlines', '2'], ['Kim', 'plain', '3']]);
  assert.deepEqual(t.lines, [2, 5, 6]);
  assert.equal(t.source, 'people.csv');
  const semi = akin.data.parseCsv('a;b\n1;2\n', 'semi.csv', { delimiter: ';' });
  assert.deepEqual(semi.rows, [['1', '2']]);
});

test('parseCsv errors name the source and line', () => {
  assert.throws(() => akin.data.parseCsv('a,b\n1,2\n3\n', 'short.csv'), /short\.csv:3: row has 1 cells, the header has 2/);
  assert.throws(() => akin.data.parseCsv('a,b\n1,"2\n', 'open.csv'), /open\.csv(:\d+)?: cannot parse CSV/);
  assert.throws(() => akin.data.parseCsv('a,a\n1,2\n', 'dup.csv'), /dup\.csv:1: header names column 'a' twice/);
  assert.throws(() => akin.data.parseCsv('', 'empty.csv'), /empty\.csv: empty CSV/);
  assert.throws(() => akin.data.readCsv(join(tmpdir(), 'no-such-file.csv')), /cannot read .*no-such-file\.csv: ENOENT/);
  assert.throws(() => akin.data.parseCsv('a\n1\n', 'x.csv', { delimiter: ';;' }), /parseCsv: option 'delimiter'/);
});

const SMALL = [
  'id,age,colour,city,kind',
  '1,20,red,c1,cat',
  '2,30,blue,c2,dog',
  '3,,red,c3,cat',
  '4,50,green,c4,dog',
  '5,40,blue,c5,bird',
].join('\n');

test('TabularPreprocessor standardises numbers, one-hot or hashes categories, and encodes labels', () => {
  const table = akin.data.parseCsv(SMALL, 'small.csv');
  const prep = new akin.data.TabularPreprocessor({ label: 'kind', ignore: ['id'], maxOneHot: 3, hashBuckets: 4 }).fit(table);
  // age: mean and population std of 20, 30, 50, 40 (the missing one left out)
  const mean = 35;
  const std = Math.sqrt(((20 - 35) ** 2 + (30 - 35) ** 2 + (50 - 35) ** 2 + (40 - 35) ** 2) / 4);
  assert.deepEqual(prep.featureNames(), ['age', 'colour=blue', 'colour=green', 'colour=red', 'city#0', 'city#1', 'city#2', 'city#3']);
  assert.equal(prep.dim, 8);
  assert.deepEqual(prep.classes, ['bird', 'cat', 'dog']);
  const x = prep.transform(table);
  const bucket = (v: string) => akin.data.hashString(`city\u0000${v}`) % 4;
  const expected = [
    [(20 - mean) / std, 0, 0, 1], [(30 - mean) / std, 1, 0, 0], [0, 0, 0, 1], [(50 - mean) / std, 0, 1, 0], [(40 - mean) / std, 1, 0, 0],
  ].map((head, i) => [...head, ...[0, 1, 2, 3].map((b) => (b === bucket(`c${i + 1}`) ? 1 : 0))]);
  assertClose(x, expected.flat(), { atol: 1e-6 });
  const ds = prep.toDataset(table);
  assert.deepEqual(Array.from(ds.labels), [1, 2, 1, 2, 0]);
  assert.deepEqual(ds.shape, [8]);

  // new rows: an unseen colour encodes as zeros, an unseen class gets the next index
  const later = akin.data.parseCsv('kind,city,colour,age,id\nfish,c1,purple,35,9\ncat,c2,red,NA,10\n', 'later.csv');
  const { labels, classNames } = prep.labels(later);
  assert.deepEqual(Array.from(labels), [3, 1]);
  assert.deepEqual(classNames, ['bird', 'cat', 'dog', 'fish']);
  const y = prep.transform(later);
  assertClose(y.subarray(0, 4), [0, 0, 0, 0], { atol: 1e-6 });
  assertClose(y.subarray(8, 12), [0, 0, 0, 1], { atol: 1e-6 });
});

test('a fitted preprocessor saves as JSON and reapplies to raw rows', () => {
  const table = akin.data.parseCsv(SMALL, 'small.csv');
  const prep = new akin.data.TabularPreprocessor({ label: 'kind', ignore: ['id'], maxOneHot: 3, hashBuckets: 4 }).fit(table);
  const saved = JSON.parse(JSON.stringify(prep.getConfig()));
  assert.deepEqual(saved.columns.map((c: { kind: string }) => c.kind), ['numeric', 'onehot', 'hashed']);
  const again = akin.data.TabularPreprocessor.fromConfig(saved);
  assert.deepEqual(Array.from(again.transform(table)), Array.from(prep.transform(table)));
  const fromRecords = again.transformRecords([{ age: 30, colour: 'blue', city: 'c2' }, { age: null, colour: 'red', city: 'c3' }]);
  assert.deepEqual(Array.from(fromRecords), Array.from(prep.transform(table).subarray(8, 24)));
  assert.throws(() => akin.data.TabularPreprocessor.fromConfig({ ...saved, columns: [{ name: 'a', kind: 'numeric', mean: 0, std: -1 }] }), /fromConfig: option 'columns\.0\.std'/);
});

test('preprocessor errors name the file, line and column', () => {
  const table = akin.data.parseCsv(SMALL, 'small.csv');
  const prep = new akin.data.TabularPreprocessor({ label: 'kind', numeric: ['age'], ignore: ['id'] }).fit(table);
  const bad = akin.data.parseCsv('id,age,colour,city,kind\n7,41,red,c1,cat\n8,forty,red,c1,cat\n', 'bad.csv');
  assert.throws(() => prep.transform(bad), /bad\.csv:3: column 'age' must be a number \(got "forty"\)/);
  assert.throws(() => prep.transform(akin.data.parseCsv('id,colour\n1,red\n', 'cols.csv')), /cols\.csv: feature column 'age' is not in the header/);
  assert.throws(() => new akin.data.TabularPreprocessor({ label: 'nope' }).fit(table), /small\.csv: label column 'nope' is not in the header/);
  assert.throws(() => new akin.data.TabularPreprocessor({ numeric: ['colour'] }).fit(table), /small\.csv:2: column 'colour' must be a number \(got "red"\)/);
  assert.throws(() => new akin.data.TabularPreprocessor({ label: 'kind', ignore: ['kind'] }), /column 'kind' is named in both 'label' and 'ignore'/);
  assert.throws(() => new akin.data.TabularPreprocessor({ maxOneHot: 0 }), /TabularPreprocessor: option 'maxOneHot'/);
  assert.throws(() => new akin.data.TabularPreprocessor().transform(table), /call fit\(table\)/);
  const noLabel = akin.data.parseCsv('id,age,colour,city,kind\n1,2,red,c1,\n', 'nolabel.csv');
  assert.throws(() => prep.labels(noLabel), /nolabel\.csv:2: label column 'kind' is empty/);
});

/**
 * A structured table: the class shows in three numeric columns (cluster centres) and, 80% of the
 * time, in its colour; six numeric columns on wild scales and a 60-valued city are noise.
 */
function structuredCsv(perClass: number, seed: number): string {
  const r = akin.createRandom(seed);
  const names = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
  const colours = ['red', 'green', 'blue', 'black', 'white', 'grey'];
  const centres = names.map(() => [0, 1, 2].map(() => 1.5 * akin.core.randNormal(r)));
  const lines = ['id,s1,s2,s3,n1,n2,n3,n4,n5,n6,colour,city,label'];
  let id = 0;
  for (let i = 0; i < perClass; i++) {
    for (let c = 0; c < names.length; c++) {
      const signal = centres[c].map((m) => (m + 0.6 * akin.core.randNormal(r)).toFixed(4));
      const noise = [1, 100, 0.01, 5, 1000, 3].map((scale, k) => (k === 2 && r.next() < 0.05 ? '' : (scale * akin.core.randNormal(r) + scale).toFixed(4)));
      const colour = r.next() < 0.8 ? colours[c] : colours[Math.floor(r.next() * colours.length)];
      const city = `"Town ${Math.floor(r.next() * 60)}, Region"`;
      lines.push([id++, ...signal, ...noise, colour, city, names[c]].join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

test('an MLP trained with a metric loss on a CSV beats the standardised raw features on held-out rows', async () => {
  const dir = tempDir('akin-tabular-');
  const [header, ...rows] = structuredCsv(75, 1).trimEnd().split('\n');
  writeFileSync(join(dir, 'train.csv'), [header, ...rows.slice(0, 300)].join('\n'));
  writeFileSync(join(dir, 'test.csv'), [header, ...rows.slice(300)].join('\n'));
  const trainTable = akin.data.readCsv(join(dir, 'train.csv'));
  const testTable = akin.data.readCsv(join(dir, 'test.csv'));
  assert.equal(trainTable.rows.length, 300);
  assert.equal(testTable.rows.length, 150);
  const prep = new akin.data.TabularPreprocessor({ label: 'label', ignore: ['id'] }).fit(trainTable);
  assert.deepEqual(prep.columns.map((c) => c.kind), [...Array(9).fill('numeric'), 'onehot', 'hashed']);
  const train = prep.toDataset(trainTable);
  const held = prep.toDataset(testTable);
  assert.deepEqual(held.classNames, train.classNames, 'the held-out rows have the training classes');
  const baseline = await akin.eval.accuracy({ query: held.features, queryLabels: held.labels, dim: prep.dim });
  const model = akin.models.mlp({ inputDim: prep.dim, hidden: [32], embeddingDim: 16, seed: 0 });
  await new akin.train.Trainer().fit({
    model, data: train, loss: new akin.losses.MultiSimilarityLoss(), miner: new akin.miners.MultiSimilarityMiner(),
    batchSize: 60, epochs: 10, learningRate: 5e-3, progress: false,
  });
  const { embeddings, dim } = await akin.models.embed(model, held.features, held.count, held.shape);
  const trained = await akin.eval.accuracy({ query: embeddings, queryLabels: held.labels, dim });
  model.dispose();
  assert.ok(trained.mapAtR > baseline.mapAtR + 0.25, `held-out MAP@R: raw standardised ${baseline.mapAtR.toFixed(3)}, trained ${trained.mapAtR.toFixed(3)}`);
});

/**
 * MAP@R from its definition, cosine similarity: each row queries all the others; R is the number of
 * other rows with its label, and the score averages precision at each relevant rank within the top R.
 */
function cosineMapAtR(x: ArrayLike<number>, labels: ArrayLike<number>, dim: number): number {
  const n = labels.length;
  const unit: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: dim }, (_, d) => x[i * dim + d]);
    const len = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
    unit.push(row.map((v) => v / len));
  }
  let sum = 0;
  for (let q = 0; q < n; q++) {
    const ranked: [number, boolean][] = [];
    for (let j = 0; j < n; j++) {
      if (j !== q) ranked.push([unit[q].reduce((s, v, d) => s + v * unit[j][d], 0), labels[j] === labels[q]]);
    }
    ranked.sort((a, b) => b[0] - a[0]);
    const R = ranked.filter(([, same]) => same).length;
    let found = 0;
    let precisionSum = 0;
    ranked.slice(0, R).forEach(([, same], k) => {
      if (same) precisionSum += ++found / (k + 1);
    });
    sum += precisionSum / R;
  }
  return sum / n;
}

/**
 * The held-out rows' 13 numbers standardised with the training rows' column means and population
 * standard deviations, computed here from the CSV cells (not by the preprocessor).
 */
function standardisedByHand(train: string[][], held: string[][], cols: number): number[] {
  const out: number[] = [];
  const stats = Array.from({ length: cols }, (_, c) => {
    const v = train.map((r) => Number(r[c]));
    const mean = v.reduce((s, a) => s + a, 0) / v.length;
    return { mean, std: Math.sqrt(v.reduce((s, a) => s + (a - mean) ** 2, 0) / v.length) };
  });
  for (const r of held) for (let c = 0; c < cols; c++) out.push((Number(r[c]) - stats[c].mean) / stats[c].std);
  return out;
}

// Measured on the recipe below, held-out MAP@R (standardised features -> trained, cosine):
// seed 0 0.757 -> 0.957, seed 1 0.766 -> 0.936, seed 2 0.773 -> 0.956; the smallest gain is 0.170,
// and the margin about half of it (1 epoch at lr 1e-4 gains -0.11 to 0.00, so the check can fail).
// The split is made here rather than by a run config: a config needs unseen test classes apart from
// the training classes, and Wine has only three; the pieces are the ones data.kind 'tabular' uses.
const WINE_MARGIN = 0.08;

test('on the UCI Wine data an MLP trained with a metric loss beats the standardised features on held-out rows (3 seeds)', async () => {
  const wine = akin.data.readCsv(fileURLToPath(new URL('../../test/fixtures/wine.csv', import.meta.url)));
  assert.equal(wine.rows.length, 178);
  assert.equal(wine.columns.length, 14);
  const label = wine.columns.indexOf('cultivar');
  const cultivars = Int32Array.from(wine.rows, (r) => Number(r[label]) - 1);
  const counts = [0, 1, 2].map((c) => cultivars.filter((l) => l === c).length);
  assert.deepEqual(counts, [59, 71, 48]);
  for (const seed of [0, 1, 2]) {
    // a seeded stratified split of row indices: round(0.4 * n) rows of each cultivar held out
    const rowIds = { features: Float32Array.from(cultivars, (_, i) => i), labels: cultivars, count: cultivars.length, shape: [1] };
    const split = akin.data.holdout(rowIds, { fraction: 0.4, random: akin.createRandom(seed) });
    const part = (ds: akin.data.Dataset): akin.data.CsvTable => ({ ...wine, rows: Array.from(ds.features, (i) => wine.rows[i]), lines: Array.from(ds.features, (i) => wine.lines[i]) });
    const trainRows = part(split.train);
    const heldRows = part(split.test);
    assert.deepEqual([0, 1, 2].map((c) => split.test.labels.filter((l) => l === c).length), counts.map((n) => Math.round(0.4 * n)));

    const prep = new akin.data.TabularPreprocessor({ label: 'cultivar' }).fit(trainRows);
    assert.equal(prep.dim, 13);
    const train = prep.toDataset(trainRows);
    const held = prep.toDataset(heldRows);
    assert.deepEqual(Array.from(held.labels), Array.from(split.test.labels), 'cultivars 1, 2, 3 are classes 0, 1, 2');
    const raw = standardisedByHand(trainRows.rows, heldRows.rows, 13);
    assertClose(held.features, raw, { atol: 1e-4, msg: 'the preprocessor gives the hand-standardised features' });
    const baseline = cosineMapAtR(raw, held.labels, 13);

    const model = akin.models.mlp({ inputDim: prep.dim, hidden: [64], embeddingDim: 32, seed });
    const loss = new akin.losses.MultiSimilarityLoss();
    await new akin.train.Trainer().fit({
      model, data: train, loss, miner: new akin.miners.MultiSimilarityMiner(),
      batchSize: 30, m: 10, epochs: 20, learningRate: 1e-3, seed, progress: false,
    });
    loss.dispose();
    const { embeddings, dim } = await akin.models.embed(model, held.features, held.count, held.shape);
    model.dispose();
    const trained = cosineMapAtR(embeddings, held.labels, dim);
    process.stdout.write(`# Wine seed ${seed}: ${train.count} train / ${held.count} held-out rows, MAP@R standardised ${baseline.toFixed(3)}, trained ${trained.toFixed(3)}\n`);
    assert.ok(trained > baseline + WINE_MARGIN, `seed ${seed}: held-out MAP@R standardised ${baseline.toFixed(3)}, trained ${trained.toFixed(3)} (margin ${WINE_MARGIN})`);
  }
});

test('the tabular example runs', () => {
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const r = spawnSync(process.execPath, [join(repo, 'examples', 'tabular.mjs')], { cwd: repo, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const m = /held-out MAP@R: standardised features (\d\.\d+), trained (\d\.\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.ok(Number(m[2]) > Number(m[1]) + 0.1, r.stdout);
});
