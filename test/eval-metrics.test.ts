import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { assertClose, initBackend } from './helpers.js';

const { accuracy, accuracyPerClass, retrievalMetrics } = akin.eval;
const EXACT = { atol: 1e-12, rtol: 0 };

before(async () => {
  await initBackend();
});

// The six points of eval-retrieval.test.ts, query = reference (own row excluded):
//   index    0  1  2  3  4  5
//   x        0  1  3  7  8  15
//   label    A  A  B  B  A  B
// Whole rankings (|dx|, ties to the lower index) and relevance (same label):
//   q0: 1 A, 2 B, 3 B, 4 A, 5 B   -> 1 0 0 1 0
//   q1: 0 A, 2 B, 3 B, 4 A, 5 B   -> 1 0 0 1 0
//   q2: 1 A, 0 A, 3 B, 4 A, 5 B   -> 0 0 1 0 1
//   q3: 4 A, 2 B, 1 A, 0 A, 5 B   -> 0 1 0 0 1
//   q4: 3 B, 2 B, 1 A, 5 B, 0 A   -> 0 0 1 0 1   (1 and 5 both at 7: index 1 first)
//   q5: 4 A, 3 B, 2 B, 1 A, 0 A   -> 0 1 1 0 0
const LINE = [[0], [1], [3], [7], [8], [15]];
const LINE_LABELS = [0, 0, 1, 1, 0, 1];

test("k = 'all' (PML's default k=None): MAP and MRR over the whole ranking", async () => {
  // AP over 5: q0 (1 + 2/4)/2 = 3/4, q1 3/4, q2 (1/3 + 2/5)/2 = 11/30, q3 (1/2 + 2/5)/2 = 9/20,
  // q4 11/30, q5 (1/2 + 2/3)/2 = 7/12.   RR: 1, 1, 1/3, 1/2, 1/3, 1/2.
  for (const k of ['all', null] as const) {
    const got = await accuracy({ query: LINE, queryLabels: LINE_LABELS, k, metrics: ['meanAveragePrecision', 'meanReciprocalRank', 'mapAtR'] });
    assertClose(got.meanAveragePrecision, (3 / 4 + 3 / 4 + 11 / 30 + 9 / 20 + 11 / 30 + 7 / 12) / 6, EXACT);
    assertClose(got.meanReciprocalRank, (1 + 1 + 1 / 3 + 1 / 2 + 1 / 3 + 1 / 2) / 6, EXACT);
    assertClose(got.mapAtR, 0.25, EXACT); // unchanged: only the first R = 2 count
  }
});

test('Recall@K and k-NN accuracy, hand-worked (majority vote, ties to the nearest label)', async () => {
  // Recall@2: a hit among the first two for q0, q1, q3, q5 -> 4/6. Recall@3: every query -> 1.
  // k-NN accuracy, K = 3 (first three labels -> vote -> correct?):
  //   q0 A: A B B -> B no; q1 A: A B B -> B no; q2 B: A A B -> A no; q3 B: A B A -> A no;
  //   q4 A: B B A -> B no; q5 B: A B B -> B yes                                     -> 1/6
  // K = 2 (ties go to the nearer label): q0 A B -> A yes; q1 A B -> A yes; q2 A A -> A no;
  //   q3 A B -> A no; q4 B B -> B no; q5 A B -> A no                                  -> 2/6
  const at2 = await accuracy({ query: LINE, queryLabels: LINE_LABELS, atK: 2, metrics: ['recallAtK', 'knnAccuracy'] });
  assertClose(at2.recallAtK, 4 / 6, EXACT);
  assertClose(at2.knnAccuracy, 2 / 6, EXACT);
  const at3 = await accuracy({ query: LINE, queryLabels: LINE_LABELS, atK: 3, metrics: ['recallAtK', 'knnAccuracy'] });
  assertClose(at3.recallAtK, 1, EXACT);
  assertClose(at3.knnAccuracy, 1 / 6, EXACT);
  // atK larger than the ranking metrics' k (maxBinCount - 1 = 2): MAP@R still uses only k = 2.
  const mixed = await accuracy({ query: LINE, queryLabels: LINE_LABELS, atK: 3, metrics: ['mapAtR', 'meanReciprocalRank', 'knnAccuracy'] });
  assertClose(mixed.mapAtR, 0.25, EXACT);
  assertClose(mixed.meanReciprocalRank, 0.5, EXACT); // first hit within 2: q0 1, q1 1, q3 1/2, q5 1/2
  assertClose(mixed.knnAccuracy, 1 / 6, EXACT);
});

