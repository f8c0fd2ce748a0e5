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
// Plain float64 references, written from PML's definitions without using the code under test.
// ------------------------------------------------------------------------------------------------
type M = number[][];
const norm = (r: number[]): number => Math.sqrt(r.reduce((s, v) => s + v * v, 0));
const unit = (r: number[]): number[] => { const n = Math.max(norm(r), 1e-12); return r.map((v) => v / n); };
const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);
const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
const relu = (x: number): number => Math.max(x, 0);
const cosMat = (a: M, b: M): M => a.map((r) => b.map((q) => dot(unit(r), unit(q))));
const l2Mat = (a: M, b: M): M => a.map((r) => b.map((q) => { const u = unit(r), v = unit(q); return Math.sqrt(u.reduce((s, x, k) => s + (x - v[k]) ** 2, 0)); }));
function matMul(a: M, b: M): M {
  const out = a.map(() => new Array<number>(b[0].length).fill(0));
  a.forEach((r, i) => r.forEach((v, k) => { const bk = b[k], oi = out[i]; for (let j = 0; j < bk.length; j++) oi[j] += v * bk[j]; }));
  return out;
}

/**
 * ManifoldLoss: F = (1 - alpha) (I - alpha S_bar)^-1, here summed as the Neumann series
 * (1 - alpha) sum_t (alpha S_bar)^t (S_bar has spectral radius 1), independent of any matrix inverse.
 */
function manifoldRef(x: M, c: number[], P: M, o: { alpha?: number; margin?: number; lambdaC?: number } = {}): number {
  const alpha = o.alpha ?? 0.8, margin = o.margin ?? 5e-4, lambdaC = o.lambdaC ?? 1;
  const nodes = [...x, ...P], n = x.length, k = P.length, m = nodes.length;
  const S = cosMat(nodes, nodes).map((row, i) => row.map((v, j) => (i === j ? 0 : Math.exp(relu(v) / 0.5))));
  const d = S.map((row) => row.reduce((s, v) => s + v, 0));
  const aS = S.map((row, i) => row.map((v, j) => (alpha * v) / Math.sqrt(d[i] * d[j])));
  let term: M = nodes.map((_, i) => nodes.map((__, j) => (i === j ? 1 : 0)));
  const F: M = term.map((row) => row.slice());
  // alpha^T below 1e-17: the remainder of the series is negligible in float64.
  for (let t = 0, T = Math.ceil(Math.log(1e-17) / Math.log(alpha)); t < T; t++) {
    term = matMul(term, aS);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) F[i][j] += term[i][j];
  }
  for (const row of F) for (let j = 0; j < m; j++) row[j] *= 1 - alpha;
  const hinge = (score: (i: number, kk: number) => number): number => mean(x.map((_, i) => {
    let s = 0;
    for (let kk = 0; kk < k; kk++) {
      const v = score(i, kk) - score(i, c[i]) + margin;
      if (kk !== c[i] && v >= 0) s += Math.exp(v);
    }
    return Math.log(1 + s);
  }));
  const intrinsic = hinge((i, kk) => F[i][n + kk]);
  const context = hinge((i, kk) => dot(unit(F[i]), unit(F[n + kk])));
  return intrinsic + lambdaC * context;
}

/** P2SGrad: mean over the N x C matrix of (clamp(cos(x_i, w_j)) - [j == y_i])^2, W's columns made unit. */
function p2sgradRef(x: M, y: number[], W: M): number {
  const cols = W[0].map((_, j) => unit(W.map((row) => row[j])));
  const sq: number[] = [];
  x.forEach((r, i) => cols.forEach((w, j) => sq.push((Math.min(1, Math.max(-1, dot(r, w) / norm(r))) - (j === y[i] ? 1 : 0)) ** 2)));
  return mean(sq);
}

/**
 * PNP, literally as PML builds it (N^3 soft ranks, I_neg indexed by the positive): rows without a
 * positive are skipped and the mean is over the rows that have one.
 */
