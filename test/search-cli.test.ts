import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as akin from 'akin';
import { initBackend, tempDir } from './helpers.js';
import { startPgServer } from './search-pglite.js';

const BIN = fileURLToPath(new URL('../../bin/akin.js', import.meta.url));
let runDir: string;
let ds: akin.data.Dataset;
let embeddings: Float32Array;
let dim: number;

/** Runs the CLI (bounded to 120 s); resolves with its exit code and output. */
function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, '--backend', 'cpu', ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000, env });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

before(async () => {
  await initBackend();
  runDir = join(tempDir('akin-search-cli-'), 'run');
  const config = akin.pipeline.parseRunConfig({
    name: 'search-cli', data: { source: 'embedded', maxTrain: 200, validation: 0 },
    model: { type: 'mlp', hidden: [16], embeddingDim: 8 }, batchSize: 40, m: 8, epochs: 1,
  });
  await akin.pipeline.runExperiment(config, { runDir, progress: false, baselines: false, report: false, log: () => undefined });
  const run = await akin.pipeline.loadRun(runDir);
  ds = (await akin.pipeline.loadRunData(run.config)).testUnseen;
  ({ embeddings, dim } = await akin.models.embed(run.model, ds.features, ds.count, ds.shape));
});

/** Cosine top-k of the unseen-class test embeddings, in plain loops. */
function expected(query: Float32Array, k: number, skip = -1): number[] {
  const e = embeddings;
  const s: [number, number][] = [];
  for (let i = 0; i < ds.count; i++) {
    if (i === skip) continue;
    let d = 0, na = 0, nb = 0;
    for (let j = 0; j < dim; j++) { d += query[j] * e[i * dim + j]; na += query[j] ** 2; nb += e[i * dim + j] ** 2; }
    s.push([i, d / Math.sqrt(na * nb)]);
  }
  return s.sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k).map(([i]) => i);
}

test('akin index build, then akin search --id and --query agree with brute force', { timeout: 300_000 }, async () => {
  const built = await cli(['index', 'build', '--run', runDir]);
  assert.equal(built.code, 0, built.stderr);
  assert.ok(existsSync(join(runDir, 'index', 'index.json')));
  const source = JSON.parse(readFileSync(join(runDir, 'index-source.json'), 'utf8'));
  assert.equal(source.split, 'unseen');
  assert.equal(source.count, 5000);

  const byId = await cli(['search', '--run', runDir, '--id', '17', '--k', '4', '--json']);
  assert.equal(byId.code, 0, byId.stderr);
  const r1 = JSON.parse(byId.stdout) as { query: string; results: { id: number; metadata: { label: number } }[] }[];
  assert.deepEqual(r1[0].results.map((h) => h.id), expected(embeddings.subarray(17 * dim, 18 * dim), 4, 17));
  for (const h of r1[0].results) assert.equal(h.metadata.label, ds.labels[h.id]);

  const qfile = join(runDir, 'queries.jsonl');
  writeFileSync(qfile, [3, 250].map((i) => JSON.stringify(Array.from(ds.features.subarray(i * 784, (i + 1) * 784)))).join('\n'));
  const byQuery = await cli(['search', '--run', runDir, '--query', qfile, '--k', '3', '--json']);
  assert.equal(byQuery.code, 0, byQuery.stderr);
  const r2 = JSON.parse(byQuery.stdout) as { results: { id: number }[] }[];
  assert.equal(r2.length, 2);
  assert.deepEqual(r2[1].results.map((h) => h.id), expected(embeddings.subarray(250 * dim, 251 * dim), 3));
  assert.equal(r2[0].results[0].id, 3, 'an item is its own nearest neighbour');

  const text = await cli(['search', '--run', runDir, '--id', '17', '--k', '2', '--filter', '{"label": 9}']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /query id 17/);
  assert.equal((text.stdout.match(/"label":9/g) ?? []).length, 2);

  const both = await cli(['search', '--run', runDir, '--id', '1', '--query', qfile]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /give exactly one of --query FILE or --id N/);
  const missing = await cli(['search', '--run', runDir, '--id', '99999']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /--id 99999 is not in the index/);
  const exposed = await cli(['serve', '--run', runDir, '--host', '0.0.0.0']);
  assert.equal(exposed.code, 2);
  assert.match(exposed.stderr, /pass --token/);
});

