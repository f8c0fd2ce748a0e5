import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend } from './helpers.js';

before(async () => {
  await initBackend();
});

/** A random source that returns the given values in turn. */
function scripted(values: number[]): akin.Random {
  let i = 0;
  return { next: () => values[i++ % values.length] };
}

// The 3x3 image
//   1 2 3
//   4 5 6
//   7 8 9
const img = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);

test('a shift by pad-and-crop moves the image and fills with the pad value (worked by hand)', () => {
  const aug = new akin.data.ImageAugmenter({ pad: 1, padValue: -1 });
  // pad 1: offsets are randInt(3) - 1; next() = 0.9 -> 2 -> dx = +1 (right); 0.1 -> 0 -> dy = -1 (up).
  const out = aug.apply(img, 1, [3, 3, 1], scripted([0.9, 0.1]));
  // Shifted right by one and up by one: row y takes source row y + 1, column x takes source column x - 1.
  assert.deepEqual(Array.from(out), [-1, 4, 5, -1, 7, 8, -1, -1, -1]);
  assert.deepEqual(Array.from(img), [1, 2, 3, 4, 5, 6, 7, 8, 9], 'the source is not modified');
});

test('a flip mirrors left-right after the shift, channel by channel', () => {
  const aug = new akin.data.ImageAugmenter({ pad: 1, flip: 1 });
  // dx = +1, dy = 0 (0.5 -> 1 -> 0), flip (any draw < 1).
  const out = aug.apply(img, 1, [3, 3, 1], scripted([0.9, 0.5, 0.3]));
  // Shift right: [0 1 2 / 0 4 5 / 0 7 8]; mirrored: [2 1 0 / 5 4 0 / 8 7 0].
  assert.deepEqual(Array.from(out), [2, 1, 0, 5, 4, 0, 8, 7, 0]);
  // Two channels, 1x2 pixels: [(1, 10), (2, 20)] mirrored is [(2, 20), (1, 10)].
  const two = new akin.data.ImageAugmenter({ flip: 1 }).apply(Float32Array.from([1, 10, 2, 20]), 1, [1, 2, 2], scripted([0]));
  assert.deepEqual(Array.from(two), [2, 20, 1, 10]);
});

test('a flip probability of 0.5 flips about half of many images', () => {
  const aug = new akin.data.ImageAugmenter({ flip: 0.5 });
  const n = 2000;
  const batch = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) batch.set([0, 1], i * 2);
  const out = aug.apply(batch, n, [1, 2, 1], akin.createRandom(3));
  let flipped = 0;
  for (let i = 0; i < n; i++) if (out[i * 2] === 1) flipped++;
  // Binomial(2000, 0.5): standard deviation 22.4; 5 sigma either side.
  assert.ok(Math.abs(flipped - 1000) < 112, `${flipped} of ${n} flipped`);
});

test('noise has the asked standard deviation and is clipped to [0, 1]', () => {
  const n = 20000;
  const flat = new Float32Array(n).fill(0.5);
  const out = new akin.data.ImageAugmenter({ noise: 0.1 }).apply(flat, 1, [1, n, 1], akin.createRandom(5));
  let mean = 0;
  for (const v of out) mean += v / n;
  let sd = 0;
  for (const v of out) sd += (v - mean) ** 2 / n;
  sd = Math.sqrt(sd);
  assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
  assert.ok(Math.abs(sd - 0.1) < 0.005, `sd ${sd}`);
  const edge = new akin.data.ImageAugmenter({ noise: 0.5 }).apply(new Float32Array(1000).fill(1), 1, [1, 1000, 1], akin.createRandom(6));
  assert.ok(edge.every((v) => v >= 0 && v <= 1));
  assert.ok(edge.some((v) => v < 1));
});

test('random erasing blanks one rectangle of the asked area', () => {
  const aug = new akin.data.ImageAugmenter({ erase: 1, eraseScale: [0.1, 0.1], padValue: 0 });
  const h = 20;
  const w = 20;
  for (let seed = 0; seed < 20; seed++) {
    const out = aug.apply(new Float32Array(h * w).fill(1), 1, [h, w, 1], akin.createRandom(seed));
    const zeros: [number, number][] = [];
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (out[y * w + x] === 0) zeros.push([y, x]);
    // 10% of 400 pixels = 40; each side is rounded, so the area lies within a few pixels of a side.
    assert.ok(zeros.length >= 25 && zeros.length <= 60, `seed ${seed}: ${zeros.length} erased`);
    const ys = zeros.map((p) => p[0]);
    const xs = zeros.map((p) => p[1]);
    const box = (Math.max(...ys) - Math.min(...ys) + 1) * (Math.max(...xs) - Math.min(...xs) + 1);
    assert.equal(box, zeros.length, 'the erased pixels form one rectangle');
  }
});

