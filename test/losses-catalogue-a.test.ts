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
// Plain float64 references, written from PML's definitions without calling the code under test.
// ------------------------------------------------------------------------------------------------
type Pair = [number, number];
type Triplet = [number, number, number];
const f64 = (v: number[]): Float64Array => Float64Array.from(v);
const unit = (r: number[]): Float64Array => {
  const n = Math.max(Math.sqrt(r.reduce((s, v) => s + v * v, 0)), 1e-12);
  return f64(r.map((v) => v / n));
};
const dot = (a: Float64Array, b: Float64Array): number => { let s = 0; for (let k = 0; k < a.length; k++) s += a[k] * b[k]; return s; };
const mean = (v: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < v.length; i++) s += v[i]; return v.length ? s / v.length : 0; };
const relu = (x: number): number => Math.max(x, 0);
const lse = (v: number[]): number => { const m = Math.max(...v); return m + Math.log(v.reduce((s, x) => s + Math.exp(x - m), 0)); };
const ce = (logits: number[], y: number): number => lse(logits) - logits[y];
const rad = (deg: number): number => (deg * Math.PI) / 180;
/** Cosine similarity matrix of the rows. */
const cosM = (x: number[][]): Float64Array[] => { const u = x.map(unit); return u.map((a) => f64(u.map((b) => dot(a, b)))); };
/** L2 distance matrix of the normalised rows, raised to `power`. */
const l2M = (x: number[][], power = 1): Float64Array[] => {
  const u = x.map(unit);
  return u.map((a) => f64(u.map((b) => { let s = 0; for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2; return Math.sqrt(s) ** power; })));
};
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
/** PML convert_to_weights: occurrences in the tuple over the largest count. */
function weightsOf(n: number, ...arrays: number[][]): number[] {
  const w = new Array<number>(n).fill(0);
  for (const arr of arrays) for (const i of arr) w[i]++;
  const m = Math.max(...w);
  return w.map((v) => v / m);
}

