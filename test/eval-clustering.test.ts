import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { assertClose, initBackend } from './helpers.js';

const { nmi, ami, mutualInfo, logGamma, kmeans, clusteringScores } = akin.eval;

before(async () => {
  await initBackend();
});

/** log(m!) for m = 0..n by summing logs (independent of the library's log-gamma). */
function logFactTable(n: number): number[] {
  const t = [0];
  for (let m = 1; m <= n; m++) t.push(t[m - 1] + Math.log(m));
  return t;
}

/**
 * MI, entropies, EMI, NMI and AMI from the textbook formulas, in plain loops over a dense contingency
 * table. EMI = sum_ij sum_nij (nij/N) log(N nij / (a_i b_j)) P(nij), with the hypergeometric
 * P(nij) = C(b_j, nij) C(N - b_j, a_i - nij) / C(N, a_i).
 */
function plainScores(t: number[], p: number[]): { mi: number; emi: number; nmi: number; ami: number } {
  const rows = [...new Set(t)].sort((x, y) => x - y);
  const cols = [...new Set(p)].sort((x, y) => x - y);
  const N = t.length;
  const table = rows.map(() => cols.map(() => 0));
  t.forEach((v, i) => table[rows.indexOf(v)][cols.indexOf(p[i])]++);
  const a = table.map((r) => r.reduce((s, v) => s + v, 0));
  const b = cols.map((_, j) => table.reduce((s, r) => s + r[j], 0));
  let mi = 0;
  table.forEach((r, i) => r.forEach((nij, j) => { if (nij > 0) mi += (nij / N) * Math.log((N * nij) / (a[i] * b[j])); }));
  const H = (counts: number[]): number => (counts.length === 1 ? 0 : -counts.reduce((s, c) => s + (c / N) * Math.log(c / N), 0));
  const lf = logFactTable(N);
  const logC = (n: number, k: number): number => lf[n] - lf[k] - lf[n - k];
  let emi = 0;
  if (a.length > 1 && b.length > 1) {
    for (const ai of a) {
      for (const bj of b) {
        for (let nij = Math.max(1, ai + bj - N); nij <= Math.min(ai, bj); nij++) {
          const prob = Math.exp(logC(bj, nij) + logC(N - bj, ai - nij) - logC(N, ai));
          emi += (nij / N) * Math.log((N * nij) / (ai * bj)) * prob;
        }
      }
    }
  }
  const mean = (H(a) + H(b)) / 2;
  return { mi, emi, nmi: mi / mean, ami: (mi - emi) / (mean - emi) };
}

test('identical and renamed labelings score 1; sklearn\'s documented limit cases', () => {
  const t = [0, 0, 1, 1, 2, 2, 2];
  assertClose(nmi(t, t), 1, { atol: 1e-12, rtol: 0 });
  assertClose(ami(t, t), 1, { atol: 1e-12, rtol: 0 });
  const renamed = t.map((v) => [7, -3, 40][v]);
  assertClose(nmi(t, renamed), 1, { atol: 1e-12, rtol: 0 });
  assertClose(ami(renamed, t), 1, { atol: 1e-12, rtol: 0 });
  assertClose(ami([0, 0, 1, 1], [1, 1, 0, 0]), 1, { atol: 1e-12, rtol: 0 });
  assertClose(ami([1, 1, 2, 2], [2, 2, 3, 3]), 1, { atol: 1e-12, rtol: 0 });
  // One cluster against singletons: no information at all.
  assert.equal(nmi([0, 0, 0, 0], [0, 1, 2, 3]), 0);
  assert.equal(ami([0, 0, 0, 0], [0, 1, 2, 3]), 0);
  // Both labelings put everything in one cluster (or are empty): a perfect match by convention.
  assert.equal(nmi([5, 5, 5], [1, 1, 1]), 1);
  assert.equal(ami([5, 5, 5], [1, 1, 1]), 1);
  assert.equal(nmi([], []), 1);
  assert.equal(ami(Int32Array.from([]), Int32Array.from([])), 1);
});

