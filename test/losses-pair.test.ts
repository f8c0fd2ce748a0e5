import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, assertClose, checkGradient, randomRows } from './helpers.js';

const tf = akin.tf;
const L = akin.losses;
const D = akin.distances;

before(async () => {
  await initBackend();
});

// ------------------------------------------------------------------------------------------------
// Plain float64 references, written from PML's definitions.
// ------------------------------------------------------------------------------------------------
type Pair = [number, number];
type Triplet = [number, number, number];
const norm = (r: number[]): number => Math.sqrt(r.reduce((s, v) => s + v * v, 0));
const unit = (r: number[]): number[] => { const n = Math.max(norm(r), 1e-12); return r.map((v) => v / n); };
const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);
const mean = (v: number[]): number => (v.length ? v.reduce((s, x) => s + x, 0) / v.length : 0);
const avgNonZero = (v: number[]): number => mean(v.filter((x) => x > 0));
const relu = (x: number): number => Math.max(x, 0);
const softplus = (x: number): number => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
const lse = (v: number[]): number => { if (!v.length) return 0; const m = Math.max(...v); return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0)); };
const l2 = (x: number[][]): number[][] => x.map((a) => x.map((b) => Math.sqrt(unit(a).reduce((s, v, k) => s + (v - unit(b)[k]) ** 2, 0))));
const cos = (x: number[][]): number[][] => x.map((a) => x.map((b) => dot(unit(a), unit(b))));

function allPairs(y: number[]): { pos: Pair[]; neg: Pair[] } {
  const pos: Pair[] = [], neg: Pair[] = [];
  y.forEach((a, i) => y.forEach((b, j) => { if (a !== b) neg.push([i, j]); else if (i !== j) pos.push([i, j]); }));
  return { pos, neg };
}
function allTriplets(y: number[]): Triplet[] {
  const out: Triplet[] = [];
  y.forEach((la, a) => y.forEach((lp, p) => {
    if (la !== lp || a === p) return;
    y.forEach((ln, n) => { if (ln !== la) out.push([a, p, n]); });
  }));
  return out;
}
function circleRef(s: number[][], pos: Pair[], neg: Pair[], m = 0.4, gamma = 80): number {
  return avgNonZero(s.map((row, i) => {
    const P = pos.filter(([a]) => a === i).map(([, j]) => row[j]);
    const N = neg.filter(([a]) => a === i).map(([, j]) => row[j]);
    if (!P.length || !N.length) return 0;
    const lp = lse(P.map((v) => -gamma * relu(1 + m - v) * (v - (1 - m))));
    const ln = lse(N.map((v) => gamma * relu(v + m) * (v - m)));
    return softplus(lp + ln);
  }));
}
function liftedRef(d: number[][], pos: Pair[], neg: Pair[], nm = 1, pm = 0, inv = false): number {
  return mean(pos.map(([a, p]) => {
    const terms = neg.filter(([a2]) => a2 === a || a2 === p).map(([a2, n]) => (inv ? d[a2][n] - nm : nm - d[a2][n]));
    const v = lse(terms) + (inv ? pm - d[a][p] : d[a][p] - pm);
    return relu(v) ** 2 / 2;
  }));
}
function genLiftedRef(d: number[][], pos: Pair[], neg: Pair[], nm = 1, pm = 0): number {
  return mean(d.map((row, i) => relu(
    lse(pos.filter(([a]) => a === i).map(([, j]) => row[j] - pm)) + lse(neg.filter(([a]) => a === i).map(([, j]) => nm - row[j])),
  )));
}
function npairsRef(x: number[][], y: number[]): number {
  const { pos } = allPairs(y);
  const firstByLabel = new Map<number, Pair>();
  for (const pr of pos) if (!firstByLabel.has(y[pr[0]])) firstByLabel.set(y[pr[0]], pr);
  const chosen = [...firstByLabel.keys()].sort((a, b) => a - b).map((l) => firstByLabel.get(l)!);
  return mean(chosen.map(([a], k) => {
    const row = chosen.map(([, p]) => dot(unit(x[a]), unit(x[p])));
    return lse(row) - row[k];
  }));
}
function angularRef(x: number[][], y: number[], alphaDeg = 40): number {
  const t = Math.tan((alphaDeg * Math.PI) / 180) ** 2;
  const { pos } = allPairs(y);
  return mean(pos.map(([a, p]) => {
    const ua = unit(x[a]), up = unit(x[p]);
    let s = 1;
    x.forEach((xn, n) => { if (y[n] !== y[a]) s += Math.exp(4 * t * (dot(ua, xn) + dot(up, xn)) - 2 * (1 + t) * dot(ua, up)); });
    return Math.log(s);
  }));
}
function marginRef(d: number[][], t: Triplet[], y: number[], o: { margin?: number; beta?: number | number[] } = {}): number {
  const margin = o.margin ?? 0.2;
  let sum = 0, count = 0;
  for (const [a, p, n] of t) {
    const beta = Array.isArray(o.beta) ? o.beta[y[a]] : o.beta ?? 1.2;
    const pl = relu(d[a][p] - beta + margin), nl = relu(beta - d[a][n] + margin);
    sum += pl + nl;
    count += (pl > 0 ? 1 : 0) + (nl > 0 ? 1 : 0);
  }
  return count === 0 ? 0 : sum / count;
}
/** SNR distance var(b - a) / var(a) over dimensions, on normalised rows. */
function snr(x: number[][]): number[][] {
  const v = (r: number[]): number => { const m = mean(r); return mean(r.map((z) => (z - m) ** 2)); };
  const u = x.map(unit);
  return u.map((a) => u.map((b) => v(a.map((z, k) => b[k] - z)) / v(a)));
}
function contrastiveRef(d: number[][], pos: Pair[], neg: Pair[], pm = 0, nm = 1): number {
  return avgNonZero(pos.map(([a, p]) => relu(d[a][p] - pm))) + avgNonZero(neg.map(([a, n]) => relu(nm - d[a][n])));
}