/** SoftTriple: centres are the columns of W [D][C*K]. */
function softTripleRef(x: number[][], y: number[], W: number[][], C: number, K: number,
  o: { la?: number; gamma?: number; margin?: number; w?: number[] } = {}): number {
  const { la = 20, gamma = 0.1, margin = 0.01 } = o;
  const centres = Array.from({ length: C * K }, (_, j) => unit(W.map((row) => row[j])));
  const out = x.map((r, i) => {
    const u = unit(r);
    const logits: number[] = [];
    for (let c = 0; c < C; c++) {
      const s = Array.from({ length: K }, (_, k) => dot(u, centres[c * K + k]));
      const z = lse(s.map((v) => v / gamma));
      const S = s.reduce((acc, v) => acc + Math.exp(v / gamma - z) * v, 0);
      logits.push(la * (S - (c === y[i] ? margin : 0)));
    }
    return ce(logits, y[i]) * (o.w ? o.w[i] : 1);
  });
  return mean(out);
}
/** Sparse-centres term: same-class centre pairs i < j, sqrt(2 - 2 s), summed over twice their count. */
function sparseCentresRef(W: number[][], C: number, K: number): number {
  const centres = Array.from({ length: C * K }, (_, j) => unit(W.map((row) => row[j])));
  let sum = 0, count = 0;
  for (let c = 0; c < C; c++) for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) {
    sum += Math.sqrt(2 - Math.min(2 * dot(centres[c * K + i], centres[c * K + j]), 2));
    count++;
  }
  return sum / (2 * count);
}
/** PML tuplet margin: log(1 + sum over the anchor's negative pairs of exp(s (cos_an - cos(theta_ap - beta)))). */
function tupletRef(c: Float64Array[], pos: Pair[], neg: Pair[], margin = 5.73, scale = 64): number {
  return mean(pos.map(([a, p]) => {
    const shifted = Math.cos(Math.acos(c[a][p]) - rad(margin));
    let s = 1;
    for (const [a2, n] of neg) if (a2 === a) s += Math.exp(scale * (c[a2][n] - shifted));
    return Math.log(s);
  }));
}
/** PML intra-pair variance, each term averaged over its pairs, summed. */
function ipvRef(m: Float64Array[], pos: Pair[], neg: Pair[], posEps = 0.01, negEps = 0.01, inverted = true): number {
  const term = (pairs: Pair[], eps: number, increase: boolean): number => {
    if (!pairs.length) return 0;
    const v = pairs.map(([i, j]) => m[i][j]);
    const mu = mean(v);
    return mean(v.map((s) => relu(increase ? (1 - eps) * mu - s : s - (1 + eps) * mu) ** 2));
  };
  return term(pos, posEps, inverted) + term(neg, negEps, !inverted);
}
/** PML FastAP, loops over queries and bins; d = squared L2 by default. */
function fastApRef(x: number[][], y: number[], numBins = 10, power = 2, w?: number[]): number {
  const d = l2M(x, power);
  const max = 2 ** power, delta = max / numBins;
  const out: number[] = [];
  for (let i = 0; i < y.length; i++) {
    const hp = new Float64Array(numBins + 1), hn = new Float64Array(numBins + 1);
    let nPos = 0;
    for (let j = 0; j < y.length; j++) {
      if (j === i) continue;
      if (y[j] === y[i]) nPos++;
      for (let e = 0; e <= numBins; e++) {
        const k = relu(1 - Math.abs(d[i][j] - e * delta) / delta);
        if (y[j] === y[i]) hp[e] += k; else hn[e] += k;
      }
    }
    if (nPos === 0) continue;
    let Hp = 0, H = 0, ap = 0;
    for (let e = 0; e <= numBins; e++) {
      Hp += hp[e]; H += hp[e] + hn[e];
      if (hp[e] * Hp > 0 && H > 0) ap += (hp[e] * Hp) / H;
    }
    out.push((1 - ap / nPos) * (w ? w[i] : 1));
  }
  return mean(out);
}
/** PML histogram loss with its floor/scatter binning (a different route from the kernel in the code). */
function histogramRef(c: Float64Array[], triplets: Triplet[], delta = 0.02): number {
  const uniq = (pairs: Pair[]): Pair[] => {
    const seen = new Map<string, Pair>();
    for (const [a, b] of pairs) { const k: Pair = [Math.min(a, b), Math.max(a, b)]; seen.set(k.join(','), k); }
    return [...seen.values()];
  };
  const size = Math.round(1 + 2 / delta);
  const density = (pairs: Pair[]): Float64Array => {
    const dens = new Float64Array(size);
    for (const [i, j] of pairs) {
      const s = c[i][j];
      const r = Math.floor((s + 1) / delta);
      dens[r + 1] += (s + 1 - r * delta) / delta;
      dens[r] += ((r + 1) * delta - 1 - s) / delta;
    }
    return dens.map((v) => v / pairs.length);
  };
  const pPos = density(uniq(triplets.map(([a, p]) => [a, p] as Pair)));
  const pNeg = density(uniq(triplets.map(([a, , n]) => [a, n] as Pair)));
  let phi = 0, loss = 0;
  for (let r = 0; r < size; r++) { phi += pPos[r]; loss += pNeg[r] * phi; }
  return loss;
}
/** PML instance loss: cross entropy of gamma cos(x_i, .) with target column = rank of the label. */
function instanceRef(x: number[][], y: number[], gamma = 64): number {
  const c = cosM(x);
  const sorted = [...new Set(y)].sort((a, b) => a - b);
  return mean(y.map((l, i) => ce(Array.from(c[i], (v) => gamma * v), sorted.indexOf(l))));
}
/** PML dynamic soft margin, step by step (values must stay inside PML's bins). */
class DsmRef {
  hist: Float64Array;
  delta: number;
  constructor(readonly minVal = -2, readonly numBins = 10, readonly momentum = 0.01) {
    this.hist = new Float64Array(numBins);
    this.delta = (2 * Math.abs(minVal)) / numBins;
  }
  step(x: number[]): { loss: number; w: number[] } {
    const m = this.hist.reduce((s, v) => s + v, 0) !== 0 ? this.momentum : 1;
    const next = this.hist.map((v) => (1 - m) * v);
    for (const v of x) {
      const t = (v - this.minVal) / this.delta, idx = Math.floor(t), frac = t - idx;
      assert.ok(idx >= 0 && idx + 1 < this.numBins, `test value ${v} must stay inside PML's bins`);
      next[idx] += m * (1 - frac);
      next[idx + 1] += m * frac;
    }
    const total = next.reduce((s, v) => s + v, 0);
    this.hist = next.map((v) => v / total);
    const cdf: number[] = [];
    this.hist.reduce((s, v) => { cdf.push(s + v); return s + v; }, 0);
    const w = x.map((v) => cdf[Math.floor((v - this.minVal) / this.delta)]);
    return { loss: mean(x.map((v, i) => w[i] * v)), w };
  }
}
const dsmValues = (x: number[][], t: Triplet[]): number[] => { const d = l2M(x); return t.map(([a, p, n]) => d[a][p] - d[a][n]); };

