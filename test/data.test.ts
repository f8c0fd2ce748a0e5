import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as akin from 'akin';
import { initBackend, tempDir } from './helpers.js';

const { data } = akin;
let tmp: string;

before(async () => {
  await initBackend();
  tmp = tempDir('akin-data-');
});

/** Hand-written IDX bytes: magic 00 00 dtype rank, big-endian uint32 dims, big-endian values. */
function idxBytes(dtypeByte: number, dims: number[], values: number[], width: number, write: (v: DataView, at: number, x: number) => void): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + values.length * width);
  const view = new DataView(out.buffer);
  out[2] = dtypeByte;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  values.forEach((x, i) => write(view, header + i * width, x));
  return out;
}

const CASES = [
  { byte: 0x08, dtype: 'uint8', width: 1, values: [0, 1, 127, 128, 200, 255], write: (v: DataView, a: number, x: number) => v.setUint8(a, x) },
  { byte: 0x09, dtype: 'int8', width: 1, values: [-128, -1, 0, 1, 100, 127], write: (v: DataView, a: number, x: number) => v.setInt8(a, x) },
  { byte: 0x0b, dtype: 'int16', width: 2, values: [-32768, -300, 0, 1, 258, 32767], write: (v: DataView, a: number, x: number) => v.setInt16(a, x) },
  { byte: 0x0c, dtype: 'int32', width: 4, values: [-2147483648, -70000, 0, 1, 65536, 2147483647], write: (v: DataView, a: number, x: number) => v.setInt32(a, x) },
  { byte: 0x0d, dtype: 'float32', width: 4, values: [-1.5, 0, 0.25, 3, 1e6, -2.75], write: (v: DataView, a: number, x: number) => v.setFloat32(a, x) },
  { byte: 0x0e, dtype: 'float64', width: 8, values: [-1.1, 0, Math.PI, 1e-300, 7, -0.5], write: (v: DataView, a: number, x: number) => v.setFloat64(a, x) },
] as const;

test('IDX: every dtype reads back from raw and gzipped files, with big-endian dims', async () => {
  for (const c of CASES) {
    const bytes = idxBytes(c.byte, [2, 3], [...c.values], c.width, c.write);
    const raw = join(tmp, `a-${c.dtype}.idx`);
    const gz = join(tmp, `a-${c.dtype}.idx.gz`);
    writeFileSync(raw, bytes);
    writeFileSync(gz, gzipSync(bytes));
    for (const path of [raw, gz]) {
      const arr = await data.readIdx(path);
      assert.equal(arr.dtype, c.dtype, path);
      assert.deepEqual(arr.shape, [2, 3], path);
      assert.deepEqual(Array.from(arr.data), [...c.values], path);
    }
  }
});

test('IDX: large dims are read big-endian and encodeIdx round-trips', () => {
  const bytes = data.encodeIdx([1, 300], Uint8Array.from({ length: 300 }, (_, i) => i % 256));
  assert.deepEqual(Array.from(bytes.subarray(0, 12)), [0, 0, 0x08, 2, 0, 0, 0, 1, 0, 0, 1, 44]);
  const arr = data.parseIdx(bytes);
  assert.deepEqual(arr.shape, [1, 300]);
  assert.equal(arr.data[299], 299 % 256);
});

