import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, assertClose } from './helpers.js';

const tf = akin.tf;
const { TripletMarginMiner, MultiSimilarityMiner } = akin.miners;
const { LpDistance, CosineSimilarity } = akin.distances;

before(async () => {
  await initBackend();
});

// A hand-built batch: 8 embeddings, classes of 3, 3 and 2, no two rows parallel.
const X = [
  [1, 0.21, 0, 0.1],
  [0.9, 0.4, -0.23, 0.02],
  [0.1, 1, 0.3, -0.2],
  [0.04, 0.8, 0.6, 0.1],
  [-0.5, 0.13, 1, 0.3],
  [0.7, -0.3, 0.55, 0.2],
  [-0.2, 0.5, -0.8, 0.64],
  [0.3, 0.35, 0.31, -0.9],
];
const Y = [0, 0, 1, 1, 2, 2, 0, 1];
// A separate reference set: one label (3) the batch lacks, label 2 missing from it.
const R = [
  [0.8, 0.1, 0.1, 0.3],
  [0.2, 0.9, 0.1, -0.4],
  [-0.3, -0.6, 0.2, 0.7],
  [0.5, 0.5, -0.5, 0.5],
  [0.1, 0.6, 0.7, 0.2],
  [-0.9, 0.2, -0.1, -0.3],
];
const RY = [0, 1, 3, 3, 1, 0];

type Kind = 'l2' | 'cos' | 'l2raw';

// ---------- independent reference computations, plain loops in float64 ----------

function norm(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / n);
}

function refMatrix(q: number[][], r: number[][], kind: Kind): number[][] {
  const qn = kind === 'l2raw' ? q : q.map(norm);
  const rn = kind === 'l2raw' ? r : r.map(norm);
  return qn.map((a) =>
    rn.map((b) => {
      if (kind === 'cos') return a.reduce((s, x, k) => s + x * b[k], 0);
      return Math.sqrt(a.reduce((s, x, k) => s + (x - b[k]) ** 2, 0));
    }),
  );
}

interface Triplets { a: number[]; p: number[]; n: number[] }

/** Every triplet, row-major, filtered by PML's condition; also checks no margin sits near a threshold. */
function expectedTriplets(mat: number[][], labels: number[], refLabels: number[], self: boolean, margin: number, type: string, inverted: boolean): Triplets {
  const out: Triplets = { a: [], p: [], n: [] };
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < refLabels.length; j++) {
      if (labels[i] !== refLabels[j] || (self && i === j)) continue;
      for (let k = 0; k < refLabels.length; k++) {
        if (labels[i] === refLabels[k]) continue;
        const t = inverted ? mat[i][j] - mat[i][k] : mat[i][k] - mat[i][j];
        assert.ok(Math.abs(t - margin) > 1e-4 && Math.abs(t) > 1e-4, `ill-posed case: t=${t} margin=${margin}`);
        let keep = t <= margin;
        if (type === 'easy') keep = t > margin;
        if (type === 'hard') keep = keep && t <= 0;
        if (type === 'semihard') keep = keep && t > 0;
        if (keep) { out.a.push(i); out.p.push(j); out.n.push(k); }
      }
    }
  }
  return out;
}

interface Pairs { a1: number[]; p: number[]; a2: number[]; n: number[] }

