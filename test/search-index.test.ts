import { test, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as akin from 'akin';
import { initBackend, assertClose } from './helpers.js';

type Kind = akin.search.IndexKind;
type Metric = akin.search.IndexMetric;

before(async () => {
  await initBackend();
});

/** n random rows of length dim, flat. */
function rows(n: number, dim: number, seed: number): Float32Array {
  const r = akin.createRandom(seed);
  return Float32Array.from({ length: n * dim }, () => r.next() * 2 - 1);
}

/** Brute-force ranking in plain loops: [row, score] best first (score larger is closer). */
function brute(data: Float32Array, dim: number, q: Float32Array, metric: Metric, keep: (row: number) => boolean = () => true): [number, number][] {
  const out: [number, number][] = [];
  const n = data.length / dim;
  let qn = 0;
  for (let d = 0; d < dim; d++) qn += q[d] * q[d];
  for (let i = 0; i < n; i++) {
    if (!keep(i)) continue;
    let dot = 0, rn = 0, l2 = 0;
    for (let d = 0; d < dim; d++) {
      const x = data[i * dim + d];
      dot += x * q[d];
      rn += x * x;
      l2 += (x - q[d]) ** 2;
    }
    const score = metric === 'cosine' ? dot / Math.sqrt(rn * qn) : metric === 'ip' ? dot : -l2;
    out.push([i, score]);
  }
  return out.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
}

function row(data: Float32Array, dim: number, i: number): Float32Array {
  return data.slice(i * dim, (i + 1) * dim);
}

const kinds: Kind[] = akin.search.availableKinds();
test('exact, hnsw and lancedb all load here (optional packages installed)', () => {
  // Reported rather than silently skipped: the suite below runs for every available kind.
  assert.ok(kinds.includes('exact'));
  if (!kinds.includes('hnsw')) process.stderr.write('note: hnswlib-node missing, HNSW suite skipped\n');
  if (!kinds.includes('lancedb')) process.stderr.write('note: @lancedb/lancedb missing, LanceDB suite skipped\n');
});

for (const kind of ['exact', 'hnsw', 'lancedb'] as Kind[]) {
  describe(`${kind} index behaviour`, { skip: !kinds.includes(kind) && `${kind} package not installed` }, () => {
    const dim = 8;
    const n = 120;
    const data = rows(n, dim, 7);
    const ids = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? i : `item-${i}`));
    const meta = Array.from({ length: n }, (_, i) => ({ label: i % 3, name: `n${i}` }));
    const idRow = (id: akin.search.IndexId): number => (typeof id === 'number' ? id : Number(id.slice(5)));
    const fresh = async (): Promise<akin.search.NearestNeighborIndex> => {
      const index = akin.search.createIndex(kind, { metric: 'cosine', warn: () => assert.fail('unexpected fallback') });
      assert.equal(index.kind, kind);
      await index.add(data.subarray(0, 60 * dim), dim, ids.slice(0, 60), meta.slice(0, 60));
      await index.add(data.subarray(60 * dim), dim, ids.slice(60), meta.slice(60));
      return index;
    };

    test('add then search: size, own vector first, best-first order, scores match brute force', async () => {
      const index = await fresh();
      assert.equal(index.size, n);
      assert.equal(index.dim, dim);
      for (const qi of [0, 1, 57, 119]) {
        const q = row(data, dim, qi);
        const hits = await index.search(q, 5);
        assert.equal(hits.length, 5);
        assert.deepEqual(hits[0].id, ids[qi]);
        assertClose(hits[0].score, 1, { atol: 1e-4 });
        assert.deepEqual(hits[0].metadata, meta[qi]);
        const expected = brute(data, dim, q, 'cosine').slice(0, 5);
        assert.deepEqual(hits.map((h) => h.id), expected.map(([r]) => ids[r]));
        assertClose(hits.map((h) => h.score), expected.map(([, s]) => s), { atol: 1e-4 });
        assertClose(hits.map((h) => h.distance), expected.map(([, s]) => 1 - s), { atol: 1e-4 });
        for (let j = 1; j < hits.length; j++) assert.ok(hits[j - 1].score >= hits[j].score);
      }
      const all = await index.search(row(data, dim, 3), 1000);
      assert.equal(all.length, n, 'k larger than the index returns every item');
      await index.close?.();
    });

    test('getVector and has', async () => {
      const index = await fresh();
      assert.ok(index.has('item-5'));
      assert.ok(!index.has(5), 'number 5 and string ids are distinct (5 was never added)');
      const v = await index.getVector('item-5');
      assert.ok(v);
      const hits = await index.search(v!, 1);
      assert.equal(hits[0].id, 'item-5');
      assert.equal(await index.getVector('nope'), undefined);
      await index.close?.();
    });

    test('filter by metadata object and by function keeps only passing items, in brute-force order', async () => {
      const index = await fresh();
      const q = row(data, dim, 10);
      const hits = await index.search(q, 6, { filter: { label: 2 } });
      const expected = brute(data, dim, q, 'cosine', (r) => r % 3 === 2).slice(0, 6);
      assert.deepEqual(hits.map((h) => h.id), expected.map(([r]) => ids[r]));
      for (const h of hits) assert.equal(h.metadata?.label, 2);
      const any = await index.search(q, 4, { filter: { label: [0, 1] } });
      assert.deepEqual(any.map((h) => h.id), brute(data, dim, q, 'cosine', (r) => r % 3 !== 2).slice(0, 4).map(([r]) => ids[r]));
      const fn = await index.search(q, 3, { filter: (_m, id) => typeof id === 'string' });
      assert.deepEqual(fn.map((h) => h.id), brute(data, dim, q, 'cosine', (r) => r % 2 === 1).slice(0, 3).map(([r]) => ids[r]));
      const none = await index.search(q, 3, { filter: { label: 99 } });
      assert.deepEqual(none, []);
      const few = await index.search(q, 10, { filter: { name: ['n4', 'n8'] } });
      assert.deepEqual(new Set(few.map((h) => h.id)), new Set([4, 8]));
      await index.close?.();
    });

    test('remove drops items from results; unknown ids are ignored; ids can be re-added', async () => {
      const index = await fresh();
      const q = row(data, dim, 20);
      assert.equal(await index.remove([20, 'item-21', 'missing', 20]), 2);
      assert.equal(index.size, n - 2);
      assert.ok(!index.has(20));
      const hits = await index.search(q, 5);
      const expected = brute(data, dim, q, 'cosine', (r) => r !== 20 && r !== 21).slice(0, 5);
      assert.deepEqual(hits.map((h) => h.id), expected.map(([r]) => ids[r]));
      await index.add(row(data, dim, 20), dim, [20], [{ label: 'back' }]);
      const again = await index.search(q, 1);
      assert.equal(again[0].id, 20);
      assert.deepEqual(again[0].metadata, { label: 'back' });
      await index.close?.();
    });

    test('bad arguments are errors naming the field', async () => {
      const index = await fresh();
      await assert.rejects(index.add(new Float32Array(7), dim, [1000]), /'vectors' has 7 values/);
      await assert.rejects(index.add(new Float32Array(4), 4, [1000]), /'dim' is 4/);
      await assert.rejects(index.add(row(data, dim, 0), dim, [0]), /'ids\[0\]' \(0\) is already in the index/);
      await assert.rejects(index.add(new Float32Array(dim * 2), dim, [1001, 1001]), /'ids\[1\]'.*twice/);
      await assert.rejects(index.add(Float32Array.from({ length: dim }, () => NaN), dim, [1002]), /'vectors\[0\]' is not finite/);
      await assert.rejects(index.search(new Float32Array(3), 1), /'query' has 3 values/);
      await assert.rejects(index.search(row(data, dim, 0), 0), /'k' must be an integer >= 1/);
      assert.equal(index.size, n, 'failed adds add nothing');
      await index.close?.();
    });

    test('save then load gives the same results, ids (with their types) and metadata', async () => {
      const index = await fresh();
      await index.remove([2]);
      const dir = join(mkdtempSync(join(tmpdir(), 'akin-search-')), 'idx');
      await index.save(dir);
      const loaded = await akin.search.loadIndex(dir);
      assert.equal(loaded.kind, kind);
      assert.equal(loaded.size, n - 1);
      assert.equal(loaded.dim, dim);
      for (const qi of [1, 2, 50]) {
        const q = row(data, dim, qi);
        const a = await index.search(q, 7, { filter: { label: [0, 2] } });
        const b = await loaded.search(q, 7, { filter: { label: [0, 2] } });
        assert.deepEqual(b.map((h) => [h.id, h.metadata]), a.map((h) => [h.id, h.metadata]));
        assertClose(b.map((h) => h.score), a.map((h) => h.score), { atol: 1e-5 });
      }
      assert.ok(!loaded.has(2));
      await loaded.add(row(data, dim, 2), dim, [2]);
      assert.equal(loaded.size, n);
      await index.close?.();
      await loaded.close?.();
    });

    test('save replaces an existing index atomically and leaves no temporaries', async () => {
      const parent = mkdtempSync(join(tmpdir(), 'akin-search-'));
      const dir = join(parent, 'idx');
      const small = akin.search.createIndex(kind, { metric: 'cosine' });
      await small.add(data.subarray(0, 3 * dim), dim, [0, 1, 2]);
      await small.save(dir);
      const big = await fresh();
      await big.save(dir);
      assert.deepEqual(readdirSync(parent), ['idx'], 'no temporary siblings left');
      const loaded = await akin.search.loadIndex(dir);
      assert.equal(loaded.size, n);
      if (kind !== 'lancedb') {
        // A save that fails half-way (metadata that cannot be serialised) must leave the old index intact.
        let armed = false;
        const trap = { toJSON: () => { if (armed) throw new Error('boom'); return { ok: 1 }; } };
        const bad = akin.search.createIndex(kind, { metric: 'cosine' });
        await bad.add(row(data, dim, 0), dim, ['x'], [trap as unknown as akin.search.Metadata]);
        armed = true;
        await assert.rejects(bad.save(dir), /boom/);
        const still = await akin.search.loadIndex(dir);
        assert.equal(still.size, n, 'old index survives a failed save');
      }
      await small.close?.();
      await big.close?.();
      await loaded.close?.();
    });
  });
}