/** Cosine distance (1 - cos) between embedding rows i and j, plain loops. */
function cosDist(i: number, j: number): number {
  let d = 0, na = 0, nb = 0;
  for (let t = 0; t < dim; t++) { d += embeddings[i * dim + t] * embeddings[j * dim + t]; na += embeddings[i * dim + t] ** 2; nb += embeddings[j * dim + t] ** 2; }
  return 1 - d / Math.sqrt(na * nb);
}

test('akin search marks matches with the run\'s thresholds.json (optimal, --target, --threshold) and says which threshold', { timeout: 300_000 }, async () => {
  // Runs after the first test (the exact index of the unseen split is in the run folder).
  type Out = { query: string; threshold?: number; thresholdSource?: string; distance?: string; results: { id: number; distance: number; match?: boolean }[] }[];
  const thrPath = join(runDir, 'thresholds.json');
  const plain = await cli(['search', '--run', runDir, '--id', '17', '--k', '4', '--json']);
  assert.equal(plain.code, 0, plain.stderr);
  const p0 = (JSON.parse(plain.stdout) as Out)[0];
  assert.equal(p0.threshold, undefined, 'no thresholds.json: output as before');
  assert.ok(p0.results.every((h) => !('match' in h)));

  const ids = expected(embeddings.subarray(17 * dim, 18 * dim), 4, 17);
  const d = ids.map((j) => cosDist(17, j));
  const tOpt = (d[1] + d[2]) / 2; // two of the four within
  const tTarget = d[3] * 1.01 + 1e-6; // all four within
  const point = (threshold: number) => ({ threshold, precision: 0.9, recall: 0.5, f1: 0.6, matchRate: 0.5 });
  writeFileSync(thrPath, JSON.stringify({
    distance: 'cosine', metric: 'f1', split: 'validation', created: '', count: 10, positives: 5, curve: [],
    optimal: point(tOpt), targets: { 'precision@0.9': point(tTarget), 'recall@0.99': null },
  }));
  try {
    const opt = await cli(['search', '--run', runDir, '--id', '17', '--k', '4', '--json']);
    assert.equal(opt.code, 0, opt.stderr);
    const o = (JSON.parse(opt.stdout) as Out)[0];
    assert.deepEqual(o.results.map((h) => h.id), ids);
    assert.equal(o.threshold, tOpt);
    assert.equal(o.thresholdSource, 'thresholds.json optimal');
    assert.equal(o.distance, 'cosine');
    assert.deepEqual(o.results.map((h) => h.match), [true, true, false, false]);

    const tgt = await cli(['search', '--run', runDir, '--id', '17', '--k', '4', '--target', 'precision@0.9', '--json']);
    assert.equal(tgt.code, 0, tgt.stderr);
    const t = (JSON.parse(tgt.stdout) as Out)[0];
    assert.equal(t.thresholdSource, 'thresholds.json precision@0.9');
    assert.deepEqual(t.results.map((h) => h.match), [true, true, true, true]);

    const given = (d[0] + d[1]) / 2;
    const qfile = join(runDir, 'queries-thr.jsonl');
    writeFileSync(qfile, JSON.stringify(Array.from(ds.features.subarray(17 * 784, 18 * 784))));
    const req = await cli(['search', '--run', runDir, '--query', qfile, '--k', '5', '--threshold', String(given)]);
    assert.equal(req.code, 0, req.stderr);
    assert.match(req.stdout, new RegExp(`^threshold ${String(given).replace('.', '\\.')} \\(request; cosine distance`));
    // The item itself (distance ~0) and its nearest neighbour are within; the next three are not.
    const rows = req.stdout.split('\n').filter((l) => /^\s+\d+\s/.test(l));
    assert.deepEqual(rows.map((l) => l.trim().split(/\s+/)[4]), ['yes', 'yes', 'no', 'no', 'no']);
    assert.deepEqual(rows.map((l) => Number(l.trim().split(/\s+/)[1])), [17, ...ids]);

    const unknown = await cli(['search', '--run', runDir, '--id', '17', '--target', 'recall@0.99']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /--target 'recall@0\.99' was not calibrated/);
    const both = await cli(['search', '--run', runDir, '--id', '17', '--target', 'precision@0.9', '--threshold', '0.1']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /at most one of --threshold X or --target NAME/);

    // Thresholds in another distance than the index's: plain search warns and marks nothing.
    writeFileSync(thrPath, JSON.stringify({ ...JSON.parse(readFileSync(thrPath, 'utf8')), distance: 'l2' }));
    const other = await cli(['search', '--run', runDir, '--id', '17', '--k', '2', '--json']);
    assert.equal(other.code, 0, other.stderr);
    assert.match(other.stderr, /calibrated in 'l2' distance but the index ranks by 'cosine'/);
    assert.equal((JSON.parse(other.stdout) as Out)[0].threshold, undefined);
  } finally {
    rmSync(thrPath, { force: true });
  }
});

