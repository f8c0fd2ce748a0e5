import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, assertClose } from './helpers.js';

const tf = akin.tf;
const M = akin.miners;

before(async () => {
  await initBackend();
});

// 10 embeddings in 4-D, classes of sizes 4, 3, 3; the reference set adds label 7.
const X = [
  [0.9, 0.1, 0.2, 0.3], [0.7, 0.5, -0.1, 0.2], [0.2, 0.9, 0.35, -0.4], [-0.6, 0.3, 0.75, 0.1],
  [0.15, -0.8, 0.4, 0.5], [0.5, 0.45, 0.9, -0.3], [-0.3, -0.2, -0.95, 0.6],
  [0.05, 0.6, -0.7, 0.45], [-0.85, -0.45, 0.15, -0.2], [0.4, -0.35, -0.5, -0.75],
];
const Y = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
const R = [[0.3, 0.8, -0.2, 0.1], [-0.4, 0.1, 0.9, 0.3], [0.6, -0.6, 0.1, 0.2], [0.1, 0.2, 0.95, -0.5], [-0.7, 0.65, -0.3, 0.4]];
const RY = [0, 1, 7, 2, 0];

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function l2(a: number[], b: number[], eps = 0): number {
  return Math.sqrt(a.reduce((s, x, k) => s + (x - b[k] + eps) ** 2, 0));
}

function triplets(t: akin.IndexTuple): { a: number[]; p: number[]; n: number[] } {
  assert.ok(akin.core.isTriplets(t));
  return { a: Array.from(t.anchors), p: Array.from(t.positives), n: Array.from(t.negatives) };
}

function mine(miner: akin.miners.BaseMiner, withRef = false): akin.IndexTuple {
  const emb = tf.tensor2d(X), ref = tf.tensor2d(R);
  const before = tf.memory().numTensors;
  try {
    return withRef ? miner.mine(emb, Y, ref, RY) : miner.mine(emb, Y);
  } finally {
    assert.equal(tf.memory().numTensors, before, 'mining leaked tensors');
    tf.dispose([emb, ref]);
  }
}

for (const withRef of [false, true]) {
  test(`AngularMiner (${withRef ? 'ref set' : 'batch'}): triplets whose angle exceeds the threshold, row-major; records`, () => {
    const ref = withRef ? R : X, refLabels = withRef ? RY : Y;
    const want: number[][] = [[], [], []];
    const angles: number[] = [];
    let splits = 0;
    for (const deg of [10, 25, 40]) {
      want.forEach((w) => (w.length = 0));
      angles.length = 0;
      for (let i = 0; i < Y.length; i++) {
        for (let j = 0; j < ref.length; j++) {
          if (refLabels[j] !== Y[i] || (!withRef && i === j)) continue;
          for (let k = 0; k < ref.length; k++) {
            if (refLabels[k] === Y[i]) continue;
            const c = X[i].map((v, d) => (v + ref[j][d]) / 2);
            // Distances between the raw embeddings: PML's pairwise_distance does not normalise.
            const ang = Math.atan(l2(X[i], ref[j], 1e-6) / (2 * l2(ref[k], c, 1e-6)));
            angles.push(ang);
            assert.ok(Math.abs(ang - (deg * Math.PI) / 180) > 1e-5, 'ill-posed case');
            if (ang > (deg * Math.PI) / 180) { want[0].push(i); want[1].push(j); want[2].push(k); }
          }
        }
      }
      const miner = new M.AngularMiner({ angle: deg });
      const got = triplets(mine(miner, withRef));
      assert.deepEqual(got, { a: want[0], p: want[1], n: want[2] }, `angle ${deg}`);
      if (want[0].length > 0 && want[0].length < angles.length) splits++;
      const toDeg = (r: number): number => (r * 180) / Math.PI;
      const mean = angles.reduce((s, v) => s + v, 0) / angles.length;
      assertClose(miner.records.averageAngle, toDeg(mean));
      assertClose(miner.records.maxAngle, toDeg(Math.max(...angles)));
      assertClose(miner.records.minAngle, toDeg(Math.min(...angles)));
      const sd = Math.sqrt(angles.reduce((s, v) => s + (v - mean) ** 2, 0) / (angles.length - 1));
      assertClose(miner.records.stdOfAngle, toDeg(sd));
      assert.equal(miner.records.numTriplets, want[0].length);
    }
    assert.ok(splits >= 2, 'the thresholds split the triplets');
  });
}

