import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as akin from 'akin';
import { assertClose, initBackend, randomRows, tempDir } from './helpers.js';

const { calibrate, calibrationFromPairs, match, saveThresholds, loadThresholds } = akin.eval;
const EXACT = { atol: 1e-12, rtol: 0 };

before(async () => {
  await initBackend();
});

// Five points on a line, squared Euclidean distance (as the indexes report it), each matched to its
// nearest other point:
//   x      0  1  3  6  10
//   label  A  A  B  B  A
//   0 -> 1 (d 1, A: same)   1 -> 0 (d 1, same)   3 -> 1 (d 4, A: different)
//   6 -> 3 (d 9, B: same)   10 -> 6 (d 16, B: different)            positives (same) = 3
// "match when d <= t":
//   t = 1:  2 matched, 2 right: precision 1,   recall 2/3, F1 0.8,  match rate 2/5 (both d = 1 together)
//   t = 4:  3 matched, 2 right: precision 2/3, recall 2/3, F1 2/3,  match rate 3/5
//   t = 9:  4 matched, 3 right: precision 3/4, recall 1,   F1 6/7,  match rate 4/5
//   t = 16: 5 matched, 3 right: precision 3/5, recall 1,   F1 3/4,  match rate 1
const X = [[0], [1], [3], [6], [10]];
const Y = [0, 0, 1, 1, 0];

test('calibration curve and cutpoints on a hand-worked set', async () => {
  const cal = await calibrate({ embeddings: X, labels: Y, distance: 'l2', targets: { precision: [0.9, 0.7], recall: [0.5, 1] } });
  assert.equal(cal.count, 5);
  assert.equal(cal.positives, 3);
  const want = [
    [1, 1, 2 / 3, 0.8, 0.4],
    [4, 2 / 3, 2 / 3, 2 / 3, 0.6],
    [9, 3 / 4, 1, 6 / 7, 0.8],
    [16, 3 / 5, 1, 3 / 4, 1],
  ];
  assert.equal(cal.curve.length, 4);
  cal.curve.forEach((p, i) => assertClose([p.threshold, p.precision, p.recall, p.f1, p.matchRate], want[i], { atol: 1e-6, rtol: 0, msg: `curve ${i}` }));
  assertClose(cal.optimal.threshold, 9, EXACT); // best F1 6/7
  assertClose(cal.optimal.f1, 6 / 7, EXACT);
  assertClose(cal.targets['precision@0.9']!.threshold, 1, EXACT); // only t = 1 reaches 0.9
  assertClose(cal.targets['precision@0.7']!.threshold, 9, EXACT); // loosest with precision >= 0.7 (t = 4 has 2/3, t = 9 has 3/4)
  assertClose(cal.targets['recall@0.5']!.threshold, 1, EXACT); // tightest with recall >= 0.5
  assertClose(cal.targets['recall@1']!.threshold, 9, EXACT);

  // Other optimised metrics: precision peaks at t = 1, recall first reaches 1 at t = 9.
  const p = await calibrate({ embeddings: X, labels: Y, distance: 'l2', metric: 'precision' });
  assertClose(p.optimal.threshold, 1, EXACT);
  const r = await calibrate({ embeddings: X, labels: Y, distance: 'l2', metric: 'recall' });
  assertClose(r.optimal.threshold, 9, EXACT);
  // An unreachable target is null.
  const none = calibrationFromPairs([1, 2], [0, 1], { precision: 0.99 });
  assert.equal(none.targets['precision@0.99'], null);
});

