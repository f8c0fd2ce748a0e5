import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as akin from 'akin';
import { assertClose, initBackend } from './helpers.js';

// accuracy() computes the metrics one block of query rows at a time, selecting each row's neighbours
// from its scores without a neighbour table. These tests use more than 1,024 reference rows, so that
// the selection estimates thresholds from samples (smaller sets take whole rows), and compare with
// (a) plain loops that sort every row completely and (b) the neighbour-table path, knn + retrievalMetrics.

const { accuracy, accuracyPerClass, knn, retrievalMetrics } = akin.eval;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const NAMES = ['precisionAt1', 'rPrecision', 'mapAtR', 'meanAveragePrecision', 'meanReciprocalRank', 'recallAtK', 'knnAccuracy'] as const;
const EXACT = { atol: 1e-12, rtol: 0 };
type Label = number | number[];

before(async () => {
  await initBackend();
});

/** n rows of `dim` integer coordinates in [-span, span]: squared distances are exact in float32, so ties are real. */
function intRows(r: akin.Random, n: number, dim: number, span: number): Float32Array {
  return Float32Array.from({ length: n * dim }, () => Math.floor(r.next() * (2 * span + 1)) - span);
}

/**
 * Plain-loop reference: every reference row sorted by (squared distance, index) for every query, then
 * the definitions applied to the whole ranking. Returns per-query values (null for lone queries).
 */
function plainPerQuery(
  q: Float32Array, ql: Label[], ref: Float32Array, rl: Label[], dim: number, same: boolean,
  o: { k: number | 'all' | 'maxBinCount'; atK: number; comparison: 'equal' | 'intersect' },
): { key: string; v: number[] }[] {
  const asSet = (l: Label): number[] => [...new Set(typeof l === 'number' ? [l] : l)].sort((a, b) => a - b);
  const rel = (a: Label, b: Label): boolean => {
    const x = asSet(a), y = asSet(b);
    return o.comparison === 'equal' ? x.join() === y.join() : x.some((v) => y.includes(v));
  };
  const nq = ql.length, nr = rl.length;
  const self = same ? 1 : 0;
  const count = (l: Label): number => rl.filter((x) => rel(l, x)).length;
  const maxBin = Math.max(...ql.map(count));
  const avail = nr - self;
  const k = Math.min(o.k === 'all' ? avail : o.k === 'maxBinCount' ? maxBin - self : o.k, avail);
  const atK = Math.min(o.atK, avail);
  const out: { key: string; v: number[] }[] = [];
  const keys = new Float64Array(nr);
  for (let i = 0; i < nq; i++) {
    const R = count(ql[i]) - (same && rel(ql[i], ql[i]) ? 1 : 0);
    if (R <= 0) continue;
    let n = 0;
    for (let j = 0; j < nr; j++) {
      if (same && j === i) continue;
      let d2 = 0;
      for (let t = 0; t < dim; t++) d2 += (q[i * dim + t] - ref[j * dim + t]) ** 2;
      keys[n++] = d2 * 65536 + j; // integer distances: one exact sort key, index breaking ties
    }
    const order = Array.from(keys.subarray(0, n).sort(), (x) => x % 65536);
    // Ranks of the relevant rows, ascending; each average precision sums (t + 1) / (rank + 1) over them
    // and divides by R (PML: the relevant rows in the reference set, whatever k holds).
    const pos = order.flatMap((j, rank) => (rel(ql[i], rl[j]) ? [rank] : []));
    const m = Math.min(R, k);
    const inK = pos.filter((p) => p < k);
    const inR = pos.filter((p) => p < m);
    const ap = (ranks: number[]): number => ranks.reduce((s, p, t) => s + (t + 1) / (p + 1), 0);
    // k-NN vote: the most frequent label set among the first atK, ties to the one seen first.
    const votes = new Map<string, number>();
    const firstAt = new Map<string, number>();
    order.slice(0, atK).forEach((j, t) => {
      const key = asSet(rl[j]).join();
      votes.set(key, (votes.get(key) ?? 0) + 1);
      if (!firstAt.has(key)) firstAt.set(key, t);
    });
    let win = '';
    for (const [key, c] of votes) {
      const best = votes.get(win) ?? 0;
      if (c > best || (c === best && firstAt.get(key)! < firstAt.get(win)!)) win = key;
    }
    out.push({
      key: asSet(ql[i]).join(),
      v: [pos[0] === 0 ? 1 : 0, inR.length / m, ap(inR) / R, ap(inK) / R, inK.length ? 1 / (inK[0] + 1) : 0,
        pos.length > 0 && pos[0] < atK ? 1 : 0, rel(ql[i], rl[order[firstAt.get(win)!]]) ? 1 : 0],
    });
  }
  return out;
}

