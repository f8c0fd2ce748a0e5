import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, assertClose } from './helpers.js';

const tf = akin.tf;
const S = akin.samplers;

before(async () => {
  await initBackend();
});

/** [class, superclass] rows: superclass s holds classes 10s..10s+3, class c has 2 + (c % 4) samples. */
function hierarchy(): number[][] {
  const rows: number[][] = [];
  for (let s = 0; s < 3; s++) for (let c = 10 * s; c < 10 * s + 4; c++) for (let k = 0; k < 2 + (c % 4); k++) rows.push([c, s]);
  return akin.core.shuffleInPlace(rows, akin.createRandom(2));
}

test('HierarchicalSampler: each batch mixes two super-labels, whole draws per class, no repeats', () => {
  const labels = hierarchy();
  const sampler = new S.HierarchicalSampler({ labels, batchSize: 8, samplesPerClass: 2, batchesPerSuperTuple: 3, random: akin.createRandom(5) });
  assert.deepEqual(sampler.superPairs, [[0, 1], [0, 2], [1, 2]]);
  assert.equal(sampler.length, 9);
  const batches = sampler.epoch();
  assert.equal(batches.length, 9);
  const pairsSeen = new Map<string, number>();
  for (const b of batches) {
    assert.ok(b.length <= 8 && b.length > 0);
    assert.equal(new Set(b).size, b.length, 'no sample twice in a batch');
    const supers = [...new Set(Array.from(b, (i) => labels[i][1]))].sort();
    assert.equal(supers.length, 2);
    pairsSeen.set(supers.join(','), (pairsSeen.get(supers.join(',')) ?? 0) + 1);
    const perSuper = new Map<number, number>();
    const perClass = new Map<number, number>();
    for (const i of b) {
      perSuper.set(labels[i][1], (perSuper.get(labels[i][1]) ?? 0) + 1);
      perClass.set(labels[i][0], (perClass.get(labels[i][0]) ?? 0) + 1);
    }
    for (const v of perSuper.values()) assert.ok(v <= 4, 'sub-batch within batchSize / 2');
    for (const v of perClass.values()) assert.equal(v, 2, 'samplesPerClass from each class used');
  }
  assert.deepEqual([...pairsSeen.values()], [3, 3, 3]);
  // seeded: same random, same epoch
  const again = new S.HierarchicalSampler({ labels, batchSize: 8, samplesPerClass: 2, batchesPerSuperTuple: 3, random: akin.createRandom(5) }).epoch();
  assert.deepEqual(again, batches);
  assert.notDeepEqual(sampler.epoch(), batches, 'every epoch reshuffles');
});

