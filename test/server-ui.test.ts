import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as akin from 'akin';
import * as server from 'akin/server';
import { initBackend } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) && 'chromium is not installed (apt-get install -y chromium)';

let running: server.RunningServer | undefined;
let emb: Float32Array;
let dim: number;
let items: akin.data.Dataset;

/** 3 classes of 8x8 images: class c bright in rows 2c..2c+2, plus seeded noise. */
function tinyImages(perClass: number): akin.data.Dataset {
  const r = akin.createRandom(4);
  const n = 3 * perClass;
  const features = new Float32Array(n * 64);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let p = 0; p < 64; p++) features[i * 64 + p] = (Math.floor(p / 8) >> 1 === i % 3 ? 0.8 : 0.1) + 0.3 * r.next();
  }
  return { features, labels, count: n, shape: [8, 8, 1], classNames: ['top', 'middle', 'bottom'] };
}

/** The k ids nearest to item q by cosine, itself excluded (plain loops). */
function bruteIds(q: number, k: number): number[] {
  const s: [number, number][] = [];
  const a = emb.subarray(q * dim, (q + 1) * dim);
  for (let i = 0; i < items.count; i++) {
    if (i === q) continue;
    const b = emb.subarray(i * dim, (i + 1) * dim);
    let d = 0, na = 0, nb = 0;
    for (let j = 0; j < dim; j++) { d += a[j] * b[j]; na += a[j] ** 2; nb += b[j] ** 2; }
    s.push([i, d / Math.sqrt(na * nb)]);
  }
  return s.sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, k).map(([i]) => i);
}

before(async () => {
  if (skip) return;
  await initBackend();
  items = tinyImages(30);
  const model = akin.models.mlp({ inputShape: [8, 8, 1], hidden: [16], embeddingDim: 6, seed: 2 });
  ({ embeddings: emb, dim } = await akin.models.embed(model, items.features, items.count, items.shape));
  const index = new akin.search.ExactIndex({ metric: 'cosine' });
  await index.add(emb, dim, Array.from({ length: items.count }, (_, i) => i), Array.from(items.labels, (label) => ({ label })));
  running = await server.startServer({ model, inputShape: [8, 8, 1], index, thresholds: null, items, info: { run: 'ui' } }, { port: 0 });
});

after(async () => {
  await running?.close();
});

test('projector: the layout is drawn, hovering shows a thumbnail, clicking shows the neighbours as a grid', { skip, timeout: 60_000 }, async () => {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30_000,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.setDefaultTimeout(20_000);
    const outside: string[] = [];
    page.on('request', (r) => { if (!r.url().startsWith(running!.url)) outside.push(r.url()); });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${running!.url}/`);
    await page.waitForSelector('body[data-ready="true"]');
    assert.deepEqual(await page.locator('#legend span').allTextContents(), ['top', 'middle', 'bottom']);
    assert.match(await page.locator('#status').textContent() ?? '', /90 of 90 items \(exact index, dim 6\)/);

    // Where the page draws point 7 (same arithmetic as the page: bounding square, 10px margin).
    const layout = (await (await fetch(`${running!.url}/api/points`)).json()) as { points: { id: number; x: number; y: number; label: number }[] };
    assert.equal(layout.points.length, 90);
    const xs = layout.points.map((p) => p.x), ys = layout.points.map((p) => p.y);
    const span = Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys));
    const box = (await page.locator('#plot').boundingBox())!;
    const at = (p: { x: number; y: number }): [number, number] => [
      box.x + ((p.x - Math.min(...xs)) / span) * (640 - 20) + 10,
      box.y + ((p.y - Math.min(...ys)) / span) * (640 - 20) + 10,
    ];
    // A point with no other point within 8px, so hover and click pick it unambiguously.
    const target = layout.points.find((p) => layout.points.every((o) => o === p || Math.hypot(at(o)[0] - at(p)[0], at(o)[1] - at(p)[1]) > 8))!;
    assert.ok(target, 'some point stands alone');
    await page.mouse.move(...at(target));
    await page.waitForSelector('#tip:not([hidden])');
    const names = ['top', 'middle', 'bottom'];
    assert.equal(await page.locator('#tip-text').textContent(), `#${target.id} ${names[target.label]}`);
    await page.waitForFunction(() => (document.getElementById('tip-img') as HTMLImageElement).naturalWidth === 8);

    await page.mouse.click(...at(target));
    await page.waitForFunction(() => document.querySelectorAll('#results .cell').length === 13);
    const ids = await page.locator('#results .cell').evaluateAll((cells) => cells.map((c) => Number((c as HTMLElement).dataset.id)));
    assert.equal(ids[0], target.id);
    assert.deepEqual(ids.slice(1), bruteIds(target.id, 12));
    const sameClass = await page.locator('#results .cell.same').count();
    const expectedSame = bruteIds(target.id, 12).filter((i) => items.labels[i] === items.labels[target.id]).length;
    assert.equal(sameClass, expectedSame);
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#results img')).every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth === 8));
    assert.deepEqual(errors, []);
    assert.deepEqual(outside, [], 'the page loads nothing from other hosts');
  } finally {
    await browser.close();
  }
});

test('UI API routes: thumbnails are PNGs of the items, bad ids are JSON 4xx', { skip }, async () => {
  const ok = await fetch(`${running!.url}/api/thumb/5`, { signal: AbortSignal.timeout(5000) });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-type'), 'image/png');
  const png = Buffer.from(await ok.arrayBuffer());
  assert.equal(png.readUInt32BE(16), 8, 'width 8');
  const missing = await fetch(`${running!.url}/api/thumb/90`, { signal: AbortSignal.timeout(5000) });
  assert.equal(missing.status, 404);
  assert.match((await missing.json()).error.message, /params\.id 90 is not an item/);
  const bad = await fetch(`${running!.url}/api/thumb/abc`, { signal: AbortSignal.timeout(5000) });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error.message, /params\.id must match pattern/);
});