test('avgOfAvgs and per-class results differ from the plain mean on unbalanced classes; lone queries skipped', async () => {
  // reference x: 0 A, 1 A, 10 B, 11 B.  queries: 0.2 A -> ref 0 (A) hit; 0.8 A -> ref 1 (A) hit;
  // 5.2 B -> ref 1 (A, 4.2 away; ref 10 is 4.8 away) miss; 100 C -> lone (no C in the reference).
  // P@1 plain mean over the three non-lone queries 2/3; per class A 1, B 0; average of averages 1/2.
  const opts = { query: [[0.2], [0.8], [5.2], [100]], queryLabels: [0, 0, 1, 2], reference: [[0], [1], [10], [11]], referenceLabels: [0, 0, 1, 1], metrics: ['precisionAt1' as const] };
  assertClose((await accuracy(opts)).precisionAt1, 2 / 3, EXACT);
  assertClose((await accuracy({ ...opts, avgOfAvgs: true })).precisionAt1, 0.5, EXACT);
  const per = await accuracyPerClass(opts);
  assert.deepEqual(per.classes, [0, 1]);
  assert.deepEqual(per.perClass.precisionAt1, [1, 0]);
  assertClose(per.overall.precisionAt1, 2 / 3, EXACT);
});

test('multi-label: labels as sets match when they intersect; equality makes every query lone here', async () => {
  // Rows x = 0 {1}, 1 {2}, 2 {1,2}, 3 {3}; query = reference.
  // Intersecting rows (self included): {1}: rows 0, 2 -> R 1; {2}: rows 1, 2 -> R 1; {1,2}: all but
  // row 3 -> R 2; {3}: only itself -> lone. k = max bin count 3 - 1 = 2.
  // Rankings (ties to the lower index): q0: 1 {2} no, 2 {1,2} yes; q1: 0 {1} no, 2 yes; q2: 1 {2} yes, 3 {3} no.
  // P@1 1/3; R-precision: q0 0/1, q1 0/1, q2 1/2 -> 1/6; MAP@R q2 (1/1)/2 -> 1/6; MRR (1/2 + 1/2 + 1)/3 = 2/3.
  const labels = [[1], [2], [1, 2], [3]];
  const x = [[0], [1], [2], [3]];
  const got = await accuracy({ query: x, queryLabels: labels, metrics: ['precisionAt1', 'rPrecision', 'mapAtR', 'meanReciprocalRank'] });
  assertClose(got.precisionAt1, 1 / 3, EXACT);
  assertClose(got.rPrecision, 1 / 6, EXACT);
  assertClose(got.mapAtR, 1 / 6, EXACT);
  assertClose(got.meanReciprocalRank, 2 / 3, EXACT);
  const equal = await accuracy({ query: x, queryLabels: labels, labelComparison: 'equal', metrics: ['precisionAt1', 'mapAtR'] });
  assert.deepEqual(equal, { precisionAt1: Number.NaN, mapAtR: Number.NaN }); // every query lone: NaN, as PML
  // A custom comparison that says the same as 'intersect' gives the same numbers.
  const custom = await accuracy({
    query: x, queryLabels: labels, metrics: ['precisionAt1', 'rPrecision', 'mapAtR', 'meanReciprocalRank'],
    labelComparison: (a, b) => (a as number[]).some((v) => (b as number[]).includes(v)),
  });
  assert.deepEqual(custom, got);
  await assert.rejects(accuracy({ query: x, queryLabels: labels, metrics: ['nmi'] }), (e: Error) => e instanceof akin.ConfigError && /nmi/.test(e.message));
});

