import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, assertClose, checkGradient, randomRows } from './helpers.js';

const tf = akin.tf;
const L = akin.losses;

before(async () => {
  await initBackend();
});

// ------------------------------------------------------------------------------------------------
// Plain float64 references, written from PML's definitions.
// ------------------------------------------------------------------------------------------------
const norm = (r: number[]): number => Math.sqrt(r.reduce((s, v) => s + v * v, 0));
const unit = (r: number[]): number[] => { const n = Math.max(norm(r), 1e-12); return r.map((v) => v / n); };
const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);
const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
const cols = (W: number[][]): number[][] => W[0].map((_, j) => W.map((row) => row[j]));
const lse = (v: number[]): number => { const m = Math.max(...v); return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0)); };
const ce = (logits: number[], y: number): number => lse(logits) - logits[y];
const rad = (deg: number): number => (deg * Math.PI) / 180;
const clampAcos = (c: number): number => Math.acos(Math.min(1, Math.max(-1, c)));

/** Cosines between rows of x and columns of W. */
function cosines(x: number[][], W: number[][]): number[][] {
  const wc = cols(W).map(unit);
  return x.map((r) => { const u = unit(r); return wc.map((w) => dot(u, w)); });
}
function arcfaceRef(x: number[][], y: number[], W: number[][], margin = 28.6, scale = 64, w?: number[]): number {
  const c = cosines(x, W);
  return mean(c.map((row, i) => {
    const logits = row.map((v, j) => scale * (j === y[i] ? Math.cos(clampAcos(v) + rad(margin)) : v));
    return ce(logits, y[i]) * (w ? w[i] : 1);
  }));
}
function cosfaceRef(x: number[][], y: number[], W: number[][], margin = 0.35, scale = 64): number {
  const c = cosines(x, W);
  return mean(c.map((row, i) => ce(row.map((v, j) => scale * (j === y[i] ? v - margin : v)), y[i])));
}
/** psi(theta) = (-1)^k cos(m theta) - 2k with k = floor(theta m / pi), cos(m theta) taken directly. */
function psi(c: number, m: number): number {
  const theta = clampAcos(c);
  const k = Math.floor(theta / (Math.PI / m));
  return (k % 2 === 0 ? 1 : -1) * Math.cos(m * theta) - 2 * k;
}
function lsoftmaxRef(x: number[][], y: number[], W: number[][], m = 4, scale = 1, sphere = false): number {
  const c = cosines(x, W);
  const wn = cols(W).map(norm);
  return mean(c.map((row, i) => {
    const xn = norm(x[i]);
    const logits = row.map((v, j) => (j === y[i] ? psi(v, m) : v) * xn * (sphere ? 1 : wn[j]) * scale);
    return ce(logits, y[i]);
  }));
}
function subcenterRef(x: number[][], y: number[], W: number[][], nc: number, k: number, margin = 28.6, scale = 64): number {
  const c = cosines(x, W).map((row) => Array.from({ length: nc }, (_, cl) => Math.max(...row.slice(cl * k, cl * k + k))));
  return mean(c.map((row, i) => ce(row.map((v, j) => scale * (j === y[i] ? Math.cos(clampAcos(v) + rad(margin)) : v)), y[i])));
}
function normSoftmaxRef(x: number[][], y: number[], W: number[][], t = 0.05): number {
  return mean(cosines(x, W).map((row, i) => ce(row.map((v) => v / t), y[i])));
}
/** Squared L2 distance between normalised vectors. */
const sqd = (a: number[], b: number[]): number => { const ua = unit(a), ub = unit(b); return ua.reduce((s, v, i) => s + (v - ub[i]) ** 2, 0); };
function proxyNcaRef(x: number[][], y: number[], P: number[][], scale = 1): number {
  return mean(x.map((r, i) => ce(P.map((p) => -scale * sqd(r, p)), y[i])));
}
function ncaRef(x: number[][], y: number[], scale = 1): number {
  const out: number[] = [];
  x.forEach((r, i) => {
    const others = x.map((_, j) => j).filter((j) => j !== i);
    const same = others.filter((j) => y[j] === y[i]);
    if (same.length === 0) return;
    const s = (j: number): number => -scale * sqd(r, x[j]);
    out.push(lse(others.map(s)) - lse(same.map(s)));
  });
  return mean(out);
}
function proxyAnchorRef(x: number[][], y: number[], P: number[][], margin = 0.1, alpha = 32): number {
  const sim = x.map((r) => P.map((p) => dot(unit(r), unit(p))));
  let pos = 0, neg = 0;
  const withPos = new Set(y).size;
  P.forEach((_, c) => {
    let sp = 0, sn = 0;
    x.forEach((_, i) => {
      if (y[i] === c) sp += Math.exp(-alpha * (sim[i][c] - margin));
      else sn += Math.exp(alpha * (sim[i][c] + margin));
    });
    pos += Math.log(1 + sp);
    neg += Math.log(1 + sn);
  });
  return pos / withPos + neg / P.length;
}