test('identical labelings of singletons: AMI 1 (MI = E[MI] = H, sklearn clamps the 0 / 0 numerator too)', () => {
  // Every point alone: every relabeling gives the same (permutation) table, so E[MI] = MI = log n = H
  // and AMI is (MI - E[MI]) / (H - E[MI]) = 0 / 0 up to rounding. scikit-learn clamps both the
  // numerator and the denominator to +-eps, which makes a perfect match score 1 for every n.
  for (let n = 2; n <= 12; n++) {
    const t = Array.from({ length: n }, (_, i) => i);
    assertClose(ami(t, t), 1, { atol: 1e-12, rtol: 0 });
    assertClose(ami(t, t.map((v) => 100 - v)), 1, { atol: 1e-12, rtol: 0 });
    assertClose(nmi(t, t), 1, { atol: 1e-12, rtol: 0 });
  }
});

test('a small case worked by hand: NMI and AMI of [0,0,0,1,1,1] vs [0,0,1,1,2,2]', () => {
  // Contingency rows (true) x columns (pred): [[2, 1, 0], [0, 1, 2]]; a = [3, 3], b = [2, 2, 2], N = 6.
  // MI = 2 * (2/6) ln(6*2 / (3*2)) + 2 * (1/6) ln(6*1 / (3*2)) = (2/3) ln 2.
  // H(true) = ln 2, H(pred) = ln 3, so NMI = (2/3) ln 2 / ((ln 2 + ln 3) / 2) = (4/3) ln 2 / ln 6.
  // EMI: each of the 6 cells has a = 3, b = 2, nij in {1, 2}:
  //   nij = 1: P = C(2,1) C(4,2) / C(6,3) = 12/20, term (1/6) ln(6/6) = 0;
  //   nij = 2: P = C(2,2) C(4,1) / C(6,3) = 4/20,  term (2/6) ln(12/6) = (1/3) ln 2.
  //   EMI = 6 * (1/5) * (1/3) ln 2 = (2/5) ln 2.
  // AMI = ((2/3 - 2/5) ln 2) / (ln 6 / 2 - (2/5) ln 2) = (4/15) ln 2 / (ln 6 / 2 - (2/5) ln 2).
  const t = [0, 0, 0, 1, 1, 1];
  const p = [0, 0, 1, 1, 2, 2];
  const ln2 = Math.log(2), ln6 = Math.log(6);
  assertClose(mutualInfo(t, p), (2 / 3) * ln2, { atol: 1e-14, rtol: 0 });
  assertClose(nmi(t, p), ((4 / 3) * ln2) / ln6, { atol: 1e-14, rtol: 0 });
  assertClose(ami(t, p), ((4 / 15) * ln2) / (ln6 / 2 - (2 / 5) * ln2), { atol: 1e-12, rtol: 0 });
  assertClose(akin.eval.expectedMutualInfo([3, 3], [2, 2, 2], 6), (2 / 5) * ln2, { atol: 1e-14, rtol: 0 });

  // [0,0,1,1] vs [0,0,0,1]: a = [2, 2], b = [3, 1]. Whichever class the lone point of cluster 1 lands in,
  // the table is [[2,0],[1,1]] up to a row swap, so MI never varies: MI = EMI and AMI = 0.
  assertClose(ami([0, 0, 1, 1], [0, 0, 0, 1]), 0, { atol: 1e-12, rtol: 0 });
});

