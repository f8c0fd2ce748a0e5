import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, assertClose } from './helpers.js';

const tf = akin.tf;
const M = akin.miners;
const { LpDistance, CosineSimilarity } = akin.distances;

before(async () => {
  await initBackend();
});

// Hand-built batch: 9 embeddings in 3-D, classes of sizes 4, 3, 2; no two rows parallel.
const X = [
  [0.9, 0.1, 0.2], [0.7, 0.5, -0.1], [0.2, 0.9, 0.35], [-0.6, 0.3, 0.75],
  [0.15, -0.8, 0.4], [0.5, 0.45, 0.9], [-0.3, -0.2, -0.95],
  [0.05, 0.6, -0.7], [-0.85, -0.45, 0.15],
];
const Y = [0, 0, 0, 0, 1, 1, 1, 2, 2];
// reference set: label 3 is new, label 2 missing
const R = [[0.3, 0.8, -0.2], [-0.4, 0.1, 0.9], [0.6, -0.6, 0.1], [0.1, 0.2, 0.95], [-0.7, 0.65, -0.3]];
const RY = [0, 1, 3, 1, 0];

type Kind = 'l2' | 'cos';

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** Plain-loop distance (or cosine similarity) matrix on normalised rows. */
function matrix(q: number[][], r: number[][], kind: Kind): number[][] {
  const qu = q.map(unit), ru = r.map(unit);
  return qu.map((a) => ru.map((b) => (kind === 'cos'
    ? a.reduce((s, x, k) => s + x * b[k], 0)
    : Math.sqrt(a.reduce((s, x, k) => s + (x - b[k]) ** 2, 0)))));
}

function dist(kind: Kind): akin.distances.BaseDistance {
  return kind === 'cos' ? new CosineSimilarity() : new LpDistance();
}

interface Pairs { a1: number[]; p: number[]; a2: number[]; n: number[] }

function pairsOf(t: akin.IndexTuple): Pairs {
  assert.ok(akin.core.isPairs(t));
  for (const arr of [t.anchors1, t.positives, t.anchors2, t.negatives]) assert.ok(arr instanceof Int32Array);
  return { a1: Array.from(t.anchors1), p: Array.from(t.positives), a2: Array.from(t.anchors2), n: Array.from(t.negatives) };
}

function mine(miner: akin.miners.BaseMiner, withRef: boolean, x = X, y = Y): akin.IndexTuple {
  const emb = tf.tensor2d(x), ref = tf.tensor2d(R);
  const before = tf.memory().numTensors;
  try {
    return withRef ? miner.mine(emb, y, ref, RY) : miner.mine(emb, y);
  } finally {
    assert.equal(tf.memory().numTensors, before, 'mining leaked tensors');
    tf.dispose([emb, ref]);
  }
}

/** Candidate positives / negatives of row i, ascending. */
function candidates(i: number, refLabels: number[], self: boolean): { pos: number[]; neg: number[] } {
  const pos: number[] = [], neg: number[] = [];
  refLabels.forEach((l, j) => {
    if (l !== Y[i]) neg.push(j);
    else if (!(self && i === j)) pos.push(j);
  });
  return { pos, neg };
}

/**
 * Reference BatchEasyHardMiner: "hard" positive = farthest (least similar), "easy" = closest; "hard"
 * negative = closest, "easy" = farthest; semihard = hardest that stays on the right side of the other
 * pick; ranges inclusive.
 */
