import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import * as akin from 'akin';
import * as report from 'akin/report';
import { initBackend, tempDir } from './helpers.js';

before(async () => {
  await initBackend();
});

/** 3 classes of 8x8 one-channel "images": class c is bright in rows 2c..2c+2, plus seeded noise. */
function tinyImages(perClass: number): akin.data.Dataset {
  const r = akin.createRandom(9);
  const n = 3 * perClass;
  const features = new Float32Array(n * 64);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    labels[i] = c;
    for (let p = 0; p < 64; p++) features[i * 64 + p] = (Math.floor(p / 8) >> 1 === c ? 0.8 : 0.1) + 0.2 * r.next();
  }
  return { features, labels, count: n, shape: [8, 8, 1], classNames: ['stripe<0>', 'stripe1', 'stripe2'] };
}

/** Decodes an 8-bit greyscale PNG (filter 0 rows only, as the encoder writes) into its pixel bytes. */
function decodeGreyPng(png: Buffer): { w: number; h: number; pixels: Uint8Array } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let off = 8;
  let w = 0, h = 0;
  const idat: Buffer[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('ascii', off + 4, off + 8);
    const body = png.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') { w = body.readUInt32BE(0); h = body.readUInt32BE(4); assert.equal(body[8], 8); assert.equal(body[9], 0); }
    if (type === 'IDAT') idat.push(body);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const pixels = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    assert.equal(raw[y * (w + 1)], 0);
    pixels.set(raw.subarray(y * (w + 1) + 1, (y + 1) * (w + 1)), y * w);
  }
  return { w, h, pixels };
}

test('report.html is written, self-contained, and holds the curves, metrics, projection and neighbour grids', async () => {
  const runDir = tempDir('akin-report-');
  const log = [
    { event: 'train_begin', epochs: 3 },
    { event: 'epoch', epoch: 0, loss: 0.987654, val_mapAtR: 0.111111, seconds: 1 },
    { event: 'epoch', epoch: 1, loss: 0.5, val_mapAtR: 0.4, seconds: 1 },
    { event: 'epoch', epoch: 1, loss: 0.123456, val_mapAtR: 0.654321, seconds: 1 }, // resumed: the later record wins
  ].map((r) => JSON.stringify(r)).join('\n') + '\n{"event":"epo'; // torn last line of a killed run
  writeFileSync(join(runDir, 'log.jsonl'), log);
  const data = tinyImages(20);
  const model = akin.models.mlp({ inputShape: [8, 8, 1], hidden: [16], embeddingDim: 4, seed: 1 });
  const metrics = { trained: { seen: { precisionAt1: 0.8125, mapAtR: 0.4321 }, unseen: { precisionAt1: 0.7, mapAtR: 0.3579 } } };
  const path = await report.writeRunReport({ runDir, config: { name: 'tiny', seed: 3 }, metrics, model, data, queries: 3, neighbours: 4 });
  assert.equal(path, join(runDir, 'report.html'));
  const html = readFileSync(path, 'utf8');

  // Self-contained: nothing fetched from anywhere.
  assert.doesNotMatch(html, /https?:\/\//i);
  assert.doesNotMatch(html, /<link\b|<script\b[^>]*\bsrc=|@import|url\(/i);
  for (const m of html.matchAll(/\bsrc="([^"]*)"/g)) assert.match(m[1], /^data:image\/png;base64,/);

  // The curves' data: per-epoch values from log.jsonl, the later record of a repeated epoch.
  const curves = JSON.parse(/<script type="application\/json" id="curves">(.*?)<\/script>/s.exec(html)![1]) as Record<string, number>[];
  assert.deepEqual(curves.map((c) => [c.epoch, c.loss, c.val_mapAtR]), [[0, 0.987654, 0.111111], [1, 0.123456, 0.654321]]);
  assert.match(html, /loss per epoch/);
  assert.match(html, /validation metrics per epoch/);
  assert.equal((html.match(/<polyline/g) ?? []).length, 2, 'one loss line and one validation line');

  // Metrics table, config, escaping.
  for (const v of ['0.8125', '0.4321', '0.7000', '0.3579']) assert.ok(html.includes(v), v);
  assert.ok(html.includes('stripe&lt;0&gt;') && !html.includes('stripe<0>'), 'class names are escaped');
  assert.match(html, /&quot;name&quot;: &quot;tiny&quot;/);

  // Projection: one dot per point (60 points, under the 800 cap) plus one legend dot per class.
  const scatter = /<svg[^>]*aria-label="UMAP of test data"[^>]*>(.*?)<\/svg>/s.exec(html)![1];
  assert.equal((scatter.match(/<circle/g) ?? []).length, 60 + 3);

  // Neighbour grids: 3 queries x (1 + 4) thumbnails; the first query's thumbnail is its own pixels.
  assert.equal((html.match(/<div class="grid">/g) ?? []).length, 3);
  const imgs = [...html.matchAll(/src="data:image\/png;base64,([^"]+)"/g)].map((m) => Buffer.from(m[1], 'base64'));
  assert.equal(imgs.length, 15);
  const first = decodeGreyPng(imgs[0]);
  assert.equal(first.w, 8);
  assert.equal(first.h, 8);
  assert.deepEqual([...first.pixels], Array.from(data.features.subarray(0, 64), (v) => Math.round(Math.min(1, v) * 255)));
});

test('project2d is deterministic for a seed and differs across seeds', () => {
  const r = akin.createRandom(2);
  const rows = Float32Array.from({ length: 40 * 5 }, () => r.next());
  const a = report.project2d(rows, 5, { seed: 1, nEpochs: 50 });
  const b = report.project2d(rows, 5, { seed: 1, nEpochs: 50 });
  const c = report.project2d(rows, 5, { seed: 2, nEpochs: 50 });
  assert.equal(a.length, 80);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.ok(a.every(Number.isFinite));
  assert.throws(() => report.project2d(rows, 7), /whole rows of dim 7/);
});

test('runExperiment writes report.html into the run folder', async () => {
  const runDir = join(tempDir('akin-report-run-'), 'run');
  const config = akin.pipeline.parseRunConfig({
    name: 'report-e2e', data: { source: 'embedded', maxTrain: 300, validation: 0.2 },
    model: { type: 'mlp', hidden: [32], embeddingDim: 8 }, batchSize: 40, m: 8, epochs: 1,
  });
  await akin.pipeline.runExperiment(config, { runDir, progress: false, baselines: false, log: () => undefined });
  assert.ok(existsSync(join(runDir, 'report.html')));
  const html = readFileSync(join(runDir, 'report.html'), 'utf8');
  const curves = JSON.parse(/id="curves">(.*?)<\/script>/s.exec(html)![1]) as Record<string, number>[];
  const logged = readFileSync(join(runDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.event === 'epoch');
  assert.equal(curves.length, 1);
  assert.equal(curves[0].loss, logged[0].loss);
  assert.equal(curves[0].val_mapAtR, logged[0].val_mapAtR);
  assert.match(html, /Sandal/, 'unseen class names label the projection');
  assert.doesNotMatch(html, /https?:\/\//i);
});