type Label = number | number[];

/** Plain-loop reference: full sort per query, then the definitions, written independently of akin. */
function plain(
  q: number[][], ql: Label[], ref: number[][], rl: Label[], same: boolean,
  o: { k: number | 'all' | 'maxBinCount'; atK: number; avgOfAvgs: boolean },
): Record<string, number> {
  const rel = (a: Label, b: Label): boolean => {
    const x = typeof a === 'number' ? [a] : a;
    const y = typeof b === 'number' ? [b] : b;
    return x.some((v) => y.includes(v));
  };
  const key = (l: Label): string => (typeof l === 'number' ? String(l) : [...new Set(l)].sort((a, b) => a - b).join(','));
  const d2 = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);
  const self = same ? 1 : 0;
  const count = (l: Label): number => rl.filter((r) => rel(l, r)).length;
  const maxBin = Math.max(...ql.map(count));
  const avail = ref.length - self;
  const k = Math.min(o.k === 'all' ? avail : o.k === 'maxBinCount' ? maxBin - self : o.k, avail);
  const atK = Math.min(o.atK, avail);
  const names = ['precisionAt1', 'rPrecision', 'mapAtR', 'meanAveragePrecision', 'meanReciprocalRank', 'recallAtK', 'knnAccuracy'];
  const perQuery: { key: string; v: number[] }[] = [];
  q.forEach((row, i) => {
    const R = count(ql[i]) - (same && rel(ql[i], ql[i]) ? 1 : 0);
    if (R <= 0) return;
    const order = ref.map((_, j) => j).filter((j) => !(same && j === i)).sort((a, b) => d2(row, ref[a]) - d2(row, ref[b]) || a - b);
    const hits = order.map((j) => rel(ql[i], rl[j]));
    const m = Math.min(R, k);
    let c = 0, apR = 0, ap = 0, n = 0, first = -1;
    for (let j = 0; j < k; j++) {
      if (!hits[j]) continue;
      c++;
      ap += c / (j + 1);
      if (j < m) { apR += c / (j + 1); n++; }
      if (first < 0) first = j;
    }
    const votes = new Map<string, { c: number; first: number; j: number }>();
    for (let j = 0; j < atK; j++) {
      const kk = key(rl[order[j]]);
      const v = votes.get(kk) ?? { c: 0, first: j, j: order[j] };
      v.c++;
      votes.set(kk, v);
    }
    const winner = [...votes.values()].sort((a, b) => b.c - a.c || a.first - b.first)[0];
    perQuery.push({
      key: key(ql[i]),
      v: [hits[0] ? 1 : 0, n / m, apR / R, ap / R, first < 0 ? 0 : 1 / (first + 1),
        hits.slice(0, atK).some(Boolean) ? 1 : 0, rel(ql[i], rl[winner.j]) ? 1 : 0],
    });
  });
  const out: Record<string, number> = {};
  names.forEach((name, t) => {
    if (perQuery.length === 0) { out[name] = 0; return; }
    if (!o.avgOfAvgs) { out[name] = perQuery.reduce((s, p) => s + p.v[t], 0) / perQuery.length; return; }
    const groups = new Map<string, number[]>();
    for (const p of perQuery) groups.set(p.key, [...(groups.get(p.key) ?? []), p.v[t]]);
    const means = [...groups.values()].map((g) => g.reduce((a, b) => a + b, 0) / g.length);
    out[name] = means.reduce((a, b) => a + b, 0) / means.length;
  });
  return out;
}