// ------------------------------------------------------------------------------------------------
// A hand-built batch: 6 embeddings of dim 4, 4 classes (class 3 has no member in the batch).
// ------------------------------------------------------------------------------------------------
const X = [
  [0.9, 0.1, 0.2, -0.1], [0.7, 0.3, -0.1, 0.2], [0.1, -0.8, 0.6, 0.3],
  [-0.2, -0.6, 0.5, 0.1], [0.3, 0.6, -0.3, 0.8], [0.8, -0.2, 0.1, 0.1],
];
const Y = [0, 0, 1, 1, 2, 0];
const NC = 4, D = 4;
const W = randomRows(D, NC, 3); // [embeddingSize, numClasses]
const P = randomRows(NC, D, 4); // [numClasses, embeddingSize]
const TOL = { atol: 1e-4, rtol: 1e-4 };

function value(loss: akin.losses.BaseMetricLoss, x: number[][], y: number[], idx?: akin.IndexTuple): number {
  return tf.tidy(() => loss.compute(tf.tensor2d(x), y, idx).arraySync() as number);
}
function setW(loss: { W: akin.tf.Variable }, w: number[][]): void {
  tf.tidy(() => loss.W.assign(tf.tensor2d(w)));
}
function setP(loss: { proxies: akin.tf.Variable }, p: number[][]): void {
  tf.tidy(() => loss.proxies.assign(tf.tensor2d(p)));
}

test('ArcFaceLoss matches plain loops (defaults, other margin/scale, miner weights)', () => {
  const a = new L.ArcFaceLoss({ numClasses: NC, embeddingSize: D });
  setW(a, W);
  assertClose(value(a, X, Y), arcfaceRef(X, Y, W), TOL);
  const b = new L.ArcFaceLoss({ numClasses: NC, embeddingSize: D, margin: 10, scale: 8 });
  setW(b, W);
  assertClose(value(b, X, Y), arcfaceRef(X, Y, W, 10, 8), TOL);
  // Triplets (0,1,2), (0,5,3), (4,4,1): counts 0:2 1:2 2:1 3:1 4:2 5:1 -> weights count / 2.
  const idx = { anchors: Int32Array.from([0, 0, 4]), positives: Int32Array.from([1, 5, 4]), negatives: Int32Array.from([2, 3, 1]) };
  assertClose(value(b, X, Y, idx), arcfaceRef(X, Y, W, 10, 8, [1, 1, 0.5, 0.5, 1, 0.5]), TOL);
  assert.ok(b.records.avgAngle > 0 && b.records.avgAngle < 180);
  a.dispose(); b.dispose();
});

test('CosFaceLoss, LargeMarginSoftmaxLoss, SphereFaceLoss and SubCenterArcFaceLoss match plain loops', () => {
  const c = new L.CosFaceLoss({ numClasses: NC, embeddingSize: D });
  setW(c, W);
  assertClose(value(c, X, Y), cosfaceRef(X, Y, W), TOL);
  const c2 = new L.CosFaceLoss({ numClasses: NC, embeddingSize: D, margin: 0.2, scale: 5 });
  setW(c2, W);
  assertClose(value(c2, X, Y), cosfaceRef(X, Y, W, 0.2, 5), TOL);
  for (const m of [4, 3, 2]) {
    const l = new L.LargeMarginSoftmaxLoss({ numClasses: NC, embeddingSize: D, margin: m, scale: 1.5 });
    setW(l, W);
    assertClose(value(l, X, Y), lsoftmaxRef(X, Y, W, m, 1.5), TOL);
    l.dispose();
  }
  const ld = new L.LargeMarginSoftmaxLoss({ numClasses: NC, embeddingSize: D });
  setW(ld, W);
  assertClose(value(ld, X, Y), lsoftmaxRef(X, Y, W), TOL);
  const s = new L.SphereFaceLoss({ numClasses: NC, embeddingSize: D, margin: 3, scale: 2 });
  setW(s, W);
  assertClose(value(s, X, Y), lsoftmaxRef(X, Y, W, 3, 2, true), TOL);
  const W2 = randomRows(D, NC * 2, 8);
  const sc = new L.SubCenterArcFaceLoss({ numClasses: NC, embeddingSize: D, subCenters: 2, scale: 10 });
  assert.deepEqual(sc.W.shape, [D, NC * 2]);
  setW(sc, W2);
  assertClose(value(sc, X, Y), subcenterRef(X, Y, W2, NC, 2, 28.6, 10), TOL);
  for (const l of [c, c2, ld, s, sc]) l.dispose();
});