/** Means over the non-lone queries, or (avgOfAvgs) the mean over classes of the per-class means; 0 when none. */
function plainMeans(per: { key: string; v: number[] }[], avgOfAvgs: boolean): Record<string, number> {
  const out: Record<string, number> = {};
  NAMES.forEach((name, t) => {
    const byClass = new Map<string, { sum: number; n: number }>();
    let sum = 0;
    for (const p of per) {
      const c = byClass.get(p.key) ?? { sum: 0, n: 0 };
      c.sum += p.v[t];
      c.n += 1;
      byClass.set(p.key, c);
      sum += p.v[t];
    }
    const classMeans = [...byClass.values()].map((c) => c.sum / c.n);
    if (per.length === 0) out[name] = 0;
    else out[name] = avgOfAvgs ? classMeans.reduce((a, b) => a + b, 0) / classMeans.length : sum / per.length;
  });
  return out;
}

test('streaming accuracy equals plain loops on 1,200 x 1,300 integer rows (ties, k variants, separate reference)', async () => {
  const r = akin.createRandom(31);
  const dim = 3;
  const x = intRows(r, 1200, dim, 6); // 13^3 = 2197 points for 1200 rows: many exact ties
  const xl = Array.from({ length: 1200 }, () => Math.floor(r.next() * 6));
  const cases = [
    { k: 'maxBinCount' as const, atK: 10, avgOfAvgs: false },
    { k: 'all' as const, atK: 3, avgOfAvgs: true },
    { k: 7, atK: 25, avgOfAvgs: false },
  ];
  for (const c of cases) {
    const got = await accuracy({ query: x, queryLabels: xl, dim, ...c, metrics: [...NAMES] });
    const want = plainMeans(plainPerQuery(x, xl, x, xl, dim, true, { ...c, comparison: 'equal' }), c.avgOfAvgs);
    for (const m of NAMES) assertClose(got[m], want[m], { ...EXACT, msg: `self, k ${c.k}, ${m}` });
  }
  // Separate query and reference sets; query label 9 is absent from the reference (lone queries).
  const ref = intRows(r, 1300, dim, 6);
  const rl = Array.from({ length: 1300 }, () => Math.floor(r.next() * 5));
  const ql = xl.map((l) => (l === 5 ? 9 : l));
  for (const c of cases) {
    const got = await accuracy({ query: x, queryLabels: ql, reference: ref, referenceLabels: rl, dim, ...c, metrics: [...NAMES] });
    const want = plainMeans(plainPerQuery(x, ql, ref, rl, dim, false, { ...c, comparison: 'equal' }), c.avgOfAvgs);
    for (const m of NAMES) assertClose(got[m], want[m], { ...EXACT, msg: `separate, k ${c.k}, ${m}` });
  }
  // Queries that are the first rows of the reference set (referenceIncludesQuery).
  const head = x.subarray(0, 500 * dim);
  const got = await accuracy({ query: head, queryLabels: xl.slice(0, 500), reference: x, referenceLabels: xl, referenceIncludesQuery: true, dim, metrics: [...NAMES] });
  const want = plainMeans(plainPerQuery(head, xl.slice(0, 500), x, xl, dim, true, { k: 'maxBinCount', atK: 10, comparison: 'equal' }), false);
  for (const m of NAMES) assertClose(got[m], want[m], { ...EXACT, msg: `prefix ${m}` });
});