test('IDX: bad magic, unknown dtype, truncation, trailing bytes and a missing file are DataErrors naming the file', async () => {
  const good = idxBytes(0x08, [4], [1, 2, 3, 4], 1, (v, a, x) => v.setUint8(a, x));
  const cases: [string, Uint8Array, RegExp][] = [
    ['bad-magic.idx', Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]), /bad IDX magic number/],
    ['bad-dtype.idx', Uint8Array.from([0, 0, 0x0a, 1, 0, 0, 0, 1, 0]), /unknown dtype byte 0x0A/],
    ['short.idx', Uint8Array.from([0, 0]), /truncated/],
    ['short-header.idx', good.subarray(0, 6), /truncated.*header/],
    ['short-data.idx', good.subarray(0, good.length - 1), /truncated.*needs 12 bytes, got 11/],
    ['short-data.idx.gz', gzipSync(good.subarray(0, good.length - 2)), /truncated/],
    ['cut-gzip.idx.gz', gzipSync(good).subarray(0, 15), /gzip/],
    ['trailing.idx', Uint8Array.from([...good, 9]), /trailing/],
  ];
  for (const [name, bytes, why] of cases) {
    const path = join(tmp, name);
    writeFileSync(path, bytes);
    await assert.rejects(data.readIdx(path), (err: unknown) => {
      assert.ok(err instanceof akin.DataError, `${name}: ${String(err)}`);
      assert.equal(err.code, 'E_DATA');
      assert.ok(err.message.includes(path), `${name}: message does not name the file: ${err.message}`);
      assert.match(err.message, why, name);
      return true;
    });
  }
  const missing = join(tmp, 'nope.idx');
  await assert.rejects(data.readIdx(missing), (err: unknown) => err instanceof akin.DataError && err.message.includes(missing) && /not found/.test(err.message));
});

test('Fashion-MNIST: the embedded test split loads (10,000 images, 1,000 per class, values in [0, 1])', async () => {
  const fm = await data.loadFashionMnist({ source: 'embedded' });
  assert.equal(fm.source, 'embedded');
  assert.equal(fm.train, undefined);
  const ds = fm.test;
  assert.equal(ds.count, 10000);
  assert.deepEqual(ds.shape, [28, 28, 1]);
  assert.equal(ds.features.length, 10000 * 784);
  assert.equal(ds.labels.length, 10000);
  const counts = new Array<number>(10).fill(0);
  for (const l of ds.labels) counts[l]++;
  assert.deepEqual(counts, new Array(10).fill(1000));
  let min = Infinity, max = -Infinity;
  for (const v of ds.features) { if (v < min) min = v; if (v > max) max = v; }
  assert.equal(min, 0);
  assert.equal(max, 1);
  assert.deepEqual(ds.classNames, ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
  assert.match(fm.description, /10000 test images/);
});

test('Fashion-MNIST: Debian\'s dataset-fashion-mnist is used when installed', async (t) => {
  if (!data.debianInstalled()) {
    t.skip('dataset-fashion-mnist is not installed');
    return;
  }
  const fm = await data.loadFashionMnist({ split: 'test' });
  assert.equal(fm.source, 'debian');
  assert.equal(fm.test.count, 10000);
  assert.equal(fm.train, undefined);
  // Debian ships the same test split as the one embedded here
  const embedded = await data.loadFashionMnist({ source: 'embedded' });
  assert.deepEqual(fm.test.labels, embedded.test.labels);
});

test('Fashion-MNIST: a dir with small IDX files loads both splits; a missing file names its path', async () => {
  const dir = join(tmp, 'fm');
  mkdirSync(dir);
  const img = (n: number): Uint8Array => data.encodeIdx([n, 28, 28], Uint8Array.from({ length: n * 784 }, (_, i) => (i * 7) % 256));
  const lab = (n: number): Uint8Array => data.encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 10));
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(img(20)));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), lab(20));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), img(10));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(lab(10)));
  const fm = await data.loadFashionMnist({ dir });
  assert.equal(fm.source, 'dir');
  assert.equal(fm.train?.count, 20);
  assert.equal(fm.test.count, 10);
  assert.equal(fm.test.features[1], Math.fround(7 / 255));
  assert.deepEqual(Array.from(fm.train!.labels.subarray(0, 12)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  const testOnly = await data.loadFashionMnist({ dir, split: 'test' });
  assert.equal(testOnly.train, undefined);

  const empty = join(tmp, 'fm-empty');
  mkdirSync(empty);
  await assert.rejects(data.loadFashionMnist({ dir: empty }), (err: unknown) =>
    err instanceof akin.DataError && err.message.includes(join(empty, 't10k-images-idx3-ubyte')));
  writeFileSync(join(empty, 't10k-images-idx3-ubyte'), img(10));
  writeFileSync(join(empty, 't10k-labels-idx1-ubyte'), lab(9));
  await assert.rejects(data.loadFashionMnist({ dir: empty }), (err: unknown) =>
    err instanceof akin.DataError && /9 labels for 10 images/.test(err.message));
  await assert.rejects(data.loadFashionMnist({ split: 'both' as 'all' }), (err: unknown) =>
    err instanceof akin.ConfigError && /'split'/.test(err.message));
});