function pnpRef(x: M, y: number[], o: { b?: number; alpha?: number; anneal?: number; variant?: string } = {}): number {
  const b = o.b ?? 2, alpha = o.alpha ?? 1, anneal = o.anneal ?? 0.01, variant = o.variant ?? 'O';
  const s = cosMat(x, x), n = x.length;
  const sig = (t: number): number => 1 / (1 + Math.exp(Math.min(50, Math.max(-50, -t / anneal))));
  const g = (r: number): number => ({
    Ds: Math.log(1 + r), Dq: 1 / (1 + r) ** alpha, Iu: (1 + r) * Math.log(1 + r), Ib: (b * r - Math.log(1 + b * r)) / b ** 2, O: r,
  } as Record<string, number>)[variant];
  let total = 0, queries = 0;
  for (let q = 0; q < n; q++) {
    const P = x.map((_, j) => j).filter((j) => j !== q && y[j] === y[q]);
    if (P.length === 0) continue;
    queries++;
    P.push(q);
    let acc = 0;
    for (const i of P) {
      let r = 0;
      for (let j = 0; j < n; j++) if (y[j] !== y[i]) r += sig(s[q][j] - s[q][i]);
      acc += g(r);
    }
    total += acc / P.length;
  }
  total /= queries;
  return variant === 'Dq' ? 1 - total : total;
}

/** Ranked list loss on zero-filled P* / N* matrices as PML builds them (L_P = 0 without a weight). */
function rllRef(d: M, y: number[], o: { margin: number; Tn: number; imbalance?: number; alpha?: number; Tp?: number }): number {
  const a = o.alpha ?? 1 + o.margin / 2, lam = o.imbalance ?? 0.5, Tp = o.Tp ?? 0, pb = a - o.margin;
  return mean(d.map((row, i) => {
    let pn = 0, pd = 0, nn = 0, nd = 0;
    row.forEach((dij0, j) => {
      const dij = i === j ? 0 : dij0;
      const P = y[i] === y[j] && i !== j && dij > pb ? dij : 0;
      if (P > pb) { const w = Math.exp(Tp * (P - pb)); pn += w * (P - pb); pd += w; }
      const N = y[i] !== y[j] && dij < a ? dij : 0;
      if (N > 0) { const w = Math.exp(o.Tn * (a - N)); nn += w * (a - N); nd += w; }
    });
    return (1 - lam) * (pd > 0 ? pn / pd : 0) + lam * (nd > 0 ? nn / nd : 0);
  }));
}

/** Mean of the non-negative entries (0 without any). */
const meanNonNeg = (v: number[]): number => { const k = v.filter((t) => t >= 0); return k.length ? mean(k) : 0; };
const avgNonZero = (v: number[]): number => { const k = v.filter((t) => t > 0); return k.length ? mean(k) : 0; };
/** Every ordered pair (i != j) split into positives and negatives. */
function pairsOf(y: number[]): { pos: [number, number][]; neg: [number, number][] } {
  const pos: [number, number][] = [], neg: [number, number][] = [];
  y.forEach((a, i) => y.forEach((b, j) => { if (i !== j) (a === b ? pos : neg).push([i, j]); }));
  return { pos, neg };
}
/** TCM over a cosine ContrastiveLoss base (AvgNonZero per sub-loss). */
function tcmRef(x: M, y: number[], o: { pm: number; nm: number; lp?: number; lm?: number; mp?: number; mm?: number }): number {
  const s = cosMat(x, x), { pos, neg } = pairsOf(y);
  const base = avgNonZero(pos.map(([i, j]) => relu(o.pm - s[i][j]))) + avgNonZero(neg.map(([i, j]) => relu(s[i][j] - o.nm)));
  const tcm = (o.lp ?? 1) * meanNonNeg(pos.map(([i, j]) => (o.mp ?? 0.9) - s[i][j])) + (o.lm ?? 1) * meanNonNeg(neg.map(([i, j]) => s[i][j] - (o.mm ?? 0.5)));
  return base + tcm;
}

/** The TCM term alone (PML's ThresholdConsistentMarginLoss, which takes no base loss), as plain loops. */
function tcmTermRef(x: M, y: number[], o: { lp?: number; lm?: number; mp?: number; mm?: number } = {}): number {
  const s = cosMat(x, x), { pos, neg } = pairsOf(y);
  return (o.lp ?? 1) * meanNonNeg(pos.map(([i, j]) => (o.mp ?? 0.9) - s[i][j])) + (o.lm ?? 1) * meanNonNeg(neg.map(([i, j]) => s[i][j] - (o.mm ?? 0.5)));
}

