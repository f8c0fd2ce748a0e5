import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { assertClose, initBackend, randomRows } from './helpers.js';

const { accuracy, retrievalMetrics } = akin.eval;
const ALL = ['precisionAt1', 'rPrecision', 'mapAtR', 'meanAveragePrecision', 'meanReciprocalRank'] as const;

before(async () => {
  await initBackend();
});

// Six points on a line, query = reference (each query's own row excluded):
//   index    0  1  2  3  4  5
//   x        0  1  3  7  8  15
//   label    A  A  B  B  A  B
// Every label has 3 rows, so R = 3 - 1 = 2 for every query and k = maxBinCount - 1 = 2.
// The two nearest other points (|dx|) and their labels. Both average precisions divide by R = 2
// (PML), so with k = R they agree:
//   q0: 1 (1) A, 2 (3) B    -> P@1 1, R-prec 1/2, AP@R (1/1)/2 = 1/2, AP 1/2,   RR 1
//   q1: 0 (1) A, 2 (2) B    -> P@1 1, R-prec 1/2, AP@R 1/2,              AP 1/2,   RR 1
//   q2: 1 (2) A, 0 (3) A    -> P@1 0, R-prec 0,   AP@R 0,                AP 0,     RR 0
//   q3: 4 (1) A, 2 (4) B    -> P@1 0, R-prec 1/2, AP@R (1/2)/2 = 1/4,    AP 1/4,   RR 1/2
//   q4: 3 (1) B, 2 (5) B    -> P@1 0, R-prec 0,   AP@R 0,                AP 0,     RR 0
//   q5: 4 (7) A, 3 (8) B    -> P@1 0, R-prec 1/2, AP@R 1/4,              AP 1/4,   RR 1/2
// Means: P@1 2/6, R-precision 2/6, MAP@R 1.5/6 = 0.25, MAP (over k) 1.5/6 = 0.25, MRR 3/6.
const LINE = [[0], [1], [3], [7], [8], [15]];
const LINE_LABELS = [0, 0, 1, 1, 0, 1];

test('hand-worked 6-point case: P@1, R-precision, MAP@R, MAP, MRR', async () => {
  const got = await accuracy({ query: LINE, queryLabels: LINE_LABELS, metrics: [...ALL] });
  assertClose(got.precisionAt1, 1 / 3, { atol: 1e-12, rtol: 0 });
  assertClose(got.rPrecision, 1 / 3, { atol: 1e-12, rtol: 0 });
  assertClose(got.mapAtR, 0.25, { atol: 1e-12, rtol: 0 });
  assertClose(got.meanAveragePrecision, 0.25, { atol: 1e-12, rtol: 0 });
  assertClose(got.meanReciprocalRank, 0.5, { atol: 1e-12, rtol: 0 });
  // The default metric set is exactly the three headline metrics.
  const defaults = await accuracy({ query: Float32Array.from(LINE.flat()), queryLabels: Int32Array.from(LINE_LABELS), dim: 1 });
  assert.deepEqual(Object.keys(defaults).sort(), ['mapAtR', 'precisionAt1', 'rPrecision']);
  assertClose(defaults.mapAtR, 0.25, { atol: 1e-12, rtol: 0 });
});