test('multi-label: streaming accuracy equals plain loops for intersect and equal comparisons', async () => {
  const r = akin.createRandom(32);
  const dim = 2;
  const x = intRows(r, 1100, dim, 12);
  const labels: number[][] = Array.from({ length: 1100 }, () => {
    const a = Math.floor(r.next() * 5);
    return r.next() < 0.4 ? [a, (a + 2) % 5] : [a];
  });
  for (const comparison of ['intersect', 'equal'] as const) {
    const got = await accuracy({ query: x, queryLabels: labels, dim, labelComparison: comparison, atK: 5, metrics: [...NAMES] });
    const want = plainMeans(plainPerQuery(x, labels, x, labels, dim, true, { k: 'maxBinCount', atK: 5, comparison }), false);
    for (const m of NAMES) assertClose(got[m], want[m], { ...EXACT, msg: `${comparison} ${m}` });
  }
});

test('per-class results equal plain per-class means', async () => {
  const r = akin.createRandom(33);
  const dim = 3;
  const x = intRows(r, 1100, dim, 6);
  const xl = Array.from({ length: 1100 }, () => [3, 8, 8, 20][Math.floor(r.next() * 4)]); // unbalanced classes
  const per = await accuracyPerClass({ query: x, queryLabels: xl, dim, metrics: [...NAMES] });
  const rows = plainPerQuery(x, xl, x, xl, dim, true, { k: 'maxBinCount', atK: 10, comparison: 'equal' });
  assert.deepEqual(per.classes, [3, 8, 20]);
  NAMES.forEach((name, t) => {
    const want = [3, 8, 20].map((c) => {
      const v = rows.filter((p) => p.key === String(c)).map((p) => p.v[t]);
      return v.reduce((a, b) => a + b, 0) / v.length;
    });
    assertClose(per.perClass[name], want, { ...EXACT, msg: name });
  });
  assertClose(per.overall.mapAtR, plainMeans(rows, false).mapAtR, { ...EXACT, msg: 'overall' });
});

test('streaming accuracy equals the neighbour-table path (knn + retrievalMetrics) bit for bit on continuous data', async () => {
  const r = akin.createRandom(34);
  const dim = 16;
  const x = Float32Array.from({ length: 1500 * dim }, () => r.next() * 2 - 1);
  const xl = Int32Array.from({ length: 1500 }, () => Math.floor(r.next() * 8));
  const ref = Float32Array.from({ length: 1800 * dim }, () => r.next() * 2 - 1);
  const rl = Int32Array.from({ length: 1800 }, () => Math.floor(r.next() * 7));
  for (const metric of ['l2', 'cosine', 'ip'] as const) {
    for (const sep of [false, true]) {
      const refSet = sep ? ref : x;
      const refLabels = sep ? rl : xl;
      for (const k of [12, 'maxBinCount'] as const) {
        const got = await accuracy({
          query: x, queryLabels: xl, ...(sep ? { reference: ref, referenceLabels: rl } : {}), dim, metric, k, atK: 10,
          metrics: [...NAMES], queryTileSize: 128, referenceTileSize: 700,
        });
        // The table path: k neighbours per query from knn, scored by retrievalMetrics.
        const counts = new Map<number, number>();
        for (const l of refLabels) counts.set(l, (counts.get(l) ?? 0) + 1);
        const kk = k === 'maxBinCount' ? Math.max(...[...new Set(xl)].map((l) => counts.get(l) ?? 0)) - (sep ? 0 : 1) : k;
        const stride = Math.max(kk, 10);
        const table = await knn({ query: x, reference: refSet, dim, k: stride, metric, excludeSelf: !sep, queryTileSize: 128, referenceTileSize: 700 });
        const want = retrievalMetrics(table.indices, stride, xl, refLabels, !sep, [...NAMES], { k: kk, atK: 10 });
        for (const m of NAMES) assert.equal(got[m], want[m], `${metric} ${sep ? 'separate' : 'self'} k ${k} ${m}`);
      }
    }
  }
});