function expectedEasyHard(mat: number[][], refLabels: number[], self: boolean, kind: Kind, ps: string, ns: string,
  pr: [number, number] | null = null, nr: [number, number] | null = null): Pairs {
  const inv = kind === 'cos';
  // "closeness": larger = closer, so hard positive = least close, hard negative = most close
  const close = (v: number): number => (inv ? v : -v);
  const inRange = (v: number, r: [number, number] | null): boolean => r === null || (v >= r[0] && v <= r[1]);
  const pick = (i: number, list: number[], wantClosest: boolean, r: [number, number] | null, ok: (v: number) => boolean): number => {
    let best = -1;
    for (const j of list) {
      const v = mat[i][j];
      if (!inRange(v, r) || !ok(v)) continue;
      if (best < 0 || (wantClosest ? close(v) > close(mat[i][best]) : close(v) < close(mat[i][best]))) best = j;
    }
    return best;
  };
  const out: Pairs = { a1: [], p: [], a2: [], n: [] };
  const pPick: number[] = [], nPick: number[] = [];
  for (let i = 0; i < Y.length; i++) {
    const { pos, neg } = candidates(i, refLabels, self);
    let pj = -1, nj = -1;
    if (ps === 'semihard') {
      nj = pick(i, neg, ns === 'hard', nr, () => true);
      const nv = nj < 0 ? null : close(mat[i][nj]);
      pj = pick(i, pos, false, pr, (v) => nv === null || close(v) > nv);
    } else if (ns === 'semihard') {
      pj = pick(i, pos, ps === 'easy', pr, () => true);
      const pv = pj < 0 ? null : close(mat[i][pj]);
      nj = pick(i, neg, true, nr, (v) => pv === null || close(v) < pv);
    } else {
      if (ps !== 'all') pj = pick(i, pos, ps === 'easy', pr, () => true);
      if (ns !== 'all') nj = pick(i, neg, ns === 'hard', nr, () => true);
    }
    pPick.push(pj); nPick.push(nj);
  }
  for (let i = 0; i < Y.length; i++) {
    const { pos, neg } = candidates(i, refLabels, self);
    if (ps !== 'all' && ns !== 'all') {
      if (pPick[i] >= 0 && nPick[i] >= 0) { out.a1.push(i); out.p.push(pPick[i]); out.a2.push(i); out.n.push(nPick[i]); }
      continue;
    }
    if (ps === 'all') for (const j of pos) { out.a1.push(i); out.p.push(j); }
    else if (pPick[i] >= 0) { out.a1.push(i); out.p.push(pPick[i]); }
    if (ns === 'all') for (const j of neg) { out.a2.push(i); out.n.push(j); }
    else if (nPick[i] >= 0) { out.a2.push(i); out.n.push(nPick[i]); }
  }
  return out;
}

const STRATEGY_PAIRS: [string, string][] = [
  ['easy', 'semihard'], ['hard', 'hard'], ['easy', 'hard'], ['hard', 'easy'], ['easy', 'easy'],
  ['semihard', 'hard'], ['semihard', 'easy'], ['hard', 'semihard'], ['all', 'hard'], ['easy', 'all'], ['all', 'all'],
];

for (const kind of ['l2', 'cos'] as const) {
  for (const withRef of [false, true]) {
    test(`BatchEasyHardMiner (${kind}, ${withRef ? 'ref set' : 'batch'}): exact pairs for every strategy combination`, () => {
      const mat = matrix(X, withRef ? R : X, kind);
      const refLabels = withRef ? RY : Y;
      const seen = new Set<string>();
      for (const [ps, ns] of STRATEGY_PAIRS) {
        const miner = new M.BatchEasyHardMiner({ posStrategy: ps as akin.miners.BatchMiningStrategy, negStrategy: ns as akin.miners.BatchMiningStrategy, distance: dist(kind) });
        const got = pairsOf(mine(miner, withRef));
        const want = expectedEasyHard(mat, refLabels, !withRef, kind, ps, ns);
        assert.deepEqual(got, want, `${ps}/${ns}`);
        assert.equal(miner.records.numPosPairs, want.a1.length);
        seen.add(JSON.stringify(want));
      }
      assert.ok(seen.size >= 8, 'strategies change the answer');
    });
  }
}

test('BatchEasyHardMiner: allowed ranges filter candidates before picking; records', () => {
  const mat = matrix(X, X, 'l2');
  const pr: [number, number] = [0.3, 1.2], nr: [number, number] = [0.8, 1.6];
  const miner = new M.BatchEasyHardMiner({ posStrategy: 'hard', negStrategy: 'hard', allowedPosRange: pr, allowedNegRange: nr });
  const got = pairsOf(mine(miner, false));
  const want = expectedEasyHard(mat, Y, true, 'l2', 'hard', 'hard', pr, nr);
  assert.deepEqual(got, want);
  assert.notDeepEqual(want, expectedEasyHard(mat, Y, true, 'l2', 'hard', 'hard'), 'the ranges matter here');
  const pv = want.a1.map((a, k) => mat[a][want.p[k]]), nv = want.a2.map((a, k) => mat[a][want.n[k]]);
  assertClose(miner.records.hardestPosPair, Math.max(...pv));
  assertClose(miner.records.easiestPosPair, Math.min(...pv));
  assertClose(miner.records.hardestNegPair, Math.min(...nv));
  assertClose(miner.records.easiestNegPair, Math.max(...nv));
  const diff = pv.map((v, k) => v - nv[k]);
  assertClose(miner.records.hardestTriplet, Math.max(...diff));
  assertClose(miner.records.easiestTriplet, Math.min(...diff));
});

