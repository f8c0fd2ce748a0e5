import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, assertClose, randomRows } from './helpers.js';

const tf = akin.tf;
const L = akin.losses;
const G = akin.regularizers;

before(async () => {
  await initBackend();
});

const X = randomRows(5, 4, 7);
const Y = [0, 1, 2, 1, 0];
const NC = 3, D = 4;
const TOL = { atol: 1e-5, rtol: 1e-4 };

const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
const norm = (v: number[], p = 2): number => v.reduce((s, x) => s + Math.abs(x) ** p, 0) ** (1 / p);
const transpose = (m: number[][]): number[][] => m[0].map((_, j) => m.map((row) => row[j]));
const cos = (a: number[], b: number[]): number => a.reduce((s, x, k) => s + x * b[k], 0) / (norm(a) * norm(b));

type WeightLoss = akin.losses.BaseMetricLoss & { trainableWeights: akin.tf.Variable[] };

/**
 * Every loss with class weights or proxies, and the rows PML hands its weight regularizer: `W.t()` for
 * the [embeddingSize, classes] matrices of the softmax family, the [classes, embeddingSize] proxies as
 * they are.
 */
const CASES: [string, (o: akin.losses.RegularizerOptions) => WeightLoss, (w: number[][]) => number[][]][] = [
  ['ArcFaceLoss', (o) => new L.ArcFaceLoss({ numClasses: NC, embeddingSize: D, ...o }), transpose],
  ['CosFaceLoss', (o) => new L.CosFaceLoss({ numClasses: NC, embeddingSize: D, ...o }), transpose],
  ['SphereFaceLoss', (o) => new L.SphereFaceLoss({ numClasses: NC, embeddingSize: D, ...o }), transpose],
  ['LargeMarginSoftmaxLoss', (o) => new L.LargeMarginSoftmaxLoss({ numClasses: NC, embeddingSize: D, ...o }), transpose],
  ['SubCenterArcFaceLoss', (o) => new L.SubCenterArcFaceLoss({ numClasses: NC, embeddingSize: D, subCenters: 2, ...o }), transpose],
  ['NormalizedSoftmaxLoss', (o) => new L.NormalizedSoftmaxLoss({ numClasses: NC, embeddingSize: D, ...o }), transpose],
  ['SoftTripleLoss', (o) => new L.SoftTripleLoss({ numClasses: NC, embeddingSize: D, centersPerClass: 2, ...o }), transpose],
  ['ProxyAnchorLoss', (o) => new L.ProxyAnchorLoss({ numClasses: NC, embeddingSize: D, ...o }), (w) => w],
  ['ProxyNCALoss', (o) => new L.ProxyNCALoss({ numClasses: NC, embeddingSize: D, ...o }), (w) => w],
];

function value(loss: akin.losses.BaseMetricLoss): number {
  return tf.tidy(() => loss.compute(tf.tensor2d(X), Y).arraySync() as number);
}

test('weightRegularizer adds weightRegWeight x regularizer(class rows) as weightRegLoss (plain loops)', () => {
  for (const [name, make, rows] of CASES) {
    const plain = make({});
    const reg = make({ weightRegularizer: new G.LpRegularizer({ p: 1, power: 2 }), weightRegWeight: 0.3 });
    const w = rows(reg.trainableWeights[0].arraySync() as number[][]);
    assert.equal(w[0].length, D, `${name}: rows are embeddingSize long`);
    const want = 0.3 * mean(w.map((r) => norm(r, 1) ** 2));
    tf.tidy(() => {
      const dict = reg.computeLossDict(tf.tensor2d(X), Y);
      assert.ok(Object.keys(dict).includes('weightRegLoss'), name);
      assert.equal(dict.weightRegLoss.reductionType, 'already_reduced');
      assertClose(dict.weightRegLoss.losses!.arraySync() as number, want, { ...TOL, msg: name });
    });
    // same seed, same weights: the total is the plain loss plus the penalty
    assertClose(value(reg), value(plain) + want, { ...TOL, msg: name });
    plain.dispose();
    reg.dispose();
  }
});

test('weightRegularizer: RegularFace sees one row per class; the penalty reaches the weights', () => {
  const loss = new L.ArcFaceLoss({ numClasses: NC, embeddingSize: D, weightRegularizer: 'RegularFaceRegularizer', weightRegWeight: 2 });
  const classes = transpose(loss.W.arraySync() as number[][]);
  const face = mean(classes.map((a, i) => Math.max(...classes.filter((_, j) => j !== i).map((b) => cos(a, b)))));
  tf.tidy(() => assertClose(loss.computeLossDict(tf.tensor2d(X), Y).weightRegLoss.losses!.arraySync() as number, 2 * face, TOL));
  // d(loss)/dW with the regularizer minus without it is the penalty's own gradient
  const plain = new L.ArcFaceLoss({ numClasses: NC, embeddingSize: D });
  const gradW = (l: akin.losses.ArcFaceLoss): number[] => tf.tidy(() => {
    const { grads } = tf.variableGrads(() => l.compute(tf.tensor2d(X), Y), [l.W]);
    return Array.from(grads[l.W.name].dataSync());
  });
  const reg = new G.RegularFaceRegularizer();
  const penalty = tf.tidy(() => Array.from(tf.grad((w: akin.tf.Tensor) => reg.compute(tf.transpose(w) as akin.tf.Tensor2D).mul(2))(loss.W).dataSync()));
  const diff = gradW(loss).map((g, i) => g - gradW(plain)[i]);
  assert.ok(penalty.some((v) => Math.abs(v) > 1e-3));
  assertClose(diff, penalty, { atol: 1e-4, rtol: 1e-3 });
  loss.dispose();
  plain.dispose();
});

test('weightRegularizer: configs round trip; losses without weights refuse it; no tensor left behind', () => {
  for (const [name, make] of CASES) {
    const loss = make({ weightRegularizer: { className: 'LpRegularizer', config: { p: 3 } }, weightRegWeight: 0.5 });
    const cfg = loss.getConfig();
    assert.equal((cfg.weightRegularizer as akin.core.ComponentConfig).className, 'LpRegularizer', name);
    assert.equal(cfg.weightRegWeight, 0.5);
    const again = L.fromConfig({ className: name, config: JSON.parse(JSON.stringify(cfg)) as Record<string, unknown> });
    assertClose(value(again), value(loss), { ...TOL, msg: name });
    const x = tf.tensor2d(X);
    const before = tf.memory().numTensors;
    tf.tidy(() => loss.compute(x, Y)).dispose();
    assert.equal(tf.memory().numTensors, before, name);
    x.dispose();
    loss.dispose();
    again.dispose();
  }
  for (const make of [() => new L.NCALoss({ weightRegularizer: 'LpRegularizer' }), () => new L.ContrastiveLoss({ weightRegularizer: new G.LpRegularizer() })]) {
    assert.throws(make, (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'weightRegularizer'"));
  }
  assert.throws(() => new L.ArcFaceLoss({ numClasses: 2, embeddingSize: 2, weightRegularizer: 'NoSuchRegularizer' }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes('NoSuchRegularizer'));
});