/** VICReg with MeanReducer: mean invariance + mean of each variance vector + covariance. */
function vicregRef(z1: M, z2: M, o: { lambda?: number; mu?: number; nu?: number; eps?: number } = {}): number {
  const lambda = o.lambda ?? 25, mu = o.mu ?? 25, nu = o.nu ?? 1, eps = o.eps ?? 1e-4;
  const n = z1.length, d = z1[0].length;
  const inv = mean(z1.map((r, i) => lambda * mean(r.map((v, k) => (v - z2[i][k]) ** 2))));
  const stats = (z: M): { v: number; c: number } => {
    const mu0 = z[0].map((_, k) => mean(z.map((r) => r[k])));
    const cz = z.map((r) => r.map((v, k) => v - mu0[k]));
    const v = mean(mu0.map((_, k) => (mu * relu(1 - Math.sqrt(cz.reduce((s, r) => s + r[k] ** 2, 0) / (n - 1) + eps))) / 2));
    let c = 0;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) if (a !== b) c += (cz.reduce((s, r) => s + r[a] * r[b], 0) / (n - 1)) ** 2;
    return { v, c: c / d };
  };
  const s1 = stats(z1), s2 = stats(z2);
  return inv + s1.v + s2.v + nu * (s1.c + s2.c);
}

// ------------------------------------------------------------------------------------------------
// A hand-built batch: 6 embeddings of dim 4, labels 0 (3 items), 1 (2) and 2 (a class with one member).
// ------------------------------------------------------------------------------------------------
const X = [
  [0.9, 0.1, 0.2, -0.1], [0.7, 0.3, -0.1, 0.2], [0.1, -0.8, 0.6, 0.3],
  [-0.2, -0.6, 0.5, 0.1], [0.3, 0.6, -0.3, 0.8], [0.8, -0.2, 0.1, 0.1],
];
const Y = [0, 0, 1, 1, 2, 0];
const D = 4;
const TOL = { atol: 1e-4, rtol: 1e-4 };

function value(loss: akin.losses.BaseMetricLoss, x: M, y: number[], idx?: akin.IndexTuple, ref?: M, refY?: number[]): number {
  return tf.tidy(() => loss.compute(tf.tensor2d(x), y, idx, ref ? tf.tensor2d(ref) : undefined, refY).arraySync() as number);
}
function views(loss: akin.losses.VICRegLoss, a: M, b: M): number {
  return tf.tidy(() => loss.computeViews(tf.tensor2d(a), tf.tensor2d(b)).arraySync() as number);
}
function set(v: akin.tf.Variable, rows: M): void {
  tf.tidy(() => v.assign(tf.tensor2d(rows)));
}
const read = (v: akin.tf.Tensor): M => v.arraySync() as M;
/** The gradient of `f` at `rows` (finite and returned). */
function gradAt(f: (x: akin.tf.Tensor2D) => akin.tf.Scalar, rows: M): number[] {
  const x = tf.tensor2d(rows);
  const g = tf.tidy(() => tf.grad((v: akin.tf.Tensor) => f(v as akin.tf.Tensor2D))(x));
  const out = Array.from(g.dataSync());
  tf.dispose([x, g]);
  for (const v of out) assert.ok(Number.isFinite(v), `gradient entry ${v} is not finite`);
  return out;
}

test('ManifoldLoss matches the Neumann-series reference (defaults, other options), labels are proxy assignments', () => {
  const a = new L.ManifoldLoss({ embeddingSize: D, seed: 2 });
  assert.deepEqual(a.proxies.shape, [50, D]);
  assert.equal(a.trainableWeights.length, 1);
  assertClose(value(a, X, Y), manifoldRef(X, Y, read(a.proxies)), TOL);
  const P = randomRows(3, D, 5);
  const o = { alpha: 0.5, margin: 0.05, lambdaC: 0.5 };
  const b = new L.ManifoldLoss({ embeddingSize: D, numProxies: 3, ...o });
  set(b.proxies, P);
  const expected = manifoldRef(X, Y, P, o);
  assert.ok(expected > 0.1, `the hand-built case should have violations (${expected})`);
  assertClose(value(b, X, Y), expected, TOL);
  assertClose(value(b, X, [2, 1, 0, 0, 1, 2]), manifoldRef(X, [2, 1, 0, 0, 1, 2], P, o), TOL);
  const c0 = new L.ManifoldLoss({ embeddingSize: D, numProxies: 3, ...o, lambdaC: 0 });
  set(c0.proxies, P);
  assertClose(value(c0, X, Y), manifoldRef(X, Y, P, { ...o, lambdaC: 0 }), TOL);
  // PML's unlabelled mode: every proxy at least once, the rest random, seeded.
  const r = b.randomAssignments(8);
  assert.deepEqual([...new Set(r)].sort(), [0, 1, 2]);
  assert.equal(r.length, 8);
  assert.deepEqual(Array.from(new L.ManifoldLoss({ embeddingSize: D, numProxies: 3, seed: 4 }).randomAssignments(8)),
    Array.from(new L.ManifoldLoss({ embeddingSize: D, numProxies: 3, seed: 4 }).randomAssignments(8)));
  assert.throws(() => b.randomAssignments(2), (e: unknown) => e instanceof akin.ShapeError && /numProxies = 3/.test((e as Error).message));
  assert.throws(() => value(b, X, [0, 1, 2, 3, 0, 1]), /labels\[3\] = 3 is not a proxy index/);
  assert.throws(() => value(b, X.map((row) => row.slice(0, 3)), Y), /embeddingSize is 4/);
  // The proxies' gradient matches central differences of the loss in each proxy entry.
  const { grads, value: v } = tf.variableGrads(() => b.compute(tf.tensor2d(X), Y), b.trainableWeights);
  const g = Object.values(grads)[0];
  assert.deepEqual(g.shape, [3, D]);
  const eps = 1e-2;
  const numeric = P.flatMap((row, i) => row.map((_, j) => {
    const at = (delta: number): number => { const q = P.map((r) => r.slice()); q[i][j] += delta; set(b.proxies, q); return value(b, X, Y); };
    return (at(eps) - at(-eps)) / (2 * eps);
  }));
  set(b.proxies, P);
  assertClose(g.dataSync(), numeric, { atol: 2e-4, rtol: 2e-2, msg: 'proxy gradient' });
  tf.dispose([...Object.values(grads), v]);
  for (const l of [a, b, c0]) l.dispose();
});