// 8 embeddings, labels 0 (3), 1 (2), 2 (2), 3 (one member).
const X = [
  [0.9, 0.1, 0.2, -0.1], [0.8, 0.3, -0.1, 0.2], [0.4, -0.2, 0.6, 0.3], [-0.1, 0.9, 0.2, 0.3],
  [0.5, 0.6, -0.3, 0.1], [0.1, -0.2, 0.9, 0.4], [-0.3, 0.1, 0.8, -0.2], [0.4, 0.4, 0.4, -0.6],
];
const Y = [0, 0, 0, 1, 1, 2, 2, 3];
const ALL = allPairs(Y);
const TOL = { atol: 1e-5, rtol: 1e-4 };
const i32 = (v: number[]): Int32Array => Int32Array.from(v);

function value(loss: akin.losses.BaseMetricLoss, x: number[][], y: number[], idx?: akin.IndexTuple): number {
  return tf.tidy(() => loss.compute(tf.tensor2d(x), y, idx).arraySync() as number);
}

test('CircleLoss matches plain loops (defaults, m/gamma, miner pairs)', () => {
  const c = cos(X);
  assertClose(value(new L.CircleLoss(), X, Y), circleRef(c, ALL.pos, ALL.neg), TOL);
  assertClose(value(new L.CircleLoss({ m: 0.25, gamma: 10 }), X, Y), circleRef(c, ALL.pos, ALL.neg, 0.25, 10), TOL);
  const pos: Pair[] = [[0, 1], [3, 4], [5, 6], [0, 2]], neg: Pair[] = [[0, 3], [3, 7], [6, 0], [1, 4]];
  const idx = { anchors1: i32(pos.map((q) => q[0])), positives: i32(pos.map((q) => q[1])), anchors2: i32(neg.map((q) => q[0])), negatives: i32(neg.map((q) => q[1])) };
  assertClose(value(new L.CircleLoss({ gamma: 10 }), X, Y, idx), circleRef(c, pos, neg, 0.4, 10), TOL);
});

test('LiftedStructureLoss and GeneralizedLiftedStructureLoss match plain loops', () => {
  const d = l2(X), c = cos(X);
  assertClose(value(new L.LiftedStructureLoss(), X, Y), liftedRef(d, ALL.pos, ALL.neg), TOL);
  assertClose(value(new L.LiftedStructureLoss({ negMargin: 0.5, posMargin: 0.2 }), X, Y), liftedRef(d, ALL.pos, ALL.neg, 0.5, 0.2), TOL);
  assertClose(value(new L.LiftedStructureLoss({ negMargin: 0.2, posMargin: 0.9, distance: new D.CosineSimilarity() }), X, Y), liftedRef(c, ALL.pos, ALL.neg, 0.2, 0.9, true), TOL);
  assertClose(value(new L.GeneralizedLiftedStructureLoss(), X, Y), genLiftedRef(d, ALL.pos, ALL.neg), TOL);
  assertClose(value(new L.GeneralizedLiftedStructureLoss({ negMargin: 0.4, posMargin: 0.1 }), X, Y), genLiftedRef(d, ALL.pos, ALL.neg, 0.4, 0.1), TOL);
});