test('randomized: calibrate equals a plain-loop sweep over cosine distances', async () => {
  // Noisy clusters: four class centres plus uniform noise, so that precision ranges widely.
  const centres = randomRows(4, 5, 5);
  const labels = Array.from({ length: 60 }, (_, i) => i % 4);
  const rows = randomRows(60, 5, 11).map((row, i) => row.map((v, j) => centres[labels[i]][j] + 0.8 * v));
  const cal = await calibrate({ embeddings: rows, labels, targets: { precision: 0.5 } });
  // Plain loops: cosine distance to the nearest other row, then the sweep.
  const cos = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0) / (Math.hypot(...a) * Math.hypot(...b));
  const pairs = rows.map((a, i) => {
    let best = -1, bestD = Infinity;
    rows.forEach((b, j) => { if (j !== i && 1 - cos(a, b) < bestD) { bestD = 1 - cos(a, b); best = j; } });
    return { d: bestD, same: labels[best] === labels[i] };
  }).sort((a, b) => a.d - b.d);
  const pos = pairs.filter((p) => p.same).length;
  let bestF1 = -1, bestT = 0, loosest = NaN;
  pairs.forEach((_, j) => {
    const tp = pairs.slice(0, j + 1).filter((p) => p.same).length;
    const prec = tp / (j + 1), rec = tp / pos;
    const f1 = prec + rec === 0 ? 0 : (2 * prec * rec) / (prec + rec);
    if (f1 > bestF1 + 1e-12) { bestF1 = f1; bestT = pairs[j].d; }
    if (prec >= 0.5) loosest = pairs[j].d;
  });
  assertClose(cal.optimal.f1, bestF1, { atol: 1e-9, rtol: 0 });
  assertClose(cal.optimal.threshold, bestT, { atol: 1e-5, rtol: 0 });
  assertClose(cal.targets['precision@0.5']!.threshold, loosest, { atol: 1e-5, rtol: 0 });
});

test('match: nearest label within the threshold, the no-match label beyond it', async () => {
  // Queries 0.4 -> nearest x = 0 (A, squared d 0.16); 4.4 -> nearest x = 3 (B, d 1.96; x = 6 is at 2.56).
  const q = [[0.4], [4.4]];
  const tight = await match({ queries: q, reference: X, referenceLabels: Y, threshold: 1, distance: 'l2' });
  assert.deepEqual(Array.from(tight.labels), [0, -1]);
  assert.deepEqual(Array.from(tight.matched), [1, 0]);
  assert.deepEqual(Array.from(tight.indices), [0, 2]);
  assertClose(tight.distances, [0.16, 1.96], { atol: 1e-5, rtol: 0 });
  const loose = await match({ queries: q, reference: X, referenceLabels: Y, threshold: 2, distance: 'l2', noMatchLabel: -7 });
  assert.deepEqual(Array.from(loose.labels), [0, 1]);
  const strict = await match({ queries: q, reference: X, referenceLabels: Y, threshold: 0.1, distance: 'l2', noMatchLabel: -7 });
  assert.deepEqual(Array.from(strict.labels), [-7, -7]);

  // Through a search index (exact, squared L2): labels from the items' metadata, ids reported.
  const index = new akin.search.ExactIndex({ metric: 'l2' });
  await index.add(Float32Array.from(X.flat()), 1, ['a', 'b', 'c', 'd', 'e'], Y.map((label) => ({ label })));
  const viaIndex = await match({ queries: q, index, threshold: 1 });
  assert.deepEqual(Array.from(viaIndex.labels), [0, -1]);
  assert.deepEqual(viaIndex.ids, ['a', 'c']);
  assertClose(viaIndex.distances, [0.16, 1.96], { atol: 1e-5, rtol: 0 });
  const custom = await match({ queries: q, index, threshold: 2, labelOf: (hit) => (hit.id === 'c' ? 42 : 7) });
  assert.deepEqual(Array.from(custom.labels), [7, 42]);
  await assert.rejects(match({ queries: q, threshold: 1 }), (e: Error) => e instanceof akin.ConfigError && /reference/.test(e.message));
  await assert.rejects(match({ queries: q, reference: X, referenceLabels: Y, threshold: Number.NaN }), (e: Error) => e instanceof akin.ConfigError && /threshold/.test(e.message));
});

test('thresholds.json round trip; a missing file reads as null, a broken one names the file', async () => {
  const dir = tempDir('akin-thr-');
  assert.equal(loadThresholds(dir), null);
  const cal = await calibrate({ embeddings: X, labels: Y, distance: 'l2', targets: { precision: 0.9 } });
  saveThresholds(dir, cal, 'validation');
  const back = loadThresholds(dir)!;
  assert.equal(back.split, 'validation');
  assert.equal(back.distance, 'l2');
  assert.deepEqual(back.optimal, cal.optimal);
  assert.deepEqual(back.targets, cal.targets);
  assert.ok(JSON.parse(readFileSync(join(dir, 'thresholds.json'), 'utf8')).curve.length === 4);
  writeFileSync(join(dir, 'thresholds.json'), '{"optimal": {}}');
  assert.throws(() => loadThresholds(dir), (e: Error) => e instanceof akin.DataError && /thresholds\.json/.test(e.message));
});

