import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, assertClose, checkGradient, randomRows } from './helpers.js';

const tf = akin.tf;

before(async () => {
  await initBackend();
});

/** Cosine similarity matrix of rows, in plain loops. */
function cosines(rows: number[][]): number[][] {
  const norm = rows.map((r) => Math.sqrt(r.reduce((a, v) => a + v * v, 0)));
  return rows.map((a, i) => rows.map((b, j) => a.reduce((s, v, k) => s + v * b[k], 0) / (norm[i] * norm[j])));
}

/** mean_i KL(softmax(t_i / T) || softmax(s_i / T)) over off-diagonal entries, in plain loops. */
function klByHand(s: number[][], t: number[][], temp: number): number {
  const n = s.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const js = [...Array(n).keys()].filter((j) => j !== i);
    const zt = js.reduce((a, j) => a + Math.exp(t[i][j] / temp), 0);
    const zs = js.reduce((a, j) => a + Math.exp(s[i][j] / temp), 0);
    for (const j of js) {
      const p = Math.exp(t[i][j] / temp) / zt;
      const q = Math.exp(s[i][j] / temp) / zs;
      total += p * Math.log(p / q);
    }
  }
  return total / n;
}

test('the neighbourhood KL matches plain loops, and is zero when the student agrees with the teacher', () => {
  const student = randomRows(5, 3, 2);
  const inputs = randomRows(5, 7, 3);
  const s = cosines(student);
  const t = cosines(inputs);
  for (const temp of [0.1, 0.5]) {
    const got = tf.tidy(() => akin.train.neighbourhoodKl(akin.train.cosineMatrix(tf.tensor2d(student)), akin.train.cosineMatrix(tf.tensor2d(inputs)), temp).dataSync()[0]);
    assertClose(got, klByHand(s, t, temp), { atol: 1e-5, rtol: 1e-4 });
  }
  const same = tf.tidy(() => akin.train.neighbourhoodKl(tf.tensor2d(t), tf.tensor2d(t), 0.1).dataSync()[0]);
  assertClose(same, 0, { atol: 1e-6 });
  assert.ok(klByHand(s, t, 0.1) > 0.01, 'the random case is not trivially zero');
});

test('the neighbourhood KL has the gradient of central differences', () => {
  const teacher = tf.tensor2d(cosines(randomRows(4, 6, 5)));
  checkGradient((x) => akin.train.neighbourhoodKl(akin.train.cosineMatrix(x), teacher, 0.5), randomRows(4, 3, 6));
  teacher.dispose();
});

test('distilling from the inputs makes the embeddings keep the input neighbourhoods, even without a metric loss', async () => {
  const r = akin.createRandom(9);
  const n = 64;
  const dim = 10;
  const features = new Float32Array(n * dim).map(() => r.next() * 2 - 1);
  const data: akin.data.Dataset = { features, labels: Int32Array.from({ length: n }, (_, i) => i % 4), count: n, shape: [dim] };
  const model = akin.models.mlp({ inputDim: dim, hidden: [32], embeddingDim: 8, seed: 4 });
  const teacher = tf.tidy(() => akin.train.cosineMatrix(tf.tensor2d(features, [n, dim])));
  const kl = async (): Promise<number> => {
    const e = await akin.models.embed(model, features, n, [dim]);
    return tf.tidy(() => akin.train.neighbourhoodKl(akin.train.cosineMatrix(tf.tensor2d(e.embeddings, [n, 8])), teacher, 0.1).dataSync()[0]);
  };
  const before = await kl();
  const result = await new akin.train.Trainer().fit({
    model, data, loss: new akin.losses.ContrastiveLoss(), lossWeight: 0, distill: { teacher: 'input', temperature: 0.1 },
    batchSize: 16, m: 4, epochs: 15, learningRate: 1e-2, progress: false,
  });
  const after = await kl();
  assert.ok(after < before * 0.6, `KL ${before} -> ${after}`);
  assert.ok(result.history[14].loss < result.history[0].loss);
  teacher.dispose();
  await assert.rejects(
    new akin.train.Trainer().fit({ model, data, loss: new akin.losses.ContrastiveLoss(), lossWeight: 0, batchSize: 16, m: 4, progress: false }),
    /nothing to train/,
  );
});

test('a frozen copy is a separate network with the same outputs', async () => {
  const model = akin.models.mlp({ inputDim: 5, hidden: [6], embeddingDim: 3, seed: 2 });
  const copy = await akin.train.frozenCopy(model);
  const x = tf.tensor2d(randomRows(4, 5, 7));
  assertClose((copy.predict(x) as akin.tf.Tensor).dataSync(), (model.predict(x) as akin.tf.Tensor).dataSync(), { atol: 1e-6 });
  assert.equal(copy.trainableWeights.length, 0);
  model.setWeights(model.getWeights().map((w) => tf.zerosLike(w)));
  assert.ok(Array.from((copy.predict(x) as akin.tf.Tensor).dataSync()).some((v) => Math.abs(v) > 1e-3), 'the copy keeps its own weights');
  x.dispose();
  copy.dispose();
});

test('distill.augment: the term compares the student on augmented images with the teacher on the same images', async () => {
  // One batch of 16 4x4 images, always flipped left-right. The teacher ('input') is the cosine of the
  // pixels, which a flip of every image leaves as it is; the student sees the flipped images. The
  // first step's loss is therefore KL(cos(x) || cos(model(flip(x)))), worked here in plain loops, and
  // differs from the un-augmented KL(cos(x) || cos(model(x))).
  const r = akin.createRandom(21);
  const n = 16;
  const features = new Float32Array(n * 16).map(() => r.next());
  const flipped = new Float32Array(n * 16);
  for (let i = 0; i < n; i++) for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) flipped[i * 16 + y * 4 + x] = features[i * 16 + y * 4 + (3 - x)];
  const data: akin.data.Dataset = { features, labels: Int32Array.from({ length: n }, (_, i) => i % 4), count: n, shape: [4, 4, 1] };
  const model = akin.models.mlp({ inputShape: [4, 4, 1], hidden: [12], embeddingDim: 6, seed: 3 });
  const rows = (a: Float32Array, d: number) => Array.from({ length: a.length / d }, (_, i) => Array.from(a.subarray(i * d, (i + 1) * d)));
  const teacher = cosines(rows(features, 16));
  const studentFlipped = cosines(rows((await akin.models.embed(model, flipped, n, [4, 4, 1])).embeddings, 6));
  const studentPlain = cosines(rows((await akin.models.embed(model, features, n, [4, 4, 1])).embeddings, 6));
  const expected = klByHand(studentFlipped, teacher, 0.1);
  const plain = klByHand(studentPlain, teacher, 0.1);
  assert.ok(Math.abs(expected - plain) > 1e-3 * Math.abs(plain), `the flip must change the term (${expected} vs ${plain})`);
  const result = await new akin.train.Trainer().fit({
    model, data, loss: new akin.losses.ContrastiveLoss(), lossWeight: 0,
    distill: { teacher: 'input', temperature: 0.1, augment: { flip: 1 } },
    batchSize: 16, m: 4, epochs: 1, learningRate: 1e-9, progress: false,
  });
  assertClose([result.history[0].loss], [expected], { rtol: 1e-4 });
  await assert.rejects(
    new akin.train.Trainer().fit({ model, data, loss: new akin.losses.ContrastiveLoss(), distill: { teacher: 'input', augment: { flip: 2 } }, batchSize: 16, m: 4, progress: false }),
    /flip/,
  );
});
