import { test, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as akin from 'akin';
import * as server from 'akin/server';
import { initBackend, assertClose, tempDir } from './helpers.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
type BuildRunIndex = (dir: string, o: { log: (l: string) => void; layout?: boolean }) => Promise<unknown>;
type SearchCli = { formatResults: (r: { query: string; results: akin.search.SearchHit[] }[]) => string };
const quiet = { progress: false, report: false, baselines: false, log: () => undefined } as const;

let buildRunIndex: BuildRunIndex;
let dir: string;

before(async () => {
  await initBackend();
  buildRunIndex = ((await import(join(repo, 'dist', 'cli', 'index-cmd.js'))) as { buildRunIndex: BuildRunIndex }).buildRunIndex;
  dir = tempDir('akin-server-inputs-');
});

/** Embeddings of rows through model.predict (independent of the server's input handling). */
function predict(model: akin.tf.LayersModel, rows: number[][]): number[][] {
  return akin.tf.tidy(() => (model.predict(akin.tf.tensor2d(rows)) as akin.tf.Tensor2D).arraySync());
}

describe('raw numeric inputs take the forms akin embed reads from JSON lines', () => {
  test('a vectors run: {"vector": [...]} rows are embedded as their arrays; size errors name the row', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 60; i++) lines.push(JSON.stringify({ vector: [i % 6, (i % 5) / 5, 1 - (i % 7) / 7], label: `c${i % 6}` }));
    writeFileSync(join(dir, 'vecs.jsonl'), `${lines.join('\n')}\n`);
    const config = akin.pipeline.parseRunConfig({
      data: { kind: 'vectors', source: join(dir, 'vecs.jsonl'), validation: 0, trainClasses: [0, 1, 2, 3], testClasses: [4, 5] },
      batchSize: 16, m: 4, epochs: 1,
    });
    const runDir = join(dir, 'vec');
    await akin.pipeline.runExperiment(config, { runDir, ...quiet });
    await buildRunIndex(runDir, { log: () => undefined, layout: false });
    const ctx = await server.openRunContext(runDir);
    const app = await server.createApp(ctx, { ui: false });
    try {
      const rows = [[4, 0.2, 0.5], [5, 0.8, 0], [4, 0.4, 1]];
      const expected = predict(ctx.model, rows);
      // The three JSON-lines forms: an object with `vector`, a bare array, an object with `embedding` (and a label).
      const mixed = [{ vector: rows[0] }, rows[1], { embedding: rows[2], label: 'c4' }];
      const e = await app.inject({ method: 'POST', url: '/embed', payload: { inputs: mixed } });
      assert.equal(e.statusCode, 200, e.body);
      assertClose((e.json().embeddings as number[][]).flat(), expected.flat(), { atol: 1e-5 });

      // /search by one object input answers as by the same array; a batch of objects as the arrays.
      const byArray = await app.inject({ method: 'POST', url: '/search', payload: { input: rows[0], k: 4 } });
      const byObject = await app.inject({ method: 'POST', url: '/search', payload: { input: { vector: rows[0] }, k: 4 } });
      assert.equal(byObject.statusCode, 200, byObject.body);
      assert.equal(byObject.json().results.length, 4);
      assert.deepEqual(byObject.json().results, byArray.json().results);
      const batch = await app.inject({ method: 'POST', url: '/search', payload: { inputs: rows.map((v) => ({ vector: v })), k: 3 } });
      const batchArrays = await app.inject({ method: 'POST', url: '/search', payload: { inputs: rows, k: 3 } });
      assert.equal(batch.statusCode, 200, batch.body);
      assert.deepEqual(batch.json().results, batchArrays.json().results);

      const cases: [string, unknown, RegExp][] = [
        ['/embed', { inputs: [[1, 2]] }, /^body\.inputs\[0\] has 2 values; the model takes 3$/],
        ['/embed', { inputs: [{ vector: [1, 2] }] }, /^body\.inputs\[0\] has 2 values; the model takes 3$/],
        ['/embed', { inputs: [[1, 2, 3], [1, 2, 3], [1, 2, 3], { vector: [1, 2] }] }, /^body\.inputs\[3\] has 2 values; the model takes 3$/],
        ['/search', { inputs: [{ vector: [1, 2, 3, 4] }], k: 2 }, /^body\.inputs\[0\] has 4 values; the model takes 3$/],
        ['/search', { input: { vector: [1, 2] } }, /^body\.input has 2 values; the model takes 3$/],
        ['/embed', { inputs: [[1, 2, 3], { v: [1, 2, 3] }] }, /^body\.inputs\[1\]: no vector field 'vector' \/ 'embedding'/],
        ['/embed', { inputs: [{ vector: [1, 'x', 3] }] }, /^body\.inputs\[0\]: the vector must be a non-empty array of finite numbers$/],
      ];
      for (const [url, payload, msg] of cases) {
        const r = await app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
        assert.equal(r.statusCode, 400, `${url} ${JSON.stringify(payload)}: ${r.body}`);
        assert.match(r.json().error.message, msg);
      }
    } finally {
      await app.close();
      ctx.model.dispose();
      await ctx.index.close?.();
    }
  });

  test('a hand-made context (numbers only) takes the same forms and names the row of a batch of one', async () => {
    const model = akin.models.mlp({ inputDim: 4, hidden: [6], embeddingDim: 3, seed: 1 });
    const index = new akin.search.ExactIndex({ metric: 'cosine' });
    await index.add(Float32Array.from([1, 0, 0, 0, 1, 0]), 3, [0, 1]);
    const app = await server.createApp({ model, inputShape: [4], index, thresholds: null, info: {} }, { ui: false });
    try {
      const rows = [[0.1, 0.2, 0.3, 0.4], [1, -1, 0.5, 0]];
      const r = await app.inject({ method: 'POST', url: '/embed', payload: { inputs: [{ features: rows[0] }, { x: rows[1] }] } });
      assert.equal(r.statusCode, 200, r.body);
      assertClose((r.json().embeddings as number[][]).flat(), predict(model, rows).flat(), { atol: 1e-5 });
      const bad = await app.inject({ method: 'POST', url: '/embed', payload: { inputs: [{ vector: [1] }] } });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().error.message, 'body.inputs[0] has 1 values; the model takes 4');
    } finally {
      await app.close();
      model.dispose();
    }
  });
});

