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
// Plain-loop references (float64), written from PML's definitions without using the code under test.
// ------------------------------------------------------------------------------------------------
type Pair = [number, number];
type Triplet = [number, number, number];
type Kind = 'l2' | 'cos';

function unit(r: number[]): number[] {
  const n = Math.max(Math.sqrt(r.reduce((s, v) => s + v * v, 0)), 1e-12);
  return r.map((v) => v / n);
}
/** Distance (l2, on normalised rows: PML's default LpDistance) or cosine similarity matrix. */
function refMatrix(q: number[][], r: number[][], kind: Kind): number[][] {
  const qn = q.map(unit), rn = r.map(unit);
  return qn.map((a) => rn.map((b) => {
    let s = 0;
    for (let k = 0; k < a.length; k++) s += kind === 'l2' ? (a[k] - b[k]) ** 2 : a[k] * b[k];
    return kind === 'l2' ? Math.sqrt(s) : s;
  }));
}
const relu = (x: number): number => Math.max(x, 0);
const softplus = (x: number): number => Math.log1p(Math.exp(x));
const meanOf = (v: number[]): number => (v.length ? v.reduce((s, x) => s + x, 0) / v.length : 0);
const avgNonZero = (v: number[]): number => meanOf(v.filter((x) => x > 0));

/** Every positive and negative pair; without a reference set the batch is its own and i == j is skipped. */
function refPairs(labels: number[], refLabels?: number[]): { pos: Pair[]; neg: Pair[] } {
  const ref = refLabels ?? labels;
  const pos: Pair[] = [], neg: Pair[] = [];
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < ref.length; j++) {
      if (labels[i] !== ref[j]) neg.push([i, j]);
      else if (refLabels !== undefined || i !== j) pos.push([i, j]);
    }
  }
  return { pos, neg };
}
function refTriplets(labels: number[], refLabels?: number[]): Triplet[] {
  const ref = refLabels ?? labels;
  const out: Triplet[] = [];
  for (let a = 0; a < labels.length; a++) {
    for (let p = 0; p < ref.length; p++) {
      if (labels[a] !== ref[p] || (refLabels === undefined && a === p)) continue;
      for (let n = 0; n < ref.length; n++) if (labels[a] !== ref[n]) out.push([a, p, n]);
    }
  }
  return out;
}
/** PML convert_to_triplets for pairs: every positive pair with every negative pair of the same anchor. */
function pairsToTriplets(pos: Pair[], neg: Pair[]): Triplet[] {
  const out: Triplet[] = [];
  for (const [a, p] of pos) for (const [a2, n] of neg) if (a === a2) out.push([a, p, n]);
  return out;
}

