import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as akin from 'akin';
import { initBackend, assertClose, tempDir } from './helpers.js';
import { startPgServer } from './search-pglite.js';

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

// PostgreSQL + pgvector for the pgvector variants: PGlite served on a loopback ephemeral port.
const pg = await startPgServer().catch((e: Error) => {
  process.stderr.write(`note: PGlite did not start (${e.message}); pgvector suites skipped\n`);
  return null;
});
after(async () => {
  await pg?.stop();
});
let tables = 0;
const pgOptions = (extra: akin.search.CreateIndexOptions['pgvector'] = {}): akin.search.CreateIndexOptions['pgvector'] => (
  { connectionString: pg!.url, table: `akin_t${++tables}`, poolSize: 2, ...extra }
);

/** Every implementation, configured so that it must give exactly the brute-force answers on 120 items. */
interface Variant {
  name: string;
  kind: Kind;
  skip: string | false;
  make(metric: Metric): akin.search.NearestNeighborIndex;
}
const noFallback = (): void => assert.fail('unexpected fallback to exact search');
const variants: Variant[] = [
  { name: 'exact', kind: 'exact', skip: false, make: (metric) => akin.search.createIndex('exact', { metric }) },
  // Batches through the tiled k-NN engine however small (by default only from 48 queries).
  { name: 'exact (tiled batches)', kind: 'exact', skip: false, make: (metric) => new akin.search.ExactIndex({ metric, tiledBatchFrom: 1 }) },
  { name: 'hnsw', kind: 'hnsw', skip: !kinds.includes('hnsw') && 'hnswlib-node not installed', make: (metric) => akin.search.createIndex('hnsw', { metric, warn: noFallback }) },
  { name: 'lancedb', kind: 'lancedb', skip: !kinds.includes('lancedb') && '@lancedb/lancedb not installed', make: (metric) => akin.search.createIndex('lancedb', { metric, warn: noFallback }) },
  { name: 'pgvector (exact scans)', kind: 'pgvector', skip: !pg && 'PGlite did not start', make: (metric) => akin.search.createIndex('pgvector', { metric, pgvector: pgOptions() }) },
  // HNSW with a candidate list larger than the index, IVFFlat probing every list: exhaustive, so exact.
  { name: 'pgvector + HNSW', kind: 'pgvector', skip: !pg && 'PGlite did not start', make: (metric) => akin.search.createIndex('pgvector', { metric, pgvector: pgOptions({ annIndex: 'hnsw', efSearch: 1000 }) }) },
  { name: 'pgvector + IVFFlat', kind: 'pgvector', skip: !pg && 'PGlite did not start', make: (metric) => akin.search.createIndex('pgvector', { metric, pgvector: pgOptions({ annIndex: 'ivfflat', lists: 2, probes: 2 }) }) },
];