test('P2SGradLoss matches plain loops and renormalises W as PML', () => {
  const a = new L.P2SGradLoss({ numClasses: 3, embeddingSize: D, seed: 1 });
  assert.deepEqual(a.W.shape, [D, 3]);
  const colNorms = (w: M): number[] => w[0].map((_, j) => norm(w.map((row) => row[j])));
  assertClose(colNorms(read(a.W)), [1, 1, 1], { atol: 1e-5, rtol: 0 });
  assertClose(value(a, X, Y), p2sgradRef(X, Y, read(a.W)), TOL);
  const W = randomRows(D, 3, 9).map((row) => row.map((v) => v * 3));
  set(a.W, W);
  assertClose(value(a, X, Y), p2sgradRef(X, Y, W), TOL);
  assertClose(colNorms(read(a.W)), [1, 1, 1], { atol: 1e-5, rtol: 0 });
  const b = new L.P2SGradLoss({ numClasses: 4, embeddingSize: D, seed: 7, reducer: 'SumReducer' });
  assertClose(value(b, X, Y), p2sgradRef(X, Y, read(b.W)), TOL);
  // dL/dW_kj = 2 / (N C) sum_i (cos_ij - [j == y_i]) x_ik / |x_i| (no cosine reaches the clamp here).
  const Wu = read(a.W);
  const { grads, value: v } = tf.variableGrads(() => a.compute(tf.tensor2d(X), Y), [a.W]);
  const expected = Wu.map((row, k) => row.map((_, j) => X.reduce((acc, x, i) => {
    const c = dot(x, Wu.map((r) => r[j])) / norm(x);
    return acc + (2 / (X.length * 3)) * (c - (j === Y[i] ? 1 : 0)) * (x[k] / norm(x));
  }, 0)));
  assertClose(Object.values(grads)[0].dataSync(), expected.flat(), { atol: 1e-5, rtol: 1e-4, msg: 'dW' });
  tf.dispose([...Object.values(grads), v]);
  assert.throws(() => value(a, X, [0, 0, 1, 1, 3, 0]), /labels\[4\] = 3/);
  assert.throws(() => value(a, X, Y, { anchors: Int32Array.of(0), positives: Int32Array.of(1), negatives: Int32Array.of(2) }), /not supported/);
  a.dispose(); b.dispose();
});

test('PNPLoss matches PML\'s N^3 construction for every variant (paper names accepted)', () => {
  const variants = ['Ds', 'Dq', 'Iu', 'Ib', 'O'];
  for (const variant of variants) {
    assertClose(value(new L.PNPLoss({ variant: variant as akin.losses.PNPVariant, anneal: 0.2 }), X, Y), pnpRef(X, Y, { variant, anneal: 0.2 }), { ...TOL, msg: variant });
    const o = { b: 3, alpha: 4, anneal: 0.05, variant };
    assertClose(value(new L.PNPLoss(o as akin.losses.PNPLossOptions), X, Y), pnpRef(X, Y, o), { ...TOL, msg: variant });
  }
  assertClose(value(new L.PNPLoss(), X, Y), pnpRef(X, Y), TOL);
  const paper = new L.PNPLoss({ variant: 'PNP-I_b' });
  assert.equal(paper.variant, 'Ib');
  assert.equal(paper.getConfig().variant, 'Ib');
  // Without the singleton class every row has positives: the value is PML's exactly.
  const y2 = [0, 0, 1, 1, 1, 0];
  assertClose(value(new L.PNPLoss({ anneal: 0.1, variant: 'Dq' }), X, y2), pnpRef(X, y2, { anneal: 0.1, variant: 'Dq' }), TOL);
  assert.throws(() => value(new L.PNPLoss(), X, Y, undefined, X, Y), /reference embeddings are not supported/);
});