function contrastiveRef(m: number[][], pos: Pair[], neg: Pair[], inv: boolean, pm = 0, nm = 1): number {
  if (pos.length <= 1 && neg.length <= 1) return 0; // PML GenericPairLoss: "all(len(x) <= 1)"
  const pl = pos.map(([a, p]) => relu(inv ? pm - m[a][p] : m[a][p] - pm));
  const nl = neg.map(([a, n]) => relu(inv ? m[a][n] - nm : nm - m[a][n]));
  return avgNonZero(pl) + avgNonZero(nl);
}
function tripletRef(m: number[][], t: Triplet[], inv: boolean, o: { margin?: number; swap?: boolean; smooth?: boolean; pn?: number[][] } = {}): number {
  const margin = o.margin ?? 0.05;
  const losses = t.map(([a, p, n]) => {
    let an = m[a][n];
    if (o.swap) {
      const pn = (o.pn ?? m)[p][n];
      an = inv ? Math.max(an, pn) : Math.min(an, pn);
    }
    const v = (inv ? an - m[a][p] : m[a][p] - an) + margin;
    return o.smooth ? softplus(v) : relu(v);
  });
  return avgNonZero(losses);
}
function msRef(m: number[][], pos: Pair[], neg: Pair[], inv: boolean, alpha = 2, beta = 50, base = 0.5): number {
  if (pos.length <= 1 && neg.length <= 1) return 0;
  const rows = m.map((row, i) => {
    const P = new Set(pos.filter(([a]) => a === i).map(([, p]) => p));
    const N = new Set(neg.filter(([a]) => a === i).map(([, n]) => n));
    let sp = 0, sn = 0;
    for (const p of P) sp += Math.exp(alpha * (inv ? base - row[p] : row[p] - base));
    for (const n of N) sn += Math.exp(beta * (inv ? row[n] - base : base - row[n]));
    return (P.size ? Math.log(1 + sp) / alpha : 0) + (N.size ? Math.log(1 + sn) / beta : 0);
  });
  return meanOf(rows);
}
function ntxentRef(m: number[][], pos: Pair[], neg: Pair[], inv: boolean, t = 0.07): number {
  if ((pos.length <= 1 && neg.length <= 1) || pos.length === 0 || neg.length === 0) return 0;
  const s = (a: number, b: number): number => (inv ? m[a][b] : -m[a][b]) / t;
  return meanOf(pos.map(([a, p]) => {
    const num = Math.exp(s(a, p));
    let den = num;
    for (const [a2, n] of neg) if (a2 === a) den += Math.exp(s(a, n));
    return -Math.log(num / den);
  }));
}
function supconRef(m: number[][], pos: Pair[], neg: Pair[], inv: boolean, t = 0.1): number {
  if ((pos.length <= 1 && neg.length <= 1) || pos.length === 0 || neg.length === 0) return 0;
  const rows = m.map((row, i) => {
    const P = new Set(pos.filter(([a]) => a === i).map(([, p]) => p));
    const all = new Set([...P, ...neg.filter(([a]) => a === i).map(([, n]) => n)]);
    if (P.size === 0) return 0;
    const s = (j: number): number => (inv ? row[j] : -row[j]) / t;
    let den = 0;
    for (const j of all) den += Math.exp(s(j));
    let acc = 0;
    for (const p of P) acc += s(p) - Math.log(den);
    return -acc / P.size;
  });
  return avgNonZero(rows);
}

// ------------------------------------------------------------------------------------------------
// The batch: 8 embeddings of dim 4, labels 0 (3 items), 1 (2), 2 (2) and 3 (a class with one member).
// ------------------------------------------------------------------------------------------------
const EMB = [
  [0.9, 0.1, 0.2, -0.1], [0.8, 0.3, -0.1, 0.2], [0.4, -0.2, 0.6, 0.3], [-0.1, 0.9, 0.2, 0.3],
  [0.5, 0.6, -0.3, 0.1], [0.1, -0.2, 0.9, 0.4], [-0.3, 0.1, 0.8, -0.2], [0.4, 0.4, 0.4, -0.6],
];
const LABELS = [0, 0, 0, 1, 1, 2, 2, 3];
const REF = randomRows(6, 4, 21);
const REF_LABELS = [0, 1, 2, 3, 1, 4];

function value(loss: akin.losses.BaseMetricLoss, emb: number[][], labels: number[], indices?: akin.IndexTuple, ref?: number[][], refLabels?: number[]): number {
  return tf.tidy(() => loss.compute(tf.tensor2d(emb), labels, indices, ref ? tf.tensor2d(ref) : undefined, refLabels).arraySync() as number);
}
const i32 = (v: number[]): Int32Array => Int32Array.from(v);
function asTriplets(t: Triplet[]): akin.TripletIndices {
  return { anchors: i32(t.map((x) => x[0])), positives: i32(t.map((x) => x[1])), negatives: i32(t.map((x) => x[2])) };
}
function asPairs(pos: Pair[], neg: Pair[]): akin.PairIndices {
  return { anchors1: i32(pos.map((x) => x[0])), positives: i32(pos.map((x) => x[1])), anchors2: i32(neg.map((x) => x[0])), negatives: i32(neg.map((x) => x[1])) };
}
const TOL = { atol: 1e-5, rtol: 1e-4 };