for (const variant of variants) {
  const { kind } = variant;
  describe(`${variant.name} index behaviour`, { skip: variant.skip }, () => {
    const dim = 8;
    const n = 120;
    const data = rows(n, dim, 7);
    const ids = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? i : `item-${i}`));
    const meta = Array.from({ length: n }, (_, i) => ({ label: i % 3, name: `n${i}`, flag: i % 5 === 0, tag: i % 7 === 0 ? null : 'x' }));
    const fresh = async (): Promise<akin.search.NearestNeighborIndex> => {
      const index = variant.make('cosine');
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
      assertClose(v!, row(data, dim, 5), { atol: 1e-6 });
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
      // Booleans, nulls and several fields at once; a missing field never equals null; '2' is not 2.
      const typed = await index.search(q, 5, { filter: { flag: true, tag: 'x' } });
      assert.deepEqual(typed.map((h) => h.id), brute(data, dim, q, 'cosine', (r) => r % 5 === 0 && r % 7 !== 0).slice(0, 5).map(([r]) => ids[r]));
      const nulls = await index.search(q, 4, { filter: { tag: null } });
      assert.deepEqual(nulls.map((h) => h.id), brute(data, dim, q, 'cosine', (r) => r % 7 === 0).slice(0, 4).map(([r]) => ids[r]));
      assert.deepEqual(await index.search(q, 4, { filter: { missing: null } }), []);
      assert.deepEqual(await index.search(q, 4, { filter: { label: '2' } }), []);
      assert.deepEqual(await index.search(q, 4, { filter: { label: [] } }), []);
      await index.close?.();
    });

    test('searchMany answers a batch of queries like brute force, with and without a filter', async () => {
      const index = await fresh();
      const queries = rows(5, dim, 21);
      const plain = await akin.search.searchMany(index, queries, 4);
      const filtered = await akin.search.searchMany(index, queries, 3, { filter: { label: [0, 2] } });
      assert.equal(plain.length, 5);
      assert.equal(filtered.length, 5);
      for (let qi = 0; qi < 5; qi++) {
        const q = row(queries, dim, qi);
        const expected = brute(data, dim, q, 'cosine').slice(0, 4);
        assert.deepEqual(plain[qi].map((h) => h.id), expected.map(([r]) => ids[r]));
        assertClose(plain[qi].map((h) => h.score), expected.map(([, s]) => s), { atol: 1e-4 });
        assert.deepEqual(filtered[qi].map((h) => h.id), brute(data, dim, q, 'cosine', (r) => r % 3 !== 1).slice(0, 3).map(([r]) => ids[r]));
      }
      assert.deepEqual(await akin.search.searchMany(index, new Float32Array(0), 3), []);
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
      const dir = join(tempDir('akin-search-'), 'idx');
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
      const parent = tempDir('akin-search-');
      const dir = join(parent, 'idx');
      const small = variant.make('cosine');
      await small.add(data.subarray(0, 3 * dim), dim, [0, 1, 2]);
      await small.save(dir);
      const big = await fresh();
      await big.save(dir);
      assert.deepEqual(readdirSync(parent), ['idx'], 'no temporary siblings left');
      const loaded = await akin.search.loadIndex(dir);
      assert.equal(loaded.size, n);
      if (kind === 'exact' || kind === 'hnsw') {
        // A save that fails half-way (metadata that cannot be serialised) must leave the old index intact.
        // (LanceDB and pgvector keep metadata in their stores, so their saves serialise none.)
        let armed = false;
        const trap = { toJSON: () => { if (armed) throw new Error('boom'); return { ok: 1 }; } };
        const bad = variant.make('cosine');
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

for (const variant of variants.filter((v) => v.kind === 'exact' || v.kind === 'pgvector')) {
  describe(`${variant.name} is exact for every metric`, { skip: variant.skip }, () => {
    for (const metric of ['cosine', 'ip', 'l2'] as Metric[]) {
      test(`${metric}: top-k ids, scores and distances equal plain-loop brute force, one by one and batched`, async () => {
        const dim = 16;
        const n = 300;
        const data = rows(n, dim, 11);
        const index = variant.make(metric);
        await index.add(data, dim, Array.from({ length: n }, (_, i) => i));
        const queries = rows(20, dim, 12);
        assert.ok(index.searchBatch, `${variant.name} has a batch search`);
        const batch = await index.searchBatch!(queries, 10);
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
        await index.close?.();
      });
    }
  });
}

test('createIndex falls back to exact search with a warning only when the package is missing', () => {
  const warnings: string[] = [];
  const idx = akin.search.createIndex('hnsw', { warn: (m) => warnings.push(m) });
  assert.equal(idx.kind, akin.search.hnswlib() ? 'hnsw' : 'exact');
  assert.equal(warnings.length, akin.search.hnswlib() ? 0 : 1);
  assert.throws(() => akin.search.createIndex('faiss' as Kind), /'kind' must be one of exact, hnsw, lancedb, pgvector/);
  assert.throws(() => akin.search.createIndex('lancedb', { metric: 'l2' }), /only metric 'cosine'/);
});

test('loadIndex names what is wrong with a folder', async () => {
  const dir = tempDir('akin-search-');
  await assert.rejects(akin.search.loadIndex(dir), /index\.json is missing/);
  writeFileSync(join(dir, 'index.json'), '{"format":"other"}');
  await assert.rejects(akin.search.loadIndex(dir), /not an akin index manifest/);
  mkdirSync(join(dir, 'x'));
  assert.ok(existsSync(join(dir, 'x')));
});

describe('pgvector specifics', { skip: !pg && 'PGlite did not start' }, () => {
  const dim = 4;
  const data = rows(30, dim, 3);
  const ids = Array.from({ length: 30 }, (_, i) => i);
  /** A client of the test database, independent of the index under test. */
  const sql = async <T>(text: string, params: unknown[] = []): Promise<T[]> => {
    const { default: pgLib } = await import('pg');
    const c = new pgLib.Client({ connectionString: pg!.url });
    await c.connect();
    try {
      return (await c.query(text, params)).rows as T[];
    } finally {
      await c.end();
    }
  };

  test('save keeps the connection without its password and the table; load reattaches (or uses a given connection)', async () => {
    const table = `akin_saved_${++tables}`;
    const index = new akin.search.PgVectorIndex({ connectionString: pg!.url, table, metric: 'l2' });
    await index.add(data, dim, ids, ids.map((i) => ({ label: i % 2 })));
    const dir = join(tempDir('akin-pg-'), 'idx');
    await index.save(dir);
    const text = readFileSync(join(dir, 'index.json'), 'utf8');
    assert.ok(!text.includes('test-password'), 'the password is not saved');
    const manifest = JSON.parse(text);
    assert.equal(manifest.kind, 'pgvector');
    assert.equal(manifest.params.table, table);
    assert.equal(manifest.params.connection, pg!.url.replace(':test-password@', '@'));
    assert.deepEqual(readdirSync(dir), ['index.json']);
    const again = await akin.search.loadIndex(dir, { connectionString: pg!.url });
    assert.equal(again.size, 30);
    assert.equal(again.metric, 'l2');
    const q = row(data, dim, 4);
    assert.deepEqual((await again.search(q, 3)).map((h) => h.id), brute(data, dim, q, 'l2').slice(0, 3).map(([r]) => r));
    // The rows live in the database: a removal through one handle is seen by a later load.
    await again.remove([4]);
    const third = await akin.search.loadIndex(dir);
    assert.equal(third.size, 29);
    assert.ok(!third.has(4));
    const count = await sql<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
    assert.equal(Number(count[0].n), 29);
    for (const x of [index, again, third]) await x.close?.();
  });

  test('an existing table is an error, replaced only when asked and only when akin made it; open adds to it', async () => {
    const table = `akin_exists_${++tables}`;
    const first = new akin.search.PgVectorIndex({ connectionString: pg!.url, table });
    await first.add(data.subarray(0, 5 * dim), dim, [0, 1, 2, 3, 4]);
    const second = new akin.search.PgVectorIndex({ connectionString: pg!.url, table });
    await assert.rejects(second.add(data.subarray(0, dim), dim, [9]), /table 'akin_exists_\d+' already exists/);
    assert.equal(second.size, 0);
    const opened = await akin.search.PgVectorIndex.open({ connectionString: pg!.url, table });
    assert.equal(opened.size, 5);
    assert.equal(opened.dim, dim);
    await opened.add(data.subarray(5 * dim, 6 * dim), dim, [5]);
    assert.equal(opened.size, 6);
    await assert.rejects(akin.search.PgVectorIndex.open({ connectionString: pg!.url, table, metric: 'ip' }), /built for metric 'cosine', not 'ip'/);
    const replacing = new akin.search.PgVectorIndex({ connectionString: pg!.url, table, ifExists: 'replace' });
    await replacing.add(data.subarray(10 * dim, 12 * dim), dim, ['a', 'b']);
    const left = await sql<{ item_id: string }>(`SELECT item_id FROM ${table} ORDER BY row_id`);
    assert.deepEqual(left.map((r) => r.item_id), ['"a"', '"b"']);
    await sql('CREATE TABLE not_ours (x int)');
    const foreign = new akin.search.PgVectorIndex({ connectionString: pg!.url, table: 'not_ours', ifExists: 'replace' });
    await assert.rejects(foreign.add(data.subarray(0, dim), dim, [0]), /was not created by akin; it will not be dropped/);
    assert.equal((await sql('SELECT 1 FROM not_ours')).length, 0, 'the foreign table is still there');
    await assert.rejects(akin.search.PgVectorIndex.open({ connectionString: pg!.url, table: 'no_such_table' }), /there is no table 'no_such_table'/);
    for (const x of [first, second, opened, replacing, foreign]) await x.close();
  });

  test('HNSW and IVFFlat indexes are built with the operator class of the metric', async () => {
    for (const [annIndex, metric, opclass] of [['hnsw', 'cosine', 'vector_cosine_ops'], ['hnsw', 'ip', 'vector_ip_ops'], ['ivfflat', 'l2', 'vector_l2_ops']] as const) {
      const table = `akin_ann_${++tables}`;
      const index = new akin.search.PgVectorIndex({ connectionString: pg!.url, table, metric, annIndex, m: 8, efConstruction: 32, lists: 3 });
      await index.add(data, dim, ids);
      assert.deepEqual(await sql(`SELECT indexdef FROM pg_indexes WHERE tablename = $1 AND indexname = $2`, [table, `${table}_ann`]), [], 'built lazily');
      await index.search(row(data, dim, 0), 3);
      const [def] = await sql<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = $1 AND indexname = $2`, [table, `${table}_ann`]);
      assert.ok(def, `${annIndex} index exists`);
      // vector_l2_ops is the default operator class, which pg_indexes leaves out.
      assert.match(def.indexdef, new RegExp(`USING ${annIndex} \\(embedding${opclass === 'vector_l2_ops' ? `( ${opclass})?` : ` ${opclass}`}\\)`));
      assert.match(def.indexdef, annIndex === 'hnsw' ? /m='?8'?, ef_construction='?32'?/ : /lists='?3'?/);
      const plan = (await index.explain(row(data, dim, 0), 3)).join('\n');
      assert.match(plan, new RegExp(`Scan (using ${table}_ann )?on ${table}`), plan);
      await index.close();
    }
  });

  test('bad settings and an unreachable server are errors that say what to fix', async () => {
    assert.throws(() => new akin.search.PgVectorIndex({ table: 'Bad-Name' }), /option 'table' must be lower-case letters/);
    assert.throws(() => new akin.search.PgVectorIndex({ connectionString: 'mysql://x@y/z' }), /must start with postgres:\/\//);
    assert.throws(() => new akin.search.PgVectorIndex({ connectionString: 'not a url' }), /must be a postgres:\/\/ URL/);
    assert.throws(() => new akin.search.PgVectorIndex({ annIndex: 'ivf' as akin.search.PgAnnIndex }), /'annIndex' must be none, hnsw or ivfflat/);
    assert.throws(() => new akin.search.PgVectorIndex({ efSearch: 5000 }), /'efSearch' must be <= 1000/);
    // A port nothing listens on: take a free port and close it again.
    const { createServer } = await import('node:net');
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const index = new akin.search.PgVectorIndex({ connectionString: `postgres://me:pw@127.0.0.1:${port}/db` });
    await assert.rejects(index.add(data.subarray(0, dim), dim, [0]), (e: akin.AkinError) => {
      assert.equal(e.code, 'E_DATABASE');
      assert.match(e.message, new RegExp(`cannot connect to PostgreSQL at me@127\\.0\\.0\\.1:${port}/db .*PGPASSWORD`));
      assert.ok(!e.message.includes(':pw@'), 'no password in the message');
      return true;
    });
    await index.close();
  });
});