test('accuracy leaves no tensors behind and reports progress per tile pair', async () => {
  const r = akin.createRandom(35);
  const x = Float32Array.from({ length: 1100 * 4 }, () => r.next());
  const xl = Int32Array.from({ length: 1100 }, (_, i) => i % 3);
  const before = akin.tf.memory().numTensors;
  const progress: number[] = [];
  await accuracy({ query: x, queryLabels: xl, dim: 4, queryTileSize: 500, referenceTileSize: 400, onProgress: (d, t) => progress.push(d * 100 + t) });
  assert.equal(akin.tf.memory().numTensors, before);
  // 3 query tiles x 3 reference tiles.
  assert.deepEqual(progress, Array.from({ length: 9 }, (_, i) => (i + 1) * 100 + 9));
});

test('rows split over worker threads give the same results as one thread (knn tables and every metric)', async () => {
  const { setParallelMinScores, RowWork } = (await import(join(root, 'dist', 'eval', 'row-threads.js'))) as {
    setParallelMinScores: (n: number) => number; RowWork: { workersStarted: number };
  };
  const r = akin.createRandom(36);
  const dim = 8;
  const x = Float32Array.from({ length: 1400 * dim }, () => r.next() * 2 - 1);
  const xl = Int32Array.from({ length: 1400 }, () => Math.floor(r.next() * 9));
  const sets = Array.from(xl, (l) => (l % 3 === 0 ? [l, (l + 1) % 9] : [l]));
  const run = async (): Promise<unknown[]> => [
    await accuracy({ query: x, queryLabels: xl, dim, metrics: [...NAMES], queryTileSize: 300 }),
    await accuracy({ query: x, queryLabels: sets, dim, metrics: [...NAMES], k: 'all', metric: 'cosine' }),
    await knn({ query: x, dim, k: 40, metric: 'ip', queryTileSize: 200 }),
  ];
  const single = await run();
  const started = RowWork.workersStarted;
  const previous = setParallelMinScores(0);
  try {
    const threaded = await run();
    assert.deepEqual(threaded, single);
    const info = akin.backend.info();
    if (info?.backend === 'wasm' && info.threads > 1) assert.equal(RowWork.workersStarted - started, 3 * (info.threads - 1), 'workers were not used');
  } finally {
    setParallelMinScores(previous);
  }
});

