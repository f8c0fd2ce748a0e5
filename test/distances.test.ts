import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, assertClose, randomRows } from './helpers.js';

const tf = akin.tf;
const D = akin.distances;

before(async () => {
  await initBackend();
});

// ---- plain-loop references ----
function normalizeRows(x: number[][], p = 2): number[][] {
  return x.map((r) => {
    let s = 0;
    for (const v of r) s += Math.abs(v) ** p;
    const n = Math.max(s ** (1 / p), 1e-12);
    return r.map((v) => v / n);
  });
}
function lp(a: number[], b: number[], p: number): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += Math.abs(a[k] - b[k]) ** p;
  return s ** (1 / p);
}
function dot(a: number[], b: number[]): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}
function variance(a: number[]): number {
  const m = a.reduce((s, v) => s + v, 0) / a.length;
  return a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - 1); // unbiased, as torch.var
}
function table(q: number[][], r: number[][], f: (a: number[], b: number[]) => number): number[] {
  const out: number[] = [];
  for (const a of q) for (const b of r) out.push(f(a, b));
  return out;
}
function matrix(d: akin.distances.BaseDistance, q: number[][], r?: number[][]): number[] {
  return tf.tidy(() => Array.from(d.matrix(tf.tensor2d(q), r ? tf.tensor2d(r) : undefined).dataSync()));
}

const Q = randomRows(5, 4, 11);
const R = randomRows(3, 4, 12);

test('LpDistance (default: p=2 on normalised rows) matches plain loops, for one set and query x reference', () => {
  const d = new D.LpDistance();
  assert.equal(d.isInverted, false);
  const qn = normalizeRows(Q), rn = normalizeRows(R);
  assertClose(matrix(d, Q), table(qn, qn, (a, b) => lp(a, b, 2)), { atol: 1e-4 });
  assertClose(matrix(d, Q, R), table(qn, rn, (a, b) => lp(a, b, 2)), { atol: 1e-4 });
});

test('LpDistance without normalisation, with p = 1 and p = 3, and with power = 2', () => {
  assertClose(matrix(new D.LpDistance({ normalizeEmbeddings: false }), Q, R), table(Q, R, (a, b) => lp(a, b, 2)), { atol: 1e-4 });
  assertClose(matrix(new D.LpDistance({ normalizeEmbeddings: false, p: 1 }), Q, R), table(Q, R, (a, b) => lp(a, b, 1)), { atol: 1e-4 });
  assertClose(matrix(new D.LpDistance({ normalizeEmbeddings: false, p: 3 }), Q, R), table(Q, R, (a, b) => lp(a, b, 3)), { atol: 1e-4 });
  const q3 = normalizeRows(Q, 3);
  assertClose(matrix(new D.LpDistance({ p: 3 }), Q), table(q3, q3, (a, b) => lp(a, b, 3)), { atol: 1e-4 });
  assertClose(matrix(new D.LpDistance({ power: 2, normalizeEmbeddings: false }), Q, R), table(Q, R, (a, b) => lp(a, b, 2) ** 2), { atol: 1e-4 });
});

test('LpDistance gives exact zeros and a finite, zero gradient for identical rows', () => {
  const rows = [[0.3, -0.2, 0.5], [0.3, -0.2, 0.5], [1, 0, 0]];
  for (const p of [2, 3]) {
    const d = new D.LpDistance({ normalizeEmbeddings: false, p });
    const m = matrix(d, rows);
    assert.equal(m[0], 0);
    assert.equal(m[1], 0);
    assert.equal(m[4], 0);
    // d(0,1) only depends on rows 0 and 1, which coincide: the gradient must be 0, not NaN.
    const g = tf.tidy(() => tf.grad((x: akin.tf.Tensor) => tf.sum(tf.slice(d.matrix(x as akin.tf.Tensor2D), [0, 1], [1, 1])))(tf.tensor2d(rows)).arraySync() as number[][]);
    for (const row of g) for (const v of row) assert.equal(Number.isFinite(v) ? Math.abs(v) : v, 0, `p=${p}`);
  }
});