test('BatchEasyHardMiner: defaults, invalid combinations and config round trip', () => {
  const m = new M.BatchEasyHardMiner();
  assert.equal(m.posStrategy, 'easy');
  assert.equal(m.negStrategy, 'semihard');
  assert.equal(m.allowedPosRange, null);
  assert.ok(m.distance instanceof LpDistance);
  const bad: [Record<string, unknown>, string][] = [
    [{ posStrategy: 'semihard', negStrategy: 'semihard' }, 'posStrategy'],
    [{ posStrategy: 'all', negStrategy: 'semihard' }, 'negStrategy'],
    [{ posStrategy: 'semihard', negStrategy: 'all' }, 'posStrategy'],
    [{ posStrategy: 'medium' }, 'posStrategy'],
    [{ allowedNegRange: [1] }, 'allowedNegRange'],
  ];
  for (const [o, name] of bad) {
    assert.throws(() => new M.BatchEasyHardMiner(o as akin.miners.BatchEasyHardMinerOptions),
      (e: unknown) => e instanceof akin.ConfigError && e.message.includes(`'${name}'`), name);
  }
  const custom = new M.BatchEasyHardMiner({ posStrategy: 'hard', negStrategy: 'easy', allowedPosRange: [0, 1], distance: new CosineSimilarity() });
  const rebuilt = M.fromConfig({ className: 'BatchEasyHardMiner', config: custom.getConfig() }) as akin.miners.BatchEasyHardMiner;
  assert.deepEqual(rebuilt.getConfig(), custom.getConfig());
  assert.deepEqual(pairsOf(mine(rebuilt, false)), pairsOf(mine(custom, false)));
});

for (const kind of ['l2', 'cos'] as const) {
  test(`BatchHardMiner (${kind}): one triplet per anchor, hardest positive and hardest negative`, () => {
    const mat = matrix(X, X, kind);
    const inv = kind === 'cos';
    const miner = new M.BatchHardMiner({ distance: dist(kind) });
    const t = mine(miner, false);
    assert.ok(akin.core.isTriplets(t));
    const a: number[] = [], p: number[] = [], n: number[] = [];
    for (let i = 0; i < Y.length; i++) {
      const { pos, neg } = candidates(i, Y, true);
      const far = (x: number, y: number): boolean => (inv ? mat[i][x] < mat[i][y] : mat[i][x] > mat[i][y]);
      let bp = pos[0], bn = neg[0];
      for (const j of pos) if (far(j, bp)) bp = j;
      for (const j of neg) if (far(bn, j)) bn = j;
      a.push(i); p.push(bp); n.push(bn);
    }
    assert.deepEqual({ a: Array.from(t.anchors), p: Array.from(t.positives), n: Array.from(t.negatives) }, { a, p, n });
    assert.equal(miner.records.numTriplets, Y.length);
  });
}

