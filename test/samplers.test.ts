import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend } from './helpers.js';

const { MPerClassSampler } = akin.samplers;

before(async () => {
  await initBackend();
});

/** Labels with `sizes[c]` samples of class c, shuffled so classes are not contiguous. */
function makeLabels(sizes: number[], seed = 5): Int32Array {
  const labels: number[] = [];
  sizes.forEach((n, c) => { for (let k = 0; k < n; k++) labels.push(c * 10 + 3); });
  return akin.core.shuffleInPlace(Int32Array.from(labels), akin.createRandom(seed));
}

/** Checks one batch in plain loops: exactly batchSize/m classes, m samples of each, in blocks of m. */
function checkBatch(batch: Int32Array, labels: Int32Array, batchSize: number, m: number, sizes: Map<number, number>): void {
  assert.equal(batch.length, batchSize);
  const perClass = new Map<number, number[]>();
  for (let b = 0; b < batch.length; b++) {
    assert.ok(batch[b] >= 0 && batch[b] < labels.length, `index ${batch[b]} out of range`);
    const l = labels[batch[b]];
    // m consecutive slots share a class
    assert.equal(l, labels[batch[Math.floor(b / m) * m]], `slot ${b}`);
    if (!perClass.has(l)) perClass.set(l, []);
    perClass.get(l)!.push(batch[b]);
  }
  assert.equal(perClass.size, batchSize / m);
  for (const [l, idx] of perClass) {
    assert.equal(idx.length, m, `class ${l}`);
    // without replacement whenever the class is big enough
    if (sizes.get(l)! >= m) assert.equal(new Set(idx).size, m, `class ${l} drew a sample twice`);
  }
}

test('MPerClassSampler: every batch has batchSize/m classes x m samples; length rounds down', () => {
  const sizes = [12, 7, 3, 20, 9, 2, 15, 8];
  const labels = makeLabels(sizes);
  const sizeOf = new Map(sizes.map((n, c) => [c * 10 + 3, n]));
  for (const [m, batchSize, len] of [[4, 16, 203], [3, 24, 100], [1, 8, 64], [2, 2, 5]] as const) {
    const s = new MPerClassSampler({ labels, m, batchSize, lengthBeforeNewIter: len, random: akin.createRandom(1) });
    assert.equal(s.length, len - (len % batchSize));
    assert.equal(s.numClasses, 8);
    const epoch = s.epoch();
    assert.equal(epoch.length, s.length / batchSize);
    assert.equal(epoch.length, s.batchesPerEpoch);
    for (const batch of epoch) checkBatch(batch, labels, batchSize, m, sizeOf);
    assert.equal(s.indices().length, s.length);
  }
});

test('MPerClassSampler: small classes are sampled with replacement; all classes get used', () => {
  const labels = Int32Array.from([0, 1, 1, 2, 2, 2, 3, 3, 3, 3]);
  const s = new MPerClassSampler({ labels, m: 4, batchSize: 8, lengthBeforeNewIter: 800, random: akin.createRandom(2) });
  const used = new Map<number, number>();
  for (const batch of s.epoch()) {
    checkBatch(batch, labels, 8, 4, new Map([[0, 1], [1, 2], [2, 3], [3, 4]]));
    for (const i of batch) used.set(labels[i], (used.get(labels[i]) ?? 0) + 1);
  }
  assert.deepEqual([...used.keys()].sort(), [0, 1, 2, 3]);
});

test('MPerClassSampler: the same seed gives the same batches, another seed different ones', () => {
  const labels = makeLabels([10, 10, 10, 10, 10, 10]);
  const make = (seed: number): akin.samplers.MPerClassSampler =>
    new MPerClassSampler({ labels, m: 2, batchSize: 6, lengthBeforeNewIter: 60, random: akin.createRandom(seed) });
  const a = make(9), b = make(9), c = make(10);
  const ea = a.epoch().map((x) => Array.from(x));
  assert.deepEqual(ea, b.epoch().map((x) => Array.from(x)));
  assert.notDeepEqual(ea, c.epoch().map((x) => Array.from(x)));
  // a second epoch continues the stream: differs from the first, same across equal seeds
  const ea2 = a.epoch().map((x) => Array.from(x));
  assert.notDeepEqual(ea2, ea);
  assert.deepEqual(ea2, b.epoch().map((x) => Array.from(x)));
  assert.deepEqual(a.getConfig(), { m: 2, batchSize: 6, lengthBeforeNewIter: 60 });
});

test('MPerClassSampler: bad options raise ConfigError naming the option', () => {
  const labels = makeLabels([5, 5, 5]);
  const cases: [Record<string, unknown>, string][] = [
    [{ labels, m: 2, batchSize: 5 }, 'batchSize'],
    [{ labels, m: 2, batchSize: 8 }, 'batchSize'],
    [{ labels, m: 0, batchSize: 4 }, 'm'],
    [{ labels, m: 1.5, batchSize: 3 }, 'm'],
    [{ labels, m: 2, batchSize: 4, lengthBeforeNewIter: 3 }, 'lengthBeforeNewIter'],
    [{ labels: [], m: 2, batchSize: 4 }, 'labels'],
    [{ labels: [0, 1, 0.5], m: 1, batchSize: 2 }, 'labels'],
    [{ labels, m: 2 }, 'batchSize'],
    [{ labels, m: 2, batchSize: 4, mPerClass: 3 }, 'mPerClass'],
  ];
  for (const [opts, name] of cases) {
    assert.throws(
      () => new MPerClassSampler(opts as unknown as akin.samplers.MPerClassSamplerOptions),
      (e: unknown) => e instanceof akin.ConfigError && e.message.includes(`'${name}'`),
      `${JSON.stringify({ ...opts, labels: undefined })} should name ${name}`,
    );
  }
});