test('HierarchicalSampler: samplesPerClass \'all\' takes whole classes; defaults; validation names the option', () => {
  const labels = hierarchy();
  const sampler = new S.HierarchicalSampler({ labels, batchSize: 42, samplesPerClass: 'all', batchesPerSuperTuple: 1, superClassesPerBatch: 3 });
  const [batch] = sampler.epoch();
  const count = new Map<number, number>();
  for (const i of batch) count.set(labels[i][0], (count.get(labels[i][0]) ?? 0) + 1);
  for (const [c, v] of count) assert.equal(v, 2 + (c % 4), `class ${c} complete`);
  // PML's defaults: 4 batches per pair of super-labels.
  const byDefault = new S.HierarchicalSampler({ labels, batchSize: 8, samplesPerClass: 2 });
  assert.equal(byDefault.length, 3 * 4);
  assert.deepEqual(byDefault.getConfig(), { batchSize: 8, samplesPerClass: 2, batchesPerSuperTuple: 4, superClassesPerBatch: 2 });
  assert.throws(() => new S.HierarchicalSampler({ labels, batchSize: 9, samplesPerClass: 2 }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'batchSize'"));
  assert.throws(() => new S.HierarchicalSampler({ labels, batchSize: 8, samplesPerClass: 3 }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'samplesPerClass'"));
  assert.throws(() => new S.HierarchicalSampler({ labels, batchSize: 8, samplesPerClass: 0 }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'samplesPerClass'"));
});

test('HierarchicalSampler: a class smaller than samplesPerClass is drawn with replacement, so sub-batches fill up', () => {
  // Classes have 2 to 5 samples; 4 per class: classes of 2 or 3 samples repeat some, every batch is full.
  const labels = hierarchy();
  const sampler = new S.HierarchicalSampler({ labels, batchSize: 16, samplesPerClass: 4, batchesPerSuperTuple: 5, random: akin.createRandom(7) });
  let repeats = 0;
  for (const b of sampler.epoch()) {
    assert.equal(b.length, 16, 'two sub-batches of two classes x 4');
    const perClass = new Map<number, number[]>();
    for (const i of b) perClass.set(labels[i][0], [...(perClass.get(labels[i][0]) ?? []), i]);
    for (const [c, members] of perClass) {
      assert.equal(members.length, 4, `class ${c}: samplesPerClass draws`);
      const distinct = new Set(members).size;
      const size = 2 + (c % 4);
      // Without replacement when the class is large enough, with replacement otherwise.
      if (size >= 4) assert.equal(distinct, 4, `class ${c} of ${size} samples drawn without replacement`);
      else { assert.ok(distinct <= size); repeats += 4 - distinct; }
    }
  }
  assert.ok(repeats > 0, 'small classes repeat samples');
});

test('FixedSetOfTriplets: fixed valid triplets, reshuffled and flattened', () => {
  const labels = [0, 0, 0, 1, 1, 2, 2, 2, 3];
  const s = new S.FixedSetOfTriplets({ labels, numTriplets: 40, random: akin.createRandom(1) });
  assert.equal(s.length, 120);
  const asKeys = (flat: Int32Array): string[] => Array.from({ length: flat.length / 3 }, (_, i) => Array.from(flat.slice(3 * i, 3 * i + 3)).join(',')).sort();
  const first = s.indices();
  for (let i = 0; i < first.length; i += 3) {
    const [a, p, n] = [first[i], first[i + 1], first[i + 2]];
    assert.equal(labels[a], labels[p]);
    assert.notEqual(labels[a], labels[n]);
    if (labels[a] !== 3) assert.notEqual(a, p, 'distinct anchor and positive when the class allows');
  }
  const second = s.indices();
  assert.deepEqual(asKeys(second), asKeys(first), 'the same set');
  assert.notDeepEqual(Array.from(second), Array.from(first), 'in a new order');
  const batches = s.epoch(9);
  assert.equal(batches.length, 14);
  assert.equal(batches[13].length, 3);
  assert.throws(() => new S.FixedSetOfTriplets({ labels: [1, 1], numTriplets: 2 }), (e: unknown) => e instanceof akin.ConfigError && e.message.includes("'labels'"));
});

test('tupleWeights: counts over the largest count, ones without tuples', () => {
  const t = { anchors1: Int32Array.of(0, 0, 1), positives: Int32Array.of(1, 2, 0), anchors2: Int32Array.of(3), negatives: Int32Array.of(0) };
  // appearances: 0 -> 4, 1 -> 2, 2 -> 1, 3 -> 1, 4 -> 0
  assertClose(Array.from(S.tupleWeights(t, 5)), [1, 0.5, 0.25, 0.25, 0]);
  assert.deepEqual(Array.from(S.tupleWeights(undefined, 3)), [1, 1, 1]);
  assert.deepEqual(Array.from(S.tupleWeights({ anchors: new Int32Array(0), positives: new Int32Array(0), negatives: new Int32Array(0) }, 2)), [1, 1]);
});

test('TuplesToWeightsSampler: draws in proportion to how often the miner uses each sample', async () => {
  const X = [[1, 0], [0.9, 0.3], [0.2, 1], [-0.1, 0.95], [-1, 0.1], [-0.8, -0.5], [0.3, -1], [0.6, -0.7]];
  const labels = [0, 0, 1, 1, 2, 2, 3, 3];
  const miner = new akin.miners.PairMarginMiner({ posMargin: 0.3, negMargin: 0.9 });
  const embedded: number[][] = [];
  const sampler = new S.TuplesToWeightsSampler({
    miner,
    labels,
    embed: (idx) => { embedded.push(Array.from(idx)); return tf.tensor2d(Array.from(idx, (i) => X[i])); },
    random: akin.createRandom(3),
  });
  const before = tf.memory().numTensors;
  const draws = await sampler.indices();
  assert.equal(tf.memory().numTensors, before, 'embeddings disposed');
  assert.deepEqual(embedded[0], [0, 1, 2, 3, 4, 5, 6, 7]);
  const xt = tf.tensor2d(X);
  const tuple = miner.mine(xt, labels);
  xt.dispose();
  const want = S.tupleWeights(tuple, 8);
  assertClose(Array.from(sampler.weights!), Array.from(want));
  assert.ok(want.some((w) => w === 0.5) && want.some((w) => w === 1), 'unequal weights');
  assert.equal(draws.length, 8);
  // frequencies over many epochs follow the weights
  const hits = new Float64Array(8);
  for (let e = 0; e < 60; e++) for (const i of await sampler.indices()) hits[i]++;
  const total = want.reduce((s, v) => s + v, 0);
  hits.forEach((h, i) => {
    assert.ok(Math.abs(h / 480 - want[i] / total) < 0.06, `sample ${i}: ${h / 480} vs ${want[i] / total}`);
  });
  // samples the miner never uses are never drawn
  const narrow = new S.TuplesToWeightsSampler({ miner: new akin.miners.PairMarginMiner({ posMargin: 0.5, negMargin: 0.7 }), labels, embed: (idx) => tf.tensor2d(Array.from(idx, (i) => X[i])) });
  for (let e = 0; e < 5; e++) for (const i of await narrow.indices()) assert.ok(i === 4 || i === 5, `drew ${i}`);
  // a subset: only subset members can have weight
  const sub = new S.TuplesToWeightsSampler({ miner, labels, subsetSize: 5, embed: (idx) => tf.tensor2d(Array.from(idx, (i) => X[i])) });
  assert.equal((await sub.indices()).length, 5);
  assert.ok(sub.weights!.filter((w) => w > 0).length <= 5);
});
