// Spoken words by held-out voices: query-by-example retrieval with no download. espeak-ng speaks 20
// words in 8 English accents x 11 voice variants (each clip at one of 3 speeds and 3 pitches); a conv
// net over log-mel spectrograms is trained on 8 variants, and every clip of the 3 held-out variants
// queries all the other held-out clips (relevant = the same word, spoken by another voice).
// Baselines in the same run: mean-MFCC vectors by cosine, and MFCC sequences (cepstral mean
// normalised) by dynamic time warping.
// Usage: npm run build && node bench/spoken-words.mjs [--seeds 0,1,2] [--epochs 10] [--dir CACHE]
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as akin from '../dist/index.js';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const seeds = arg('seeds', '0,1,2').split(',').map(Number);
const epochs = Number(arg('epochs', 10));
const dir = arg('dir', join(tmpdir(), 'akin-spoken-words'));
const log = (s) => process.stderr.write(`${s}\n`);

const WORDS = akin.data.SPOKEN_WORDS.slice(0, 20);
const TRAIN_VARIANTS = ['m1', 'm2', 'm3', 'm4', 'f1', 'f2', 'f3', 'klatt'];
const HELD_OUT_VARIANTS = ['m7', 'f5', 'klatt2'];

const info = await akin.backend.init();
let t = performance.now();
let cpu = process.cpuUsage();
/** Wall-clock and process CPU seconds (user + system, all threads) since the last lap. */
const lap = () => {
  const c = process.cpuUsage(cpu);
  const s = { wall: (performance.now() - t) / 1000, cpu: (c.user + c.system) / 1e6 };
  t = performance.now();
  cpu = process.cpuUsage();
  return s;
};
const fmt = (s) => `${s.wall.toFixed(s.wall < 10 ? 1 : 0)} s (CPU ${s.cpu.toFixed(s.cpu < 10 ? 1 : 0)} s)`;
const clips = await akin.data.synthesizeSpokenWords({ words: WORDS, variants: [...TRAIN_VARIANTS, ...HELD_OUT_VARIANTS], dir });
log(`${clips.length} clips in ${dir} (synthesis ${fmt(lap())}; espeak-ng's own CPU not counted)`);

const rate = 16000;
const audio = clips.map((c) => akin.data.readWav(c.path, { sampleRate: rate }));
const spectro = { sampleRate: rate, windowSize: 512, hopSize: 256, nMels: 40 };
const prep = new akin.data.AudioPreprocessor({ ...spectro, frames: 40 }); // 40 frames of 16 ms: 0.64 s
const size = prep.shape.reduce((a, b) => a * b, 1);
const labels = Int32Array.from(clips, (c) => WORDS.indexOf(c.word));
const heldOut = new Set(HELD_OUT_VARIANTS);
const split = (held) => {
  const idx = clips.flatMap((c, i) => (heldOut.has(c.variant) === held ? [i] : []));
  const features = new Float32Array(idx.length * size);
  idx.forEach((i, r) => features.set(prep.transform(audio[i]), r * size));
  return { idx, ds: { features, labels: Int32Array.from(idx, (i) => labels[i]), count: idx.length, shape: prep.shape } };
};
const train = split(false).ds;
const test = split(true);
log(`train ${train.count} clips (${TRAIN_VARIANTS.length * 8} voices), held out ${test.ds.count} clips (${HELD_OUT_VARIANTS.length * 8} voices); features ${fmt(lap())}`);

const rows = [];
const score = async (name, emb, dim) => {
  const r = await akin.eval.accuracy({ query: emb, queryLabels: test.ds.labels, dim, metric: 'cosine', metrics: ['precisionAt1', 'mapAtR'] });
  return { name, p1: r.precisionAt1, map: r.mapAtR };
};

// Baseline 1: each clip's mean MFCC (13 coefficients, c0 included), cosine similarity.
const mfccPrep = (normalize) => new akin.data.AudioPreprocessor({ ...spectro, features: 'mfcc', nMfcc: 13, normalize });
const meanPrep = mfccPrep('none');
const means = new Float32Array(test.idx.length * 13);
test.idx.forEach((i, r) => means.set(akin.data.meanFrame(meanPrep.features(audio[i])), r * 13));
rows.push({ ...(await score('mean MFCC, cosine', means, 13)), seconds: lap() });

// Baseline 2: MFCC sequences with cepstral mean normalisation, DTW with Euclidean frame distances.
const cmnPrep = mfccPrep('mean');
const seqs = test.idx.map((i) => cmnPrep.features(audio[i]));
const D = akin.data.dtwDistanceMatrix(seqs);
const n = seqs.length;
const neighbours = new Int32Array(n * (n - 1));
for (let q = 0; q < n; q++) {
  const order = [...Array(n).keys()].filter((j) => j !== q).sort((a, b) => D[q * n + a] - D[q * n + b]);
  neighbours.set(order, q * (n - 1));
}
const dtw = akin.eval.retrievalMetrics(neighbours, n - 1, test.ds.labels, test.ds.labels, true, ['precisionAt1', 'mapAtR']);
rows.push({ name: 'MFCC + DTW', p1: dtw.precisionAt1, map: dtw.mapAtR, seconds: lap() });

// The conv net, untrained and trained, per seed.
const trained = [];
for (const seed of seeds) {
  const model = akin.models.audioConvnet({ inputShape: prep.shape, seed });
  if (seed === seeds[0]) {
    const e = await akin.models.embed(model, test.ds.features, test.ds.count, test.ds.shape);
    rows.push({ ...(await score('audioConvnet, untrained', e.embeddings, e.dim)), seconds: lap() });
  }
  const loss = new akin.losses.MultiSimilarityLoss();
  await new akin.train.Trainer().fit({
    model, data: train, loss, miner: new akin.miners.MultiSimilarityMiner(),
    batchSize: 80, m: 4, epochs, learningRate: 2e-3, seed, progress: false,
  });
  const e = await akin.models.embed(model, test.ds.features, test.ds.count, test.ds.shape);
  const r = await score(`audioConvnet, trained (seed ${seed})`, e.embeddings, e.dim);
  r.seconds = lap();
  log(`seed ${seed}: P@1 ${r.p1.toFixed(3)}, MAP@R ${r.map.toFixed(3)}, ${fmt(r.seconds)}`);
  trained.push(r);
  model.dispose();
  loss.dispose();
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const pm = (xs) => (xs.length > 1 ? `${mean(xs).toFixed(3)} ± ${sd(xs).toFixed(3)}` : mean(xs).toFixed(3));

const out = [
  `Held-out voices: ${test.ds.count} clips (${WORDS.length} words x ${HELD_OUT_VARIANTS.length * 8} voices), each querying the other ${test.ds.count - 1}; trained on ${train.count} clips of ${TRAIN_VARIANTS.length * 8} other voices.`,
  `Backend ${info.backend}${info.threads ? `, ${info.threads} threads` : ''}; ${epochs} epochs; seeds ${seeds.join(', ')}.`,
  '',
  '| method | P@1 | MAP@R | time: wall (process CPU) |',
  '| --- | --- | --- | --- |',
  ...[...rows, ...trained].map((r) => `| ${r.name} | ${r.p1.toFixed(3)} | ${r.map.toFixed(3)} | ${fmt(r.seconds)} |`),
  `| audioConvnet, trained (mean ± sd over ${trained.length} seeds) | ${pm(trained.map((r) => r.p1))} | ${pm(trained.map((r) => r.map))} | |`,
];
process.stdout.write(`${out.join('\n')}\n`);