test('R > k: R-precision uses the first min(R, k) neighbours; MAP@R and MAP still divide by R (PML)', async () => {
  // k = 1 < R = 2: R-precision is the same-label fraction of the first neighbour = P@1 = 1/3.
  // MAP@R and MAP: a first-neighbour hit gives (1/1)/R = 1/2, a miss 0 -> (1/2 + 1/2)/6 = 1/6.
  const got = await accuracy({ query: LINE, queryLabels: LINE_LABELS, k: 1, metrics: [...ALL] });
  assertClose(got.rPrecision, 1 / 3, { atol: 1e-12, rtol: 0 });
  assertClose(got.mapAtR, 1 / 6, { atol: 1e-12, rtol: 0 });
  assertClose(got.meanAveragePrecision, 1 / 6, { atol: 1e-12, rtol: 0 });
  // k = 4 > R: R-precision and MAP@R are unchanged (only the first R count); MAP and MRR see more.
  // Third and fourth neighbours: q0: 3 B, 4 A; q1: 3 B, 4 A; q2: 3 B, 4 A; q3: 1 A, 0 A;
  // q4: 1 A, 5 B (tie at 7: lower index first); q5: 2 B, 1 A.
  // AP over 4, divided by R = 2: q0 (1 + 2/4)/2 = 3/4; q1 3/4; q2 (1/3)/2; q3 (1/2)/2; q4 (1/3)/2;
  // q5 (1/2 + 2/3)/2 = 7/12.
  const four = await accuracy({ query: LINE, queryLabels: LINE_LABELS, k: 4, metrics: [...ALL] });
  assertClose(four.rPrecision, 1 / 3, { atol: 1e-12, rtol: 0 });
  assertClose(four.mapAtR, 0.25, { atol: 1e-12, rtol: 0 });
  assertClose(four.meanAveragePrecision, (3 / 4 + 3 / 4 + 1 / 6 + 1 / 4 + 1 / 6 + 7 / 12) / 6, { atol: 1e-12, rtol: 0 });
  // First same-label rank: q0 1, q1 1, q2 3, q3 2, q4 3, q5 2.
  assertClose(four.meanReciprocalRank, (1 + 1 + 1 / 3 + 1 / 2 + 1 / 3 + 1 / 2) / 6, { atol: 1e-12, rtol: 0 });
});

test('separate reference set: lone queries (label absent from the reference) are left out', async () => {
  // reference: x = 0 A, 2 A, 5 B, 9 B, 10 C, 11 C, 12 C;  queries: 1 A, 8 B, 20 D (lone).
  // k = maxBinCount over the query labels = 2 (label C's 3 rows do not count: no query has it).
  // q0 (x=1): refs 0 and 1 tie at distance 1 -> [0, 1] = A A: P@1 1, R-prec 1, AP@R 1.
  // q1 (x=8): ref 3 (1), ref 4 (2) -> B C: P@1 1, R-prec 1/2, AP@R (1/1)/2 = 1/2.
  // MAP over k=2, divided by R = 2: q0 (1 + 1)/2 = 1, q1 (1/1)/2 = 1/2.
  const reference = [[0], [2], [5], [9], [10], [11], [12]];
  const referenceLabels = [0, 0, 1, 1, 2, 2, 2];
  const got = await accuracy({ query: [[1], [8], [20]], queryLabels: [0, 1, 3], reference, referenceLabels, metrics: [...ALL] });
  assertClose(got.precisionAt1, 1, { atol: 1e-12, rtol: 0 });
  assertClose(got.rPrecision, 0.75, { atol: 1e-12, rtol: 0 });
  assertClose(got.mapAtR, 0.75, { atol: 1e-12, rtol: 0 });
  assertClose(got.meanAveragePrecision, 0.75, { atol: 1e-12, rtol: 0 });

  // Every query lone -> every k-NN metric is NaN (PML 2.x's nan_accuracy: nothing could be scored, which
  // a 0 would hide), and no search is needed; per class, one NaN per distinct query label.
  const lone = await accuracy({ query: [[0], [1], [2]], queryLabels: [0, 1, 2], metrics: [...ALL] });
  for (const m of ALL) assert.ok(Number.isNaN(lone[m]), `${m}: ${lone[m]}`);
  const loneSep = await akin.eval.accuracyPerClass({ query: [[1], [20], [21]], queryLabels: [7, 3, 7], reference, referenceLabels, metrics: ['precisionAt1', 'mapAtR'] });
  assert.deepEqual(loneSep.classes, [3, 7]);
  for (const m of ['precisionAt1', 'mapAtR']) {
    assert.ok(Number.isNaN(loneSep.overall[m]), m);
    assert.equal(loneSep.perClass[m].length, 2);
    assert.ok(loneSep.perClass[m].every(Number.isNaN), m);
  }
  const table = akin.eval.retrievalMetrics(Int32Array.from([0, 1, 2]), 1, [7, 3, 7], referenceLabels, false, ['precisionAt1']);
  assert.ok(Number.isNaN(table.precisionAt1));
});

