// Tabular data: read a CSV, fit a preprocessor (standardised numbers, one-hot or hashed categories),
// train an MLP with a metric loss, and compare held-out retrieval with the standardised raw features.
// Run from the repository with: node examples/tabular.mjs
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as akin from 'akin';

await akin.backend.init();

// Stand-in for your CSV: the class shows in two measurements and (mostly) in the colour.
const dir = mkdtempSync(join(tmpdir(), 'akin-tabular-'));
const r = akin.createRandom(0);
const kinds = ['oak', 'pine', 'birch', 'maple', 'elm'];
const colours = ['brown', 'green', 'white', 'red', 'grey'];
const rows = ['id,height,width,weight,colour,site,kind'];
for (let i = 0; i < 400; i++) {
  const k = i % kinds.length;
  const colour = r.next() < 0.7 ? colours[k] : colours[Math.floor(r.next() * 5)];
  rows.push([i, (10 + 3 * k + akin.core.randNormal(r)).toFixed(2), ((k % 2 ? 5 : 2) + 0.8 * akin.core.randNormal(r)).toFixed(2),
    (500 * r.next()).toFixed(1), colour, `"Site ${Math.floor(r.next() * 40)}"`, kinds[k]].join(','));
}
writeFileSync(join(dir, 'trees.csv'), `${rows.join('\n')}\n`);

const table = akin.data.readCsv(join(dir, 'trees.csv'));
const trainTable = { ...table, rows: table.rows.slice(0, 300), lines: table.lines.slice(0, 300) };
const testTable = { ...table, rows: table.rows.slice(300), lines: table.lines.slice(300) };
const prep = new akin.data.TabularPreprocessor({ label: 'kind', ignore: ['id'] }).fit(trainTable);
const train = prep.toDataset(trainTable);
const test = prep.toDataset(testTable);
console.log(`features: ${prep.featureNames().slice(0, 8).join(', ')}, ... (${prep.dim} in all)`);

const model = akin.models.mlp({ inputDim: prep.dim, hidden: [32], embeddingDim: 16 });
await new akin.train.Trainer().fit({
  model, data: train, epochs: 10, batchSize: 50, learningRate: 5e-3, progress: false,
  loss: new akin.losses.MultiSimilarityLoss(), miner: new akin.miners.MultiSimilarityMiner(),
});
const raw = await akin.eval.accuracy({ query: test.features, queryLabels: test.labels, dim: prep.dim });
const { embeddings, dim } = await akin.models.embed(model, test.features, test.count, test.shape);
const trained = await akin.eval.accuracy({ query: embeddings, queryLabels: test.labels, dim });
console.log(`held-out MAP@R: standardised features ${raw.mapAtR.toFixed(3)}, trained ${trained.mapAtR.toFixed(3)}`);

// Save the encoding with the model; later, raw rows are encoded the same way.
writeFileSync(join(dir, 'preprocessor.json'), JSON.stringify(prep.getConfig()));
const again = akin.data.TabularPreprocessor.fromConfig(prep.getConfig());
const x = again.transformRecords([{ height: 16.2, width: 5.1, weight: 240, colour: 'white', site: 'Site 3' }]);
const one = await akin.models.embed(model, x, 1, [prep.dim]);
console.log(`a new row embeds to ${one.dim} numbers`);
model.dispose();
rmSync(dir, { recursive: true, force: true });