test('randomized: every retrieval metric equals a plain-loop implementation (k, atK, avgOfAvgs, sets, separate reference)', async () => {
  const r = akin.createRandom(2024);
  const names = ['precisionAt1', 'rPrecision', 'mapAtR', 'meanAveragePrecision', 'meanReciprocalRank', 'recallAtK', 'knnAccuracy'] as const;
  // Integer coordinates: squared L2 is exact in float32, so the order (ties included) is exact.
  const ints = (n: number): number[][] => Array.from({ length: n }, () => [0, 1, 2].map(() => Math.floor(r.next() * 21) - 10));
  const intLabels = (n: number, c: number): number[] => Array.from({ length: n }, () => Math.floor(r.next() * c));
  const setLabels = (n: number, c: number): number[][] =>
    Array.from({ length: n }, () => { const a = Math.floor(r.next() * c); return r.next() < 0.4 ? [a, (a + 1) % c] : [a]; });
  const cases: { k: number | 'all' | 'maxBinCount'; atK: number; avgOfAvgs: boolean }[] = [
    { k: 'maxBinCount', atK: 5, avgOfAvgs: false },
    { k: 'all', atK: 1, avgOfAvgs: true },
    { k: 3, atK: 7, avgOfAvgs: false },
    { k: 4, atK: 4, avgOfAvgs: true },
  ];
  for (const [t, c] of cases.entries()) {
    const q = ints(40);
    const ql: Label[] = t % 2 === 0 ? intLabels(40, 5) : setLabels(40, 5);
    const self = await accuracy({ query: q, queryLabels: ql as number[], ...c, metrics: [...names], queryTileSize: 16, referenceTileSize: 9 });
    const want = plain(q, ql, q, ql, true, c);
    for (const m of names) assertClose(self[m], want[m], { ...EXACT, msg: `self ${m} case ${t}` });

    const ref = ints(55);
    const rl: Label[] = t % 2 === 0 ? intLabels(55, 6) : setLabels(55, 6);
    const qs: Label[] = t % 2 === 0 ? (ql as number[]).map((l) => l + 2) : (ql as number[][]).map((s) => s.map((l) => l + 2));
    const sep = await accuracy({ query: q, queryLabels: qs as number[], reference: ref, referenceLabels: rl as number[], ...c, metrics: [...names] });
    const want2 = plain(q, qs, ref, rl, false, c);
    for (const m of names) assertClose(sep[m], want2[m], { ...EXACT, msg: `separate ${m} case ${t}` });
  }
});

test('retrievalMetrics takes k and atK columns of a wider neighbour list', () => {
  // One query (label 0), neighbours [1, 2, 0] with labels 1, 0, 0; R = 2.
  // k = 2: P@1 0, R-precision 1/2, MAP@R (1/2)/2 = 1/4, MRR 1/2. atK = 3: Recall 1; vote 0 0 vs 1 -> 0, correct.
  const m = retrievalMetrics(Int32Array.from([1, 2, 0]), 3, [0], [0, 1, 0], false,
    ['precisionAt1', 'rPrecision', 'mapAtR', 'meanReciprocalRank', 'recallAtK', 'knnAccuracy'], { k: 2, atK: 3 });
  assert.deepEqual(m, { precisionAt1: 0, rPrecision: 0.5, mapAtR: 0.25, meanReciprocalRank: 0.5, recallAtK: 1, knnAccuracy: 1 });
  assert.throws(() => retrievalMetrics(Int32Array.from([1, 2]), 3, [0], [0, 1, 0], false), (e: Error) => e instanceof akin.ShapeError);
});

test('accuracy option validation names the bad option', async () => {
  await assert.rejects(accuracy({ query: LINE, queryLabels: LINE_LABELS, atK: 0 }), (e: Error) => e instanceof akin.ConfigError && /atK/.test(e.message));
  await assert.rejects(accuracy({ query: LINE, queryLabels: LINE_LABELS, k: 'some' as 'all' }), (e: Error) => e instanceof akin.ConfigError && /'k'/.test(e.message));
  await assert.rejects(accuracy({ query: LINE, queryLabels: [0, 1, 0, 1, 0, 0.5] }), (e: Error) => e instanceof akin.ConfigError && /queryLabels\[5\]/.test(e.message));
  await assert.rejects(
    accuracy({ query: LINE, queryLabels: LINE_LABELS, reference: LINE, referenceLabels: [[0], [0], [1], [1], [0], [1]] }),
    (e: Error) => e instanceof akin.ConfigError && /referenceLabels/.test(e.message),
  );
});