test('BatchHardMiner: anchors without a positive are skipped; config round trip', () => {
  const y = [0, 0, 0, 0, 1, 1, 1, 2, 5];
  const t = mine(new M.BatchHardMiner(), false, X, y) as akin.TripletIndices;
  assert.deepEqual(Array.from(t.anchors), [0, 1, 2, 3, 4, 5, 6]);
  const m = M.fromConfig({ className: 'BatchHardMiner', config: new M.BatchHardMiner({ distance: new CosineSimilarity() }).getConfig() });
  assert.ok(m instanceof M.BatchHardMiner && (m as akin.miners.BatchHardMiner).distance instanceof CosineSimilarity);
  assert.throws(() => new M.BatchHardMiner({ posStrategy: 'easy' } as akin.miners.BatchHardMinerOptions),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'posStrategy'"));
});

for (const kind of ['l2', 'cos'] as const) {
  for (const withRef of [false, true]) {
    test(`PairMarginMiner (${kind}, ${withRef ? 'ref set' : 'batch'}): pairs violating the margins, row-major`, () => {
      const mat = matrix(X, withRef ? R : X, kind);
      const refLabels = withRef ? RY : Y;
      const margins = kind === 'cos' ? [[0.9, 0.1], [0.5, -0.2], [0.2, 0.6]] : [[0.2, 0.8], [0.6, 1.2], [1, 1.5]];
      for (const [posMargin, negMargin] of margins) {
        const miner = new M.PairMarginMiner({ posMargin, negMargin, distance: dist(kind) });
        const want: Pairs = { a1: [], p: [], a2: [], n: [] };
        let sp = 0, np = 0, sn = 0, nn = 0;
        for (let i = 0; i < Y.length; i++) {
          const { pos, neg } = candidates(i, refLabels, !withRef);
          for (const j of pos) {
            sp += mat[i][j]; np++;
            if (kind === 'cos' ? mat[i][j] < posMargin : mat[i][j] > posMargin) { want.a1.push(i); want.p.push(j); }
          }
          for (const j of neg) {
            sn += mat[i][j]; nn++;
            if (kind === 'cos' ? mat[i][j] > negMargin : mat[i][j] < negMargin) { want.a2.push(i); want.n.push(j); }
          }
        }
        assert.deepEqual(pairsOf(mine(miner, withRef)), want);
        assertClose(miner.records.posPairDist, sp / np);
        assertClose(miner.records.negPairDist, sn / nn);
      }
    });
  }
}

test('PairMarginMiner: defaults 0.2 / 0.8, config round trip, bad options', () => {
  const m = new M.PairMarginMiner();
  assert.deepEqual([m.posMargin, m.negMargin], [0.2, 0.8]);
  const r = M.fromConfig({ className: 'PairMarginMiner', config: m.getConfig() }) as akin.miners.PairMarginMiner;
  assert.deepEqual(pairsOf(mine(r, false)), pairsOf(mine(m, false)));
  assert.throws(() => new M.PairMarginMiner({ negMargin: 'x' as unknown as number }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'negMargin'"));
});

for (const kind of ['l2', 'cos'] as const) {
  test(`HDCMiner (${kind}): the hardest ceil(f x n) pairs of each side, hardest first`, () => {
    const mat = matrix(X, X, kind);
    const all = akin.core.allPairs(Int32Array.from(Y));
    for (const f of [0.25, 0.5, 1]) {
      const miner = new M.HDCMiner({ filterPercentage: f, distance: dist(kind) });
      const got = pairsOf(mine(miner, false));
      const order = (rows: Int32Array, cols: Int32Array, largest: boolean): [number[], number[]] => {
        const idx = Array.from(rows, (_, k) => k);
        idx.sort((x, y) => (largest ? mat[rows[y]][cols[y]] - mat[rows[x]][cols[x]] : mat[rows[x]][cols[x]] - mat[rows[y]][cols[y]]));
        const k = Math.ceil(f * rows.length);
        return [idx.slice(0, k).map((i) => rows[i]), idx.slice(0, k).map((i) => cols[i])];
      };
      const [a1, p] = order(all.anchors1, all.positives, kind !== 'cos');
      const [a2, n] = order(all.anchors2, all.negatives, kind === 'cos');
      assert.deepEqual(got, { a1, p, a2, n }, `f = ${f}`);
    }
  });
}

test('HDCMiner: an external pool is filtered, and narrows on every call until reset', () => {
  const ms = new M.MultiSimilarityMiner({ epsilon: 0.5 });
  const hdc = new M.HDCMiner({ filterPercentage: 0.5 });
  const pool = pairsOf(mine(ms, false));
  hdc.setIdxExternally(mine(ms, false));
  assert.ok(hdc.wasSetExternally);
  const first = pairsOf(mine(hdc, false));
  assert.equal(first.a1.length, Math.ceil(pool.a1.length / 2));
  assert.equal(first.a2.length, Math.ceil(pool.a2.length / 2));
  for (let k = 0; k < first.a1.length; k++) {
    assert.ok(pool.a1.some((a, q) => a === first.a1[k] && pool.p[q] === first.p[k]), 'comes from the pool');
  }
  const second = pairsOf(mine(hdc, false));
  assert.equal(second.a1.length, Math.ceil(first.a1.length / 2));
  hdc.resetIdx();
  const all = akin.core.allPairs(Int32Array.from(Y));
  assert.equal(pairsOf(mine(hdc, false)).a1.length, Math.ceil(all.anchors1.length / 2));
  // triplets are split into pairs
  hdc.setIdxExternally({ anchors: Int32Array.of(0, 4), positives: Int32Array.of(1, 5), negatives: Int32Array.of(7, 8) });
  assert.deepEqual(pairsOf(mine(hdc, false)).a2.length, 1);
  assert.throws(() => new M.HDCMiner({ filterPercentage: 2 }), (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'filterPercentage'"));
});

test('UniformHistogramMiner: perBin draws from every non-empty equal-width bin, in bin order', () => {
  const numBins = 4, posPerBin = 3, negPerBin = 5;
  const mat = matrix(X, X, 'l2');
  const miner = new M.UniformHistogramMiner({ numBins, posPerBin, negPerBin, seed: 3 });
  const got = pairsOf(mine(miner, false));
  const all = akin.core.allPairs(Int32Array.from(Y));
  const check = (rows: Int32Array, cols: Int32Array, gotA: number[], gotO: number[], per: number): void => {
    const vals = Array.from(rows, (r, k) => mat[r][cols[k]]);
    const lo = Math.min(...vals), hi = Math.max(...vals), w = (hi - lo) / numBins;
    const binOf = (v: number): number => Math.min(numBins - 1, Math.floor((v - lo) / w));
    const nonEmpty = new Set(vals.map(binOf));
    assert.equal(gotA.length, nonEmpty.size * per);
    const bins = gotA.map((a, k) => {
      const q = Array.from(rows).findIndex((r, t) => r === a && cols[t] === gotO[k]);
      assert.ok(q >= 0, 'a real pair of the right kind');
      return binOf(vals[q]);
    });
    const wantBins = [...nonEmpty].sort((x, y) => x - y).flatMap((b) => Array<number>(per).fill(b));
    assert.deepEqual(bins, wantBins);
  };
  check(all.anchors1, all.positives, got.a1, got.p, posPerBin);
  check(all.anchors2, all.negatives, got.a2, got.n, negPerBin);
  // same seed, same pairs; another seed, other draws
  assert.deepEqual(pairsOf(mine(new M.UniformHistogramMiner({ numBins, posPerBin, negPerBin, seed: 3 }), false)), got);
  assert.notDeepEqual(pairsOf(mine(new M.UniformHistogramMiner({ numBins, posPerBin, negPerBin, random: akin.createRandom(99) }), false)), got);
});

test('UniformHistogramMiner: bin edges follow float32 linspace; defaults and config', () => {
  const edges = M.binEdges([0.25, 1.75, 1], 3);
  assert.deepEqual(Array.from(edges), [0.25, 0.75, 1.25, 1.75]);
  const m = new M.UniformHistogramMiner();
  assert.deepEqual([m.numBins, m.posPerBin, m.negPerBin], [100, 10, 10]);
  const r = M.fromConfig({ className: 'UniformHistogramMiner', config: m.getConfig() }) as akin.miners.UniformHistogramMiner;
  assert.deepEqual(pairsOf(mine(r, false)), pairsOf(mine(new M.UniformHistogramMiner(), false)));
  assert.throws(() => new M.UniformHistogramMiner({ numBins: 0 }), (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'numBins'"));
});

test('EmbeddingsAlreadyPackagedAsTriplets: consecutive (a, p, n) whatever the labels', () => {
  const miner = new M.EmbeddingsAlreadyPackagedAsTriplets();
  const t = mine(miner, false, X.slice(0, 6), [5, 5, 5, 5, 5, 5]) as akin.TripletIndices;
  assert.deepEqual([Array.from(t.anchors), Array.from(t.positives), Array.from(t.negatives)], [[0, 3], [1, 4], [2, 5]]);
  assert.equal(miner.records.numTriplets, 2);
  assert.throws(() => mine(miner, false, X.slice(0, 7), Y.slice(0, 7)), (e: unknown) => e instanceof akin.ShapeError);
  assert.ok(M.fromConfig('EmbeddingsAlreadyPackagedAsTriplets') instanceof M.EmbeddingsAlreadyPackagedAsTriplets);
});