// ------------------------------------------------------------------------------------------------
// A hand-built batch: 8 embeddings of dim 4; class 3 has one member.
// ------------------------------------------------------------------------------------------------
const X = [
  [0.9, 0.1, 0.2, -0.1], [0.8, 0.3, -0.1, 0.2], [0.4, -0.2, 0.6, 0.3], [-0.1, 0.9, 0.2, 0.3],
  [0.5, 0.6, -0.3, 0.1], [0.1, -0.2, 0.9, 0.4], [-0.3, 0.1, 0.8, -0.2], [0.4, 0.4, 0.4, -0.6],
];
const Y = [0, 0, 0, 1, 1, 2, 2, 3];
const ALL = allPairs(Y);
const TRIPLETS = allTriplets(Y);
const TOL = { atol: 1e-5, rtol: 1e-4 };
const i32 = (v: number[]): Int32Array => Int32Array.from(v);
const C = 4, K = 2, DIM = 4;
const W = randomRows(DIM, C * K, 7); // [embeddingSize, numClasses * centersPerClass]

function value(loss: akin.losses.BaseMetricLoss, x: number[][], y: number[], idx?: akin.IndexTuple): number {
  return tf.tidy(() => loss.compute(tf.tensor2d(x), y, idx).arraySync() as number);
}
function setFc(loss: akin.losses.SoftTripleLoss, w: number[][]): void {
  tf.tidy(() => loss.fc.assign(tf.tensor2d(w)));
}
const pairTuple = (pos: Pair[], neg: Pair[]): akin.PairIndices => ({
  anchors1: i32(pos.map((q) => q[0])), positives: i32(pos.map((q) => q[1])),
  anchors2: i32(neg.map((q) => q[0])), negatives: i32(neg.map((q) => q[1])),
});
const tripletTuple = (t: Triplet[]): akin.TripletIndices => ({
  anchors: i32(t.map((q) => q[0])), positives: i32(t.map((q) => q[1])), negatives: i32(t.map((q) => q[2])),
});

test('SoftTripleLoss matches plain loops (defaults, other la/gamma/margin, miner weights, sparse-centres regularizer)', () => {
  const a = new L.SoftTripleLoss({ numClasses: C, embeddingSize: DIM, centersPerClass: K });
  assert.deepEqual(a.fc.shape, [DIM, C * K]);
  assert.equal(a.trainableWeights.length, 1);
  assert.equal(a.trainableWeights[0], a.fc);
  setFc(a, W);
  assertClose(value(a, X, Y), softTripleRef(X, Y, W, C, K), TOL);
  const b = new L.SoftTripleLoss({ numClasses: C, embeddingSize: DIM, centersPerClass: K, la: 5, gamma: 0.5, margin: 0.2 });
  setFc(b, W);
  const o = { la: 5, gamma: 0.5, margin: 0.2 };
  assertClose(value(b, X, Y), softTripleRef(X, Y, W, C, K, o), TOL);
  // Triplets (0,1,3), (5,6,7), (0,2,4): counts 0:2, others 1 -> weights count / 2.
  const idx = tripletTuple([[0, 1, 3], [5, 6, 7], [0, 2, 4]]);
  assertClose(value(b, X, Y, idx), softTripleRef(X, Y, W, C, K, { ...o, w: weightsOf(8, [0, 5, 0], [1, 6, 2], [3, 7, 4]) }), TOL);
  const r = new L.SoftTripleLoss({
    numClasses: C, embeddingSize: DIM, centersPerClass: K, la: 5, gamma: 0.5, margin: 0.2,
    weightRegularizer: new akin.regularizers.SparseCentersRegularizer({ numClasses: C, centersPerClass: K }), weightRegWeight: 0.5,
  });
  setFc(r, W);
  assertClose(value(r, X, Y), softTripleRef(X, Y, W, C, K, o) + 0.5 * sparseCentresRef(W, C, K), TOL);
  // A batch of one element (its class alone) still works.
  assertClose(value(b, X.slice(7), [3]), softTripleRef(X.slice(7), [3], W, C, K, o), TOL);
  for (const l of [a, b, r]) l.dispose();
});

test('SoftTripleLoss initialisation (Kaiming uniform, bound 1/sqrt(C K)), seeds, dispose, bad input', () => {
  const s = new L.SoftTripleLoss({ numClasses: 50, embeddingSize: 64, centersPerClass: 4, seed: 3 });
  const v = Array.from(s.fc.dataSync());
  const bound = 1 / Math.sqrt(200);
  assert.ok(v.every((t) => Math.abs(t) <= bound));
  assertClose(Math.sqrt(mean(v.map((t) => t * t))), bound / Math.sqrt(3), { atol: 0, rtol: 0.05 });
  const again = new L.SoftTripleLoss({ numClasses: 50, embeddingSize: 64, centersPerClass: 4, seed: 3 });
  assert.deepEqual(Array.from(again.fc.dataSync()), v);
  for (const l of [s, again]) l.dispose();
  assert.throws(() => value(s, X, Y), /disposed/);
  const t = new L.SoftTripleLoss({ numClasses: 3, embeddingSize: DIM });
  assert.throws(() => value(t, X, Y), (e: unknown) => e instanceof akin.ShapeError && /labels\[7\] = 3/.test(e.message));
  assert.throws(() => tf.tidy(() => t.compute(tf.tensor2d(X), [0, 0, 0, 1, 1, 2, 2, 2], undefined, tf.tensor2d(X), Y)), /reference embeddings/);
  t.dispose();
});