test('calibrate and match leave no tensors behind', async () => {
  const before = akin.tf.memory().numTensors;
  const emb = akin.tf.tensor2d(X);
  await calibrate({ embeddings: emb, labels: Y, targets: { precision: 0.9 } });
  await match({ queries: [[0.4]], reference: emb, referenceLabels: Y, threshold: 0.5 });
  emb.dispose();
  assert.equal(akin.tf.memory().numTensors, before);
});

test('calibrate validates its options', async () => {
  await assert.rejects(calibrate({ embeddings: X, labels: Y, targets: { precision: 1.5 } }), (e: Error) => e instanceof akin.ConfigError && /targets\.precision/.test(e.message));
  await assert.rejects(calibrate({ embeddings: X, labels: [0, 1] }), (e: Error) => e instanceof akin.ShapeError && /labels/.test(e.message));
  await assert.rejects(calibrate({ embeddings: X, labels: Y, metric: 'auc' as 'f1' }), (e: Error) => e instanceof akin.ConfigError && /metric/.test(e.message));
});

test('match through an index: one batched call when the index has searchBatch, one search per query otherwise', async () => {
  const r = akin.createRandom(12);
  const dim = 4;
  const refRows = Float32Array.from({ length: 300 * dim }, () => r.next() * 2 - 1);
  const refLabels = Array.from({ length: 300 }, (_, i) => i % 7);
  const queries = Float32Array.from({ length: 120 * dim }, () => r.next() * 2 - 1);
  const exact = new akin.search.ExactIndex({ metric: 'cosine' });
  await exact.add(refRows, dim, refLabels.map((_, i) => `r${i}`), refLabels.map((label) => ({ label })));
  const calls = { search: 0, searchBatch: 0 };
  const batched = Object.assign(Object.create(exact) as akin.search.ExactIndex, {
    search: (q: Float32Array, k: number) => { calls.search++; return exact.search(q, k); },
    searchBatch: (q: Float32Array, k: number) => { calls.searchBatch++; return exact.searchBatch(q, k); },
  });
  const perQuery = {
    kind: exact.kind, metric: exact.metric, dim: exact.dim, size: exact.size,
    search: (q: Float32Array, k: number) => { calls.search++; return exact.search(q, k); },
  } as unknown as akin.search.NearestNeighborIndex;
  const a = await match({ queries, dim, index: batched, threshold: 0.05 });
  assert.deepEqual(calls, { search: 0, searchBatch: 1 });
  const b = await match({ queries, dim, index: perQuery, threshold: 0.05 });
  assert.deepEqual(calls, { search: 120, searchBatch: 1 });
  // Plain loops: nearest reference row by cosine distance.
  const want = Array.from({ length: 120 }, (_, i) => {
    let best = -1, bestD = Infinity;
    for (let j = 0; j < 300; j++) {
      let dot = 0, qq = 0, rr = 0;
      for (let t = 0; t < dim; t++) {
        dot += queries[i * dim + t] * refRows[j * dim + t];
        qq += queries[i * dim + t] ** 2;
        rr += refRows[j * dim + t] ** 2;
      }
      const d = 1 - dot / Math.sqrt(qq * rr);
      if (d < bestD) { bestD = d; best = j; }
    }
    return { id: `r${best}`, d: bestD };
  });
  for (const res of [a, b]) {
    assert.deepEqual(res.ids, want.map((w) => w.id));
    assertClose(res.distances, want.map((w) => w.d), { atol: 1e-5, rtol: 0 });
    assert.deepEqual(Array.from(res.labels), want.map((w) => (w.d <= 0.05 ? refLabels[Number(w.id.slice(1))] : -1)));
  }
  // An empty index matches nothing.
  const none = await match({ queries, dim, index: new akin.search.ExactIndex({ metric: 'cosine' }), threshold: 1 });
  assert.ok(none.ids.every((id) => id === null) && Array.from(none.distances).every((d) => d === Infinity));
});