/** Multi-similarity pairs: per anchor, kept pairs sorted by ascending matrix value. */
function expectedMsPairs(mat: number[][], labels: number[], refLabels: number[], self: boolean, eps: number, inverted: boolean): Pairs {
  const out: Pairs = { a1: [], p: [], a2: [], n: [] };
  const pos: number[][] = [], neg: number[][] = [];
  let anyPos = false, anyNeg = false;
  for (let i = 0; i < labels.length; i++) {
    pos.push([]); neg.push([]);
    for (let j = 0; j < refLabels.length; j++) {
      if (self && i === j) continue;
      if (labels[i] === refLabels[j]) { pos[i].push(j); anyPos = true; } else { neg[i].push(j); anyNeg = true; }
    }
  }
  if (!anyPos || !anyNeg) return out;
  for (let i = 0; i < labels.length; i++) {
    if (pos[i].length === 0 || neg[i].length === 0) continue;
    const pv = pos[i].map((j) => mat[i][j]);
    const nv = neg[i].map((j) => mat[i][j]);
    // For similarities: hardest negative = most similar, hardest positive = least similar.
    const hardNeg = inverted ? Math.max(...nv) : Math.min(...nv);
    const hardPos = inverted ? Math.min(...pv) : Math.max(...pv);
    const keptP: number[] = [], keptN: number[] = [];
    for (const j of pos[i]) {
      const v = mat[i][j];
      const gap = inverted ? hardNeg - (v - eps) : v + eps - hardNeg;
      assert.ok(Math.abs(gap) > 1e-4, `ill-posed case: positive gap ${gap}`);
      if (gap > 0) keptP.push(j);
    }
    for (const j of neg[i]) {
      const v = mat[i][j];
      const gap = inverted ? v + eps - hardPos : hardPos - (v - eps);
      assert.ok(Math.abs(gap) > 1e-4, `ill-posed case: negative gap ${gap}`);
      if (gap > 0) keptN.push(j);
    }
    for (const kept of [keptP, keptN]) {
      kept.sort((x, y) => mat[i][x] - mat[i][y]);
      for (let k = 1; k < kept.length; k++) {
        assert.ok(mat[i][kept[k]] - mat[i][kept[k - 1]] > 1e-5, `ill-posed case: tie in row ${i}`);
      }
    }
    for (const j of keptP) { out.a1.push(i); out.p.push(j); }
    for (const j of keptN) { out.a2.push(i); out.n.push(j); }
  }
  return out;
}

function distanceFor(kind: Kind): akin.distances.BaseDistance {
  if (kind === 'cos') return new CosineSimilarity();
  if (kind === 'l2raw') return new LpDistance({ normalizeEmbeddings: false });
  return new LpDistance();
}

function mineTriplets(miner: akin.miners.BaseMiner, withRef: boolean): Triplets {
  return tf.tidy(() => {
    const before = tf.memory().numTensors;
    const out = withRef
      ? miner.mine(tf.tensor2d(X), Y, tf.tensor2d(R), RY)
      : miner.mine(tf.tensor2d(X), Y);
    assert.ok(tf.memory().numTensors <= before + (withRef ? 2 : 1), 'mining leaked tensors');
    assert.ok(akin.core.isTriplets(out));
    for (const arr of [out.anchors, out.positives, out.negatives]) assert.ok(arr instanceof Int32Array);
    return { a: Array.from(out.anchors), p: Array.from(out.positives), n: Array.from(out.negatives) };
  });
}

function minePairs(miner: akin.miners.BaseMiner, withRef: boolean, x = X, y = Y): Pairs {
  return tf.tidy(() => {
    const out = withRef ? miner.mine(tf.tensor2d(x), y, tf.tensor2d(R), RY) : miner.mine(tf.tensor2d(x), y);
    assert.ok(akin.core.isPairs(out));
    for (const arr of [out.anchors1, out.positives, out.anchors2, out.negatives]) assert.ok(arr instanceof Int32Array);
    return { a1: Array.from(out.anchors1), p: Array.from(out.positives), a2: Array.from(out.anchors2), n: Array.from(out.negatives) };
  });
}

// ---------- TripletMarginMiner ----------

const TYPES = ['all', 'hard', 'semihard', 'easy'] as const;
const MARGINS: Record<Kind, number[]> = { l2: [0, 0.1, 0.2, 0.5, 1], cos: [0.05, 0.2, 0.5, 1.2], l2raw: [0.15, 0.42, 1.1] };

for (const kind of ['l2', 'cos', 'l2raw'] as const) {
  for (const withRef of [false, true]) {
    test(`TripletMarginMiner (${kind}, ${withRef ? 'ref set' : 'batch'}): exact triplets, in order, for every type and margin`, () => {
      const mat = withRef ? refMatrix(X, R, kind) : refMatrix(X, X, kind);
      const refLabels = withRef ? RY : Y;
      const distinct = new Set<string>();
      for (const margin of MARGINS[kind]) {
        for (const typeOfTriplets of TYPES) {
          const miner = new TripletMarginMiner({ margin, typeOfTriplets, distance: distanceFor(kind) });
          const got = mineTriplets(miner, withRef);
          const want = expectedTriplets(mat, Y, refLabels, !withRef, margin, typeOfTriplets, kind === 'cos');
          assert.deepEqual(got, want, `margin ${margin}, ${typeOfTriplets}`);
          assert.equal(miner.records.numTriplets, want.a.length);
          distinct.add(`${typeOfTriplets}:${want.a.length}`);
        }
      }
      // the margins and types chosen really change the answer
      assert.ok(distinct.size >= 8, `only ${distinct.size} distinct outcomes`);
    });
  }
}