test('TupletMarginLoss matches plain loops (defaults, margin/scale, miner pairs, reference set)', () => {
  const c = cosM(X);
  assertClose(value(new L.TupletMarginLoss(), X, Y), tupletRef(c, ALL.pos, ALL.neg), TOL);
  assertClose(value(new L.TupletMarginLoss({ margin: 20, scale: 8 }), X, Y), tupletRef(c, ALL.pos, ALL.neg, 20, 8), TOL);
  // Anchor 5 has no negative pair here: its positive pair contributes 0 (and still counts in the mean).
  const pos: Pair[] = [[0, 1], [3, 4], [5, 6], [0, 2], [0, 1]], neg: Pair[] = [[0, 3], [3, 7], [0, 7], [1, 4], [0, 3]];
  assertClose(value(new L.TupletMarginLoss({ scale: 16 }), X, Y, pairTuple(pos, neg)), tupletRef(c, pos, neg, 5.73, 16), TOL);
  const loss = new L.TupletMarginLoss({ scale: 16 });
  value(loss, X, Y);
  const angle = (v: number): number => (Math.acos(v) * 180) / Math.PI;
  assertClose(loss.records.avgPosAngle, mean(ALL.pos.map(([a, p]) => angle(c[a][p]))), { atol: 1e-3, rtol: 1e-4 });
  assertClose(loss.records.avgNegAngle, mean(ALL.neg.map(([a, n]) => angle(c[a][n]))), { atol: 1e-3, rtol: 1e-4 });
  // Reference set: anchors from the first 4 rows, positives/negatives from the last 4.
  const q = X.slice(0, 4), r = X.slice(4), qy = [0, 1, 2, 0], ry = [0, 1, 2, 2];
  const cqr = q.map((a) => f64(r.map((b) => dot(unit(a), unit(b)))));
  const rp: Pair[] = [], rn: Pair[] = [];
  qy.forEach((a, i) => ry.forEach((b, j) => (a === b ? rp : rn).push([i, j])));
  const got = tf.tidy(() => new L.TupletMarginLoss({ scale: 16 }).compute(tf.tensor2d(q), qy, undefined, tf.tensor2d(r), ry).arraySync() as number);
  assertClose(got, tupletRef(cqr, rp, rn, 5.73, 16), TOL);
});

test('IntraPairVarianceLoss matches plain loops (defaults, eps, distance, miner pairs)', () => {
  const c = cosM(X), d = l2M(X);
  assertClose(value(new L.IntraPairVarianceLoss(), X, Y), ipvRef(c, ALL.pos, ALL.neg), TOL);
  assertClose(value(new L.IntraPairVarianceLoss({ posEps: 0.2, negEps: 0.1 }), X, Y), ipvRef(c, ALL.pos, ALL.neg, 0.2, 0.1), TOL);
  assertClose(value(new L.IntraPairVarianceLoss({ posEps: 0.1, negEps: 0.05, distance: new D.LpDistance() }), X, Y),
    ipvRef(d, ALL.pos, ALL.neg, 0.1, 0.05, false), TOL);
  const pos: Pair[] = [[0, 1], [3, 4], [5, 6]], neg: Pair[] = [[0, 3], [3, 7], [6, 0], [1, 4]];
  assertClose(value(new L.IntraPairVarianceLoss({ posEps: 0.2 }), X, Y, pairTuple(pos, neg)), ipvRef(c, pos, neg, 0.2), TOL);
  const xt = tf.tensor2d(X);
  const dict = new L.IntraPairVarianceLoss().computeLossDict(xt, Y);
  assert.deepEqual(Object.keys(dict), ['posLoss', 'negLoss']);
  assert.equal(dict.posLoss.reductionType, 'pos_pair');
  assert.equal(dict.negLoss.reductionType, 'neg_pair');
  tf.dispose([xt, dict.posLoss.losses!, dict.negLoss.losses!]);
});

