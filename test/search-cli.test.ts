import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as akin from 'akin';
import { initBackend } from './helpers.js';

const BIN = fileURLToPath(new URL('../../bin/akin.js', import.meta.url));
let runDir: string;
let ds: akin.data.Dataset;
let embeddings: Float32Array;
let dim: number;

/** Runs the CLI (bounded to 120 s); resolves with its exit code and output. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, '--backend', 'cpu', ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

before(async () => {
  await initBackend();
  runDir = join(mkdtempSync(join(tmpdir(), 'akin-search-cli-')), 'run');
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