/** A small dataset: `perClass[c]` samples of class c, feature = sample index. */
function toy(perClass: number[]): akin.data.Dataset {
  const labels: number[] = [];
  perClass.forEach((n, c) => { for (let k = 0; k < n; k++) labels.push(c); });
  // interleave so that classes are not contiguous
  const order = labels.map((_, i) => i).sort((a, b) => (a % 3) - (b % 3) || a - b);
  const lab = Int32Array.from(order.map((i) => labels[i]));
  return { features: Float32Array.from(lab, (_, i) => i), labels: lab, count: lab.length, shape: [1], classNames: perClass.map((_, c) => `c${c}`) };
}

test('splits: splitByClasses / excludeClasses give disjoint, complete class sets in the original order', () => {
  const ds = toy([5, 6, 7, 8, 9, 10]);
  const a = data.splitByClasses(ds, [0, 2, 4]);
  const b = data.excludeClasses(ds, [0, 2, 4]);
  assert.deepEqual(data.classesOf(a), [0, 2, 4]);
  assert.deepEqual(data.classesOf(b), [1, 3, 5]);
  assert.equal(a.count + b.count, ds.count);
  const ids = [...a.features, ...b.features].sort((x, y) => x - y);
  assert.deepEqual(ids, Array.from({ length: ds.count }, (_, i) => i));
  for (const part of [a, b]) for (let i = 1; i < part.count; i++) assert.ok(part.features[i] > part.features[i - 1]);
  for (let i = 0; i < a.count; i++) assert.equal(a.labels[i], ds.labels[a.features[i]]);
  assert.deepEqual(a.classNames, ds.classNames);
  assert.throws(() => data.splitByClasses(ds, []), (e: unknown) => e instanceof akin.ConfigError && /'classes'/.test(e.message));
});

test('splits: stratified holdout holds out round(fraction * n) of every class, reproducibly', () => {
  const ds = toy([5, 6, 7, 8, 9, 10]);
  const { train, test: held } = data.holdout(ds, { fraction: 0.3, random: akin.createRandom(7) });
  for (let c = 0; c < 6; c++) {
    const n = 5 + c;
    const nTest = held.labels.filter((l) => l === c).length;
    const nTrain = train.labels.filter((l) => l === c).length;
    assert.equal(nTest, Math.round(0.3 * n), `class ${c}`);
    assert.equal(nTrain + nTest, n);
  }
  const seen = new Set([...train.features, ...held.features]);
  assert.equal(seen.size, ds.count, 'train and test are disjoint and complete');
  const again = data.holdout(ds, { fraction: 0.3, random: akin.createRandom(7) });
  assert.deepEqual(Array.from(again.test.features), Array.from(held.features));
  const other = data.holdout(ds, { fraction: 0.3, random: akin.createRandom(8) });
  assert.notDeepEqual(Array.from(other.test.features), Array.from(held.features));
  const flat = data.holdout(ds, { fraction: 0.25, stratified: false, random: akin.createRandom(1) });
  assert.equal(flat.test.count, Math.round(0.25 * ds.count));
  assert.throws(() => data.holdout(ds, { fraction: 1.5 }), (e: unknown) => e instanceof akin.ConfigError && /'fraction'/.test(e.message));
});

test('splits: openSetSplit trains on seen classes, tests on held-out seen and all unseen', () => {
  const ds = toy([10, 10, 10, 10]);
  const s = data.openSetSplit(ds, { seenClasses: [0, 1], fraction: 0.2, random: akin.createRandom(3) });
  assert.deepEqual(data.classesOf(s.train), [0, 1]);
  assert.deepEqual(data.classesOf(s.testSeen), [0, 1]);
  assert.deepEqual(data.classesOf(s.testUnseen), [2, 3]);
  assert.equal(s.train.count, 16);
  assert.equal(s.testSeen.count, 4);
  assert.equal(s.testUnseen.count, 20);
});