test('PNPLoss averages over the queries that have a same-label partner (singleton classes left out)', () => {
  // Two singleton classes among six rows: the mean is over the four rows of classes 0 and 1.
  const ys = [0, 0, 1, 1, 2, 3];
  for (const variant of ['O', 'Dq', 'Ib']) {
    const got = value(new L.PNPLoss({ variant: variant as akin.losses.PNPVariant, anneal: 0.2 }), X, ys);
    assertClose(got, pnpRef(X, ys, { variant, anneal: 0.2 }), { ...TOL, msg: variant });
  }
});

test('RankedListLoss matches PML\'s zero-filled matrices (RLL-Simpler defaults, other options, cosine)', () => {
  // Positive distances are 0.38 to 0.68: margin 1 (alpha 1.5) and margin 0.8 with alpha 1.2 leave some above alpha - margin.
  const d = l2Mat(X, X);
  assertClose(value(new L.RankedListLoss({ margin: 0.4, Tn: 10 }), X, Y), rllRef(d, Y, { margin: 0.4, Tn: 10 }), TOL);
  assertClose(value(new L.RankedListLoss({ margin: 1, Tn: 10 }), X, Y), rllRef(d, Y, { margin: 1, Tn: 10 }), TOL);
  const o = { margin: 0.8, Tn: 3, imbalance: 0.3, alpha: 1.2, Tp: 2 };
  const expected = rllRef(d, Y, o);
  assertClose(value(new L.RankedListLoss(o), X, Y), expected, TOL);
  // alpha - margin < 0: PML's zero-filled P* counts every other entry as a positive at distance 0.
  const q = { margin: 1, Tn: 1, alpha: 0.6, Tp: 1 };
  assertClose(value(new L.RankedListLoss(q), X, Y), rllRef(d, Y, q), TOL);
  const c = cosMat(X, X);
  assertClose(value(new L.RankedListLoss({ margin: 0.2, Tn: 2, alpha: 0.9, distance: 'CosineSimilarity' }), X, Y), rllRef(c, Y, { margin: 0.2, Tn: 2, alpha: 0.9 }), TOL);
  const loss = new L.RankedListLoss({ margin: 0.4, Tn: 10 });
  assert.equal(loss.alpha, 1.2);
  const xt = tf.tensor2d(X);
  const dict = loss.computeLossDict(xt, Y);
  assert.equal(dict.loss.reductionType, 'element');
  assert.deepEqual(Array.from(dict.loss.indices as Int32Array), [0, 1, 2, 3, 4, 5]);
  // Item 4 is alone in its class: its positive term is 0 (PML: NaN), so its loss is the negative term only.
  const row = (dict.loss.losses!.arraySync() as number[])[4];
  assert.ok(Number.isFinite(row));
  tf.dispose([xt, dict.loss.losses!]);
});

test('ThresholdConsistentMarginLoss without a base loss is the TCM term alone (PML takes no base loss)', () => {
  const pmlX = [[0, 1], [0.43, 0.9], [1, 0], [0.5, 0.5]];
  const alone = new L.ThresholdConsistentMarginLoss();
  assertClose(value(alone, pmlX, [0, 0, 1, 1]), tcmTermRef(pmlX, [0, 0, 1, 1]), TOL);
  assertClose(value(alone, X, Y), tcmTermRef(X, Y), TOL);
  const o = { lambdaPlus: 0.5, lambdaMinus: 2, marginPlus: 0.7, marginMinus: 0.3 };
  assertClose(value(new L.ThresholdConsistentMarginLoss(o), X, Y), tcmTermRef(X, Y, { lp: 0.5, lm: 2, mp: 0.7, mm: 0.3 }), TOL);
  // With a base loss: the same as adding the base loss (PML's MultipleLosses of the two).
  const spec = { className: 'ContrastiveLoss', config: { distance: 'CosineSimilarity', posMargin: 0.8, negMargin: 0.2 } };
  const base = new L.ContrastiveLoss({ distance: 'CosineSimilarity', posMargin: 0.8, negMargin: 0.2 });
  assertClose(value(new L.ThresholdConsistentMarginLoss({ baseLoss: spec, ...o }), X, Y), value(base, X, Y) + value(new L.ThresholdConsistentMarginLoss(o), X, Y), TOL);
  // No pair passes the margins: zero.
  assert.equal(value(new L.ThresholdConsistentMarginLoss({ marginMinus: 1.5 }), X, [0, 1, 2, 3, 4, 5]), 0);
  assert.equal(alone.trainableWeights.length, 0);
  assert.equal('baseLoss' in alone.getConfig(), false);
  const again = L.fromConfig({ className: 'ThresholdConsistentMarginLoss', config: alone.getConfig() });
  assertClose(value(again, X, Y), tcmTermRef(X, Y), TOL);
  alone.dispose();
});