test('NormalizedSoftmaxLoss, ProxyNCALoss and NCALoss match plain loops', () => {
  const n = new L.NormalizedSoftmaxLoss({ numClasses: NC, embeddingSize: D });
  setW(n, W);
  assertClose(value(n, X, Y), normSoftmaxRef(X, Y, W), TOL);
  const n2 = new L.NormalizedSoftmaxLoss({ numClasses: NC, embeddingSize: D, temperature: 0.5 });
  setW(n2, W);
  assertClose(value(n2, X, Y), normSoftmaxRef(X, Y, W, 0.5), TOL);
  const p = new L.ProxyNCALoss({ numClasses: NC, embeddingSize: D });
  setP(p, P);
  assertClose(value(p, X, Y), proxyNcaRef(X, Y, P), TOL);
  const p2 = new L.ProxyNCALoss({ numClasses: NC, embeddingSize: D, softmaxScale: 3 });
  setP(p2, P);
  assertClose(value(p2, X, Y), proxyNcaRef(X, Y, P, 3), TOL);
  // NCA: item 4 is alone in class 2 and is dropped.
  assertClose(value(new L.NCALoss(), X, Y), ncaRef(X, Y), TOL);
  assertClose(value(new L.NCALoss({ softmaxScale: 4 }), X, Y), ncaRef(X, Y, 4), TOL);
  const xt = tf.tensor2d(X);
  const dict = new L.NCALoss().computeLossDict(xt, Y);
  assert.deepEqual(Array.from(dict.loss.indices as Int32Array), [0, 1, 2, 3, 5]);
  tf.dispose([xt, dict.loss.losses!]);
  assert.equal(value(new L.NCALoss(), X.slice(0, 1), [0]), 0);
  for (const l of [n, n2, p, p2]) l.dispose();
});

test('ProxyAnchorLoss matches plain loops (defaults, margin/alpha), divisors as PML', () => {
  const a = new L.ProxyAnchorLoss({ numClasses: NC, embeddingSize: D });
  setP(a, P);
  assertClose(value(a, X, Y), proxyAnchorRef(X, Y, P), TOL);
  const b = new L.ProxyAnchorLoss({ numClasses: NC, embeddingSize: D, margin: 0.3, alpha: 4 });
  setP(b, P);
  assertClose(value(b, X, Y), proxyAnchorRef(X, Y, P, 0.3, 4), TOL);
  const xt = tf.tensor2d(X);
  const d = b.computeLossDict(xt, Y);
  tf.dispose([xt, d.posLoss.losses!, d.negLoss.losses!]);
  assert.equal(d.posLoss.divisor, 3);
  assert.equal(d.negLoss.divisor, NC);
  assert.equal(d.posLoss.reductionType, 'element');
  // With MeanReducer, PML averages each term over all proxies.
  const m = new L.ProxyAnchorLoss({ numClasses: NC, embeddingSize: D, margin: 0.3, alpha: 4, reducer: 'MeanReducer' });
  setP(m, P);
  const ref = proxyAnchorRef(X, Y, P, 0.3, 4);
  const parts = (() => {
    const sim = X.map((r) => P.map((pp) => dot(unit(r), unit(pp))));
    let pos = 0, neg = 0;
    P.forEach((_, c) => {
      let sp = 0, sn = 0;
      X.forEach((_, i) => { if (Y[i] === c) sp += Math.exp(-4 * (sim[i][c] - 0.3)); else sn += Math.exp(4 * (sim[i][c] + 0.3)); });
      pos += Math.log(1 + sp); neg += Math.log(1 + sn);
    });
    return { pos, neg };
  })();
  assertClose(parts.pos / 3 + parts.neg / NC, ref, TOL);
  assertClose(value(m, X, Y), (parts.pos + parts.neg) / NC, TOL);
  for (const l of [a, b, m]) l.dispose();
});