// Points 0 1 2 10 11 12 with labels 0 1 0 0 1 1, query = reference: every label has 3 rows, so R = 2
// for every query. Nearest other rows (squared L2, ties to the lower index), relevant marked *:
//   q0 (0, A): 1 B, 2 A*      q1 (1, B): 0 A, 2 A      q2 (2, A): 1 B, 0 A*
//   q3 (10, A): 4 B, 5 B      q4 (11, B): 3 A, 5 B* (3 and 5 tie at 1)      q5 (12, B): 4 B*, 3 A
// k = 2, MAP: (1/2)/R per hit at rank 2 -> q0 1/4, q2 1/4, q4 1/4; q5 (1/1)/R = 1/2 -> 5/4 / 6 = 5/24.
// k = 1, MAP@R: only q5's first neighbour is relevant: (1/1)/R = 1/2 -> 1/12.
// Dividing by the hits found (or by min(R, k)) instead would give 5/12 and 1/6.
const TIE_LINE = [0, 1, 2, 10, 11, 12];
const TIE_LABELS = [0, 1, 0, 0, 1, 1];

/** MAP and MAP@R of the TIE_LINE case straight from the definition, with plain loops. */
function tieLineReference(k: number): { meanAveragePrecision: number; mapAtR: number } {
  const n = TIE_LINE.length;
  let map = 0, mapR = 0;
  for (let i = 0; i < n; i++) {
    let R = 0;
    for (let j = 0; j < n; j++) if (j !== i && TIE_LABELS[j] === TIE_LABELS[i]) R++;
    const order: number[] = [];
    for (let j = 0; j < n; j++) if (j !== i) order.push(j);
    order.sort((a, b) => (TIE_LINE[a] - TIE_LINE[i]) ** 2 - (TIE_LINE[b] - TIE_LINE[i]) ** 2 || a - b);
    let hits = 0, ap = 0, apR = 0;
    for (let t = 0; t < k; t++) {
      if (TIE_LABELS[order[t]] !== TIE_LABELS[i]) continue;
      hits++;
      ap += hits / (t + 1);
      if (t < Math.min(R, k)) apR += hits / (t + 1);
    }
    map += ap / R;
    mapR += apR / R;
  }
  return { meanAveragePrecision: map / n, mapAtR: mapR / n };
}

test('k < R: MAP and MAP@R divide by R, the relevant reference rows (PML 2.8.1 worked example)', async () => {
  const exact = { atol: 1e-12, rtol: 0 };
  const query = TIE_LINE.map((x) => [x]);
  for (const k of [1, 2]) {
    const want = tieLineReference(k);
    const got = await accuracy({ query, queryLabels: TIE_LABELS, k, metrics: ['meanAveragePrecision', 'mapAtR'] });
    assertClose(got.meanAveragePrecision, want.meanAveragePrecision, { ...exact, msg: `MAP k ${k}` });
    assertClose(got.mapAtR, want.mapAtR, { ...exact, msg: `MAP@R k ${k}` });
    // The same through the neighbour-table path, from the plain loop's own rankings.
    const table = Int32Array.from(TIE_LINE.flatMap((x, i) =>
      TIE_LINE.map((_, j) => j).filter((j) => j !== i).sort((a, b) => (TIE_LINE[a] - x) ** 2 - (TIE_LINE[b] - x) ** 2 || a - b).slice(0, k)));
    const fromTable = retrievalMetrics(table, k, TIE_LABELS, TIE_LABELS, true, ['meanAveragePrecision', 'mapAtR']);
    assertClose(fromTable.meanAveragePrecision, want.meanAveragePrecision, { ...exact, msg: `table MAP k ${k}` });
    assertClose(fromTable.mapAtR, want.mapAtR, { ...exact, msg: `table MAP@R k ${k}` });
  }
  // The hand-worked values above, as a check on the plain loop itself.
  assertClose(tieLineReference(2).meanAveragePrecision, 5 / 24, exact);
  assertClose(tieLineReference(1).mapAtR, 1 / 12, exact);
});