test('the same seed gives the same augmentations; another seed others', () => {
  const aug = new akin.data.ImageAugmenter({ pad: 2, flip: 0.5, noise: 0.05, erase: 0.5 });
  const batch = new Float32Array(8 * 28 * 28).map((_, i) => (i % 29) / 29);
  const a = aug.apply(batch, 8, [28, 28, 1], akin.createRandom(11));
  const b = aug.apply(batch, 8, [28, 28, 1], akin.createRandom(11));
  const c = aug.apply(batch, 8, [28, 28, 1], akin.createRandom(12));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('bad options and non-image shapes fail naming the problem', () => {
  assert.throws(() => new akin.data.ImageAugmenter({ flip: 2 }), /flip/);
  assert.throws(() => new akin.data.ImageAugmenter({ pad: -1 }), /pad/);
  assert.throws(() => new akin.data.ImageAugmenter({ eraseScale: [0.5, 0.1] }), /eraseScale/);
  assert.throws(() => new akin.data.ImageAugmenter({ shift: 2 } as never), /shift/);
  assert.throws(() => new akin.data.ImageAugmenter({ pad: 1 }).apply(new Float32Array(8), 1, [8], akin.createRandom(0)), /height, width, channels/);
});

test('the Trainer augments training batches only, and views=2 gives every image two independent views', async () => {
  const n = 32;
  const features = new Float32Array(n * 4 * 4);
  for (let i = 0; i < n; i++) for (let p = 0; p < 16; p++) features[i * 16 + p] = ((i * 7 + p * 3) % 11) / 10;
  const data: akin.data.Dataset = { features, labels: Int32Array.from({ length: n }, (_, i) => i % 4), count: n, shape: [4, 4, 1] };
  const calls: number[] = [];
  class Spy extends akin.data.ImageAugmenter {
    override apply(f: Float32Array, count: number, shape: number[], random: akin.Random): Float32Array {
      calls.push(count);
      return super.apply(f, count, shape, random);
    }
  }
  const seen: { labels: number[]; instances: number[] } = { labels: [], instances: [] };
  class Recording extends akin.losses.ContrastiveLoss {
    override compute(emb: akin.tf.Tensor2D, labels: akin.core.LabelsLike, indices?: akin.IndexTuple): akin.tf.Scalar {
      if (seen.labels.length === 0) seen.labels = Array.from(labels as Int32Array);
      return super.compute(emb, labels, indices);
    }
  }
  class RecordingSsl extends akin.losses.NTXentLoss {
    override compute(emb: akin.tf.Tensor2D, labels: akin.core.LabelsLike, indices?: akin.IndexTuple): akin.tf.Scalar {
      if (seen.instances.length === 0) seen.instances = Array.from(labels as Int32Array);
      return super.compute(emb, labels, indices);
    }
  }
  const model = akin.models.mlp({ inputShape: [4, 4, 1], hidden: [8], embeddingDim: 4 });
  let validated = 0;
  await new akin.train.Trainer().fit({
    model, data, loss: new Recording(), batchSize: 8, m: 2, epochs: 2, progress: false,
    augment: new Spy({ pad: 1, flip: 0.5 }), views: 2, selfSupervised: { loss: new RecordingSsl({ temperature: 0.5 }), weight: 0.5 },
    validation: { evaluate: async () => { validated++; return { x: 0 }; } },
  });
  // 4 batches of 8 per epoch, 2 epochs, 2 augmented views per batch.
  assert.deepEqual(calls, Array(16).fill(8));
  assert.equal(validated, 2);
  assert.equal(seen.labels.length, 16);
  assert.deepEqual(seen.labels.slice(0, 8), seen.labels.slice(8), 'both views carry the class labels');
  assert.deepEqual(seen.instances, [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7]);
  await assert.rejects(
    new akin.train.Trainer().fit({ model, data, loss: new akin.losses.ContrastiveLoss(), batchSize: 8, m: 2, progress: false, selfSupervised: { loss: new akin.losses.NTXentLoss() } }),
    /views/,
  );
});
