import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, assertClose } from './helpers.js';

const tf = akin.tf;
const R = akin.reducers;
type LossDict = akin.reducers.LossDict;

before(async () => {
  await initBackend();
});

const VALUES = [0, 0.5, 0, 2, 1.25, 0, 3];
const labels = new Int32Array([0, 0, 1, 1]);

/** Reduces `dict(losses)` where losses = sum over rows of x times VALUES, so gradients reach x. */
function reduceValue(reducer: akin.reducers.BaseReducer, type: akin.reducers.ReductionType, values = VALUES): number {
  return tf.tidy(() => {
    const emb = tf.ones([4, 2]);
    const losses = tf.tensor1d(values);
    const dict: LossDict = { loss: { losses, indices: null, reductionType: type } };
    return reducer.reduce(dict, emb, labels).arraySync() as number;
  });
}

const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;

test('MeanReducer and SumReducer treat elements, pairs and triplets alike', () => {
  for (const type of ['element', 'pos_pair', 'neg_pair', 'triplet'] as const) {
    assertClose(reduceValue(new R.MeanReducer(), type), mean(VALUES));
    assertClose(reduceValue(new R.SumReducer(), type), VALUES.reduce((s, x) => s + x, 0));
  }
});

test('AvgNonZeroReducer averages the positive losses only, and gives 0 when none is positive', () => {
  for (const type of ['element', 'pos_pair', 'neg_pair', 'triplet'] as const) {
    assertClose(reduceValue(new R.AvgNonZeroReducer(), type), mean(VALUES.filter((v) => v > 0)));
  }
  assert.equal(reduceValue(new R.AvgNonZeroReducer(), 'triplet', [0, 0, 0]), 0);
});

test('ThresholdReducer keeps low < loss < high (strictly) and averages those', () => {
  assertClose(reduceValue(new R.ThresholdReducer({ low: 0.5 }), 'element'), mean([2, 1.25, 3]));
  assertClose(reduceValue(new R.ThresholdReducer({ high: 2 }), 'element'), mean([0, 0.5, 0, 1.25, 0]));
  assertClose(reduceValue(new R.ThresholdReducer({ low: 0, high: 2 }), 'pos_pair'), mean([0.5, 1.25]));
  assert.equal(reduceValue(new R.ThresholdReducer({ low: 10 }), 'element'), 0);
});

test('no loss past the filter still gives a finite (zero) gradient', () => {
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const g = tf.grad((v: akin.tf.Tensor) => {
    const losses = tf.mul(tf.sum(v, 1), 0); // all zero, connected to v
    return new R.AvgNonZeroReducer().reduce({ loss: { losses, indices: null, reductionType: 'element' } }, v, labels);
  })(x);
  assert.deepEqual(Array.from(g.dataSync()), [0, 0, 0, 0]);
  tf.dispose([x, g]);
});

test('gradients of the reducers match their definitions', () => {
  const x = tf.tensor1d([0, 0.5, 2, -1]);
  const grad = (r: akin.reducers.BaseReducer): number[] => {
    const g = tf.grad((v: akin.tf.Tensor) => r.reduce({ loss: { losses: v, indices: null, reductionType: 'element' } }, v, labels))(x);
    const out = Array.from(g.dataSync());
    g.dispose();
    return out;
  };
  assertClose(grad(new R.MeanReducer()), [0.25, 0.25, 0.25, 0.25]);
  assertClose(grad(new R.SumReducer()), [1, 1, 1, 1]);
  assertClose(grad(new R.AvgNonZeroReducer()), [0, 0.5, 0.5, 0]);
  assertClose(grad(new R.ThresholdReducer({ low: -2, high: 1 })), [1 / 3, 1 / 3, 0, 1 / 3]);
  x.dispose();
});

test('zero losses (null) and already-reduced losses; several sub-losses are reduced separately and summed', () => {
  const r = new R.AvgNonZeroReducer();
  const v = tf.tidy(() => {
    const emb = tf.ones([4, 2]);
    const dict: LossDict = {
      posLoss: { losses: tf.tensor1d([0, 1, 3]), indices: null, reductionType: 'pos_pair' },
      negLoss: { losses: tf.tensor1d([0.5, 0]), indices: null, reductionType: 'neg_pair' },
      extra: { losses: tf.scalar(0.25), indices: null, reductionType: 'already_reduced' },
      none: { losses: null, indices: null, reductionType: 'already_reduced' },
    };
    return r.reduce(dict, emb, labels).arraySync() as number;
  });
  assertClose(v, 2 + 0.5 + 0.25 + 0);
  assert.equal(tf.tidy(() => r.reduce({}, tf.ones([2, 2]), labels).arraySync()), 0);
});

test('DoNothingReducer refuses to reduce and points to computeLossDict', () => {
  const r = new R.DoNothingReducer();
  assert.throws(() => reduceValue(r, 'element'), (e: unknown) =>
    e instanceof akin.AkinError && e.code === 'E_REDUCER' && /computeLossDict/.test(e.message));
});

test('reducers round-trip through getConfig / fromConfig and reject bad options by name', () => {
  for (const r of [new R.MeanReducer(), new R.SumReducer(), new R.AvgNonZeroReducer(), new R.ThresholdReducer({ low: 0.5, high: 2.5 }), new R.DoNothingReducer()]) {
    const back = R.fromConfig(akin.core.toConfig(r));
    assert.equal(back.className, r.className);
    assert.deepEqual(back.getConfig(), r.getConfig());
  }
  assertClose(reduceValue(R.fromConfig({ className: 'ThresholdReducer', config: { low: 0.5 } }), 'element'), mean([2, 1.25, 3]));
  assert.throws(() => new R.ThresholdReducer({}), (e: unknown) => e instanceof akin.ConfigError && /low/.test(e.message));
  assert.throws(() => new R.ThresholdReducer({ low: 'x' as unknown as number }), (e: unknown) =>
    e instanceof akin.ConfigError && /ThresholdReducer/.test(e.message) && /'low'/.test(e.message));
  assert.throws(() => R.fromConfig({ className: 'MeanReducer', config: { low: 1 } }), /low/);
  for (const name of ['AvgNonZeroReducer', 'DoNothingReducer', 'MeanReducer', 'SumReducer', 'ThresholdReducer', 'DivisorReducer', 'ClassWeightedReducer', 'PerAnchorReducer', 'MultipleReducers']) {
    assert.ok(R.registry.names().includes(name), name);
  }
});

test('reducing leaks no tensors', () => {
  const emb = tf.ones([4, 2]);
  const losses = tf.tensor1d(VALUES);
  for (const r of [new R.MeanReducer(), new R.AvgNonZeroReducer(), new R.ThresholdReducer({ high: 1 })]) {
    const before = tf.memory().numTensors;
    r.reduce({ loss: { losses, indices: null, reductionType: 'triplet' } }, emb, labels).dispose();
    assert.equal(tf.memory().numTensors, before, r.className);
  }
  tf.dispose([emb, losses]);
});