const l2 = refMatrix(EMB, EMB, 'l2');
const cos = refMatrix(EMB, EMB, 'cos');
const all = refPairs(LABELS);

test('ContrastiveLoss: defaults, margins, cosine similarity and another reducer match plain loops', () => {
  assertClose(value(new L.ContrastiveLoss(), EMB, LABELS), contrastiveRef(l2, all.pos, all.neg, false), TOL);
  assertClose(value(new L.ContrastiveLoss({ posMargin: 0.3, negMargin: 0.9 }), EMB, LABELS), contrastiveRef(l2, all.pos, all.neg, false, 0.3, 0.9), TOL);
  const c = new L.ContrastiveLoss({ posMargin: 0.9, negMargin: 0.2, distance: new D.CosineSimilarity() });
  assertClose(value(c, EMB, LABELS), contrastiveRef(cos, all.pos, all.neg, true, 0.9, 0.2), TOL);
  const meanRed = new L.ContrastiveLoss({ reducer: { className: 'MeanReducer' } });
  const pl = all.pos.map(([a, p]) => l2[a][p]), nl = all.neg.map(([a, n]) => relu(1 - l2[a][n]));
  assertClose(value(meanRed, EMB, LABELS), meanOf(pl) + meanOf(nl), TOL);
  const loss = new L.ContrastiveLoss();
  value(loss, EMB, LABELS);
  assert.deepEqual(loss.records, { numPosPairs: all.pos.length, numNegPairs: all.neg.length });
});

test('TripletMarginLoss: defaults, margin, swap, smoothLoss and cosine match plain loops', () => {
  const t = refTriplets(LABELS);
  assertClose(value(new L.TripletMarginLoss(), EMB, LABELS), tripletRef(l2, t, false), TOL);
  assertClose(value(new L.TripletMarginLoss({ margin: 0.4 }), EMB, LABELS), tripletRef(l2, t, false, { margin: 0.4 }), TOL);
  assertClose(value(new L.TripletMarginLoss({ margin: 0.4, swap: true }), EMB, LABELS), tripletRef(l2, t, false, { margin: 0.4, swap: true }), TOL);
  assertClose(value(new L.TripletMarginLoss({ smoothLoss: true }), EMB, LABELS), tripletRef(l2, t, false, { smooth: true }), TOL);
  const c = new L.TripletMarginLoss({ margin: 0.3, swap: true, distance: 'CosineSimilarity' });
  assertClose(value(c, EMB, LABELS), tripletRef(cos, t, true, { margin: 0.3, swap: true }), TOL);
  const loss = new L.TripletMarginLoss();
  value(loss, EMB, LABELS);
  assert.equal(loss.records.numTriplets, t.length);
});

test('MultiSimilarityLoss: defaults (cosine), other weights and L2 distance match plain loops', () => {
  assertClose(value(new L.MultiSimilarityLoss(), EMB, LABELS), msRef(cos, all.pos, all.neg, true), TOL);
  const o = { alpha: 1, beta: 20, base: 0.3 };
  assertClose(value(new L.MultiSimilarityLoss(o), EMB, LABELS), msRef(cos, all.pos, all.neg, true, 1, 20, 0.3), TOL);
  assertClose(value(new L.MultiSimilarityLoss({ ...o, base: 0.8, distance: new D.LpDistance() }), EMB, LABELS), msRef(l2, all.pos, all.neg, false, 1, 20, 0.8), TOL);
});

test('NTXentLoss: defaults (cosine), temperature and L2 distance match plain loops', () => {
  assertClose(value(new L.NTXentLoss(), EMB, LABELS), ntxentRef(cos, all.pos, all.neg, true), TOL);
  assertClose(value(new L.NTXentLoss({ temperature: 0.5 }), EMB, LABELS), ntxentRef(cos, all.pos, all.neg, true, 0.5), TOL);
  assertClose(value(new L.NTXentLoss({ temperature: 0.2, distance: new D.LpDistance() }), EMB, LABELS), ntxentRef(l2, all.pos, all.neg, false, 0.2), TOL);
});