describe('text runs keep each item text in the index', () => {
  test('index build stores a preview of each text; search results carry it and akin search prints it', async () => {
    const words = ['apple', 'river', 'stone', 'cloud', 'maple', 'ember'];
    const records: { text: string; label: string }[] = [];
    for (let c = 0; c < 6; c++) {
      for (let j = 0; j < 6; j++) records.push({ text: `${words[c]} ${words[(c + j) % 6]} item ${c * 6 + j}`, label: `k${c}` });
    }
    // A long text (cut to 200 characters and marked) and one with runs of white space (kept as one space).
    const long = `${words[5]} ${'abcdefghij'.repeat(30)}`;
    records.push({ text: long, label: 'k5' }, { text: `ember\n\n  spaced   out `, label: 'k5' });
    writeFileSync(join(dir, 'texts.jsonl'), `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const config = akin.pipeline.parseRunConfig({
      data: { kind: 'text', source: join(dir, 'texts.jsonl'), validation: 0, trainClasses: ['k0', 'k1', 'k2', 'k3'], testClasses: ['k4', 'k5'], ngrams: { dim: 256 } },
      model: { type: 'mlp', hidden: [16], embeddingDim: 8 }, batchSize: 16, m: 4, epochs: 1,
    });
    const runDir = join(dir, 'text');
    await akin.pipeline.runExperiment(config, { runDir, ...quiet });
    await buildRunIndex(runDir, { log: () => undefined, layout: false });
    const ctx = await server.openRunContext(runDir, { loadItems: false });
    try {
      // Expected from the source records: every text of classes k4 and k5, as a preview.
      const preview = (t: string): string => {
        const one = t.split(/\s+/).filter((w) => w !== '').join(' ');
        return one.length > 200 ? `${one.slice(0, 200)}…` : one;
      };
      const expected = records.filter((r) => r.label === 'k4' || r.label === 'k5').map((r) => `${r.label}|${preview(r.text)}`).sort();
      assert.equal(preview(long).length, 201);
      assert.equal(preview(records[records.length - 1].text), 'ember spaced out');
      const n = ctx.index.size;
      const hits = await ctx.index.search((await ctx.index.getVector(0))!, n);
      assert.equal(hits.length, expected.length);
      const got = hits.map((h) => `${h.metadata!.class}|${h.metadata!.text}`).sort();
      assert.deepEqual(got, expected);

      // The server's /search hits carry the text too.
      const app = await server.createApp(ctx, { ui: false });
      const r = await app.inject({ method: 'POST', url: '/search', payload: { input: records[30].text, k: 2 } });
      await app.close();
      assert.equal(r.statusCode, 200, r.body);
      for (const h of r.json().results) assert.ok(expected.includes(`${h.metadata.class}|${h.metadata.text}`), JSON.stringify(h));
    } finally {
      ctx.model.dispose();
      await ctx.index.close?.();
    }

    // akin search's text output: the text quoted on its own line under its hit; other hits unchanged.
    const { formatResults } = (await import(join(repo, 'dist', 'cli', 'search.js'))) as SearchCli;
    const out = formatResults([{
      query: 'q',
      results: [
        { id: 7, score: 0.5, distance: 0.5, metadata: { label: 1, class: 'k1', text: 'say "hi"' } },
        { id: 8, score: 0.25, distance: 0.75, metadata: { label: 2, class: 'k2' } },
      ],
    }]);
    assert.equal(out, [
      'query q',
      '  rank  id        score     metadata',
      '  1     7         0.5000    {"label":1,"class":"k1"}',
      '        "say \\"hi\\""',
      '  2     8         0.2500    {"label":2,"class":"k2"}',
    ].join('\n'));
  });
});