test('TripletMarginMiner: every type partitions "all candidates" as PML defines them', () => {
  const mat = refMatrix(X, X, 'l2');
  const all = akin.core.allTriplets(Int32Array.from(Y));
  const m = 0.3;
  const count = (type: (typeof TYPES)[number]): number => expectedTriplets(mat, Y, Y, true, m, type, false).a.length;
  assert.equal(count('all') + count('easy'), all.anchors.length);
  assert.equal(count('hard') + count('semihard'), count('all'));
  assert.ok(count('hard') > 0 && count('semihard') > 0 && count('easy') > 0);
});

test('TripletMarginMiner: defaults, records, config round trip and registry', () => {
  const miner = new TripletMarginMiner();
  assert.equal(miner.margin, 0.2);
  assert.equal(miner.typeOfTriplets, 'all');
  assert.ok(miner.distance instanceof LpDistance);
  const got = mineTriplets(miner, false);
  const mat = refMatrix(X, X, 'l2');
  assert.deepEqual(got, expectedTriplets(mat, Y, Y, true, 0.2, 'all', false));
  // records: means over every candidate triplet
  const all = akin.core.allTriplets(Int32Array.from(Y));
  let ap = 0, an = 0;
  for (let t = 0; t < all.anchors.length; t++) {
    ap += mat[all.anchors[t]][all.positives[t]];
    an += mat[all.anchors[t]][all.negatives[t]];
  }
  assertClose(miner.records.posPairDist, ap / all.anchors.length);
  assertClose(miner.records.negPairDist, an / all.anchors.length);
  assertClose(miner.records.avgTripletMargin, (an - ap) / all.anchors.length);

  const custom = new TripletMarginMiner({ margin: 0.5, typeOfTriplets: 'semihard', distance: { className: 'CosineSimilarity' } });
  const cfg = custom.getConfig();
  assert.deepEqual(cfg, {
    margin: 0.5,
    typeOfTriplets: 'semihard',
    distance: { className: 'CosineSimilarity', config: new CosineSimilarity().getConfig() },
  });
  const rebuilt = akin.miners.fromConfig({ className: 'TripletMarginMiner', config: cfg }) as akin.miners.TripletMarginMiner;
  assert.ok(rebuilt instanceof TripletMarginMiner);
  assert.ok(rebuilt.distance instanceof CosineSimilarity);
  assert.deepEqual(mineTriplets(rebuilt, false), mineTriplets(custom, false));
  assert.ok(akin.miners.registry.names().includes('TripletMarginMiner'));
});

test('TripletMarginMiner: bad options raise ConfigError naming the option', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ margin: '0.1' }, 'margin'],
    [{ margin: Number.NaN }, 'margin'],
    [{ typeOfTriplets: 'medium' }, 'typeOfTriplets'],
    [{ distance: 5 }, 'distance'],
    [{ type_of_triplets: 'hard' }, 'type_of_triplets'],
  ];
  for (const [opts, name] of cases) {
    assert.throws(() => new TripletMarginMiner(opts as akin.miners.TripletMarginMinerOptions),
      (e: unknown) => e instanceof akin.ConfigError && e.message.includes(`'${name}'`), name);
  }
  assert.throws(() => new TripletMarginMiner({ distance: { className: 'NoSuchDistance' } }),
    (e: unknown) => e instanceof akin.ConfigError && /NoSuchDistance/.test(e.message));
});

test('miners: the batch passed as its own reference set excludes self-pairs; a copy does not', () => {
  const miner = new TripletMarginMiner({ margin: 1 });
  const labels = Int32Array.from(Y);
  tf.tidy(() => {
    const emb = tf.tensor2d(X);
    const none = miner.mine(emb, labels) as akin.TripletIndices;
    const same = miner.mine(emb, labels, emb, labels) as akin.TripletIndices;
    assert.deepEqual(same, none);
    const copy = miner.mine(emb, labels, tf.tensor2d(X), Int32Array.from(Y)) as akin.TripletIndices;
    const want = expectedTriplets(refMatrix(X, X, 'l2'), Y, Y, false, 1, 'all', false);
    assert.deepEqual({ a: Array.from(copy.anchors), p: Array.from(copy.positives), n: Array.from(copy.negatives) }, want);
    assert.ok(want.a.length > none.anchors.length, 'self-pairs (distance 0) add triplets');
  });
});