test('FastAPLoss matches plain loops (defaults, bins, power, miner weights)', () => {
  assertClose(value(new L.FastAPLoss(), X, Y), fastApRef(X, Y), TOL);
  assertClose(value(new L.FastAPLoss({ numBins: 4 }), X, Y), fastApRef(X, Y, 4), TOL);
  assertClose(value(new L.FastAPLoss({ numBins: 7, distance: new D.LpDistance({ power: 1 }) }), X, Y), fastApRef(X, Y, 7, 1), TOL);
  const idx = tripletTuple([[0, 1, 3], [5, 6, 7], [0, 2, 4]]);
  assertClose(value(new L.FastAPLoss(), X, Y, idx), fastApRef(X, Y, 10, 2, weightsOf(8, [0, 5, 0], [1, 6, 2], [3, 7, 4])), TOL);
  const xt = tf.tensor2d(X);
  const loss = new L.FastAPLoss();
  const dict = loss.computeLossDict(xt, Y);
  assert.deepEqual(Array.from(dict.loss.indices as Int32Array), [0, 1, 2, 3, 4, 5, 6]); // element 7 has no positive
  assert.equal(loss.records.numQueries, 7);
  tf.dispose([xt, dict.loss.losses!]);
});

test('HistogramLoss matches PML binning (default 100 bins, nBins, delta not dividing 2, miner triplets)', () => {
  const c = cosM(X);
  assertClose(value(new L.HistogramLoss(), X, Y), histogramRef(c, TRIPLETS), TOL);
  assertClose(value(new L.HistogramLoss({ nBins: 10 }), X, Y), histogramRef(c, TRIPLETS, 0.2), TOL);
  assertClose(value(new L.HistogramLoss({ delta: 0.3 }), X, Y), histogramRef(c, TRIPLETS, 0.3), TOL);
  assertClose(value(new L.HistogramLoss({ nBins: 8, delta: 0.25 }), X, Y), histogramRef(c, TRIPLETS, 0.25), TOL);
  // Miner triplets: (0,1) and (1,0) are one pair; the loss uses each unordered pair once.
  const t: Triplet[] = [[0, 1, 3], [1, 0, 4], [5, 6, 7], [0, 2, 3], [6, 5, 1]];
  assertClose(value(new L.HistogramLoss({ nBins: 20 }), X, Y, tripletTuple(t)), histogramRef(c, t, 0.1), TOL);
  const h = new L.HistogramLoss();
  value(h, X, Y);
  assert.equal(h.records.numPosPairs, 5); // {0,1} {0,2} {1,2} {3,4} {5,6}
  assert.equal(h.records.numNegPairs, 28 - 5);
});

test('InstanceLoss matches plain loops (defaults, gamma, labels in any order)', () => {
  const ids = [0, 1, 2, 3, 4, 5, 6, 7];
  assertClose(value(new L.InstanceLoss(), X, ids), instanceRef(X, ids), TOL);
  assertClose(value(new L.InstanceLoss({ gamma: 4 }), X, ids), instanceRef(X, ids, 4), TOL);
  // With shared labels the target column is the label's rank (PML's unique(..., return_inverse)).
  assertClose(value(new L.InstanceLoss({ gamma: 8 }), X, Y), instanceRef(X, Y, 8), TOL);
  const shuffled = [7, 3, 9, 3, 1, 0, 7, 2];
  assertClose(value(new L.InstanceLoss({ gamma: 8 }), X, shuffled), instanceRef(X, shuffled, 8), TOL);
});

test('DynamicSoftMarginLoss matches PML step by step (histogram momentum, options, miner pairs)', () => {
  const ref = new DsmRef();
  const loss = new L.DynamicSoftMarginLoss();
  assertClose(value(loss, X, Y), ref.step(dsmValues(X, TRIPLETS)).loss, TOL);
  // A second batch mixes into the running histogram with weight 0.01.
  const X2 = randomRows(6, DIM, 21), Y2 = [0, 0, 1, 1, 2, 2];
  const t2 = allTriplets(Y2);
  assertClose(value(loss, X2, Y2), ref.step(dsmValues(X2, t2)).loss, TOL);
  assertClose(loss.histogram, ref.hist, { atol: 1e-6, rtol: 1e-5 });
  const ref2 = new DsmRef(-3, 20, 0.3);
  const loss2 = new L.DynamicSoftMarginLoss({ minVal: -3, numBins: 20, momentum: 0.3 });
  assertClose(value(loss2, X, Y), ref2.step(dsmValues(X, TRIPLETS)).loss, TOL);
  assertClose(value(loss2, X2, Y2), ref2.step(dsmValues(X2, t2)).loss, TOL);
  // Miner pairs become the triplets sharing an anchor (positive pair order, then negative pair order).
  const pos: Pair[] = [[0, 1], [3, 4]], neg: Pair[] = [[0, 3], [0, 7], [3, 7]];
  const t: Triplet[] = [[0, 1, 3], [0, 1, 7], [3, 4, 7]];
  assertClose(value(new L.DynamicSoftMarginLoss(), X, Y, pairTuple(pos, neg)), new DsmRef().step(dsmValues(X, t)).loss, TOL);
  assert.equal(loss.records.numTriplets, t2.length);
});