test('NMI and AMI equal the plain-loop formulas (sklearn\'s reference case, a random case, a large case)', () => {
  // scikit-learn's own test case: MI 0.41022, EMI 0.15042, AMI 0.27821 (5 decimals, published).
  const a = [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3];
  const b = [1, 1, 1, 1, 2, 1, 2, 2, 2, 2, 3, 1, 3, 3, 3, 2, 2];
  const ref = plainScores(a, b);
  assertClose(mutualInfo(a, b), 0.41022, { atol: 5e-6, rtol: 0 });
  assertClose(ref.emi, 0.15042, { atol: 5e-6, rtol: 0 });
  assertClose(ami(a, b), 0.27821, { atol: 5e-6, rtol: 0 });
  assertClose(ami(a, b), ref.ami, { atol: 1e-12, rtol: 0 });
  assertClose(nmi(a, b), ref.nmi, { atol: 1e-12, rtol: 0 });

  const r = akin.createRandom(3);
  const t = Array.from({ length: 60 }, () => Math.floor(r.next() * 3));
  const p = t.map((v) => (r.next() < 0.6 ? v : Math.floor(r.next() * 4)));
  const want = plainScores(t, p);
  assertClose(nmi(t, p), want.nmi, { atol: 1e-12, rtol: 0 });
  assertClose(ami(t, p), want.ami, { atol: 1e-11, rtol: 0 });

  // sklearn: the 17-point case repeated 110 times has AMI 0.38 (2 decimals).
  const a110 = Array.from({ length: 110 }, () => a).flat();
  const b110 = Array.from({ length: 110 }, () => b).flat();
  const big = plainScores(a110, b110);
  assertClose(ami(a110, b110), 0.38, { atol: 5e-3, rtol: 0 });
  assertClose(ami(a110, b110), big.ami, { atol: 1e-9, rtol: 0 });
});

test('independent labelings: AMI is about 0 while NMI stays positive', () => {
  const r = akin.createRandom(11);
  const t = Array.from({ length: 3000 }, () => Math.floor(r.next() * 5));
  const p = Array.from({ length: 3000 }, () => Math.floor(r.next() * 5));
  assert.ok(Math.abs(ami(t, p)) < 0.005, `AMI ${ami(t, p)}`);
  const n = nmi(t, p);
  assert.ok(n > 0 && n < 0.01, `NMI ${n}`);
  assert.throws(() => nmi([0, 1], [0]), (e: Error) => e instanceof akin.ShapeError && /labelsPred/.test(e.message));
  assert.throws(() => ami([0, 1, 2], [0, 1]), (e: Error) => e instanceof akin.ShapeError);
});

test('logGamma matches known values and summed logarithms', () => {
  assertClose(logGamma(0.5), 0.5 * Math.log(Math.PI), { atol: 1e-14, rtol: 0 });
  assertClose(logGamma(1.5), Math.log(Math.sqrt(Math.PI) / 2), { atol: 1e-14, rtol: 0 });
  assert.equal(logGamma(1), 0);
  assert.equal(logGamma(2), 0);
  const lf = logFactTable(5000);
  for (const m of [10, 22, 23, 24, 57, 1000, 5000]) assertClose(logGamma(m + 1), lf[m], { atol: 0, rtol: 1e-13, msg: `ln ${m}!` });
  assertClose(logGamma(20.25), logGamma(21.25) - Math.log(20.25), { atol: 1e-12, rtol: 0 });
  assert.throws(() => logGamma(0), RangeError);
});

/** Three well-separated blobs in 4-D: points i % 3 belong to blob i % 3. */
function blobs(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const r = akin.createRandom(seed);
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let d = 0; d < 4; d++) x[i * 4 + d] = (d === y[i] ? 20 : 0) + akin.core.randNormal(r);
  }
  return { x, y };
}