describe('ExactIndex is exact', () => {
  for (const metric of ['cosine', 'ip', 'l2'] as Metric[]) {
    test(`${metric}: top-k ids and scores equal plain-loop brute force`, async () => {
      const dim = 16;
      const n = 300;
      const data = rows(n, dim, 11);
      const index = new akin.search.ExactIndex({ metric });
      await index.add(data, dim, Array.from({ length: n }, (_, i) => i));
      const queries = rows(20, dim, 12);
      const batch = await index.searchBatch(queries, 10);
      assert.equal(batch.length, 20);
      for (let qi = 0; qi < 20; qi++) {
        const q = row(queries, dim, qi);
        for (const hits of [await index.search(q, 10), batch[qi]]) {
        const expected = brute(data, dim, q, metric).slice(0, 10);
        assert.deepEqual(hits.map((h) => h.id), expected.map(([r]) => r));
        assertClose(hits.map((h) => h.score), expected.map(([, s]) => s), { atol: 1e-4, rtol: 1e-4 });
        const dist = expected.map(([, s]) => (metric === 'cosine' ? 1 - s : -s));
        assertClose(hits.map((h) => h.distance), dist, { atol: 1e-4, rtol: 1e-4 });
        }
      }
    });
  }
});

test('createIndex falls back to exact search with a warning only when the package is missing', () => {
  const warnings: string[] = [];
  const idx = akin.search.createIndex('hnsw', { warn: (m) => warnings.push(m) });
  assert.equal(idx.kind, akin.search.hnswlib() ? 'hnsw' : 'exact');
  assert.equal(warnings.length, akin.search.hnswlib() ? 0 : 1);
  assert.throws(() => akin.search.createIndex('faiss' as Kind), /'kind' must be one of exact, hnsw, lancedb/);
  assert.throws(() => akin.search.createIndex('lancedb', { metric: 'l2' }), /only metric 'cosine'/);
});

test('loadIndex names what is wrong with a folder', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'akin-search-'));
  await assert.rejects(akin.search.loadIndex(dir), /index\.json is missing/);
  writeFileSync(join(dir, 'index.json'), '{"format":"other"}');
  await assert.rejects(akin.search.loadIndex(dir), /not an akin index manifest/);
  mkdirSync(join(dir, 'x'));
  assert.ok(existsSync(join(dir, 'x')));
});