test('miners: one class or one sample gives no tuples and no NaN records', () => {
  const tm = new TripletMarginMiner();
  const ms = new MultiSimilarityMiner();
  tf.tidy(() => {
    const emb = tf.tensor2d(X.slice(0, 3));
    const t = tm.mine(emb, [4, 4, 4]) as akin.TripletIndices;
    assert.equal(t.anchors.length, 0);
    assert.equal(tm.records.numTriplets, 0);
    assert.equal(tm.records.posPairDist, undefined);
    const p = ms.mine(emb, [4, 4, 4]) as akin.PairIndices;
    assert.equal(p.anchors1.length + p.anchors2.length, 0);
    const single = ms.mine(tf.tensor2d([X[0]]), [1]) as akin.PairIndices;
    assert.equal(single.anchors1.length + single.anchors2.length, 0);
  });
  assert.throws(() => tm.mine(tf.tensor2d(X), [0, 1]), (e: unknown) => e instanceof akin.ShapeError);
});

// ---------- MultiSimilarityMiner ----------

const EPSILONS: Record<Kind, number[]> = { l2: [0, 0.1, 0.3, 0.8], cos: [0, 0.1, 0.25, 0.8], l2raw: [0.05, 0.2, 0.6] };

for (const kind of ['cos', 'l2', 'l2raw'] as const) {
  for (const withRef of [false, true]) {
    test(`MultiSimilarityMiner (${kind}, ${withRef ? 'ref set' : 'batch'}): exact pairs, in order, for several epsilons`, () => {
      const mat = withRef ? refMatrix(X, R, kind) : refMatrix(X, X, kind);
      const refLabels = withRef ? RY : Y;
      const counts = new Set<string>();
      for (const epsilon of EPSILONS[kind]) {
        const miner = new MultiSimilarityMiner({ epsilon, distance: distanceFor(kind) });
        const got = minePairs(miner, withRef);
        const want = expectedMsPairs(mat, Y, refLabels, !withRef, epsilon, kind === 'cos');
        assert.deepEqual(got, want, `epsilon ${epsilon}`);
        assert.equal(miner.records.numPosPairs, want.a1.length);
        assert.equal(miner.records.numNegPairs, want.a2.length);
        counts.add(`${want.a1.length}/${want.a2.length}`);
      }
      assert.ok(counts.size >= 3, 'epsilon changes the answer');
    });
  }
}

test('MultiSimilarityMiner: defaults (cosine, epsilon 0.1), config, registry, bad options', () => {
  const miner = new MultiSimilarityMiner();
  assert.equal(miner.epsilon, 0.1);
  assert.ok(miner.distance instanceof CosineSimilarity);
  assert.deepEqual(minePairs(miner, false), expectedMsPairs(refMatrix(X, X, 'cos'), Y, Y, true, 0.1, true));
  const cfg = new MultiSimilarityMiner({ epsilon: 0.3, distance: new LpDistance({ power: 2 }) }).getConfig();
  assert.deepEqual(cfg, { epsilon: 0.3, distance: { className: 'LpDistance', config: new LpDistance({ power: 2 }).getConfig() } });
  const rebuilt = akin.miners.fromConfig({ className: 'MultiSimilarityMiner', config: cfg }) as akin.miners.MultiSimilarityMiner;
  assert.ok(rebuilt instanceof MultiSimilarityMiner && rebuilt.distance instanceof LpDistance && rebuilt.distance.power === 2);
  assert.throws(() => new MultiSimilarityMiner({ epsilon: 'big' as unknown as number }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'epsilon'"));
  assert.throws(() => new MultiSimilarityMiner({ distance: 'cosine' as unknown as akin.miners.DistanceSpec }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'distance'"));
});

test('MultiSimilarityMiner: anchors whose class has no other member mine nothing', () => {
  // label 9 appears once: its anchor has no positive, so PML keeps none of its negatives either
  const y = [0, 0, 1, 1, 9, 2, 2, 1];
  const got = minePairs(new MultiSimilarityMiner({ epsilon: 0.5 }), false, X, y);
  assert.ok(!got.a1.includes(4) && !got.a2.includes(4));
  assert.deepEqual(got, expectedMsPairs(refMatrix(X, X, 'cos'), y, y, true, 0.5, true));
});
