// The semihard path: TripletMarginMiner hands its triplets to TripletMarginLoss as bits (lists built only
// when read), the loss reads them in one kernel, and the wasm L2 kernel reuses the matrix the miner just
// computed. Checked against float64 loops, finite differences and the cpu backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { assertClose, checkGradient } from './helpers.js';
import { onBoth, values, wasm } from './backend-helpers.js';

const tf = akin.tf;
const N = 16, DIM = 3, MARGIN = 0.3;
const LABELS = Int32Array.from({ length: N }, (_, i) => i % 4);
// Rows whose candidates all lie > 3e-3 from the semihard boundaries (float32 cannot flip a choice).
const ROWS = Array.from({ length: N }, (_, i) => values(DIM, 312 + i));

/** Row-normalised float64 L2 distances. */
function distances(rows: number[][]): number[][] {
  const unit = rows.map((r) => {
    const s = Math.sqrt(r.reduce((a, v) => a + v * v, 0));
    return r.map((v) => v / s);
  });
  return unit.map((a) => unit.map((b) => Math.sqrt(a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0))));
}

/** Semihard triplets (0 < d_an - d_ap <= margin) in row-major order, their losses and the closest boundary gap. */
function expected(rows: number[][]): { a: number[]; p: number[]; n: number[]; loss: number; gap: number } {
  const d = distances(rows);
  const out = { a: [] as number[], p: [] as number[], n: [] as number[], loss: 0, gap: Infinity };
  let sum = 0, nonZero = 0;
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      if (j === i || LABELS[j] !== LABELS[i]) continue;
      for (let k = 0; k < N; k++) {
        if (LABELS[k] === LABELS[i]) continue;
        const t = d[i][k] - d[i][j];
        out.gap = Math.min(out.gap, Math.abs(t), Math.abs(t - MARGIN));
        if (t > 0 && t <= MARGIN) {
          out.a.push(i); out.p.push(j); out.n.push(k);
          const l = Math.max(d[i][j] - d[i][k] + MARGIN, 0);
          if (l > 0) { sum += l; nonZero++; }
        }
      }
    }
  }
  out.loss = nonZero > 0 ? sum / nonZero : 0;
  return out;
}

/** Mines from a tensor made of `rows`, freeing it afterwards. */
function mineRows(mn: akin.miners.BaseMiner, rows: number[][]): akin.TripletIndices {
  const x = tf.tensor2d(rows);
  try {
    return mn.mine(x, LABELS) as akin.TripletIndices;
  } finally {
    x.dispose();
  }
}

const miner = (): akin.miners.TripletMarginMiner => new akin.miners.TripletMarginMiner({ margin: MARGIN, typeOfTriplets: 'semihard' });
const loss = new akin.losses.TripletMarginLoss({ margin: MARGIN });

test('semihard miner + triplet loss through the bits: triplets, loss and gradient as float64 loops give them', async () => {
  await wasm();
  const want = expected(ROWS);
  assert.ok(want.gap > 2e-3, `a candidate lies ${want.gap} from a boundary: pick other rows`);
  assert.ok(want.a.length > 10, `only ${want.a.length} triplets`);
  const mn = miner();
  // Loss from the bits (the lists are never read before the loss).
  const viaBits = tf.tidy(() => {
    const x = tf.tensor2d(ROWS);
    return loss.compute(x, LABELS, mn.mine(x, LABELS)).dataSync()[0];
  });
  assert.equal(mn.records.numTriplets, want.a.length);
  assertClose(viaBits, want.loss, { atol: 1e-6, rtol: 1e-5 });
  // computeLossDict still gives one loss per triplet (compute reduces inside the kernel).
  const perTriplet = tf.tidy(() => {
    const x = tf.tensor2d(ROWS);
    const dict = loss.computeLossDict(x, LABELS, mn.mine(x, LABELS));
    return Array.from(dict.loss.losses!.dataSync());
  });
  assert.equal(perTriplet.length, want.a.length);
  const positive = perTriplet.filter((v) => v > 0);
  assertClose(positive.reduce((a, b) => a + b, 0) / positive.length, want.loss, { atol: 1e-6, rtol: 1e-5 });
  // The lists, read afterwards, in PML's order.
  const t = mineRows(mn, ROWS);
  assert.deepEqual([Array.from(t.anchors), Array.from(t.positives), Array.from(t.negatives)], [want.a, want.p, want.n]);
  // Once read (and possibly changed), the lists are what the loss uses.
  const fromLists = tf.tidy(() => loss.compute(tf.tensor2d(ROWS), LABELS, t).dataSync()[0]);
  assertClose(fromLists, viaBits, { atol: 0, rtol: 1e-6 }); // (float32 against float64 sums)
  t.negatives = t.negatives.slice(0, 3);
  t.anchors = t.anchors.slice(0, 3);
  t.positives = t.positives.slice(0, 3);
  const firstThree = tf.tidy(() => loss.compute(tf.tensor2d(ROWS), LABELS, t).dataSync()[0]);
  assert.notEqual(firstThree, viaBits);
  // Gradient (with respect to the raw rows, through normalisation and the L2 kernels).
  checkGradient((x) => loss.compute(x, LABELS, mn.mine(x, LABELS)), ROWS, { eps: 1e-3, atol: 1e-3, rtol: 1e-2 });
});

test('semihard miner + triplet loss: same value and gradient on wasm (bits kernel) and cpu (index lists)', async () => {
  const mn = miner();
  const { wasm: w, cpu: c } = await onBoth(() => tf.tidy(() => {
    const x = tf.tensor2d(ROWS);
    const f = (e: akin.tf.Tensor): akin.tf.Scalar => loss.compute(e as akin.tf.Tensor2D, LABELS, mn.mine(e as akin.tf.Tensor2D, LABELS));
    const { value, grad } = tf.valueAndGrad(f)(x);
    return [[value.dataSync()[0]], Array.from(grad.dataSync())];
  }));
  assertClose(w[0], c[0], { atol: 1e-6, rtol: 1e-5 });
  assertClose(w[1], c[1], { atol: 1e-6, rtol: 1e-4 });
  assert.ok(w[1].some((v) => Math.abs(v) > 1e-4), 'zero gradient');
});

test('the wasm L2 kernel never hands back a matrix computed for other values', async () => {
  await wasm();
  const n = 256, dim = 4; // large enough for the kernel to keep its last matrix
  const rowsA = Array.from({ length: n }, (_, i) => values(dim, 500 + i));
  const rowsB = rowsA.map((r) => r.slice());
  rowsB[17][2] += 0.25;
  const dist = new akin.distances.LpDistance();
  for (const rows of [rowsA, rowsA, rowsB, rowsA, rowsB]) {
    const got = tf.tidy(() => dist.matrix(tf.tensor2d(rows)).dataSync());
    const want = distances(rows).flat();
    assertClose(got, want, { atol: 2e-4, rtol: 1e-4 });
  }
});

test('mining inside tf.tidy leaves no tensor behind, and the tuple is a plain triplet object', async () => {
  await wasm();
  const x = tf.tensor2d(ROWS);
  const before = tf.memory().numTensors;
  let t!: akin.TripletIndices;
  tf.tidy(() => {
    t = miner().mine(x, LABELS) as akin.TripletIndices;
  });
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  assert.ok(akin.core.isTriplets(t));
  assert.deepEqual(Object.keys(t).sort(), ['anchors', 'negatives', 'positives']);
  const copy = { ...t };
  assert.ok(copy.anchors instanceof Int32Array && copy.anchors.length === expected(ROWS).a.length);
});
