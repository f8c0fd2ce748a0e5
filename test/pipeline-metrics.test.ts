import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend } from './helpers.js';

before(async () => {
  await initBackend();
});

/** Precision@1 by cosine similarity, query = reference, self excluded: a plain loop. */
function cosinePrecisionAt1(x: number[][], labels: number[]): number {
  const cos = (a: number[], b: number[]) => {
    let ab = 0, aa = 0, bb = 0;
    for (let j = 0; j < a.length; j++) { ab += a[j] * b[j]; aa += a[j] * a[j]; bb += b[j] * b[j]; }
    return ab / Math.sqrt(aa * bb);
  };
  let hits = 0;
  for (let i = 0; i < x.length; i++) {
    let best = -1, bestSim = -Infinity;
    for (let j = 0; j < x.length; j++) if (j !== i && cos(x[i], x[j]) > bestSim) { bestSim = cos(x[i], x[j]); best = j; }
    if (labels[best] === labels[i]) hits++;
  }
  return hits / x.length;
}

test('the run table compares raw inputs by cosine similarity (Euclidean distance ranks these the other way)', async () => {
  // Two directions at two scales: by angle each point's neighbour is its own class; by L2 it is the
  // other class's point of the same scale.
  const x = [[1, 0], [10, 0], [0.8, 0.6], [8, 6]];
  const labels = [0, 0, 1, 1];
  const expected = cosinePrecisionAt1(x, labels);
  assert.equal(expected, 1);
  const m = await akin.pipeline.embeddingMetrics(Float32Array.from(x.flat()), Int32Array.from(labels), 2, 0);
  assert.equal(m.precisionAt1, expected);
  assert.equal(m.mapAtR, 1);
  assert.equal(m.nmi, 1);
  const l2 = await akin.eval.accuracy({ query: Float32Array.from(x.flat()), queryLabels: Int32Array.from(labels), dim: 2, metric: 'l2' });
  assert.equal(l2.precisionAt1, 0);
});

test('accuracy takes 1-D integer label tensors as the losses do, with the same results as Int32Array labels', async () => {
  const tf = akin.tf;
  const x = Float32Array.from([1, 0, 0.9, 0.1, 0, 1, 0.2, 0.8, 0.6, 0.4]);
  const ints = Int32Array.from([0, 0, 1, 1, 0]);
  const asArray = await akin.eval.accuracy({ query: x, queryLabels: ints, dim: 2 });
  const t = tf.tensor1d(ints, 'int32');
  const asTensor = await akin.eval.accuracy({ query: x, queryLabels: t, dim: 2 });
  assert.deepEqual(asTensor, asArray);
  // By hand: row 4 (0.6, 0.4) is nearest to row 1 (0.9, 0.1) by L2, a hit; every row's nearest is its own class.
  assert.equal(asArray.precisionAt1, 1);
  t.dispose();
  const wrong = tf.tensor2d([[0], [0], [1], [1], [0]], undefined, 'int32');
  await assert.rejects(akin.eval.accuracy({ query: x, queryLabels: wrong as unknown as akin.tf.Tensor1D, dim: 2 }), /queryLabels as a tensor must be 1-D/);
  wrong.dispose();
});