test('SupConLoss: defaults (cosine), temperature and L2 distance match plain loops', () => {
  assertClose(value(new L.SupConLoss(), EMB, LABELS), supconRef(cos, all.pos, all.neg, true), TOL);
  assertClose(value(new L.SupConLoss({ temperature: 0.5 }), EMB, LABELS), supconRef(cos, all.pos, all.neg, true, 0.5), TOL);
  assertClose(value(new L.SupConLoss({ temperature: 0.3, distance: new D.LpDistance() }), EMB, LABELS), supconRef(l2, all.pos, all.neg, false, 0.3), TOL);
});

// Miner-style tuples: a few triplets (with a repeated one) and a few pairs, converted as PML does.
const T: Triplet[] = [[0, 1, 3], [0, 2, 5], [3, 4, 0], [5, 6, 7], [0, 1, 3], [1, 0, 6]];
const P_POS: Pair[] = [[0, 1], [0, 2], [3, 4], [6, 5], [1, 2]];
const P_NEG: Pair[] = [[0, 3], [0, 7], [3, 5], [6, 0], [6, 4], [4, 1]];

test('every loss uses miner triplets, converting them to pairs as PML does', () => {
  const pos = T.map(([a, p]): Pair => [a, p]), neg = T.map(([a, , n]): Pair => [a, n]);
  const idx = asTriplets(T);
  assertClose(value(new L.ContrastiveLoss(), EMB, LABELS, idx), contrastiveRef(l2, pos, neg, false), TOL);
  assertClose(value(new L.TripletMarginLoss({ margin: 0.5 }), EMB, LABELS, idx), tripletRef(l2, T, false, { margin: 0.5 }), TOL);
  assertClose(value(new L.MultiSimilarityLoss(), EMB, LABELS, idx), msRef(cos, pos, neg, true), TOL);
  assertClose(value(new L.NTXentLoss(), EMB, LABELS, idx), ntxentRef(cos, pos, neg, true), TOL);
  assertClose(value(new L.SupConLoss(), EMB, LABELS, idx), supconRef(cos, pos, neg, true), TOL);
});

test('every loss uses miner pairs, converting them to triplets (shared anchors) as PML does', () => {
  const idx = asPairs(P_POS, P_NEG);
  assertClose(value(new L.ContrastiveLoss({ negMargin: 1.2 }), EMB, LABELS, idx), contrastiveRef(l2, P_POS, P_NEG, false, 0, 1.2), TOL);
  assertClose(value(new L.TripletMarginLoss({ margin: 0.5 }), EMB, LABELS, idx), tripletRef(l2, pairsToTriplets(P_POS, P_NEG), false, { margin: 0.5 }), TOL);
  assertClose(value(new L.MultiSimilarityLoss(), EMB, LABELS, idx), msRef(cos, P_POS, P_NEG, true), TOL);
  assertClose(value(new L.NTXentLoss({ temperature: 0.3 }), EMB, LABELS, idx), ntxentRef(cos, P_POS, P_NEG, true, 0.3), TOL);
  assertClose(value(new L.SupConLoss(), EMB, LABELS, idx), supconRef(cos, P_POS, P_NEG, true), TOL);
});