/** Straightforward reimplementation: sort all reference rows per query, then apply the definitions. */
function plainMetrics(
  q: number[][], qLabels: number[], ref: number[][], rLabels: number[], sameSource: boolean, metric: 'l2' | 'cosine',
): Record<string, number> {
  const dist = (a: number[], b: number[]): number => {
    if (metric === 'l2') return a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);
    const dot = a.reduce((s, v, i) => s + v * b[i], 0);
    return -dot / (Math.hypot(...a) * Math.hypot(...b));
  };
  const count = (l: number): number => rLabels.filter((x) => x === l).length;
  const self = sameSource ? 1 : 0;
  const k = Math.max(...[...new Set(qLabels)].map(count)) - self;
  const sums = { precisionAt1: 0, rPrecision: 0, mapAtR: 0, meanAveragePrecision: 0, meanReciprocalRank: 0 };
  let used = 0;
  q.forEach((row, i) => {
    const R = count(qLabels[i]) - self;
    if (R <= 0) return;
    used++;
    const order = ref.map((r, j) => j).filter((j) => !(sameSource && j === i));
    order.sort((a, b) => dist(row, ref[a]) - dist(row, ref[b]) || a - b);
    const rel = order.slice(0, k).map((j) => rLabels[j] === qLabels[i]);
    sums.precisionAt1 += rel[0] ? 1 : 0;
    const top = rel.slice(0, Math.min(R, k));
    sums.rPrecision += top.filter(Boolean).length / top.length;
    let ap = 0;
    top.forEach((hit, j) => { if (hit) ap += top.slice(0, j + 1).filter(Boolean).length / (j + 1); });
    sums.mapAtR += ap / R; // R, not min(R, k): PML's relevance-mask row sum is divided by R
    let apk = 0;
    rel.forEach((hit, j) => { if (hit) apk += rel.slice(0, j + 1).filter(Boolean).length / (j + 1); });
    sums.meanAveragePrecision += apk / R;
    const first = rel.indexOf(true);
    sums.meanReciprocalRank += first < 0 ? 0 : 1 / (first + 1);
  });
  return Object.fromEntries(Object.entries(sums).map(([name, s]) => [name, used ? s / used : 0]));
}

test('randomized: accuracy equals a plain-loop implementation (self-retrieval and separate reference)', async () => {
  const r = akin.createRandom(77);
  for (let trial = 0; trial < 4; trial++) {
    // Integer coordinates: squared L2 is exact in float32, so neighbour order (ties included) is exact.
    const ints = (n: number): number[][] => Array.from({ length: n }, () => [0, 1, 2].map(() => Math.floor(r.next() * 41) - 20));
    const labels = (n: number, c: number): number[] => Array.from({ length: n }, () => Math.floor(r.next() * c));
    const q = ints(45);
    const ql = labels(45, 4 + trial);
    const self = await accuracy({ query: q, queryLabels: ql, metrics: [...ALL], queryTileSize: 16, referenceTileSize: 7 });
    const want = plainMetrics(q, ql, q, ql, true, 'l2');
    for (const m of ALL) assertClose(self[m], want[m], { atol: 1e-12, rtol: 0, msg: `self ${m} trial ${trial}` });

    const ref = ints(60);
    const rl = labels(60, 5);
    const sep = await accuracy({ query: q, queryLabels: ql.map((l) => l + 1), reference: ref, referenceLabels: rl, metrics: [...ALL] });
    const want2 = plainMetrics(q, ql.map((l) => l + 1), ref, rl, false, 'l2');
    for (const m of ALL) assertClose(sep[m], want2[m], { atol: 1e-12, rtol: 0, msg: `separate ${m} trial ${trial}` });
  }
  // Cosine on continuous data (no ties).
  const x = randomRows(40, 6, 3);
  const xl = Array.from({ length: 40 }, (_, i) => i % 5);
  const cos = await accuracy({ query: x, queryLabels: xl, metric: 'cosine', metrics: [...ALL] });
  const wantCos = plainMetrics(x, xl, x, xl, true, 'cosine');
  for (const m of ALL) assertClose(cos[m], wantCos[m], { atol: 1e-12, rtol: 0, msg: `cosine ${m}` });
});