test('k-means recovers well-separated blobs; inertia and centroids are consistent', () => {
  const { x, y } = blobs(90, 1);
  const res = kmeans(x, { k: 3, dim: 4, random: akin.createRandom(1) });
  assert.equal(res.labels.length, 90);
  assertClose(ami(y, res.labels), 1, { atol: 1e-12, rtol: 0 });
  // Centroids are the means of their points; inertia is the summed squared distance to them.
  let inertia = 0;
  for (let c = 0; c < 3; c++) {
    const mean = [0, 0, 0, 0];
    let count = 0;
    for (let i = 0; i < 90; i++) {
      if (res.labels[i] !== c) continue;
      count++;
      for (let d = 0; d < 4; d++) mean[d] += x[i * 4 + d];
    }
    assertClose(Array.from(res.centroids.subarray(c * 4, c * 4 + 4)), mean.map((v) => v / count), { atol: 1e-4, rtol: 1e-5 });
  }
  for (let i = 0; i < 90; i++) {
    for (let d = 0; d < 4; d++) inertia += (x[i * 4 + d] - res.centroids[res.labels[i] * 4 + d]) ** 2;
  }
  assertClose(res.inertia, inertia, { atol: 1e-3, rtol: 1e-5 });
  assert.throws(() => kmeans(x, { k: 91, dim: 4 }), (e: Error) => e instanceof akin.ConfigError && /'k'/.test(e.message));
  assert.throws(() => kmeans(x, { k: 2 }), (e: Error) => e instanceof akin.ConfigError && /'dim'/.test(e.message));
});

test('k-means is deterministic for a seed; more restarts never raise the inertia', () => {
  const r = akin.createRandom(4);
  const x = Array.from({ length: 120 }, () => [r.next(), r.next(), r.next()]);
  const a = kmeans(x, { k: 6, random: akin.createRandom(42) });
  const b = kmeans(x, { k: 6, random: akin.createRandom(42) });
  assert.deepEqual(Array.from(a.labels), Array.from(b.labels));
  assert.deepEqual(Array.from(a.centroids), Array.from(b.centroids));
  assert.equal(a.inertia, b.inertia);
  // The first restart of nInit = 5 is the single restart of nInit = 1 (same random stream).
  const one = kmeans(x, { k: 6, nInit: 1, random: akin.createRandom(8) });
  const five = kmeans(x, { k: 6, nInit: 5, random: akin.createRandom(8) });
  assert.ok(five.inertia <= one.inertia, `${five.inertia} > ${one.inertia}`);
  // With tol = 0 Lloyd runs to a fixed point: every centroid is the mean of its points and every
  // point is nearest to its own centroid.
  const fixed = kmeans(x, { k: 6, tol: 0, random: akin.createRandom(5) });
  const d2 = (i: number, c: number): number => x[i].reduce((s, v, d) => s + (v - fixed.centroids[c * 3 + d]) ** 2, 0);
  for (let c = 0; c < 6; c++) {
    const members = x.filter((_, i) => fixed.labels[i] === c);
    assert.ok(members.length > 0, `cluster ${c} is empty`);
    const mean = [0, 1, 2].map((d) => members.reduce((s, row) => s + row[d], 0) / members.length);
    assertClose(Array.from(fixed.centroids.subarray(c * 3, c * 3 + 3)), mean, { atol: 1e-6, rtol: 1e-6, msg: `centroid ${c}` });
  }
  for (let i = 0; i < x.length; i++) {
    for (let c = 0; c < 6; c++) assert.ok(d2(i, fixed.labels[i]) <= d2(i, c) + 1e-9, `point ${i} is closer to centroid ${c}`);
  }
  // k = n: every point its own cluster, zero inertia.
  const all = kmeans(x.slice(0, 5), { k: 5, random: akin.createRandom(1) });
  assert.deepEqual([...new Set(all.labels)].sort(), [0, 1, 2, 3, 4]);
  assert.equal(all.inertia, 0);
});

test('clusteringScores runs k-means with k = number of labels and scores it', () => {
  const { x, y } = blobs(60, 2);
  const s = clusteringScores(x, y, 4, { random: akin.createRandom(3) });
  assertClose(s.nmi, 1, { atol: 1e-12, rtol: 0 });
  assertClose(s.ami, 1, { atol: 1e-12, rtol: 0 });
  assert.throws(() => clusteringScores(x, y.subarray(0, 59), 4), (e: Error) => e instanceof akin.ShapeError && /labels/.test(e.message));
});