test('with reference embeddings, tuples index the reference set and self-pairs are kept', () => {
  const q = EMB.slice(0, 5), ql = LABELS.slice(0, 5);
  const ml2 = refMatrix(q, REF, 'l2'), mcos = refMatrix(q, REF, 'cos');
  const rp = refPairs(ql, REF_LABELS);
  const rt = refTriplets(ql, REF_LABELS);
  assertClose(value(new L.ContrastiveLoss(), q, ql, undefined, REF, REF_LABELS), contrastiveRef(ml2, rp.pos, rp.neg, false), TOL);
  assertClose(value(new L.TripletMarginLoss({ margin: 0.3 }), q, ql, undefined, REF, REF_LABELS), tripletRef(ml2, rt, false, { margin: 0.3 }), TOL);
  const pn = refMatrix(REF, REF, 'l2');
  assertClose(value(new L.TripletMarginLoss({ margin: 0.3, swap: true }), q, ql, undefined, REF, REF_LABELS), tripletRef(ml2, rt, false, { margin: 0.3, swap: true, pn }), TOL);
  assertClose(value(new L.MultiSimilarityLoss(), q, ql, undefined, REF, REF_LABELS), msRef(mcos, rp.pos, rp.neg, true), TOL);
  assertClose(value(new L.NTXentLoss(), q, ql, undefined, REF, REF_LABELS), ntxentRef(mcos, rp.pos, rp.neg, true), TOL);
  assertClose(value(new L.SupConLoss(), q, ql, undefined, REF, REF_LABELS), supconRef(mcos, rp.pos, rp.neg, true), TOL);
  // The same embeddings as their own reference set: (i, i) is now a positive pair at distance 0.
  const self = refPairs(ql, ql);
  const mSelf = refMatrix(q, q, 'l2');
  assertClose(value(new L.ContrastiveLoss(), q, ql, undefined, q, ql), contrastiveRef(mSelf, self.pos, self.neg, false), TOL);
});

const LOSSES: [string, () => akin.losses.BaseMetricLoss][] = [
  ['ContrastiveLoss', () => new L.ContrastiveLoss()],
  ['TripletMarginLoss', () => new L.TripletMarginLoss()],
  ['MultiSimilarityLoss', () => new L.MultiSimilarityLoss()],
  ['NTXentLoss', () => new L.NTXentLoss()],
  ['SupConLoss', () => new L.SupConLoss()],
];

function gradOf(loss: akin.losses.BaseMetricLoss, emb: number[][], labels: number[], indices?: akin.IndexTuple): number[] {
  return tf.tidy(() => Array.from(tf.grad((x: akin.tf.Tensor) => loss.compute(x as akin.tf.Tensor2D, labels, indices))(tf.tensor2d(emb)).dataSync()));
}

test('no valid tuple gives a zero loss with a finite, zero gradient (never NaN)', () => {
  const empty = asTriplets([]);
  const emptyPairs = asPairs([], []);
  for (const [name, make] of LOSSES) {
    for (const [what, labels, idx] of [
      ['empty triplets', LABELS, empty], ['empty pairs', LABELS, emptyPairs], ['one embedding', [0], undefined],
    ] as const) {
      const emb = what === 'one embedding' ? EMB.slice(0, 1) : EMB;
      assert.equal(value(make(), emb, [...labels], idx), 0, `${name}: ${what}`);
      for (const g of gradOf(make(), emb, [...labels], idx)) assert.equal(g, 0, `${name}: ${what}`);
    }
  }
  // Losses that need positives: all labels distinct, or a batch of one class, leaves nothing to compare.
  for (const make of [() => new L.TripletMarginLoss(), () => new L.NTXentLoss(), () => new L.SupConLoss()]) {
    for (const labels of [[0, 1, 2, 3, 4, 5, 6, 7], [1, 1, 1, 1, 1, 1, 1, 1]]) {
      assert.equal(value(make(), EMB, labels), 0);
      for (const g of gradOf(make(), EMB, labels)) assert.equal(g, 0);
    }
  }
  // Contrastive and multi-similarity still see the negative (or positive) pairs alone.
  const distinct = refPairs([0, 1, 2, 3, 4, 5, 6, 7]);
  assertClose(value(new L.ContrastiveLoss(), EMB, [0, 1, 2, 3, 4, 5, 6, 7]), contrastiveRef(l2, [], distinct.neg, false), TOL);
  const one = refPairs([1, 1, 1, 1, 1, 1, 1, 1]);
  assertClose(value(new L.MultiSimilarityLoss(), EMB, [1, 1, 1, 1, 1, 1, 1, 1]), msRef(cos, one.pos, [], true), TOL);
  // PML's rule: a single positive and a single negative pair count as "no pairs".
  assert.equal(value(new L.ContrastiveLoss(), EMB, LABELS, asPairs([[0, 1]], [[0, 3]])), 0);
});