test('DynamicSoftMarginLoss: values outside the bins go to the end bins (where PML indexes past its histogram)', () => {
  const x = [[1, 0], [1, 0.01], [-1, 0], [-1, 0.02]];
  // Labels pairing the near points: every d_ap - d_an is about -2, below minVal = -1: all in the first bin.
  const low = new L.DynamicSoftMarginLoss({ minVal: -1 });
  const lowT = allTriplets([0, 0, 1, 1]);
  assertClose(value(low, x, [0, 0, 1, 1]), mean(dsmValues(x, lowT)), TOL);
  assertClose(low.histogram, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0], { atol: 1e-12 });
  // Triplets with a far positive and a near negative: every value is about +2, past the last bin's start (1.6).
  const high = new L.DynamicSoftMarginLoss();
  const highT: Triplet[] = [[0, 2, 1], [2, 0, 3], [1, 3, 0]];
  assert.ok(dsmValues(x, highT).every((v) => v > 1.6));
  assertClose(value(high, x, [0, 1, 0, 1], tripletTuple(highT)), mean(dsmValues(x, highT)), TOL);
  assertClose(high.histogram, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1], { atol: 1e-12 });
});

// ------------------------------------------------------------------------------------------------
// Gradients, zero losses, configs, memory.
// ------------------------------------------------------------------------------------------------
const MAKERS: [string, () => akin.losses.BaseMetricLoss][] = [
  ['softtriple', () => new L.SoftTripleLoss({ numClasses: 3, embeddingSize: 3, centersPerClass: 2, la: 4, gamma: 0.5, seed: 2 })],
  ['tuplet', () => new L.TupletMarginLoss({ scale: 8 })],
  ['ipv', () => new L.IntraPairVarianceLoss({ posEps: 0.3, negEps: 0.3 })],
  ['fastap', () => new L.FastAPLoss({ numBins: 5 })],
  ['histogram', () => new L.HistogramLoss({ nBins: 10 })],
  ['instance', () => new L.InstanceLoss({ gamma: 4 })],
  ['dsm', () => new L.DynamicSoftMarginLoss()],
];
const dispose = (l: akin.losses.BaseMetricLoss): void => l.dispose();