test('akin index build --kind pgvector, then akin search and akin serve use the index saved with the run', { timeout: 300_000 }, async () => {
  const pg = await startPgServer();
  try {
    const bad = await cli(['index', 'build', '--run', runDir, '--table', 'x']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--pg-url and --table apply to --kind pgvector/);

    const built = await cli(['index', 'build', '--run', runDir, '--kind', 'pgvector', '--pg-url', pg.url, '--table', 'akin_cli_items']);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stderr, /indexed 5000 'unseen' items \(dim 8, pgvector in table akin_cli_items, cosine\)/);
    const manifest = JSON.parse(readFileSync(join(runDir, 'index', 'index.json'), 'utf8'));
    assert.equal(manifest.kind, 'pgvector');
    assert.equal(manifest.params.table, 'akin_cli_items');
    assert.equal(manifest.params.annIndex, 'hnsw', 'an HNSW index by default');
    assert.ok(!JSON.stringify(manifest).includes('test-password'), 'no password in the run folder');
    assert.ok(existsSync(join(runDir, 'layout.json')), 'the projector layout is cached by the build');

    // Later commands take the password from the environment, as psql does.
    const env = { ...process.env, PGPASSWORD: 'test-password' };
    const byId = await cli(['search', '--run', runDir, '--id', '17', '--k', '4', '--json'], env);
    assert.equal(byId.code, 0, byId.stderr);
    const hits = (JSON.parse(byId.stdout) as { results: { id: number; metadata: { label: number } }[] }[])[0].results;
    const truth = expected(embeddings.subarray(17 * dim, 18 * dim), 4, 17);
    // Approximate (HNSW) search: nearly all of the true neighbours, best first.
    assert.ok(hits.filter((h) => truth.includes(h.id)).length >= 3, `${JSON.stringify(hits.map((h) => h.id))} vs ${JSON.stringify(truth)}`);
    for (const h of hits) assert.equal(h.metadata.label, ds.labels[h.id]);
    const filtered = await cli(['search', '--run', runDir, '--id', '17', '--k', '3', '--filter', '{"label": 9}', '--json'], env);
    assert.equal(filtered.code, 0, filtered.stderr);
    for (const h of (JSON.parse(filtered.stdout) as { results: { metadata: { label: number } }[] }[])[0].results) assert.equal(h.metadata.label, 9);

    const layoutBefore = statSync(join(runDir, 'layout.json')).mtimeMs;
    const serve = spawn(process.execPath, [BIN, '--backend', 'cpu', 'serve', '--run', runDir, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'], env, timeout: 120_000 });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let err = '';
        serve.stderr.on('data', (d) => {
          err += d;
          const m = /serving 5000 items \(pgvector\) at (http:\/\/127\.0\.0\.1:\d+)\//.exec(err);
          if (m) resolve(m[1]);
        });
        serve.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
      });
      const res = await fetch(`${url}/search`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ids: [17, 250], k: 4 }), signal: AbortSignal.timeout(20_000),
      });
      assert.equal(res.status, 200);
      const batch = (await res.json()) as { results: { id: number }[][] };
      assert.equal(batch.results.length, 2);
      assert.deepEqual(batch.results[0].map((h) => h.id), hits.map((h) => h.id), 'the server searches the same table as akin search');
      const t0 = performance.now();
      const pts = await fetch(`${url}/api/points`, { signal: AbortSignal.timeout(20_000) });
      const ms = performance.now() - t0;
      assert.equal(pts.status, 200);
      const layout = (await pts.json()) as { points: unknown[] };
      assert.deepEqual(layout.points, JSON.parse(readFileSync(join(runDir, 'layout.json'), 'utf8')).points);
      assert.equal(statSync(join(runDir, 'layout.json')).mtimeMs, layoutBefore, 'served from the cache, not recomputed');
      process.stderr.write(`note: first /api/points from the cached layout took ${ms.toFixed(0)} ms\n`);
    } finally {
      serve.kill('SIGTERM');
    }
  } finally {
    await pg.stop();
  }
});