test('NPairsLoss and AngularLoss match plain loops', () => {
  assertClose(value(new L.NPairsLoss(), X, Y), npairsRef(X, Y), TOL);
  const np = new L.NPairsLoss();
  value(np, X, Y);
  assert.equal(np.records.numPairs, 3);
  assertClose(value(new L.AngularLoss(), X, Y), angularRef(X, Y), { atol: 1e-4, rtol: 1e-4 });
  assertClose(value(new L.AngularLoss({ alpha: 25 }), X, Y), angularRef(X, Y, 25), { atol: 1e-4, rtol: 1e-4 });
  // Un-normalised embeddings: the negatives enter raw, as in PML.
  const big = X.map((r, i) => r.map((v) => v * (1 + i / 4)));
  assertClose(value(new L.AngularLoss({ alpha: 30 }), big, Y), angularRef(big, Y, 30), { atol: 1e-4, rtol: 1e-4 });
});

test('MarginLoss matches plain loops (shared beta, per-class beta, divisor reducer)', () => {
  const d = l2(X), t = allTriplets(Y);
  assertClose(value(new L.MarginLoss(), X, Y), marginRef(d, t, Y), TOL);
  assertClose(value(new L.MarginLoss({ margin: 0.1, beta: 0.8 }), X, Y), marginRef(d, t, Y, { margin: 0.1, beta: 0.8 }), TOL);
  const perClass = new L.MarginLoss({ numClasses: 4, beta: 0.9, learnBeta: true, nu: 0.5 });
  tf.tidy(() => (perClass.beta as akin.tf.Variable).assign(tf.tensor1d([0.7, 0.9, 1.1, 1.3])));
  const betas = [0.7, 0.9, 1.1, 1.3];
  let count = 0;
  for (const [a, p, n] of t) count += (relu(d[a][p] - betas[Y[a]] + 0.2) > 0 ? 1 : 0) + (relu(betas[Y[a]] - d[a][n] + 0.2) > 0 ? 1 : 0);
  const reg = t.reduce((s, [a]) => s + 0.5 * betas[Y[a]], 0) / count;
  assertClose(value(perClass, X, Y), marginRef(d, t, Y, { beta: betas }) + reg, TOL);
  assert.equal(perClass.trainableWeights.length, 1);
  perClass.dispose();
  const shared = new L.MarginLoss({ learnBeta: true, nu: 0.1 });
  assertClose(value(shared, X, Y), marginRef(d, t, Y) + 0.1 * 1.2, TOL);
  shared.dispose();
});

test('SignalToNoiseRatioContrastiveLoss matches plain loops', () => {
  const s = snr(X);
  assertClose(value(new L.SignalToNoiseRatioContrastiveLoss(), X, Y), contrastiveRef(s, ALL.pos, ALL.neg), TOL);
  assertClose(value(new L.SignalToNoiseRatioContrastiveLoss({ posMargin: 0.3, negMargin: 1.5 }), X, Y), contrastiveRef(s, ALL.pos, ALL.neg, 0.3, 1.5), TOL);
});

const MAKERS: [string, () => akin.losses.BaseMetricLoss][] = [
  ['circle', () => new L.CircleLoss({ gamma: 4 })],
  ['lifted', () => new L.LiftedStructureLoss()],
  ['genlifted', () => new L.GeneralizedLiftedStructureLoss()],
  ['npairs', () => new L.NPairsLoss()],
  ['angular', () => new L.AngularLoss({ alpha: 30 })],
  ['margin', () => new L.MarginLoss({ margin: 0.5 })],
  ['snr', () => new L.SignalToNoiseRatioContrastiveLoss({ negMargin: 2 })],
];