test('gradients match central finite differences', () => {
  const rows = randomRows(6, 3, 5);
  const y = [0, 0, 1, 1, 2, 2];
  for (const [name, make] of MAKERS) {
    if (name === 'dsm') continue; // its histogram weights are step constants: checked below
    const loss = make();
    try {
      checkGradient((x) => loss.compute(x, y), rows, { eps: 1e-3 });
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
    dispose(loss);
  }
});

test('DynamicSoftMarginLoss gradient: finite differences with the histogram weights held at this step\'s values', () => {
  const rows = randomRows(6, 3, 5);
  const y = [0, 0, 1, 1, 2, 2];
  const t = allTriplets(y);
  const { w } = new DsmRef().step(dsmValues(rows, t));
  const frozen = (x: number[][]): number => mean(dsmValues(x, t).map((v, i) => w[i] * v));
  const eps = 1e-6;
  const numeric = rows.flatMap((r, i) => r.map((_, k) => {
    const plus = rows.map((q) => q.slice()), minus = rows.map((q) => q.slice());
    plus[i][k] += eps; minus[i][k] -= eps;
    return (frozen(plus) - frozen(minus)) / (2 * eps);
  }));
  const loss = new L.DynamicSoftMarginLoss();
  const analytic = tf.tidy(() => Array.from(tf.grad((x: akin.tf.Tensor) => loss.compute(x as akin.tf.Tensor2D, y))(tf.tensor2d(rows)).dataSync()));
  assertClose(analytic, numeric, { atol: 1e-4, rtol: 1e-3, msg: 'dsm gradient' });
});

test('the SoftTriple centres get gradients and an optimiser step lowers the loss', () => {
  const loss = new L.SoftTripleLoss({ numClasses: C, embeddingSize: DIM, centersPerClass: K, seed: 4 });
  const x = tf.tensor2d(X);
  const before = value(loss, X, Y);
  const { grads, value: v } = tf.variableGrads(() => loss.compute(x, Y), loss.trainableWeights);
  const g = Object.values(grads)[0];
  assert.deepEqual(g.shape, [DIM, C * K]);
  assert.ok((g.abs().sum().arraySync() as number) > 0);
  const opt = tf.train.sgd(0.05);
  opt.applyGradients(grads);
  tf.dispose([...Object.values(grads), v]);
  assert.ok(value(loss, X, Y) < before);
  x.dispose(); opt.dispose(); loss.dispose();
});

test('no valid tuple gives a zero loss with a finite gradient; a class with one member is fine', () => {
  const distinct = [0, 1, 2, 3, 4, 5, 6, 7];
  const grad = (loss: akin.losses.BaseMetricLoss, x: number[][], y: number[]): number[] =>
    tf.tidy(() => Array.from(tf.grad((v: akin.tf.Tensor) => loss.compute(v as akin.tf.Tensor2D, y))(tf.tensor2d(x)).dataSync()));
  // No positive pair: tuplet, FastAP, histogram and dynamic soft margin have nothing to compute.
  for (const make of [() => new L.TupletMarginLoss(), () => new L.FastAPLoss(), () => new L.HistogramLoss(), () => new L.DynamicSoftMarginLoss()]) {
    const loss = make();
    assert.equal(value(loss, X, distinct), 0, loss.className);
    for (const g of grad(loss, X, distinct)) assert.equal(g, 0, loss.className);
  }
  // One class only: no negative pair.
  const one = [0, 0, 0, 0, 0, 0, 0, 0];
  for (const make of [() => new L.TupletMarginLoss(), () => new L.HistogramLoss(), () => new L.DynamicSoftMarginLoss()]) {
    const loss = make();
    assert.equal(value(loss, X, one), 0, loss.className);
    for (const g of grad(loss, X, one)) assert.ok(Number.isFinite(g), loss.className);
  }
  // Intra-pair variance: a batch of one has no pair at all; without positives only the negative term remains.
  const ipv = new L.IntraPairVarianceLoss();
  assert.equal(value(ipv, X.slice(0, 1), [0]), 0);
  for (const g of grad(ipv, X.slice(0, 1), [0])) assert.equal(g, 0);
  assertClose(value(ipv, X, distinct), ipvRef(cosM(X), [], allPairs(distinct).neg), TOL);
  // Instance loss of a batch of one: a single logit, loss 0.
  assert.equal(value(new L.InstanceLoss(), X.slice(0, 1), [5]), 0);
  // An empty miner tuple.
  const empty = tripletTuple([]);
  for (const make of [() => new L.TupletMarginLoss(), () => new L.IntraPairVarianceLoss(), () => new L.HistogramLoss(), () => new L.DynamicSoftMarginLoss()]) {
    assert.equal(value(make(), X, Y, empty), 0, make().className);
  }
  // FastAP and SoftTriple only take weights from a tuple: an empty one means "every element, weight 1".
  assertClose(value(new L.FastAPLoss(), X, Y, empty), fastApRef(X, Y), TOL);
  // The single member of class 3 (element 7) and its gradients stay finite for every loss.
  for (const [name, make] of MAKERS) {
    const loss = make();
    const y = name === 'softtriple' ? [0, 0, 0, 1, 1, 2, 2, 2] : Y;
    const x = name === 'softtriple' ? X.map((r) => r.slice(0, 3)) : X;
    for (const g of grad(loss, x, y)) assert.ok(Number.isFinite(g), name);
    dispose(loss);
  }
});

test('getConfig -> fromConfig rebuilds each loss with the same value', () => {
  const made: akin.losses.BaseMetricLoss[] = [
    new L.SoftTripleLoss({ numClasses: C, embeddingSize: DIM, centersPerClass: 3, la: 10, gamma: 0.2, margin: 0.05, seed: 5 }),
    new L.TupletMarginLoss({ margin: 10, scale: 32, reducer: 'SumReducer' }),
    new L.IntraPairVarianceLoss({ posEps: 0.05, negEps: 0.02, distance: 'LpDistance' }),
    new L.FastAPLoss({ numBins: 6, distance: { className: 'LpDistance', config: { power: 1 } } }),
    new L.HistogramLoss({ delta: 0.3 }),
    new L.HistogramLoss({ nBins: 25 }),
    new L.HistogramLoss(),
    new L.InstanceLoss({ gamma: 16 }),
    new L.DynamicSoftMarginLoss({ minVal: -3, numBins: 12, momentum: 0.1 }),
  ];
  for (const loss of made) {
    const spec = JSON.parse(JSON.stringify(akin.core.toConfig(loss))) as akin.core.ComponentConfig;
    const back = L.fromConfig(spec);
    assert.equal(back.className, loss.className);
    assert.deepEqual(back.getConfig(), loss.getConfig());
    const y = loss.className === 'InstanceLoss' ? [0, 1, 2, 3, 4, 5, 6, 7] : Y;
    assertClose(value(back, X, y), value(loss, X, y), { atol: 1e-6, rtol: 1e-6, msg: loss.className });
    dispose(back); dispose(loss);
  }
  const soft = new L.SoftTripleLoss({ numClasses: C, embeddingSize: DIM, weightRegularizer: 'LpRegularizer', weightRegWeight: 0.25 });
  const back = L.fromConfig(JSON.parse(JSON.stringify(akin.core.toConfig(soft))) as akin.core.ComponentConfig);
  assert.deepEqual(back.getConfig(), soft.getConfig());
  assert.equal((soft.getConfig() as { weightRegWeight: number }).weightRegWeight, 0.25);
  dispose(back); dispose(soft);
});

test('bad options and inputs raise errors naming them', () => {
  const bad: [() => unknown, RegExp][] = [
    [() => new L.SoftTripleLoss({ numClasses: 2, embeddingSize: 2, centersPerClass: 0 }), /SoftTripleLoss.*'centersPerClass'/],
    [() => new L.SoftTripleLoss({ numClasses: 2, embeddingSize: 2, gamma: 0 }), /SoftTripleLoss.*'gamma'/],
    [() => new L.SoftTripleLoss({ numClasses: 2, embeddingSize: 2, distance: 'LpDistance' }), /SoftTripleLoss.*'distance'/],
    [() => new L.TupletMarginLoss({ distance: 'DotProductSimilarity' }), /TupletMarginLoss.*'distance'/],
    [() => new L.TupletMarginLoss({ scale: 'x' as unknown as number }), /TupletMarginLoss.*'scale'/],
    [() => new L.IntraPairVarianceLoss({ posEps: null as unknown as number }), /IntraPairVarianceLoss.*'posEps'/],
    [() => new L.FastAPLoss({ numBins: 0 }), /FastAPLoss.*'numBins'/],
    [() => new L.FastAPLoss({ distance: 'CosineSimilarity' }), /FastAPLoss.*'distance'/],
    [() => new L.FastAPLoss({ distance: new D.LpDistance({ normalizeEmbeddings: false }) }), /FastAPLoss.*'distance'/],
    [() => new L.HistogramLoss({ nBins: 10, delta: 0.3 }), /HistogramLoss.*'delta'/],
    [() => new L.HistogramLoss({ delta: -1 }), /HistogramLoss.*'delta'/],
    [() => new L.InstanceLoss({ distance: 'LpDistance' }), /InstanceLoss.*'distance'/],
    [() => new L.DynamicSoftMarginLoss({ numBins: 1.5 }), /DynamicSoftMarginLoss.*'numBins'/],
    [() => new L.DynamicSoftMarginLoss({ minVal: 0 }), /DynamicSoftMarginLoss.*'minVal'/],
    [() => new L.DynamicSoftMarginLoss({ distance: new D.LpDistance({ p: 1 }) }), /DynamicSoftMarginLoss.*'distance'/],
  ];
  for (const [f, re] of bad) assert.throws(f, (e: unknown) => e instanceof akin.ConfigError && re.test(e.message), String(re));
  const xt = tf.tensor2d(X);
  const idx = tripletTuple([[0, 1, 3]]);
  assert.throws(() => tf.tidy(() => new L.InstanceLoss().compute(xt, Y, idx)), (e: unknown) => e instanceof akin.ShapeError && /indices/.test(e.message));
  for (const loss of [new L.InstanceLoss(), new L.FastAPLoss(), new L.HistogramLoss()]) {
    assert.throws(() => tf.tidy(() => loss.compute(xt, Y, undefined, xt, Y)), (e: unknown) => e instanceof akin.ShapeError && /reference/.test(e.message), loss.className);
  }
  assert.throws(() => tf.tidy(() => new L.FastAPLoss().compute(xt, Y, tripletTuple([[0, 1, 9]]))), /out of range/);
  xt.dispose();
});

test('no tensor is left behind but the result', () => {
  const x = tf.tensor2d(X.map((r) => r.slice(0, 3)));
  const y = [0, 0, 0, 1, 1, 2, 2, 2];
  for (const [name, make] of MAKERS) {
    const loss = make();
    tf.tidy(() => loss.compute(x, y)).dispose();
    const before = tf.memory().numTensors;
    tf.tidy(() => loss.compute(x, y)).dispose();
    tf.tidy(() => loss.compute(x, y)).dispose();
    assert.equal(tf.memory().numTensors, before, name);
    const held = loss.trainableWeights.length;
    dispose(loss);
    assert.equal(tf.memory().numTensors, before - held, `${name} dispose`);
  }
  x.dispose();
});