test('ThresholdConsistentMarginLoss: PML\'s worked example, plain loops, miner pairs, base-loss weights', () => {
  // PML's test: contrastive 0.4866 + positive 0.1929 + negative 0.325 = 1.0045.
  const pmlX = [[0, 1], [0.43, 0.9], [1, 0], [0.5, 0.5]];
  const pmlBase = (pm: number, nm: number): akin.losses.ContrastiveLoss => new L.ContrastiveLoss({ distance: 'CosineSimilarity', posMargin: pm, negMargin: nm });
  assertClose(value(new L.ThresholdConsistentMarginLoss({ baseLoss: pmlBase(0.9, 0.4) }), pmlX, [0, 0, 1, 1]), 1.0045, { atol: 2e-4, rtol: 0 });
  assertClose(value(new L.ThresholdConsistentMarginLoss({ baseLoss: pmlBase(0.9, 0.4) }), X, Y), tcmRef(X, Y, { pm: 0.9, nm: 0.4 }), TOL);
  const o = { lambdaPlus: 0.5, lambdaMinus: 2, marginPlus: 0.7, marginMinus: 0.3 };
  const spec = { className: 'ContrastiveLoss', config: { distance: 'CosineSimilarity', posMargin: 0.8, negMargin: 0.2 } };
  const t = new L.ThresholdConsistentMarginLoss({ baseLoss: spec, ...o });
  assertClose(value(t, X, Y), tcmRef(X, Y, { pm: 0.8, nm: 0.2, lp: 0.5, lm: 2, mp: 0.7, mm: 0.3 }), TOL);
  // Miner triplets become pairs for both the base loss and the TCM term.
  const trip = { anchors: Int32Array.of(0, 2, 5), positives: Int32Array.of(1, 3, 0), negatives: Int32Array.of(4, 0, 3) };
  const s = cosMat(X, X);
  const base = new L.ContrastiveLoss({ distance: 'CosineSimilarity', posMargin: 0.8, negMargin: 0.2 });
  const tcm = 0.5 * meanNonNeg([[0, 1], [2, 3], [5, 0]].map(([i, j]) => 0.7 - s[i][j])) + 2 * meanNonNeg([[0, 4], [2, 0], [5, 3]].map(([i, j]) => s[i][j] - 0.3));
  assertClose(value(t, X, Y, trip), value(base, X, Y, trip) + tcm, TOL);
  // Reference embeddings: pairs between the batch and the reference set.
  const R = randomRows(3, D, 13), RY = [0, 2, 1];
  const rs = cosMat(X, R);
  const rp: number[] = [], rn: number[] = [];
  Y.forEach((a, i) => RY.forEach((b, j) => (a === b ? rp : rn).push(rs[i][j])));
  const refTcm = 0.5 * meanNonNeg(rp.map((v) => 0.7 - v)) + 2 * meanNonNeg(rn.map((v) => v - 0.3));
  assertClose(value(t, X, Y, undefined, R, RY), value(base, X, Y, undefined, R, RY) + refTcm, TOL);
  const pa = new L.ThresholdConsistentMarginLoss({ baseLoss: new L.ProxyAnchorLoss({ numClasses: 3, embeddingSize: D }) });
  assert.equal(pa.trainableWeights.length, 1);
  const before = tf.memory().numTensors;
  pa.dispose();
  assert.equal(tf.memory().numTensors, before - 1);
});