test('gradients (embeddings) match central finite differences', () => {
  const rows = randomRows(5, 3, 11);
  const y = [0, 1, 1, 2, 0];
  const cases: [string, akin.losses.BaseMetricLoss][] = [
    ['arcface', new L.ArcFaceLoss({ numClasses: 3, embeddingSize: 3, scale: 4, seed: 1 })],
    ['cosface', new L.CosFaceLoss({ numClasses: 3, embeddingSize: 3, scale: 4, seed: 2 })],
    ['lsoftmax', new L.LargeMarginSoftmaxLoss({ numClasses: 3, embeddingSize: 3, margin: 2, seed: 3 })],
    ['sphereface', new L.SphereFaceLoss({ numClasses: 3, embeddingSize: 3, margin: 2, seed: 4 })],
    ['subcenter', new L.SubCenterArcFaceLoss({ numClasses: 3, embeddingSize: 3, scale: 4, seed: 5 })],
    ['normsoftmax', new L.NormalizedSoftmaxLoss({ numClasses: 3, embeddingSize: 3, temperature: 0.5, seed: 6 })],
    ['proxynca', new L.ProxyNCALoss({ numClasses: 3, embeddingSize: 3, seed: 7 })],
    ['nca', new L.NCALoss({ softmaxScale: 2 })],
    ['proxyanchor', new L.ProxyAnchorLoss({ numClasses: 3, embeddingSize: 3, alpha: 4, seed: 8 })],
  ];
  for (const [name, loss] of cases) {
    try {
      checkGradient((x) => loss.compute(x, y), rows, { eps: 1e-3 });
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
    if (loss instanceof L.ParametricLoss) loss.dispose();
  }
});

test('the weights get gradients and an optimiser step lowers the loss', () => {
  const loss = new L.ProxyAnchorLoss({ numClasses: NC, embeddingSize: D, seed: 3 });
  const x = tf.tensor2d(X);
  const opt = tf.train.sgd(0.05);
  const before = value(loss, X, Y);
  const { grads, value: v } = tf.variableGrads(() => loss.compute(x, Y), loss.trainableWeights);
  assert.deepEqual(Object.keys(grads).length, 1);
  const g = Object.values(grads)[0];
  assert.deepEqual(g.shape, [NC, D]);
  assert.ok((g.abs().sum().arraySync() as number) > 0);
  opt.applyGradients(grads);
  tf.dispose([...Object.values(grads), v]);
  assert.ok(value(loss, X, Y) < before);
  x.dispose(); opt.dispose(); loss.dispose();
});

test('weight shapes, PML initialisations, seeds and dispose', () => {
  const pa = new L.ProxyAnchorLoss({ numClasses: 50, embeddingSize: 200, seed: 1 });
  assert.deepEqual(pa.proxies.shape, [50, 200]);
  const std = (v: ArrayLike<number>): number => { const a = Array.from(v); const m = mean(a); return Math.sqrt(mean(a.map((t) => (t - m) ** 2))); };
  assertClose(std(pa.proxies.dataSync()), Math.sqrt(2 / 50), { atol: 0, rtol: 0.05 }); // kaiming normal, fan_out = 50
  const af = new L.ArcFaceLoss({ numClasses: 50, embeddingSize: 200, seed: 1 });
  assert.deepEqual(af.W.shape, [200, 50]);
  assertClose(std(af.W.dataSync()), 1, { atol: 0, rtol: 0.05 });
  const again = new L.ArcFaceLoss({ numClasses: 50, embeddingSize: 200, seed: 1 });
  assert.deepEqual(Array.from(again.W.dataSync()), Array.from(af.W.dataSync()));
  const other = new L.ArcFaceLoss({ numClasses: 50, embeddingSize: 200, seed: 2 });
  assert.notDeepEqual(Array.from(other.W.dataSync()).slice(0, 5), Array.from(af.W.dataSync()).slice(0, 5));
  assert.equal(af.trainableWeights.length, 1);
  const before = tf.memory().numTensors;
  for (const l of [pa, af, again, other]) l.dispose();
  assert.equal(tf.memory().numTensors, before - 4);
  assert.throws(() => value(af, X, Y), /disposed/);
  assert.equal(new L.NCALoss().trainableWeights.length, 0);
});

test('getConfig -> fromConfig rebuilds each loss (same seed gives the same weights and value)', () => {
  const made: akin.losses.BaseMetricLoss[] = [
    new L.ProxyAnchorLoss({ numClasses: NC, embeddingSize: D, margin: 0.2, alpha: 16, seed: 5 }),
    new L.ArcFaceLoss({ numClasses: NC, embeddingSize: D, margin: 20, scale: 30, seed: 5 }),
    new L.CosFaceLoss({ numClasses: NC, embeddingSize: D, margin: 0.2, seed: 5, reducer: 'SumReducer' }),
    new L.LargeMarginSoftmaxLoss({ numClasses: NC, embeddingSize: D, margin: 3, scale: 2, seed: 5 }),
    new L.SphereFaceLoss({ numClasses: NC, embeddingSize: D, margin: 2, seed: 5 }),
    new L.SubCenterArcFaceLoss({ numClasses: NC, embeddingSize: D, subCenters: 2, seed: 5 }),
    new L.NormalizedSoftmaxLoss({ numClasses: NC, embeddingSize: D, temperature: 0.1, seed: 5 }),
    new L.ProxyNCALoss({ numClasses: NC, embeddingSize: D, softmaxScale: 2, seed: 5 }),
    new L.NCALoss({ softmaxScale: 3, distance: 'CosineSimilarity' }),
  ];
  for (const loss of made) {
    const spec = JSON.parse(JSON.stringify(akin.core.toConfig(loss))) as akin.core.ComponentConfig;
    const back = L.fromConfig(spec);
    assert.equal(back.className, loss.className);
    assert.deepEqual(back.getConfig(), loss.getConfig());
    assertClose(value(back, X, Y), value(loss, X, Y), { atol: 1e-5, rtol: 1e-5, msg: loss.className });
    for (const l of [back, loss]) if (l instanceof L.ParametricLoss) l.dispose();
  }
});

test('bad options and inputs raise errors naming them', () => {
  const bad: [() => unknown, RegExp][] = [
    [() => new L.ProxyAnchorLoss({ numClasses: 0, embeddingSize: 4 }), /ProxyAnchorLoss.*'numClasses'/],
    [() => new L.ArcFaceLoss({ numClasses: 3 } as akin.losses.ArcFaceLossOptions), /ArcFaceLoss.*'embeddingSize'/],
    [() => new L.CosFaceLoss({ numClasses: 3, embeddingSize: 2, scale: 'x' as unknown as number }), /CosFaceLoss.*'scale'/],
    [() => new L.ArcFaceLoss({ numClasses: 3, embeddingSize: 2, distance: 'LpDistance' }), /ArcFaceLoss.*'distance'/],
    [() => new L.SphereFaceLoss({ numClasses: 3, embeddingSize: 2, margin: 'x' as unknown as number }), /SphereFaceLoss.*'margin'/],
    [() => new L.SubCenterArcFaceLoss({ numClasses: 3, embeddingSize: 2, subCenters: 0 }), /SubCenterArcFaceLoss.*'subCenters'/],
    [() => new L.NormalizedSoftmaxLoss({ numClasses: 3, embeddingSize: 2, temperature: 0 }), /NormalizedSoftmaxLoss.*'temperature'/],
    [() => new L.ProxyNCALoss({ numClasses: 3, embeddingSize: 2, seed: 0.5 }), /ProxyNCALoss.*'seed'/],
    [() => new L.NCALoss({ softmaxScale: 'x' as unknown as number }), /NCALoss.*'softmaxScale'/],
  ];
  for (const [f, re] of bad) assert.throws(f, (e: unknown) => e instanceof akin.ConfigError && re.test(e.message), String(re));
  const a = new L.ArcFaceLoss({ numClasses: 2, embeddingSize: D });
  assert.throws(() => value(a, X, Y), (e: unknown) => e instanceof akin.ShapeError && /labels\[4\] = 2/.test(e.message));
  assert.throws(() => tf.tidy(() => a.compute(tf.tensor2d(X), Y, undefined, tf.tensor2d(X), Y)), /reference embeddings/);
  a.dispose();
});

test('no tensor is left behind but the result', () => {
  const losses = [
    new L.ProxyAnchorLoss({ numClasses: NC, embeddingSize: D }), new L.ArcFaceLoss({ numClasses: NC, embeddingSize: D }),
    new L.LargeMarginSoftmaxLoss({ numClasses: NC, embeddingSize: D }), new L.ProxyNCALoss({ numClasses: NC, embeddingSize: D }),
    new L.NCALoss(),
  ];
  const x = tf.tensor2d(X);
  for (const loss of losses) {
    tf.tidy(() => loss.compute(x, Y)).dispose();
    const before = tf.memory().numTensors;
    tf.tidy(() => loss.compute(x, Y)).dispose();
    assert.equal(tf.memory().numTensors, before, loss.className);
    if (loss instanceof L.ParametricLoss) loss.dispose();
  }
  x.dispose();
});