test('retrievalMetrics scores precomputed neighbour lists; accuracy adds NMI/AMI on request', async () => {
  // Two queries, k = 3, labels: q0 = 0 with R = 2 (refs 0, 2), q1 = 1 with R = 1 (ref 1).
  // q0 neighbours [1, 0, 2] -> labels 1 0 0: R-prec over 2 = 1/2, AP@R (1/2)/2 = 1/4, AP (1/2 + 2/3)/2.
  // q1 neighbours [1, 0, 2] -> hit first: everything 1.
  const m = retrievalMetrics(Int32Array.from([1, 0, 2, 1, 0, 2]), 3, Int32Array.from([0, 1]), Int32Array.from([0, 1, 0]), false);
  assertClose(m.precisionAt1, 0.5, { atol: 1e-12, rtol: 0 });
  assertClose(m.rPrecision, (0.5 + 1) / 2, { atol: 1e-12, rtol: 0 });
  assertClose(m.mapAtR, (0.25 + 1) / 2, { atol: 1e-12, rtol: 0 });
  assertClose(m.meanAveragePrecision, ((1 / 2 + 2 / 3) / 2 + 1) / 2, { atol: 1e-12, rtol: 0 });
  assertClose(m.meanReciprocalRank, (0.5 + 1) / 2, { atol: 1e-12, rtol: 0 });

  // Three far-apart blobs: retrieval and clustering are perfect.
  const r = akin.createRandom(9);
  const pts: number[][] = [];
  const lab: number[] = [];
  for (let i = 0; i < 30; i++) {
    const c = i % 3;
    pts.push([c * 10 + r.next(), -c * 10 + r.next()]);
    lab.push(c);
  }
  const got = await accuracy({ query: pts, queryLabels: lab, metrics: ['precisionAt1', 'mapAtR', 'nmi', 'ami'] });
  assert.deepEqual(Object.keys(got).sort(), ['ami', 'mapAtR', 'nmi', 'precisionAt1']);
  for (const [name, v] of Object.entries(got)) assertClose(v, 1, { atol: 1e-12, rtol: 0, msg: name });
});

test('accuracy validates its inputs and names the bad field', async () => {
  const x = [[0], [1], [2]];
  await assert.rejects(accuracy({ query: x, queryLabels: [0, 1] }), (e: Error) => e instanceof akin.ShapeError && /queryLabels/.test(e.message));
  await assert.rejects(
    accuracy({ query: x, queryLabels: [0, 1, 1], reference: x, referenceLabels: [0] }),
    (e: Error) => e instanceof akin.ShapeError && /referenceLabels/.test(e.message),
  );
  await assert.rejects(accuracy({ query: x, queryLabels: [0, 1, 1], reference: x }), (e: Error) => e instanceof akin.ConfigError && /referenceLabels/.test(e.message));
  await assert.rejects(
    accuracy({ query: x, queryLabels: [0, 1, 1], metrics: ['recallAt5' as 'mapAtR'] }),
    (e: Error) => e instanceof akin.ConfigError && /metrics/.test(e.message),
  );
  await assert.rejects(accuracy({ query: x, queryLabels: [0, 1, 1], k: 0 }), (e: Error) => e instanceof akin.ConfigError && /'k'/.test(e.message));
  await assert.rejects(accuracy({ query: new Float32Array(6), queryLabels: [0, 1, 1] }), (e: Error) => e instanceof akin.ConfigError && /'dim'/.test(e.message));
  await assert.rejects(
    accuracy({ query: x, queryLabels: [0, 1, 1], reference: [[1, 2]], referenceLabels: [0] }),
    (e: Error) => e instanceof akin.ShapeError && /reference/.test(e.message),
  );
});