test('AngularMiner measures the angle on the raw embeddings (their norms matter)', () => {
  // Rows scaled by 0.5 .. 2.3: the kept set differs from the one on normalised rows.
  const Xs = X.map((row, i) => row.map((v) => v * (0.5 + 0.2 * i)));
  const keep = (rows: number[][], deg: number): number[][] => {
    const out: number[][] = [[], [], []];
    for (let i = 0; i < Y.length; i++) {
      for (let j = 0; j < Y.length; j++) {
        if (Y[j] !== Y[i] || i === j) continue;
        for (let k = 0; k < Y.length; k++) {
          if (Y[k] === Y[i]) continue;
          const c = rows[i].map((v, d) => (v + rows[j][d]) / 2);
          if (Math.atan(l2(rows[i], rows[j], 1e-6) / (2 * l2(rows[k], c, 1e-6))) > (deg * Math.PI) / 180) {
            out[0].push(i); out[1].push(j); out[2].push(k);
          }
        }
      }
    }
    return out;
  };
  const emb = tf.tensor2d(Xs);
  try {
    const got = triplets(new M.AngularMiner({ angle: 25 }).mine(emb, Y));
    const want = keep(Xs, 25);
    assert.deepEqual(got, { a: want[0], p: want[1], n: want[2] });
    assert.notDeepEqual(want, keep(Xs.map(unit), 25), 'the case separates raw from normalised distances');
  } finally {
    emb.dispose();
  }
});

