import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import * as server from 'akin/server';
import { initBackend, assertClose } from './helpers.js';

const tf = akin.tf;
const INPUT = 6;
const N = 40;

let model: akin.tf.LayersModel;
let inputs: Float32Array;
let emb: Float32Array;
let dim: number;
let ctx: server.ServeContext;
let running: server.RunningServer;

/** Embeds rows directly through model.predict (independent of the server's code path). */
function predict(rows: number[][]): number[][] {
  return tf.tidy(() => (model.predict(tf.tensor2d(rows)) as akin.tf.Tensor2D).arraySync());
}

function cos(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] ** 2; nb += b[i] ** 2; }
  return d / Math.sqrt(na * nb);
}

/** Ids of the k stored items most cosine-similar to v, plain loops. */
function bruteIds(v: ArrayLike<number>, k: number, keep: (i: number) => boolean = () => true): number[] {
  const s: [number, number][] = [];
  for (let i = 0; i < N; i++) if (keep(i)) s.push([i, cos(v, emb.subarray(i * dim, (i + 1) * dim))]);
  return s.sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k).map(([i]) => i);
}

const rowOf = (i: number): number[] => Array.from(inputs.subarray(i * INPUT, (i + 1) * INPUT));

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

before(async () => {
  await initBackend();
  model = akin.models.mlp({ inputDim: INPUT, hidden: [12], embeddingDim: 5, seed: 3 });
  const r = akin.createRandom(5);
  inputs = Float32Array.from({ length: N * INPUT }, () => r.next());
  const e = await akin.models.embed(model, inputs, N, [INPUT]);
  emb = e.embeddings;
  dim = e.dim;
  const index = new akin.search.ExactIndex({ metric: 'cosine' });
  await index.add(emb, dim, Array.from({ length: N }, (_, i) => i), Array.from({ length: N }, (_, i) => ({ label: i % 4 })));
  ctx = { model, inputShape: [INPUT], index, thresholds: null, info: { run: 'test' } };
  running = await server.startServer(ctx, { port: 0, bodyLimit: 64 * 1024 });
  assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

after(async () => {
  await running?.close();
});

describe('HTTP API over loopback', () => {
  test('GET /health and GET /info', async () => {
    const h = await call(running.url, 'GET', '/health');
    assert.equal(h.status, 200);
    assert.equal(h.json.status, 'ok');
    const i = await call(running.url, 'GET', '/info');
    assert.equal(i.status, 200);
    assert.deepEqual(i.json.index, { kind: 'exact', metric: 'cosine', dim, size: N });
    assert.equal(i.json.inputSize, INPUT);
    assert.equal(i.json.calibrated, false);
    assert.equal(i.json.run, 'test');
  });

  test('POST /embed returns what model.predict gives', async () => {
    const rows = [rowOf(0), rowOf(7)];
    const r = await call(running.url, 'POST', '/embed', { inputs: rows });
    assert.equal(r.status, 200);
    assert.equal(r.json.dim, dim);
    assertClose(r.json.embeddings.flat(), predict(rows).flat(), { atol: 1e-5 });
  });

  test('POST /search by vector, by raw input and by id agree with brute force', async () => {
    const q = [0.3, -0.2, 0.9, 0.1, -0.5];
    const byVec = await call(running.url, 'POST', '/search', { vector: q, k: 5 });
    assert.equal(byVec.status, 200);
    assert.deepEqual(byVec.json.results.map((h: any) => h.id), bruteIds(q, 5));
    assertClose(byVec.json.results[0].score, cos(q, emb.subarray(bruteIds(q, 1)[0] * dim, (bruteIds(q, 1)[0] + 1) * dim)), { atol: 1e-5 });
    assert.equal(byVec.json.results.length, 5);

    const raw = [0.5, 0.1, 0.9, 0.3, 0.2, 0.7];
    const byInput = await call(running.url, 'POST', '/search', { input: raw, k: 4 });
    assert.deepEqual(byInput.json.results.map((h: any) => h.id), bruteIds(predict([raw])[0], 4));

    const byId = await call(running.url, 'POST', '/search', { id: 12, k: 3 });
    assert.equal(byId.status, 200);
    assert.deepEqual(byId.json.results.map((h: any) => h.id), bruteIds(emb.subarray(12 * dim, 13 * dim), 3, (i) => i !== 12));
    assert.equal(byId.json.results[0].metadata.label, bruteIds(emb.subarray(12 * dim, 13 * dim), 1, (i) => i !== 12)[0] % 4);

    const filtered = await call(running.url, 'POST', '/search', { vector: q, k: 3, filter: { label: [1, 3] } });
    assert.deepEqual(filtered.json.results.map((h: any) => h.id), bruteIds(q, 3, (i) => i % 4 === 1 || i % 4 === 3));
    const dflt = await call(running.url, 'POST', '/search', { vector: q });
    assert.equal(dflt.json.results.length, 10, 'k defaults to 10');
  });

  test('POST /similarity is the cosine of the two embeddings', async () => {
    const r = await call(running.url, 'POST', '/similarity', { a: { input: rowOf(1) }, b: { id: 2 } });
    assert.equal(r.status, 200);
    const [e1] = predict([rowOf(1)]);
    assertClose(r.json.cosine, cos(e1, emb.subarray(2 * dim, 3 * dim)), { atol: 1e-5 });
    const same = await call(running.url, 'POST', '/similarity', { a: { id: 4 }, b: { input: rowOf(4) } });
    assertClose(same.json.cosine, 1, { atol: 1e-5 });
  });

  test('POST /match needs calibration or a threshold', async () => {
    const none = await call(running.url, 'POST', '/match', { id: 3 });
    assert.equal(none.status, 422);
    assert.equal(none.json.error.code, 'E_NOT_CALIBRATED');
    assert.match(none.json.error.message, /akin calibrate/);
    const q = emb.subarray(3 * dim, 4 * dim);
    const expectedIds = bruteIds(q, 5, (i) => i !== 3);
    const t = 1 - cos(q, emb.subarray(expectedIds[1] * dim, (expectedIds[1] + 1) * dim)); // exactly two neighbours within
    const r = await call(running.url, 'POST', '/match', { id: 3, threshold: t + 1e-6 });
    assert.equal(r.status, 200);
    assert.equal(r.json.thresholdSource, 'request');
    assert.deepEqual(r.json.matches.map((h: any) => h.id), expectedIds.slice(0, 2));
    assert.equal(r.json.matched, true);
    assert.equal(r.json.label, expectedIds[0] % 4);
    const miss = await call(running.url, 'POST', '/match', { id: 3, threshold: -1 });
    assert.equal(miss.json.matched, false);
    assert.equal(miss.json.label, null);
    assert.equal(miss.json.nearest.id, expectedIds[0]);
  });

  test('bad requests get 4xx JSON errors naming the field, and the server keeps serving', async () => {
    const cases: [string, string, unknown, number, RegExp][] = [
      ['POST', '/search', { k: 3 }, 400, /exactly one of 'vector', 'input' or 'id'/],
      ['POST', '/search', { vector: [1, 2, 3, 4, 5], id: 1 }, 400, /exactly one of/],
      ['POST', '/search', { vector: [1, 2] }, 400, /body\.vector has 2 values; the index has dim 5/],
      ['POST', '/search', { vector: [1, 2, 3, 4, 'x'] }, 400, /body\.vector\.4 must be number/],
      ['POST', '/search', { id: 1, k: 0 }, 400, /body\.k must be >= 1/],
      ['POST', '/search', { id: 1, k: 5000 }, 400, /body\.k must be <= 1000/],
      ['POST', '/search', { id: 999 }, 404, /body\.id 999 is not in the index/],
      ['POST', '/search', { id: 1, color: 'red' }, 400, /body\.color is not a known field/],
      ['POST', '/search', { input: [1, 2, 3] }, 400, /body\.input has 3 values; the model takes 6/],
      ['POST', '/embed', {}, 400, /body\.inputs is required/],
      ['POST', '/embed', { inputs: [[1, 2, 3, 4, 5, 6], [1]] }, 400, /body\.inputs\[1\] has 1 values/],
      ['POST', '/similarity', { a: { id: 1 } }, 400, /body\.b is required/],
      ['POST', '/match', { id: 1, threshold: 'x' }, 400, /body\.threshold must be number/],
      ['POST', '/search', '{"id": 1,', 400, /JSON/i],
      ['POST', '/search', JSON.stringify({ vector: Array.from({ length: 20000 }, () => 0.5) }), 413, /body/i],
      ['GET', '/nope', undefined, 404, /no route GET \/nope/],
    ];
    for (const [method, path, body, status, msg] of cases) {
      const r = await call(running.url, method, path, body);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 60)}: ${JSON.stringify(r.json)}`);
      assert.equal(typeof r.json.error.code, 'string');
      assert.match(r.json.error.message, msg);
      const h = await call(running.url, 'GET', '/health');
      assert.equal(h.status, 200, 'still serving');
    }
    const media = await fetch(`${running.url}/search`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<q/>', signal: AbortSignal.timeout(5000) });
    assert.equal(media.status, 415);
    assert.equal((await media.json()).error.code, 'E_MEDIA_TYPE');
  });
});

describe('batch search: several queries answered in one pass', () => {
  /** Counts calls of the model's forward pass and of the index's search methods during `fn`. */
  async function counting<T>(fn: () => Promise<T>): Promise<{ value: T; predicts: number; batches: number; singles: number }> {
    const index = ctx.index as akin.search.ExactIndex;
    const [predict, searchBatch, search] = [model.predict, index.searchBatch, index.search];
    const n = { predicts: 0, batches: 0, singles: 0 };
    model.predict = ((...a: Parameters<typeof predict>) => { n.predicts++; return predict.apply(model, a); }) as typeof predict;
    index.searchBatch = (...a: Parameters<typeof searchBatch>) => { n.batches++; return searchBatch.apply(index, a); };
    index.search = (...a: Parameters<typeof search>) => { n.singles++; return search.apply(index, a); };
    try {
      return { value: await fn(), ...n };
    } finally {
      model.predict = predict;
      index.searchBatch = searchBatch;
      index.search = search;
    }
  }

  test('raw inputs: one forward pass, one tiled search, each query answered like brute force', async () => {
    const rows = [rowOf(2), [0.5, 0.1, 0.9, 0.3, 0.2, 0.7], rowOf(33)];
    const r = await counting(() => call(running.url, 'POST', '/search', { inputs: rows, k: 4 }));
    assert.equal(r.value.status, 200, JSON.stringify(r.value.json));
    assert.equal(r.predicts, 1, 'all inputs embedded in one forward pass');
    assert.equal(r.batches, 1, 'all queries searched in one batch');
    assert.equal(r.singles, 0, 'no per-query searches');
    const expected = predict(rows).map((e) => bruteIds(e, 4));
    assert.deepEqual(r.value.json.results.map((hits: any[]) => hits.map((h) => h.id)), expected);
    assert.equal(r.value.json.results[0][0].id, 2, 'an indexed item is its own nearest neighbour');
    assertClose(r.value.json.results[2][0].score, 1, { atol: 1e-5 });
  });

  test('vectors (with a filter) and ids (each leaving itself out) agree with brute force', async () => {
    const vs = [[0.3, -0.2, 0.9, 0.1, -0.5], [-1, 0.5, 0.2, 0.2, 0]];
    const byVec = await call(running.url, 'POST', '/search', { vectors: vs, k: 3, filter: { label: [0, 2] } });
    assert.equal(byVec.status, 200);
    assert.deepEqual(byVec.json.results.map((hits: any[]) => hits.map((h) => h.id)), vs.map((v) => bruteIds(v, 3, (i) => i % 4 === 0 || i % 4 === 2)));
    const ids = [12, 0, 39];
    const byId = await counting(() => call(running.url, 'POST', '/search', { ids, k: 5 }));
    assert.equal(byId.value.status, 200);
    assert.equal(byId.batches, 1);
    assert.deepEqual(
      byId.value.json.results.map((hits: any[]) => hits.map((h) => h.id)),
      ids.map((q) => bruteIds(emb.subarray(q * dim, (q + 1) * dim), 5, (i) => i !== q)),
    );
    for (const hits of byId.value.json.results) for (const h of hits) assert.equal(h.metadata.label, h.id % 4);
    const one = await call(running.url, 'POST', '/search', { ids: [7], k: 2 });
    assert.equal(one.json.results.length, 1, 'a batch of one is still a batch');
    assert.ok(Array.isArray(one.json.results[0]));
  });

  test('a database behind the index that fails gives 503, not a client error', async () => {
    const down = Object.assign(Object.create(ctx.index), {
      search: async () => { throw new akin.AkinError('E_DATABASE', 'PgVectorIndex: cannot connect to PostgreSQL at me@127.0.0.1:1/db'); },
      searchBatch: undefined,
    }) as akin.search.NearestNeighborIndex;
    const app = await server.createApp({ ...ctx, index: down });
    try {
      const r = await app.inject({ method: 'POST', url: '/search', payload: { vectors: [[1, 0, 0, 0, 0]] } });
      assert.equal(r.statusCode, 503);
      assert.equal(r.json().error.code, 'E_DATABASE');
      assert.match(r.json().error.message, /cannot connect to PostgreSQL/);
    } finally {
      await app.close();
    }
  });

  test('bad batches are 4xx errors naming the query', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ vectors: [[1, 2, 3, 4, 5], [1, 2]] }, 400, /body\.vectors\[1\] has 2 values; the index has dim 5/],
      [{ inputs: [rowOf(1), [1, 2, 3]] }, 400, /body\.inputs\[1\] has 3 values; the model takes 6/],
      [{ ids: [1, 999] }, 404, /body\.ids\[1\] 999 is not in the index/],
      [{ vector: [1, 2, 3, 4, 5], vectors: [[1, 2, 3, 4, 5]] }, 400, /exactly one of 'vector', 'input' or 'id' \(or, for a batch, one of 'vectors', 'inputs' or 'ids'\)/],
      [{ vectors: [] }, 400, /body\.vectors must NOT have fewer than 1 items/],
      [{ ids: Array.from({ length: 257 }, (_, i) => i) }, 400, /body\.ids must NOT have more than 256 items/],
    ];
    for (const [body, status, msg] of cases) {
      const r = await call(running.url, 'POST', '/search', body);
      assert.equal(r.status, status, `${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(r.json)}`);
      assert.match(r.json.error.message, msg);
    }
    const m = await call(running.url, 'POST', '/match', { k: 3, threshold: 0.1 });
    assert.equal(m.status, 400);
    assert.match(m.json.error.message, /exactly one of 'vector', 'input' or 'id' \(or, for a batch, one of 'vectors', 'inputs' or 'ids'\)/, '/match takes batches too');
    const mb = await call(running.url, 'POST', '/match', { ids: [1, 999], threshold: 0.1 });
    assert.equal(mb.status, 404);
    assert.match(mb.json.error.message, /body\.ids\[1\] 999 is not in the index/);
  });
});

describe('calibrated match and tokens', () => {
  test('POST /match uses thresholds.json (optimal, or a named target)', async () => {
    const thresholds = {
      distance: 'cosine', metric: 'f1', split: 'validation', created: '', count: 1, positives: 1, curve: [],
      optimal: { threshold: 0.05, precision: 1, recall: 1, f1: 1 },
      targets: { 'precision@0.9': { threshold: 2, precision: 0.9, recall: 1, f1: 1 }, 'recall@0.99': null },
    } as unknown as server.ServeContext['thresholds'];
    const app = await server.createApp({ ...ctx, thresholds });
    try {
      const ids = bruteIds(emb.subarray(0, dim), 5, (i) => i !== 0);
      const d = ids.map((i) => 1 - cos(emb.subarray(0, dim), emb.subarray(i * dim, (i + 1) * dim)));
      const r = await app.inject({ method: 'POST', url: '/match', payload: { id: 0 } });
      assert.equal(r.statusCode, 200);
      const j = r.json();
      assert.equal(j.threshold, 0.05);
      assert.equal(j.thresholdSource, 'thresholds.json optimal');
      assert.deepEqual(j.matches.map((h: any) => h.id), ids.filter((_, n) => d[n] <= 0.05));
      const all = (await app.inject({ method: 'POST', url: '/match', payload: { id: 0, target: 'precision@0.9' } })).json();
      assert.equal(all.matches.length, 5, 'threshold 2 admits every cosine neighbour');
      const bad = await app.inject({ method: 'POST', url: '/match', payload: { id: 0, target: 'recall@0.99' } });
      assert.equal(bad.statusCode, 422);
      assert.match(bad.json().error.message, /body\.target 'recall@0\.99' was not calibrated/);
      const info = (await app.inject({ method: 'GET', url: '/info' })).json();
      assert.equal(info.calibrated, true);
    } finally {
      await app.close();
    }
  });

  test('POST /match takes a batch (vectors, inputs or ids) and answers each query as a single /match would', async () => {
    const queryIds = [0, 7, 21];
    /** Cosine distances from item q to its k nearest other items, nearest first (plain loops). */
    const nearDist = (q: number, k: number): number[] =>
      bruteIds(emb.subarray(q * dim, (q + 1) * dim), k, (i) => i !== q).map((i) => 1 - cos(emb.subarray(q * dim, (q + 1) * dim), emb.subarray(i * dim, (i + 1) * dim)));
    // optimal: exactly two of query 0's four neighbours; the target: all four of every query; the request: none.
    const tOpt = (nearDist(0, 4)[1] + nearDist(0, 4)[2]) / 2;
    const tAll = Math.max(...queryIds.map((q) => nearDist(q, 4)[3])) * 1.01 + 1e-6;
    const tNone = Math.min(...queryIds.map((q) => nearDist(q, 1)[0])) / 2;
    const thresholds = {
      distance: 'cosine', metric: 'f1', split: 'validation', created: '', count: 1, positives: 1, curve: [],
      optimal: { threshold: tOpt, precision: 1, recall: 1, f1: 1 },
      targets: { 'precision@0.9': { threshold: tAll, precision: 0.9, recall: 1, f1: 1 } },
    } as unknown as server.ServeContext['thresholds'];
    const app = await server.createApp({ ...ctx, thresholds });
    try {
      /** Hits within `t` of item q (itself excluded), from plain cosine loops. */
      const within = (q: number, k: number, t: number): number[] => {
        const v = emb.subarray(q * dim, (q + 1) * dim);
        return bruteIds(v, k, (i) => i !== q).filter((i) => 1 - cos(v, emb.subarray(i * dim, (i + 1) * dim)) <= t);
      };
      for (const [extra, t, source] of [[{}, tOpt, 'thresholds.json optimal'], [{ target: 'precision@0.9' }, tAll, 'thresholds.json precision@0.9'], [{ threshold: tNone }, tNone, 'request']] as const) {
        const r = await app.inject({ method: 'POST', url: '/match', payload: { ids: queryIds, k: 4, ...extra } });
        assert.equal(r.statusCode, 200, r.body);
        const results = r.json().results as any[];
        assert.equal(results.length, queryIds.length);
        const counts = results.map((res) => res.matches.length);
        if (t === tOpt) assert.equal(counts[0], 2);
        if (t === tAll) assert.deepEqual(counts, [4, 4, 4]);
        if (t === tNone) assert.deepEqual(counts, [0, 0, 0]);
        results.forEach((res, n) => {
          const q = queryIds[n];
          const expectIds = within(q, 4, t);
          assert.equal(res.threshold, t);
          assert.equal(res.thresholdSource, source);
          assert.equal(res.distance, 'cosine');
          assert.deepEqual(res.matches.map((h: any) => h.id), expectIds, `query ${q} at ${t}`);
          assert.equal(res.matched, expectIds.length > 0);
          const nearest = bruteIds(emb.subarray(q * dim, (q + 1) * dim), 1, (i) => i !== q)[0];
          assert.equal(res.nearest.id, nearest);
          assert.equal(res.label, expectIds.length > 0 ? nearest % 4 : null);
        });
      }
      // The same queries as vectors and as raw inputs: the item itself is now among the hits (distance 0).
      const byVectors = (await app.inject({ method: 'POST', url: '/match', payload: { vectors: queryIds.map((q) => Array.from(emb.subarray(q * dim, (q + 1) * dim))), k: 2, threshold: 1e-5 } })).json();
      assert.deepEqual(byVectors.results.map((res: any) => res.matches.map((h: any) => h.id)), queryIds.map((q) => [q]));
      const byInputs = (await app.inject({ method: 'POST', url: '/match', payload: { inputs: queryIds.map(rowOf), k: 2, threshold: 1e-5 } })).json();
      assert.deepEqual(byInputs.results.map((res: any) => res.nearest.id), queryIds);
      const single = (await app.inject({ method: 'POST', url: '/match', payload: { id: 7, k: 4 } })).json();
      assert.equal(single.results, undefined, 'a single query is answered as before');
      assert.deepEqual(single.matches.map((h: any) => h.id), within(7, 4, tOpt));
    } finally {
      await app.close();
    }
  });

  test('a token is required on every API route and checked exactly', async () => {
    const s = await server.startServer(ctx, { port: 0, token: 'secret-token-1' });
    try {
      assert.equal((await call(s.url, 'GET', '/health')).status, 200);
      const no = await call(s.url, 'GET', '/info');
      assert.equal(no.status, 401);
      assert.equal(no.json.error.code, 'E_UNAUTHORIZED');
      assert.equal((await call(s.url, 'GET', '/info', undefined, { authorization: 'Bearer secret-token-2' })).status, 401);
      assert.equal((await call(s.url, 'GET', '/info', undefined, { authorization: 'Bearer secret-token' })).status, 401);
      assert.equal((await call(s.url, 'GET', '/info', undefined, { authorization: 'Bearer secret-token-1' })).status, 200);
      assert.equal((await call(s.url, 'POST', '/search', { id: 1 }, { 'x-akin-token': 'secret-token-1' })).status, 200);
      assert.equal((await call(s.url, 'POST', '/search', { id: 1 })).status, 401);
    } finally {
      await s.close();
    }
  });

  test('binding a non-loopback host without a token is refused before listening', async () => {
    await assert.rejects(server.startServer(ctx, { host: '0.0.0.0', port: 0 }), /host '0\.0\.0\.0' is reachable from other machines; pass --token/);
    assert.throws(() => server.checkExposure('::', undefined), /pass --token/);
    assert.doesNotThrow(() => server.checkExposure('127.0.0.1', undefined));
    assert.doesNotThrow(() => server.checkExposure('0.0.0.0', 'long-enough-token'));
    const m = server.tokenMatcher('abcdefgh');
    assert.equal(m('abcdefgh'), true);
    assert.equal(m('abcdefg'), false);
    assert.equal(m(undefined), false);
    assert.equal(m(''), false);
  });
});
