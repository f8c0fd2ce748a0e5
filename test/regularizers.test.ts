import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, assertClose, checkGradient } from './helpers.js';

const tf = akin.tf;
const G = akin.regularizers;

before(async () => {
  await initBackend();
});

const W = [[0.9, -0.2, 0.4], [0.1, 0.8, -0.5], [-0.6, 0.3, 0.2], [0.5, 0.5, 0.7], [-0.3, -0.9, 0.1], [0.2, -0.1, -0.8]];
const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
const norm = (v: number[], p = 2): number => v.reduce((s, x) => s + Math.abs(x) ** p, 0) ** (1 / p);
const cos = (a: number[], b: number[]): number => a.reduce((s, x, k) => s + x * b[k], 0) / (norm(a) * norm(b));

function value(r: akin.regularizers.BaseRegularizer, rows = W): number {
  const x = tf.tensor2d(rows);
  const before = tf.memory().numTensors;
  const out = r.compute(x);
  assert.equal(tf.memory().numTensors, before + 1, 'only the result remains');
  const v = out.arraySync() as number;
  tf.dispose([x, out]);
  return v;
}

test('LpRegularizer: mean of ||x_i||_p ^ power', () => {
  assertClose(value(new G.LpRegularizer()), mean(W.map((r) => norm(r))));
  assertClose(value(new G.LpRegularizer({ p: 1, power: 2 })), mean(W.map((r) => norm(r, 1) ** 2)));
  assertClose(value(new G.LpRegularizer({ p: 3, reducer: new akin.reducers.SumReducer() })), W.map((r) => norm(r, 3)).reduce((s, v) => s + v, 0));
  assert.throws(() => new G.LpRegularizer({ p: -1 }), (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'p'"));
});

test('ZeroMeanRegularizer: mean of |sum of each row|', () => {
  assertClose(value(new G.ZeroMeanRegularizer()), mean(W.map((r) => Math.abs(r.reduce((s, x) => s + x, 0)))));
});

test('CenterInvariantRegularizer: mean of (||w_i||² - mean ||w||²)² / 4; distance must be raw Lp', () => {
  const sq = W.map((r) => norm(r) ** 2);
  const m = mean(sq);
  assertClose(value(new G.CenterInvariantRegularizer()), mean(sq.map((s) => (s - m) ** 2 / 4)));
  assert.throws(() => new G.CenterInvariantRegularizer({ distance: new akin.distances.LpDistance() }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'distance'"));
});

test('RegularFaceRegularizer: mean over rows of the largest cosine to another row', () => {
  const want = mean(W.map((a, i) => Math.max(...W.filter((_, j) => j !== i).map((b) => cos(a, b)))));
  assertClose(value(new G.RegularFaceRegularizer()), want);
  assert.throws(() => new G.RegularFaceRegularizer({ distance: new akin.distances.LpDistance() }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'distance'"));
});

test('SparseCentersRegularizer: same-class centre pairs, summed over twice their count; records', () => {
  const r = new G.SparseCentersRegularizer({ numClasses: 2, centersPerClass: 3 });
  let sum = 0, count = 0;
  const same: number[] = [], diff: number[] = [];
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j < 6; j++) {
      const c = cos(W[i], W[j]);
      if (Math.floor(i / 3) === Math.floor(j / 3)) {
        if (j > i) { sum += Math.sqrt(2 - Math.min(2 * c, 2)); count++; same.push(c); }
      } else diff.push(c);
    }
  }
  assertClose(value(r), sum / (2 * count));
  assertClose(r.records.sameClassCenterSim, mean(same));
  assertClose(r.records.diffClassCenterSim, mean(diff));
  assert.throws(() => value(r, W.slice(0, 5)), (e: unknown) => e instanceof akin.ShapeError);
  assert.throws(() => new G.SparseCentersRegularizer({ numClasses: 2, centersPerClass: 1 }), (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'centersPerClass'"));
  assert.throws(() => new G.SparseCentersRegularizer({ numClasses: 2, centersPerClass: 2, distance: new akin.distances.DotProductSimilarity() }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'distance'"));
});

test('regularizers: gradients match finite differences; configs round trip through the registry', () => {
  for (const r of [new G.LpRegularizer(), new G.ZeroMeanRegularizer(), new G.CenterInvariantRegularizer(), new G.RegularFaceRegularizer()]) {
    checkGradient((x) => r.compute(x), W.slice(0, 4));
    const rebuilt = G.fromConfig({ className: r.className, config: r.getConfig() });
    assert.equal(rebuilt.className, r.className);
    assertClose(value(rebuilt), value(r));
  }
  const sc = new G.SparseCentersRegularizer({ numClasses: 3, centersPerClass: 2 });
  const again = G.fromConfig({ className: 'SparseCentersRegularizer', config: sc.getConfig() });
  assertClose(value(again), value(sc));
  assert.ok(G.registry.names().includes('ZeroMeanRegularizer'));
});

const EMB = [[1, 0.2], [0.8, 0.5], [-0.3, 1], [0.1, -0.9], [-0.7, -0.4], [0.6, -0.5]];
const LAB = [0, 0, 1, 1, 2, 2];

test('losses: embeddingRegularizer adds embeddingRegWeight x penalty as embeddingRegLoss', () => {
  const plain = new akin.losses.TripletMarginLoss({ margin: 0.4 });
  const reg = new G.LpRegularizer({ p: 1 });
  const withReg = new akin.losses.TripletMarginLoss({ margin: 0.4, embeddingRegularizer: reg, embeddingRegWeight: 0.25 });
  tf.tidy(() => {
    const x = tf.tensor2d(EMB);
    const base = plain.compute(x, LAB).arraySync() as number;
    assert.ok(base > 0);
    const want = base + 0.25 * mean(EMB.map((r) => norm(r, 1)));
    assertClose(withReg.compute(x, LAB).arraySync() as number, want);
    const dict = withReg.computeLossDict(x, LAB);
    assert.deepEqual(Object.keys(dict), ['loss', 'embeddingRegLoss']);
    assert.equal(dict.embeddingRegLoss.reductionType, 'already_reduced');
    // a pair loss too, and the default weight 1
    const c = new akin.losses.ContrastiveLoss({ embeddingRegularizer: { className: 'ZeroMeanRegularizer' } });
    const c0 = new akin.losses.ContrastiveLoss();
    assertClose(c.compute(x, LAB).arraySync() as number,
      (c0.compute(x, LAB).arraySync() as number) + mean(EMB.map((r) => Math.abs(r[0] + r[1]))));
  });
  // the config carries the regularizer and rebuilds the same loss
  const cfg = withReg.getConfig();
  assert.equal((cfg.embeddingRegularizer as akin.core.ComponentConfig).className, 'LpRegularizer');
  assert.equal(cfg.embeddingRegWeight, 0.25);
  const rebuilt = akin.losses.fromConfig({ className: 'TripletMarginLoss', config: cfg });
  tf.tidy(() => {
    const x = tf.tensor2d(EMB);
    assertClose(rebuilt.compute(x, LAB).arraySync() as number, withReg.compute(x, LAB).arraySync() as number);
  });
  assert.equal(new akin.losses.TripletMarginLoss().getConfig().embeddingRegularizer, undefined);
});

test('losses: the embedding penalty reaches the gradient; bad regularizer options are named', () => {
  const loss = new akin.losses.ContrastiveLoss({ embeddingRegularizer: new G.LpRegularizer(), embeddingRegWeight: 2 });
  checkGradient((x) => loss.compute(x, LAB), EMB);
  assert.throws(() => new akin.losses.TripletMarginLoss({ embeddingRegularizer: 3 as unknown as string }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'embeddingRegularizer'"));
  assert.throws(() => new akin.losses.TripletMarginLoss({ embeddingRegWeight: 'x' as unknown as number }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'embeddingRegWeight'"));
  assert.throws(() => new akin.losses.TripletMarginLoss({ weightRegularizer: new G.RegularFaceRegularizer() }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'weightRegularizer'"));
});

/** A loss with a weight matrix, to check the weight-regularizer hook. */
class WeightedProbe extends akin.losses.BaseMetricLoss {
  readonly className = 'WeightedProbe';
  readonly w = tf.variable(tf.tensor2d(W));
  constructor(options: akin.losses.BaseLossOptions = {}) {
    super();
    const o = akin.core.parseOptions('WeightedProbe', akin.losses.baseLossSchema, options);
    this.setReducer(o.reducer);
  }
  override subLossNames(): string[] { return ['loss']; }
  override defaultReducer(): akin.reducers.BaseReducer { return new akin.reducers.MeanReducer(); }
  getConfig(): Record<string, unknown> { return {}; }
  protected computeLoss(input: akin.losses.LossInput): akin.reducers.LossDict {
    return { loss: { losses: tf.sum(input.embeddings, 1), indices: Int32Array.from(input.labels.keys()), reductionType: 'element' } };
  }
  protected override regularizedWeights(): akin.tf.Tensor2D {
    return this.w;
  }
}

test('losses: weightRegularizer penalises the weights the loss exposes, as weightRegLoss', () => {
  const probe = new WeightedProbe({ weightRegularizer: new G.RegularFaceRegularizer(), weightRegWeight: 3 });
  const face = mean(W.map((a, i) => Math.max(...W.filter((_, j) => j !== i).map((b) => cos(a, b)))));
  tf.tidy(() => {
    const x = tf.tensor2d(EMB);
    const base = mean(EMB.map((r) => r[0] + r[1]));
    assertClose(probe.compute(x, LAB).arraySync() as number, base + 3 * face);
    assert.deepEqual(Object.keys(probe.computeLossDict(x, LAB)), ['loss', 'weightRegLoss']);
  });
  assert.equal((probe.getConfig().weightRegularizer as akin.core.ComponentConfig).className, 'RegularFaceRegularizer');
  probe.w.dispose();
});