test('AngularMiner and DistanceWeightedMiner accept only normalised L2 distances', () => {
  for (const Miner of [M.AngularMiner, M.DistanceWeightedMiner]) {
    for (const distance of [new akin.distances.CosineSimilarity(), new akin.distances.LpDistance({ power: 2 }), new akin.distances.LpDistance({ normalizeEmbeddings: false })]) {
      assert.throws(() => new Miner({ distance }), (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'distance'"));
    }
  }
  const a = new M.AngularMiner();
  assert.equal(a.angle, 20);
  const r = M.fromConfig({ className: 'AngularMiner', config: new M.AngularMiner({ angle: 33 }).getConfig() }) as akin.miners.AngularMiner;
  assert.equal(r.angle, 33);
});

/** Plain-loop distance-weighted sampling weights (rows normalised). */
function dwWeights(ref: number[][], refLabels: number[], cutoff: number, nzc: number): number[][] {
  const dim = X[0].length;
  const logw = X.map((x, i) => ref.map((r, j) => {
    const d = Math.max(l2(unit(x), unit(r)), cutoff);
    const lw = (2 - dim) * Math.log(d) - ((dim - 3) / 2) * Math.log(1 - 0.25 * d * d);
    return Y[i] === refLabels[j] ? 0 : lw;
  }));
  const max = Math.max(...logw.flat());
  return X.map((x, i) => {
    const w = ref.map((r, j) => {
      const d = Math.max(l2(unit(x), unit(r)), cutoff);
      return Y[i] !== refLabels[j] && d < nzc ? Math.exp(logw[i][j] - max) : 0;
    });
    const s = w.reduce((a, b) => a + b, 0);
    return w.map((v) => (s > 0 ? v / s : 0));
  });
}

for (const withRef of [false, true]) {
  test(`DistanceWeightedMiner (${withRef ? 'ref set' : 'batch'}): weights, triplet layout and the sampling distribution`, () => {
    const ref = withRef ? R : X, refLabels = withRef ? RY : Y;
    const cutoff = 0.5, nzc = 1.3;
    const miner = new M.DistanceWeightedMiner({ cutoff, nonzeroLossCutoff: nzc, seed: 5 });
    const want = dwWeights(ref, refLabels, cutoff, nzc);
    const emb = tf.tensor2d(X), refEmb = tf.tensor2d(R);
    const w = miner.weights({ embeddings: emb, labels: Int32Array.from(Y), ...(withRef ? { refEmbeddings: refEmb, refLabels: Int32Array.from(RY) } : {}) });
    tf.dispose([emb, refEmb]);
    assertClose(Array.from(w), want.flat(), { atol: 1e-5 });
    assert.ok(want.flat().some((v) => v === 0) && want.flat().some((v) => v > 0.3), 'cutoffs matter');
    // layout: labels ascending, each usable anchor k times (k = label count in the reference set)
    const counts = new Map<number, number>();
    const hits = want.map((row) => row.map(() => 0));
    let total = 0;
    for (let rep = 0; rep < 30; rep++) {
      const t = triplets(mine(miner, withRef));
      const expectA: number[] = [];
      for (const label of [...new Set(Y)].sort((x, y) => x - y)) {
        const k = refLabels.filter((l) => l === label).length;
        const hasNeg = refLabels.some((l) => l !== label);
        if (k < (withRef ? 1 : 2) || !hasNeg) continue;
        Y.forEach((l, i) => { if (l === label && want[i].some((v) => v > 0)) for (let q = 0; q < k; q++) expectA.push(i); });
      }
      assert.deepEqual(t.a, expectA);
      t.a.forEach((a, q) => {
        assert.equal(refLabels[t.p[q]], Y[a]);
        if (!withRef) assert.notEqual(t.p[q], a);
        assert.ok(want[a][t.n[q]] > 0, 'negative drawn with zero weight');
        hits[a][t.n[q]]++;
        counts.set(a, (counts.get(a) ?? 0) + 1);
      });
      total += t.a.length;
    }
    assert.equal(miner.records.numTriplets, total / 30);
    // empirical frequencies follow the weights (anchor 0 has the most draws)
    const n0 = counts.get(0)!;
    hits[0].forEach((h, j) => assert.ok(Math.abs(h / n0 - want[0][j]) < 0.12, `column ${j}: ${h / n0} vs ${want[0][j]}`));
  });
}

test('DistanceWeightedMiner: seeded and injectable random source; defaults; config', () => {
  const a = triplets(mine(new M.DistanceWeightedMiner({ seed: 1 })));
  assert.deepEqual(triplets(mine(new M.DistanceWeightedMiner({ random: akin.createRandom(1) }))), a);
  assert.notDeepEqual(triplets(mine(new M.DistanceWeightedMiner({ seed: 2 }))), a);
  const m = new M.DistanceWeightedMiner();
  assert.deepEqual([m.cutoff, m.nonzeroLossCutoff], [0.5, 1.4]);
  const r = M.fromConfig({ className: 'DistanceWeightedMiner', config: new M.DistanceWeightedMiner({ seed: 1 }).getConfig() });
  assert.deepEqual(triplets(mine(r)), a);
  assert.throws(() => new M.DistanceWeightedMiner({ random: 3 as unknown as akin.Random }), (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'random'"));
});

test('MaximumLossMiner: returns the subset with the largest loss; records; seeded', () => {
  const seen: { idx: number[]; value: number }[] = [];
  // A loss whose value is a known function of the subset: the sum of its embeddings' first coordinates.
  const loss: akin.miners.LossLike = {
    className: 'Probe',
    getConfig: () => ({}),
    compute(e: akin.tf.Tensor2D, labels: akin.core.LabelsLike): akin.tf.Scalar {
      const first = (e.arraySync() as number[][]).map((r) => r[0]);
      const value = first.reduce((s, v) => s + v, 0);
      seen.push({ idx: first.map((v) => X.findIndex((r) => r[0] === Math.fround(v) || Math.abs(r[0] - v) < 1e-7)), value });
      assert.equal((labels as Int32Array).length, 4);
      return tf.scalar(value);
    },
  };
  const miner = new M.MaximumLossMiner({ loss, outputBatchSize: 4, numTrials: 6, seed: 4 });
  const subset = tf.tidy(() => miner.mine(tf.tensor2d(X), Y));
  assert.equal(seen.length, 6);
  for (const s of seen) assert.equal(new Set(s.idx).size, 4, 'distinct elements');
  const best = seen.reduce((b, s) => (s.value > b.value ? s : b));
  assert.deepEqual(Array.from(subset), best.idx);
  assertClose(miner.records.maxLoss, best.value);
  assertClose(miner.records.avgLoss, seen.reduce((a, s) => a + s.value, 0) / 6);
  seen.length = 0;
  const again = tf.tidy(() => new M.MaximumLossMiner({ loss, outputBatchSize: 4, numTrials: 6, random: akin.createRandom(4) }).mine(tf.tensor2d(X), Y));
  assert.deepEqual(Array.from(again), Array.from(subset));
  assert.throws(() => new M.MaximumLossMiner({ loss, outputBatchSize: 0 }), (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'outputBatchSize'"));
  assert.throws(() => new M.MaximumLossMiner({ loss: 5 as unknown as akin.miners.LossLike, outputBatchSize: 2 }), (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'loss'"));
});

test('MaximumLossMiner: with a real loss and inner miner, from config', () => {
  const miner = new M.MaximumLossMiner({
    loss: { className: 'TripletMarginLoss', config: { margin: 0.3 } },
    miner: new M.BatchHardMiner(),
    outputBatchSize: 6,
    numTrials: 3,
  });
  const cfg = miner.getConfig();
  assert.equal((cfg.loss as akin.core.ComponentConfig).className, 'TripletMarginLoss');
  const rebuilt = M.maximumLossMinerFromConfig({ className: 'MaximumLossMiner', config: cfg });
  const a = tf.tidy(() => miner.mine(tf.tensor2d(X), Y));
  const b = tf.tidy(() => rebuilt.mine(tf.tensor2d(X), Y));
  assert.deepEqual(Array.from(a), Array.from(b));
  assert.ok(miner.records.maxLoss >= miner.records.avgLoss);
});
