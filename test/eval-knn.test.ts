import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { assertClose, initBackend, randomRows } from './helpers.js';

const tf = akin.tf;
const { knn } = akin.eval;
type Metric = 'cosine' | 'ip' | 'l2';

before(async () => {
  await initBackend();
});

/** Score of (q, r) in float64, larger = closer (l2: minus the squared distance). */
function score(q: number[], r: number[], metric: Metric): number {
  let dot = 0, qq = 0, rr = 0, d2 = 0;
  for (let i = 0; i < q.length; i++) {
    dot += q[i] * r[i];
    qq += q[i] * q[i];
    rr += r[i] * r[i];
    d2 += (q[i] - r[i]) ** 2;
  }
  if (metric === 'l2') return -d2;
  if (metric === 'ip') return dot;
  return dot / (Math.max(Math.sqrt(qq), 1e-12) * Math.max(Math.sqrt(rr), 1e-12));
}

/** Brute force: score every pair, sort by (score desc, index asc), keep k. */
function bruteForce(query: number[][], ref: number[][], k: number, metric: Metric, excludeSelf: boolean): { indices: number[]; values: number[] } {
  const indices: number[] = [];
  const values: number[] = [];
  query.forEach((q, i) => {
    const all = ref.map((r, j) => ({ j, s: score(q, r, metric) })).filter((e) => !(excludeSelf && e.j === i));
    all.sort((a, b) => b.s - a.s || a.j - b.j);
    for (const e of all.slice(0, k)) {
      indices.push(e.j);
      values.push(metric === 'l2' ? -e.s : e.s);
    }
  });
  return { indices, values };
}

const flat = (rows: number[][]): Float32Array => Float32Array.from(rows.flat());

test('knn matches brute force for every metric and tile shape (including tiles that do not divide n)', async () => {
  const query = randomRows(23, 5, 11);
  const ref = randomRows(41, 5, 12);
  const k = 6;
  for (const metric of ['cosine', 'ip', 'l2'] as const) {
    const want = bruteForce(query, ref, k, metric, false);
    for (const [qt, rt] of [[1, 1], [4, 5], [7, 10], [23, 41], [1024, 4096]]) {
      const got = await knn({ query: flat(query), reference: flat(ref), dim: 5, k, metric, queryTileSize: qt, referenceTileSize: rt });
      assert.equal(got.k, k);
      assert.equal(got.numQueries, 23);
      assert.deepEqual(Array.from(got.indices), want.indices, `${metric} tiles ${qt}x${rt}`);
      assertClose(got.distances, want.values, { atol: 1e-5, rtol: 1e-4, msg: `${metric} tiles ${qt}x${rt}` });
    }
  }
});

test('excludeSelf drops each query\'s own row (reference omitted), on several tile sizes', async () => {
  const x = randomRows(29, 4, 21);
  for (const metric of ['cosine', 'ip', 'l2'] as const) {
    const want = bruteForce(x, x, 5, metric, true);
    for (const [qt, rt] of [[3, 4], [8, 8], [29, 7], [1000, 1000]]) {
      const got = await knn({ query: flat(x), dim: 4, k: 5, metric, queryTileSize: qt, referenceTileSize: rt });
      assert.deepEqual(Array.from(got.indices), want.indices, `${metric} tiles ${qt}x${rt}`);
      for (let i = 0; i < 29; i++) assert.ok(!Array.from(got.indices.subarray(i * 5, i * 5 + 5)).includes(i), `query ${i} found itself`);
    }
  }
  // k = n - 1 returns every other row.
  const all = await knn({ query: flat(x), dim: 4, k: 28, metric: 'l2', referenceTileSize: 6 });
  assert.deepEqual(Array.from(all.indices), bruteForce(x, x, 28, 'l2', true).indices);
});

