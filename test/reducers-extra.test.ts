import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, assertClose, checkGradient } from './helpers.js';

const tf = akin.tf;
const R = akin.reducers;
type LossDict = akin.reducers.LossDict;

before(async () => {
  await initBackend();
});

const LABELS = Int32Array.from([0, 2, 1, 1, 0]);
const LOSSES = [0.5, 0, 2, 1.25, 3, 0.75];
const A = Int32Array.from([0, 1, 1, 3, 4, 0]);
const O = Int32Array.from([2, 3, 0, 1, 2, 4]);

function value(reducer: akin.reducers.BaseReducer, dict: (l: akin.tf.Tensor1D) => LossDict, losses = LOSSES): number {
  return tf.tidy(() => reducer.reduce(dict(tf.tensor1d(losses)), tf.ones([5, 2]), LABELS).arraySync() as number);
}

const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;

test('ClassWeightedReducer: mean of loss x weight of the element / anchor class', () => {
  const weights = [2, 0.5, 10];
  const r = new R.ClassWeightedReducer({ weights });
  const byElement = Int32Array.from([4, 0, 1, 2, 3, 1]);
  assertClose(value(r, (l) => ({ loss: { losses: l, indices: byElement, reductionType: 'element' } })),
    mean(LOSSES.map((v, k) => v * weights[LABELS[byElement[k]]])));
  const want = mean(LOSSES.map((v, k) => v * weights[LABELS[A[k]]]));
  assertClose(value(r, (l) => ({ loss: { losses: l, indices: [A, O], reductionType: 'pos_pair' } })), want);
  assertClose(value(r, (l) => ({ loss: { losses: l, indices: [A, O], reductionType: 'neg_pair' } })), want);
  assertClose(value(r, (l) => ({ loss: { losses: l, indices: { anchors: A, positives: O, negatives: O }, reductionType: 'triplet' } })), want);
  // a tensor of weights, config round trip
  const t = tf.tensor1d(weights);
  const fromTensor = new R.ClassWeightedReducer({ weights: t });
  t.dispose();
  const rebuilt = R.fromConfig({ className: 'ClassWeightedReducer', config: fromTensor.getConfig() });
  assertClose(value(rebuilt, (l) => ({ loss: { losses: l, indices: [A, O], reductionType: 'pos_pair' } })), want);
  assert.throws(() => value(new R.ClassWeightedReducer({ weights: [1, 1] }), (l) => ({ loss: { losses: l, indices: [A, O], reductionType: 'pos_pair' } })),
    (e: unknown) => e instanceof akin.AkinError && /label 2/.test(e.message));
  assert.throws(() => new R.ClassWeightedReducer({ weights: 'heavy' as unknown as number[] }), (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'weights'"));
});

/** Plain-loop PerAnchorReducer: last loss per (anchor, other) wins; row mean (0 if none); mean over N rows. */
function perAnchor(losses: number[], a: Int32Array, o: Int32Array, n: number): number[] {
  const cell = new Map<string, number>();
  a.forEach((ai, k) => cell.set(`${ai},${o[k]}`, losses[k]));
  const rows = Array.from({ length: n }, () => [] as number[]);
  for (const [key, v] of cell) if (v !== Infinity) rows[Number(key.split(',')[0])].push(v);
  return rows.map((r) => (r.length ? mean(r) : 0));
}

test('PerAnchorReducer: pairs become per-anchor means, rows without pairs count as 0', () => {
  // (1, 3) appears twice: its last loss (4) replaces the first (0)
  const a = Int32Array.from([...A, 1]);
  const o = Int32Array.from([...O, 3]);
  const losses = [...LOSSES, 4];
  const rows = perAnchor(losses, a, o, 5);
  assert.equal(rows[2], 0);
  assert.deepEqual(rows.map((v) => +v.toFixed(6)), [0.625, 3, 0, 1.25, 3].map((v) => +v.toFixed(6)));
  for (const type of ['pos_pair', 'neg_pair'] as const) {
    assertClose(value(new R.PerAnchorReducer(), (l) => ({ loss: { losses: l, indices: [a, o], reductionType: type } }), losses), mean(rows));
  }
  // inner reducer and PairIndices form
  assertClose(value(new R.PerAnchorReducer({ reducer: new R.SumReducer() }),
    (l) => ({ loss: { losses: l, indices: { anchors1: a, positives: o, anchors2: a, negatives: o }, reductionType: 'pos_pair' } }), losses),
  rows.reduce((s, v) => s + v, 0));
  assertClose(value(new R.PerAnchorReducer({ reducer: new R.AvgNonZeroReducer() }), (l) => ({ loss: { losses: l, indices: [a, o], reductionType: 'pos_pair' } }), losses),
    mean(rows.filter((v) => v > 0)));
  // +inf losses are treated as absent
  const withInf = [...losses];
  withInf[3] = Infinity;
  assertClose(value(new R.PerAnchorReducer(), (l) => ({ loss: { losses: l, indices: [a, o], reductionType: 'pos_pair' } }), withInf), mean(perAnchor(withInf, a, o, 5)));
  // element losses pass to the inner reducer, triplets are refused
  assertClose(value(new R.PerAnchorReducer(), (l) => ({ loss: { losses: l, indices: Int32Array.from([0, 1, 2, 3, 4, 0]), reductionType: 'element' } })), mean(LOSSES));
  assert.throws(() => value(new R.PerAnchorReducer(), (l) => ({ loss: { losses: l, indices: { anchors: A, positives: O, negatives: O }, reductionType: 'triplet' } })),
    (e: unknown) => e instanceof akin.AkinError && /triplet/.test(e.message));
  // a custom aggregation: the max per row
  const maxAgg: akin.reducers.AggregationFunc = (x) => tf.max(x, 1) as akin.tf.Tensor1D;
  assertClose(value(new R.PerAnchorReducer({ aggregationFunc: maxAgg }), (l) => ({ loss: { losses: l, indices: [a, o], reductionType: 'pos_pair' } }), losses),
    mean([0.75, 4, 0, 1.25, 3]));
});

test('PerAnchorReducer: gradient matches finite differences and leaks nothing', () => {
  const a = Int32Array.from([0, 0, 1, 2, 2, 2]);
  const o = Int32Array.from([1, 2, 2, 0, 1, 0]);
  const rows = [[0.3, -0.2], [0.5, 0.9], [-0.4, 0.1]];
  const f = (x: akin.tf.Tensor2D): akin.tf.Scalar => {
    // pair loss = squared distance between the two rows
    const d = tf.sum(tf.square(tf.sub(tf.gather(x, tf.tensor1d(a, 'int32')), tf.gather(x, tf.tensor1d(o, 'int32')))), 1);
    return new R.PerAnchorReducer().reduce({ loss: { losses: d, indices: [a, o], reductionType: 'pos_pair' } }, x, Int32Array.from([0, 0, 0]));
  };
  checkGradient(f, rows);
  const x = tf.tensor2d(rows);
  const before = tf.memory().numTensors;
  const g = tf.grad((v: akin.tf.Tensor) => f(v as akin.tf.Tensor2D))(x);
  assert.equal(tf.memory().numTensors, before + 1, 'only the gradient remains');
  tf.dispose([x, g]);
});

test('MultipleReducers: one reducer per sub-loss, default MeanReducer, results summed', () => {
  const pos = [0.5, 0, 2, 1.25];
  const neg = [0, 3, 0.1];
  const reg = 0.7;
  const make = (): LossDict => ({
    posLoss: { losses: tf.tensor1d(pos), indices: [Int32Array.from([0, 1, 2, 3]), Int32Array.from([1, 0, 3, 2])], reductionType: 'pos_pair' },
    negLoss: { losses: tf.tensor1d(neg), indices: [Int32Array.from([0, 1, 2]), Int32Array.from([4, 4, 4])], reductionType: 'neg_pair' },
    embeddingRegLoss: { losses: tf.scalar(reg), indices: null, reductionType: 'already_reduced' },
  });
  const r = new R.MultipleReducers({ reducers: { posLoss: new R.ThresholdReducer({ low: 0.4 }), negLoss: 'SumReducer' } });
  const got = tf.tidy(() => r.reduce(make(), tf.ones([5, 2]), LABELS).arraySync() as number);
  assertClose(got, mean(pos.filter((v) => v > 0.4)) + neg.reduce((s, v) => s + v, 0) + reg);
  const withDefault = new R.MultipleReducers({ reducers: { negLoss: new R.SumReducer() }, defaultReducer: new R.AvgNonZeroReducer() });
  assertClose(tf.tidy(() => withDefault.reduce(make(), tf.ones([5, 2]), LABELS).arraySync() as number),
    mean(pos.filter((v) => v > 0)) + 3.1 + reg);
  assert.ok(new R.MultipleReducers({ reducers: {} }).defaultReducer instanceof R.MeanReducer);
  // nested config round trip
  const rebuilt = R.fromConfig({ className: 'MultipleReducers', config: r.getConfig() }) as akin.reducers.MultipleReducers;
  assert.ok(rebuilt.reducerFor('posLoss') instanceof R.ThresholdReducer);
  assert.ok(rebuilt.reducerFor('other') instanceof R.MeanReducer);
  assertClose(tf.tidy(() => rebuilt.reduce(make(), tf.ones([5, 2]), LABELS).arraySync() as number), got);
  assert.throws(() => new R.MultipleReducers({ reducers: { posLoss: 5 as unknown as string } }), (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'reducers.posLoss'"));
});

test('MultipleReducers with ContrastiveLoss: matches reducing each sub-loss by hand', () => {
  const emb = [[1, 0.2], [0.8, 0.5], [-0.3, 1], [0.1, -0.9], [-0.7, -0.4]];
  const labels = [0, 0, 1, 1, 0];
  const reducer = new R.MultipleReducers({ reducers: { posLoss: new R.SumReducer(), negLoss: new R.MeanReducer() } });
  const loss = new akin.losses.ContrastiveLoss({ posMargin: 0.1, negMargin: 1.2, reducer });
  tf.tidy(() => {
    const x = tf.tensor2d(emb);
    const dict = loss.computeLossDict(x, labels);
    const pos = Array.from(dict.posLoss.losses!.dataSync());
    const neg = Array.from(dict.negLoss.losses!.dataSync());
    assertClose(loss.compute(x, labels).arraySync() as number, pos.reduce((s, v) => s + v, 0) + mean(neg));
  });
});