test('a class with a single member contributes only as a negative (and as an anchor without positives)', () => {
  // Item 7 is alone in class 3: no pair or triplet has it as a positive; with it removed the pair
  // count drops by exactly its negative pairs.
  const loss = new L.ContrastiveLoss();
  value(loss, EMB, LABELS);
  const without = new L.ContrastiveLoss();
  value(without, EMB.slice(0, 7), LABELS.slice(0, 7));
  assert.equal(loss.records.numPosPairs, without.records.numPosPairs);
  assert.equal(loss.records.numNegPairs, without.records.numNegPairs + 2 * 7);
  assert.ok(!refTriplets(LABELS).some(([a, p]) => a === 7 || p === 7));
  const t = new L.TripletMarginLoss();
  value(t, EMB, LABELS);
  assert.equal(t.records.numTriplets, refTriplets(LABELS).length);
});

test('gradients match central finite differences', () => {
  const rows = randomRows(6, 3, 5);
  const labels = [0, 0, 1, 1, 2, 2];
  const cases: [string, akin.losses.BaseMetricLoss][] = [
    ['contrastive', new L.ContrastiveLoss({ negMargin: 2 })],
    ['triplet', new L.TripletMarginLoss({ margin: 2 })],
    ['triplet smooth cosine', new L.TripletMarginLoss({ smoothLoss: true, distance: new D.CosineSimilarity() })],
    ['multi-similarity', new L.MultiSimilarityLoss({ beta: 10 })],
    ['ntxent', new L.NTXentLoss({ temperature: 0.5 })],
    ['supcon', new L.SupConLoss({ temperature: 0.5 })],
  ];
  for (const [name, loss] of cases) {
    try {
      checkGradient((x) => loss.compute(x, labels), rows, { eps: 1e-3 });
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
  }
});

test('getConfig -> fromConfig rebuilds each loss with the same value', () => {
  const made = [
    new L.ContrastiveLoss({ posMargin: 0.1, negMargin: 0.7, reducer: new akin.reducers.MeanReducer() }),
    new L.TripletMarginLoss({ margin: 0.2, swap: true, smoothLoss: true, distance: new D.CosineSimilarity() }),
    new L.MultiSimilarityLoss({ alpha: 3, beta: 30, base: 0.4, distance: { className: 'LpDistance', config: { power: 2 } } }),
    new L.NTXentLoss({ temperature: 0.2, reducer: 'SumReducer' }),
    new L.SupConLoss({ temperature: 0.3, reducer: { className: 'ThresholdReducer', config: { low: 0.1 } } }),
  ];
  for (const loss of made) {
    const spec = JSON.parse(JSON.stringify(akin.core.toConfig(loss))) as akin.core.ComponentConfig;
    const back = L.fromConfig(spec);
    assert.equal(back.className, loss.className);
    assert.deepEqual(back.getConfig(), loss.getConfig());
    assertClose(value(back, EMB, LABELS), value(loss, EMB, LABELS), { atol: 1e-6, rtol: 1e-6 });
  }
});

test('bad options raise a ConfigError naming the option', () => {
  const bad: [() => unknown, RegExp][] = [
    [() => new L.ContrastiveLoss({ posMargin: 'x' as unknown as number }), /ContrastiveLoss.*'posMargin'/],
    [() => new L.TripletMarginLoss({ margin: 'x' as unknown as number }), /TripletMarginLoss.*'margin'/],
    [() => new L.TripletMarginLoss({ tripletsPerAnchor: 0 }), /'tripletsPerAnchor'/],
    [() => new L.MultiSimilarityLoss({ alpha: -1 }), /MultiSimilarityLoss.*'alpha'/],
    [() => new L.NTXentLoss({ temperature: 0 }), /NTXentLoss.*'temperature'/],
    [() => new L.SupConLoss({ distance: 5 as unknown as string }), /SupConLoss.*'distance'/],
    [() => new L.ContrastiveLoss({ reducer: 'NoSuchReducer' }), /NoSuchReducer/],
    [() => L.fromConfig({ className: 'NTXentLoss', config: { temprature: 0.1 } }), /temprature/],
  ];
  for (const [f, re] of bad) assert.throws(f, (e: unknown) => e instanceof akin.ConfigError && re.test(e.message));
  assert.throws(() => value(new L.TripletMarginLoss(), EMB, LABELS, asTriplets([[0, 1, 9]])), (e: unknown) =>
    e instanceof akin.ShapeError && /negatives/.test(e.message));
  assert.throws(() => value(new L.ContrastiveLoss({ reducer: 'DoNothingReducer' }), EMB, LABELS), /computeLossDict/);
});

test('computeLossDict returns the per-element losses with their reduction types', () => {
  tf.tidy(() => {
    const x = tf.tensor2d(EMB);
    const c = new L.ContrastiveLoss().computeLossDict(x, LABELS);
    assert.deepEqual(Object.keys(c), ['posLoss', 'negLoss']);
    assert.equal(c.posLoss.reductionType, 'pos_pair');
    assert.equal(c.negLoss.reductionType, 'neg_pair');
    assertClose(c.posLoss.losses!.dataSync(), all.pos.map(([a, p]) => l2[a][p]), TOL);
    assert.equal(new L.TripletMarginLoss().computeLossDict(x, LABELS).loss.reductionType, 'triplet');
    assert.equal(new L.MultiSimilarityLoss().computeLossDict(x, LABELS).loss.losses!.size, EMB.length);
    assert.equal(new L.NTXentLoss().computeLossDict(x, LABELS).loss.reductionType, 'pos_pair');
    assert.equal(new L.SupConLoss().computeLossDict(x, LABELS).loss.reductionType, 'element');
  });
});

test('tripletsPerAnchor = k samples k triplets per anchor, reproducibly for a seed', () => {
  const a = new L.TripletMarginLoss({ tripletsPerAnchor: 3, margin: 0.5, seed: 4 });
  const b = new L.TripletMarginLoss({ tripletsPerAnchor: 3, margin: 0.5, seed: 4 });
  assert.equal(value(a, EMB, LABELS), value(b, EMB, LABELS));
  assert.equal(a.records.numTriplets, 7 * 3); // every anchor except the single-member class
  const t = L.randomTriplets(Int32Array.from(LABELS), undefined, 5, akin.createRandom(1));
  for (let i = 0; i < t.anchors.length; i++) {
    assert.notEqual(t.anchors[i], t.positives[i]);
    assert.equal(LABELS[t.anchors[i]], LABELS[t.positives[i]]);
    assert.notEqual(LABELS[t.anchors[i]], LABELS[t.negatives[i]]);
  }
});

test('compute leaves no tensor behind but its result', () => {
  const x = tf.tensor2d(EMB);
  for (const [name, make] of LOSSES) {
    const loss = make();
    tf.tidy(() => loss.compute(x, LABELS)).dispose(); // warm-up
    for (const idx of [undefined, asTriplets(T), asPairs(P_POS, P_NEG)]) {
      const before = tf.memory().numTensors;
      const out = tf.tidy(() => loss.compute(x, LABELS, idx));
      out.dispose();
      assert.equal(tf.memory().numTensors, before, name);
    }
  }
  x.dispose();
});