test('gradients match central finite differences', () => {
  const rows = randomRows(6, 3, 5);
  const y = [0, 0, 1, 1, 2, 2];
  for (const [name, make] of MAKERS) {
    if (name === 'circle') continue; // its weights a_p, a_n carry no gradient: checked below
    const loss = make();
    try {
      checkGradient((x) => loss.compute(x, y), rows, { eps: 1e-3 });
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
  }
});

test('CircleLoss gradient: finite differences with the weights a_p, a_n held at their current values (as PML detaches them)', () => {
  const rows = randomRows(6, 3, 5);
  const y = [0, 0, 1, 1, 2, 2];
  const { pos, neg } = allPairs(y);
  const m = 0.4, gamma = 4;
  const s0 = cos(rows);
  const frozen = (x: number[][]): number => {
    const s = cos(x);
    return avgNonZero(s.map((row, i) => {
      const P = pos.filter(([a]) => a === i).map(([, j]) => -gamma * relu(1 + m - s0[i][j]) * (row[j] - (1 - m)));
      const N = neg.filter(([a]) => a === i).map(([, j]) => gamma * relu(s0[i][j] + m) * (row[j] - m));
      return softplus(lse(P) + lse(N));
    }));
  };
  const eps = 1e-6;
  const numeric = rows.flatMap((r, i) => r.map((_, k) => {
    const plus = rows.map((q) => q.slice()), minus = rows.map((q) => q.slice());
    plus[i][k] += eps; minus[i][k] -= eps;
    return (frozen(plus) - frozen(minus)) / (2 * eps);
  }));
  const loss = new L.CircleLoss({ gamma });
  const analytic = tf.tidy(() => Array.from(tf.grad((x: akin.tf.Tensor) => loss.compute(x as akin.tf.Tensor2D, y))(tf.tensor2d(rows)).dataSync()));
  assertClose(analytic, numeric, { atol: 1e-4, rtol: 1e-3, msg: 'circle gradient' });
});

test('no valid tuple gives a zero loss with a finite, zero gradient', () => {
  const distinct = [0, 1, 2, 3, 4, 5, 6, 7];
  for (const [name, make] of MAKERS) {
    if (name === 'snr' || name === 'genlifted') continue; // negative pairs alone still give a loss
    assert.equal(value(make(), X, distinct), 0, name);
    const g = tf.tidy(() => Array.from(tf.grad((x: akin.tf.Tensor) => make().compute(x as akin.tf.Tensor2D, distinct))(tf.tensor2d(X)).dataSync()));
    for (const v of g) assert.equal(v, 0, name);
  }
  const empty = { anchors: new Int32Array(0), positives: new Int32Array(0), negatives: new Int32Array(0) };
  for (const [name, make] of MAKERS) {
    if (name === 'npairs') continue; // PML treats an empty tuple as "no miner" only for weights; npairs converts it to no pairs
    assert.equal(value(make(), X, Y, empty), 0, name);
  }
  assert.equal(value(new L.NPairsLoss(), X, Y, empty), 0);
});

test('getConfig -> fromConfig rebuilds each loss with the same value', () => {
  const made = [
    new L.CircleLoss({ m: 0.3, gamma: 20 }),
    new L.LiftedStructureLoss({ negMargin: 0.7, posMargin: 0.1, distance: 'CosineSimilarity' }),
    new L.GeneralizedLiftedStructureLoss({ negMargin: 0.7, reducer: 'SumReducer' }),
    new L.NPairsLoss({ distance: 'CosineSimilarity' }),
    new L.AngularLoss({ alpha: 35 }),
    new L.MarginLoss({ margin: 0.3, beta: 1, numClasses: 4, learnBeta: true, nu: 0.2, tripletsPerAnchor: 2, seed: 3 }),
    new L.SignalToNoiseRatioContrastiveLoss({ negMargin: 1.4 }),
  ];
  for (const loss of made) {
    const spec = JSON.parse(JSON.stringify(akin.core.toConfig(loss))) as akin.core.ComponentConfig;
    const back = L.fromConfig(spec);
    assert.equal(back.className, loss.className);
    assert.deepEqual(back.getConfig(), loss.getConfig());
    assertClose(value(back, X, Y), value(loss, X, Y), { atol: 1e-6, rtol: 1e-6, msg: loss.className });
  }
});

test('bad options raise a ConfigError naming the option', () => {
  const bad: [() => unknown, RegExp][] = [
    [() => new L.CircleLoss({ gamma: 'x' as unknown as number }), /CircleLoss.*'gamma'/],
    [() => new L.CircleLoss({ distance: 'LpDistance' }), /CircleLoss.*'distance'/],
    [() => new L.LiftedStructureLoss({ negMargin: 'x' as unknown as number }), /LiftedStructureLoss.*'negMargin'/],
    [() => new L.GeneralizedLiftedStructureLoss({ posMargin: null as unknown as number }), /GeneralizedLiftedStructureLoss.*'posMargin'/],
    [() => new L.NPairsLoss({ temperature: 1 } as unknown as akin.losses.NPairsLossOptions), /NPairsLoss.*temperature/],
    [() => new L.AngularLoss({ distance: new D.LpDistance({ power: 2 }) }), /AngularLoss.*'distance'/],
    [() => new L.MarginLoss({ numClasses: 0 }), /MarginLoss.*'numClasses'/],
    [() => new L.MarginLoss({ tripletsPerAnchor: 0 }), /MarginLoss.*'tripletsPerAnchor'/],
    [() => new L.SignalToNoiseRatioContrastiveLoss({ distance: 'LpDistance' }), /SignalToNoiseRatioContrastiveLoss.*'distance'/],
  ];
  for (const [f, re] of bad) assert.throws(f, (e: unknown) => e instanceof akin.ConfigError && re.test(e.message), String(re));
});

test('no tensor is left behind but the result', () => {
  const x = tf.tensor2d(X);
  for (const [name, make] of MAKERS) {
    const loss = make();
    tf.tidy(() => loss.compute(x, Y)).dispose();
    const before = tf.memory().numTensors;
    tf.tidy(() => loss.compute(x, Y)).dispose();
    assert.equal(tf.memory().numTensors, before, name);
  }
  x.dispose();
});