test('MAP and MAP@R divide by R for k below, at and above R on every path (host, tiles, threads, neighbour table)', async () => {
  const { setParallelMinScores, RowWork } = (await import(join(root, 'dist', 'eval', 'row-threads.js'))) as {
    setParallelMinScores: (n: number) => number; RowWork: { workersStarted: number };
  };
  const started = RowWork.workersStarted;
  const r = akin.createRandom(37);
  const dim = 2;
  const atK = 5;
  // Unbalanced classes, so that one numeric k is below R for some queries, equal to it for others, above it for the rest.
  const intLabel = (): number => [0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 3][Math.floor(r.next() * 12)];
  const setLabel = (): number[] => {
    const a = intLabel();
    return r.next() < 0.3 ? [a, (a + 1) % 4] : [a];
  };
  const nq = 70, nr = 90;
  const q = intRows(r, nq, dim, 4);
  const ref = intRows(r, nr, dim, 4);
  const ints = { ql: Array.from({ length: nq }, intLabel), rl: Array.from({ length: nr }, intLabel) };
  const sets = { ql: Array.from({ length: nq }, setLabel), rl: Array.from({ length: nr }, setLabel) };
  // Separate sets: some query labels absent from the reference (lone queries).
  const sepInts = ints.ql.map((l, i) => (i % 9 === 0 ? 7 : l));
  const sepSets = sets.ql.map((l, i) => (i % 9 === 0 ? [7, 8] : l));
  const intersects = (a: akin.eval.LabelValue, b: akin.eval.LabelValue): boolean => (a as number[]).some((v) => (b as number[]).includes(v));
  const setups = [
    { name: 'self ints', ql: ints.ql as Label[], ref: q, rl: ints.ql as Label[], same: true, comparison: 'equal' as const },
    { name: 'separate ints', ql: sepInts as Label[], ref, rl: ints.rl as Label[], same: false, comparison: 'equal' as const },
    { name: 'self sets', ql: sets.ql as Label[], ref: q, rl: sets.ql as Label[], same: true, comparison: 'intersect' as const },
    { name: 'separate sets', ql: sepSets as Label[], ref, rl: sets.rl as Label[], same: false, comparison: 'intersect' as const },
  ];
  for (const s of setups) {
    const rel = (a: Label, b: Label): boolean => (typeof a === 'number' ? a === b : intersects(a, b));
    // Every query's R (plain count), to pick k below, at and above it.
    const R = s.ql.map((l, i) => s.rl.filter((x) => rel(l, x)).length - (s.same && rel(l, s.ql[i]) ? 1 : 0)).filter((x) => x > 0).sort((a, b) => a - b);
    const maxR = R[R.length - 1];
    const ks = [1, R[0], R[Math.floor(R.length / 4)], maxR, maxR + 4, 'maxBinCount' as const, 'all' as const];
    let belowR = 0;
    for (const k of ks) {
      if (typeof k === 'number') belowR += R.filter((x) => k < x).length;
      const per = plainPerQuery(q, s.ql, s.ref, s.rl, dim, s.same, { k, atK, comparison: s.comparison });
      for (const avgOfAvgs of [false, true]) {
        const want = plainMeans(per, avgOfAvgs);
        const base = {
          query: q, queryLabels: s.ql as number[], dim, k, atK, avgOfAvgs, metrics: [...NAMES],
          ...(s.same ? {} : { reference: s.ref, referenceLabels: s.rl as number[] }),
        };
        const check = (got: Record<string, number>, path: string): void => {
          for (const m of NAMES) assertClose(got[m], want[m], { ...EXACT, msg: `${s.name}, k ${k}, avgOfAvgs ${avgOfAvgs}, ${path}: ${m}` });
        };
        check(await accuracy(base), 'host');
        if (!avgOfAvgs) { // only the reduction differs with avgOfAvgs: the per-query paths are checked once
          check(await accuracy({ ...base, queryTileSize: 11, referenceTileSize: 13 }), 'tiles');
          const previous = setParallelMinScores(0);
          try {
            check(await accuracy({ ...base, queryTileSize: 16 }), 'threads');
          } finally {
            setParallelMinScores(previous);
          }
          if (s.comparison === 'intersect') check(await accuracy({ ...base, labelComparison: intersects }), 'custom comparison');
        }
        // Neighbour table: k resolved as accuracy documents it, then scored by retrievalMetrics.
        const avail = s.rl.length - (s.same ? 1 : 0);
        const maxBin = Math.max(...s.ql.map((l) => s.rl.filter((x) => rel(l, x)).length));
        const kk = Math.min(k === 'all' ? avail : k === 'maxBinCount' ? maxBin - (s.same ? 1 : 0) : k, avail);
        const stride = Math.max(kk, atK);
        const table = await knn({ query: q, reference: s.ref, dim, k: stride, metric: 'l2', excludeSelf: s.same });
        check(retrievalMetrics(table.indices, stride, s.ql as number[], s.rl as number[], s.same, [...NAMES], { k: kk, atK, avgOfAvgs }), 'table');
      }
    }
    assert.ok(belowR > 0, `${s.name}: no query with k < R`);
  }
  const info = akin.backend.info();
  if (info?.backend === 'wasm' && info.threads > 1) assert.ok(RowWork.workersStarted > started, 'the threads path started no workers');
});