test('match(queries, { index, threshold }) and match({ queries, ... }) agree; misuse names the bad argument', async () => {
  // Same hand-worked set as above: 0.4 -> x = 0 (A, squared d 0.16); 4.4 -> x = 3 (B, d 1.96).
  const q = [[0.4], [4.4]];
  const index = new akin.search.ExactIndex({ metric: 'l2' });
  await index.add(Float32Array.from(X.flat()), 1, ['a', 'b', 'c', 'd', 'e'], Y.map((label) => ({ label })));
  const positional = await match(q, { index, threshold: 1 });
  assert.deepEqual(Array.from(positional.labels), [0, -1]);
  assert.deepEqual(positional.ids, ['a', 'c']);
  assertClose(positional.distances, [0.16, 1.96], { atol: 1e-5, rtol: 0 });
  const loose = await match(q, { reference: X, referenceLabels: Y, threshold: 2, distance: 'l2' });
  assert.deepEqual(Array.from(loose.labels), [0, 1]);
  assert.deepEqual(Array.from(loose.indices), [0, 2]);
  const old = await match({ queries: q, index, threshold: 1 });
  assert.deepEqual(old, positional);

  const bad = (re: RegExp) => (e: Error) => e instanceof akin.ConfigError && re.test(e.message);
  await assert.rejects(match(q, { queries: q, index, threshold: 1 } as never), bad(/'queries' is given twice/));
  await assert.rejects(match(q, { index, threshold: '1' } as never), bad(/threshold/));
  await assert.rejects(match(q, { index, threshold: 1, treshold: 1 } as never), bad(/treshold/));
  await assert.rejects(match(q, null as never), bad(/second argument must be an options object, got null/));
  await assert.rejects(match({ index, threshold: 1 } as never), bad(/'queries' is required/));
  await assert.rejects((match as (q: unknown) => Promise<unknown>)(q), bad(/options are missing/));
});

test('pickThreshold: a given threshold, a named target or the optimal one; errors name the option', () => {
  const { pickThreshold, ThresholdError } = akin.eval;
  const saved = {
    distance: 'cosine', metric: 'f1', split: 'validation', created: '', count: 1, positives: 1, curve: [],
    optimal: { threshold: 0.25, precision: 1, recall: 1, f1: 1, matchRate: 1 },
    targets: { 'precision@0.9': { threshold: 0.125, precision: 0.9, recall: 1, f1: 1, matchRate: 1 }, 'recall@0.99': null },
  } as unknown as akin.eval.SavedThresholds;
  assert.deepEqual(pickThreshold(saved, {}, 'cosine'), { threshold: 0.25, source: 'thresholds.json optimal', distance: 'cosine' });
  assert.deepEqual(pickThreshold(saved, { target: 'precision@0.9' }, 'cosine'), { threshold: 0.125, source: 'thresholds.json precision@0.9', distance: 'cosine' });
  assert.deepEqual(pickThreshold(saved, { threshold: 3, target: 'precision@0.9' }, 'l2'), { threshold: 3, source: 'request', distance: 'l2' });
  assert.deepEqual(pickThreshold(null, { threshold: 0.5 }, 'ip'), { threshold: 0.5, source: 'request', distance: 'ip' });
  const err = (code: string, re: RegExp) => (e: Error) => e instanceof ThresholdError && (e as akin.AkinError).code === code && re.test(e.message);
  assert.throws(() => pickThreshold(null, {}, 'cosine', { threshold: '--threshold', target: '--target' }), err('E_NOT_CALIBRATED', /akin calibrate.*--threshold/));
  assert.throws(() => pickThreshold(saved, { target: 'recall@0.99' }, 'cosine', { threshold: 'x', target: '--target' }), err('E_NOT_CALIBRATED', /--target 'recall@0\.99' was not calibrated; known: precision@0\.9, recall@0\.99/));
  assert.throws(() => pickThreshold(saved, {}, 'l2'), err('E_METRIC_MISMATCH', /calibrated in 'cosine' distance but the index ranks by 'l2'/));
});