test('CosineSimilarity is the dot product of normalised rows and requires normalizeEmbeddings', () => {
  const d = new D.CosineSimilarity();
  assert.equal(d.isInverted, true);
  const qn = normalizeRows(Q), rn = normalizeRows(R);
  assertClose(matrix(d, Q, R), table(qn, rn, dot));
  assert.throws(() => new D.CosineSimilarity({ normalizeEmbeddings: false }), (e: unknown) =>
    e instanceof akin.ConfigError && /CosineSimilarity/.test(e.message) && /normalizeEmbeddings/.test(e.message));
});

test('DotProductSimilarity normalises by default (as PML) and gives raw dot products when told not to', () => {
  const qn = normalizeRows(Q), rn = normalizeRows(R);
  assertClose(matrix(new D.DotProductSimilarity(), Q, R), table(qn, rn, dot));
  assertClose(matrix(new D.DotProductSimilarity({ normalizeEmbeddings: false }), Q, R), table(Q, R, dot));
  assert.equal(new D.DotProductSimilarity().isInverted, true);
});

test('SNRDistance is var(q - r) / var(q) (unbiased variances, ratio unaffected)', () => {
  const snr = (a: number[], b: number[]): number => variance(a.map((v, k) => v - b[k])) / variance(a);
  assertClose(matrix(new D.SNRDistance({ normalizeEmbeddings: false }), Q, R), table(Q, R, snr), { atol: 1e-4 });
  const qn = normalizeRows(Q);
  const m = matrix(new D.SNRDistance(), Q);
  assertClose(m, table(qn, qn, snr), { atol: 1e-4 });
  for (let i = 0; i < Q.length; i++) assert.equal(m[i * Q.length + i], 0);
});

test('pairwise() agrees with the matrix diagonal for every distance', () => {
  const a = randomRows(4, 5, 3), b = randomRows(4, 5, 4);
  const all = [new D.LpDistance(), new D.LpDistance({ p: 1, normalizeEmbeddings: false }), new D.CosineSimilarity(),
    new D.DotProductSimilarity({ normalizeEmbeddings: false }), new D.SNRDistance()];
  for (const d of all) {
    const full = matrix(d, a, b);
    const diag = [0, 1, 2, 3].map((i) => full[i * 4 + i]);
    const pw = tf.tidy(() => Array.from(d.pairwise(tf.tensor2d(a), tf.tensor2d(b)).dataSync()));
    assertClose(pw, diag, { atol: 1e-4, msg: d.className });
  }
});

test('distances round-trip through getConfig / fromConfig and reject bad options by name', () => {
  for (const d of [new D.LpDistance({ p: 3, power: 2 }), new D.CosineSimilarity(), new D.DotProductSimilarity({ normalizeEmbeddings: false }), new D.SNRDistance()]) {
    const back = D.fromConfig(akin.core.toConfig(d));
    assert.equal(back.className, d.className);
    assert.deepEqual(back.getConfig(), d.getConfig());
    assertClose(matrix(back, Q, R), matrix(d, Q, R));
  }
  assert.throws(() => new D.LpDistance({ p: 'x' as unknown as number }), (e: unknown) =>
    e instanceof akin.ConfigError && /LpDistance/.test(e.message) && /'p'/.test(e.message));
  assert.throws(() => D.fromConfig({ className: 'SNRDistance', config: { bogus: 1 } }), /bogus/);
  assert.deepEqual(D.registry.names(), ['CosineSimilarity', 'DotProductSimilarity', 'LpDistance', 'SNRDistance']);
});

test('distance matrices leak no tensors', () => {
  const x = tf.tensor2d(Q);
  for (const d of [new D.LpDistance(), new D.LpDistance({ p: 3 }), new D.CosineSimilarity(), new D.SNRDistance()]) {
    const before = tf.memory().numTensors;
    d.matrix(x).dispose();
    assert.equal(tf.memory().numTensors, before, d.className);
  }
  x.dispose();
});