test('VICRegLoss matches plain loops; computeViews mirrors PML\'s (embeddings, ref_emb)', () => {
  const Z2 = randomRows(6, D, 17);
  assertClose(views(new L.VICRegLoss(), X, Z2), vicregRef(X, Z2), TOL);
  const o = { invarianceLambda: 5, varianceMu: 2, covarianceV: 3, eps: 1e-3 };
  const loss = new L.VICRegLoss(o);
  assertClose(views(loss, X, Z2), vicregRef(X, Z2, { lambda: 5, mu: 2, nu: 3, eps: 1e-3 }), TOL);
  assertClose(value(loss, X, Y, undefined, Z2, Y), views(loss, X, Z2), { atol: 1e-6, rtol: 1e-6 });
  const xt = tf.tensor2d(X), zt = tf.tensor2d(Z2);
  const dict = loss.computeLossDict(xt, [0, 1, 2, 3, 4, 5], undefined, zt, [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(Object.keys(dict), loss.subLossNames());
  assert.deepEqual(dict.varianceLoss1.losses!.shape, [D]);
  assert.deepEqual(dict.invarianceLoss.losses!.shape, [6]);
  tf.dispose([xt, zt, ...Object.values(dict).map((t) => t.losses!)]);
  assert.throws(() => value(loss, X, Y), (e: unknown) => e instanceof akin.ShapeError && /computeViews/.test((e as Error).message));
  assert.throws(() => views(loss, X.slice(0, 1), Z2.slice(0, 1)), /at least 2/);
  assert.throws(() => views(loss, X, Z2.slice(0, 5)), /5 rows/);
  assert.throws(() => new L.VICRegLoss({ embeddingRegularizer: 'LpRegularizer' }), /embeddingRegularizer/);
});

test('no valid tuple gives a zero loss with a finite gradient', () => {
  const distinct = [0, 1, 2, 3, 4, 5];
  const one = new L.ManifoldLoss({ embeddingSize: D, numProxies: 1 });
  const cases: [string, akin.losses.BaseMetricLoss, number[]][] = [
    ['manifold (one proxy: no other proxy to beat)', one, [0, 0, 0, 0, 0, 0]],
    ['pnp (every class has one member)', new L.PNPLoss(), distinct],
    ['ranked list (every class has one member, alpha below every distance)', new L.RankedListLoss({ margin: 0.05, Tn: 1, alpha: 0.1 }), distinct],
    ['tcm (every class has one member, all negatives below the margin)', new L.ThresholdConsistentMarginLoss({ baseLoss: new L.ContrastiveLoss({ distance: 'CosineSimilarity', negMargin: 1 }), marginMinus: 1 }), distinct],
  ];
  for (const [name, loss, y] of cases) {
    assert.equal(value(loss, X, y), 0, name);
    gradAt((x) => loss.compute(x, y), X);
  }
  const tcm = cases[3][1];
  assert.equal(value(tcm, X.slice(0, 1), [0]), 0);
  gradAt((x) => tcm.compute(x, [0]), X.slice(0, 1));
  one.dispose();
});

test('gradients (embeddings) match central finite differences', () => {
  const rows = randomRows(5, 3, 11);
  const y = [0, 1, 1, 2, 0];
  const z2 = randomRows(5, 3, 12);
  const manifold = new L.ManifoldLoss({ embeddingSize: 3, numProxies: 3, alpha: 0.5, margin: 0.05, seed: 3 });
  const p2s = new L.P2SGradLoss({ numClasses: 3, embeddingSize: 3, seed: 4 });
  const vic = new L.VICRegLoss();
  // The manifold gradients are around 1e-2: a larger step and a tighter absolute tolerance.
  checkGradient((x) => manifold.compute(x, y), rows, { eps: 1e-2, atol: 1e-4, rtol: 2e-2 });
  const cases: [string, (x: akin.tf.Tensor2D) => akin.tf.Scalar][] = [
    ['p2sgrad', (x) => p2s.compute(x, y)],
    ['pnp O', (x) => new L.PNPLoss({ anneal: 0.5 }).compute(x, y)],
    ['pnp Dq', (x) => new L.PNPLoss({ anneal: 0.5, variant: 'Dq', alpha: 2 }).compute(x, y)],
    ['pnp Ib', (x) => new L.PNPLoss({ anneal: 0.5, variant: 'Ib' }).compute(x, y)],
    ['ranked list', (x) => new L.RankedListLoss({ margin: 1.2, Tn: 2, Tp: 1, alpha: 1.6 }).compute(x, y)],
    ['tcm', (x) => new L.ThresholdConsistentMarginLoss({ baseLoss: 'ContrastiveLoss', marginPlus: 0.95, marginMinus: -0.9 }).compute(x, y)],
    ['vicreg', (x) => vic.computeViews(x, tf.tensor2d(z2))],
  ];
  for (const [name, f] of cases) {
    try {
      checkGradient(f, rows, { eps: 1e-3 });
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
  }
  manifold.dispose(); p2s.dispose();
});

function catalogue(): akin.losses.BaseMetricLoss[] {
  return [
    new L.ManifoldLoss({ embeddingSize: D, numProxies: 3, lambdaC: 0.5, alpha: 0.6, margin: 0.01, seed: 5, embeddingRegularizer: 'LpRegularizer' }),
    new L.P2SGradLoss({ numClasses: 3, embeddingSize: D, seed: 5 }),
    new L.PNPLoss({ b: 3, alpha: 2, anneal: 0.1, variant: 'Dq' }),
    new L.RankedListLoss({ margin: 0.3, Tn: 5, imbalance: 0.4, Tp: 1, distance: 'CosineSimilarity' }),
    new L.ThresholdConsistentMarginLoss({ baseLoss: new L.TripletMarginLoss({ margin: 0.2 }), lambdaPlus: 0.5, marginMinus: 0.4, reducer: 'SumReducer' }),
    new L.VICRegLoss({ invarianceLambda: 10, covarianceV: 2 }),
  ];
}
const Z = randomRows(6, D, 23);
const anyValue = (loss: akin.losses.BaseMetricLoss): number => (loss instanceof L.VICRegLoss ? views(loss, X, Z) : value(loss, X, Y));

test('getConfig -> fromConfig rebuilds each loss (same seed gives the same weights and value)', () => {
  for (const loss of catalogue()) {
    const spec = JSON.parse(JSON.stringify(akin.core.toConfig(loss))) as akin.core.ComponentConfig;
    const back = L.fromConfig(spec);
    assert.equal(back.className, loss.className);
    assert.deepEqual(back.getConfig(), loss.getConfig());
    assertClose(anyValue(back), anyValue(loss), { atol: 1e-5, rtol: 1e-5, msg: loss.className });
    back.dispose(); loss.dispose();
  }
});

test('bad options raise errors naming them', () => {
  const bad: [() => unknown, RegExp][] = [
    [() => new L.ManifoldLoss({} as akin.losses.ManifoldLossOptions), /ManifoldLoss.*'embeddingSize'/],
    [() => new L.ManifoldLoss({ embeddingSize: 4, alpha: 1 }), /ManifoldLoss.*'alpha'/],
    [() => new L.ManifoldLoss({ embeddingSize: 4, lambdaC: -1 }), /ManifoldLoss.*'lambdaC'/],
    [() => new L.ManifoldLoss({ embeddingSize: 4, weightRegularizer: 'LpRegularizer' }), /weightRegularizer/],
    [() => new L.P2SGradLoss({ numClasses: 3 } as akin.losses.P2SGradLossOptions), /P2SGradLoss.*'embeddingSize'/],
    [() => new L.PNPLoss({ variant: 'PNP' as akin.losses.PNPVariant }), /PNPLoss.*'variant'/],
    [() => new L.PNPLoss({ distance: 'LpDistance' }), /PNPLoss.*'distance'/],
    [() => new L.RankedListLoss({ margin: 0.4 } as akin.losses.RankedListLossOptions), /RankedListLoss.*'Tn'/],
    [() => new L.RankedListLoss({ margin: 0.4, Tn: 1, imbalance: 2 }), /RankedListLoss.*'imbalance'/],
    [() => new L.ThresholdConsistentMarginLoss({ baseLoss: 'NoSuchLoss' }), /NoSuchLoss/],
    [() => new L.ThresholdConsistentMarginLoss({ baseLoss: 'ContrastiveLoss', distance: 'LpDistance' }), /ThresholdConsistentMarginLoss.*'distance'/],
    [() => new L.VICRegLoss({ distance: 'LpDistance' } as akin.losses.VICRegLossOptions), /VICRegLoss.*'distance'/],
  ];
  for (const [f, re] of bad) assert.throws(f, (e: unknown) => e instanceof akin.ConfigError && re.test((e as Error).message), String(re));
});

test('no tensor is left behind but the result', () => {
  const x = tf.tensor2d(X), z = tf.tensor2d(Z);
  for (const loss of catalogue()) {
    const run = (): void => tf.tidy(() => (loss instanceof L.VICRegLoss ? loss.computeViews(x, z) : loss.compute(x, Y))).dispose();
    run();
    const before = tf.memory().numTensors;
    run(); run();
    assert.equal(tf.memory().numTensors, before, loss.className);
    loss.dispose();
  }
  tf.dispose([x, z]);
});