test('ties are broken by the lower reference index, independent of tiling (exact integer data)', async () => {
  // Integer coordinates keep ip and squared-l2 arithmetic exact in float32, so ties are real ties.
  const r = akin.createRandom(5);
  const rows = (n: number): number[][] => Array.from({ length: n }, () => [0, 1, 2].map(() => Math.floor(r.next() * 5) - 2));
  const query = rows(17);
  const ref = rows(60);
  for (const metric of ['ip', 'l2'] as const) {
    const want = bruteForce(query, ref, 9, metric, false);
    for (const [qt, rt] of [[5, 7], [17, 13], [2, 60]]) {
      const got = await knn({ query: flat(query), reference: flat(ref), dim: 3, k: 9, metric, queryTileSize: qt, referenceTileSize: rt });
      assert.deepEqual(Array.from(got.indices), want.indices, `${metric} tiles ${qt}x${rt}`);
      assert.deepEqual(Array.from(got.distances), want.values, `${metric} tiles ${qt}x${rt}`);
    }
  }
  // A duplicate of the query at distance 0 is returned, the query itself is not.
  const dup = [[1, 1], [5, 5], [1, 1], [2, 2]];
  const got = await knn({ query: dup, k: 2, metric: 'l2', referenceTileSize: 3 });
  // Squared distances: p0: p2 0, p3 2, p1 32; p1: p3 18, then p0 and p2 tie at 32 (p0 wins);
  // p2: p0 0, p3 2; p3: p0 and p2 tie at 2.
  assert.deepEqual(Array.from(got.indices), [2, 3, 3, 0, 0, 3, 0, 2]);
  assert.deepEqual(Array.from(got.distances), [0, 2, 18, 32, 0, 2, 2, 2]);
});

test('tensor, Float32Array and row inputs agree; no tensor is leaked; progress is reported', async () => {
  const q = randomRows(10, 3, 31);
  const ref = randomRows(25, 3, 32);
  const qt = tf.tensor2d(q);
  const rt = tf.tensor2d(ref);
  const before = tf.memory().numTensors;
  const progress: [number, number][] = [];
  const a = await knn({ query: qt, reference: rt, k: 4, metric: 'cosine', queryTileSize: 4, referenceTileSize: 10, onProgress: (d, t) => progress.push([d, t]) });
  const b = await knn({ query: flat(q), reference: flat(ref), dim: 3, k: 4, metric: 'cosine' });
  const c = await knn({ query: q, reference: ref, k: 4, metric: 'cosine' });
  assert.equal(tf.memory().numTensors, before, 'knn leaked tensors');
  assert.deepEqual(Array.from(a.indices), Array.from(b.indices));
  assert.deepEqual(Array.from(c.indices), Array.from(b.indices));
  // 3 query tiles x 3 reference tiles.
  assert.deepEqual(progress, Array.from({ length: 9 }, (_, i) => [i + 1, 9]));
  assert.ok(!qt.isDisposed && !rt.isDisposed, 'caller tensors must stay alive');
  qt.dispose();
  rt.dispose();
});

test('knn defaults to squared L2 and rejects bad options with errors that name them', async () => {
  const x = randomRows(6, 2, 41);
  const got = await knn({ query: x, k: 2 });
  assert.equal(got.metric, 'l2');
  assert.deepEqual(Array.from(got.indices), bruteForce(x, x, 2, 'l2', true).indices);

  await assert.rejects(knn({ query: x, k: 6 }), (e: Error) => e instanceof akin.ConfigError && /'k'/.test(e.message));
  await assert.rejects(knn({ query: x, k: 0 }), (e: Error) => e instanceof akin.ConfigError && /'k'/.test(e.message));
  await assert.rejects(knn({ query: new Float32Array(12), k: 1 }), (e: Error) => e instanceof akin.ConfigError && /'dim'/.test(e.message));
  await assert.rejects(knn({ query: new Float32Array(13), dim: 3, k: 1 }), (e: Error) => e instanceof akin.ShapeError && /query/.test(e.message));
  await assert.rejects(knn({ query: x, reference: randomRows(5, 3), k: 1 }), (e: Error) => e instanceof akin.ShapeError);
  await assert.rejects(
    knn({ query: x, k: 1, metric: 'manhattan' as Metric }),
    (e: Error) => e instanceof akin.ConfigError && /'metric'/.test(e.message),
  );
  await assert.rejects(
    knn({ query: x, k: 1, tileSize: 3 } as unknown as akin.eval.KnnOptions),
    (e: Error) => e instanceof akin.ConfigError && /tileSize/.test(e.message),
  );
  await assert.rejects(knn({ query: [[1, Number.NaN]], reference: x, k: 1 }), (e: Error) => e instanceof akin.DataError);
});
