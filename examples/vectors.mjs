// Bring your own vectors: read embeddings computed elsewhere (JSON lines with a label each), train a
// near-identity adapter with a metric loss, and compare held-out retrieval before and after.
// Run from the repository with: node examples/vectors.mjs
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as akin from 'akin';

await akin.backend.init();

// Stand-in for your encoder's output: 16-d vectors whose topic shows in 3 dimensions, buried in noise.
const dir = mkdtempSync(join(tmpdir(), 'akin-vectors-'));
const file = join(dir, 'embeddings.jsonl');
const r = akin.createRandom(0);
const topics = ['sports', 'music', 'films', 'travel', 'food', 'science'];
const centres = topics.map(() => [0, 1, 2].map(() => 2 * akin.core.randNormal(r)));
const lines = [];
for (let i = 0; i < 360; i++) {
  const t = i % topics.length;
  const vector = Array.from({ length: 16 }, (_, d) => (d < 3 ? centres[t][d] + 0.5 * akin.core.randNormal(r) : 2 * akin.core.randNormal(r)));
  lines.push(JSON.stringify({ id: `doc-${i}`, vector: vector.map((v) => Number(v.toFixed(4))), label: topics[t] }));
}
writeFileSync(file, `${lines.join('\n')}\n`);

const all = akin.data.readVectors(file);                     // labels from the "label" field; classNames = sorted topics
const { train, test } = akin.data.holdout(all, { fraction: 0.3, random: akin.createRandom(1) });
const { model, before, after } = await akin.fitAdapter({ train, test, epochs: 10, batchSize: 60, learningRate: 1e-2 });
console.log(`classes: ${all.classNames.join(', ')}`);
console.log(`held-out MAP@R: identity ${before.mapAtR.toFixed(3)}, adapted ${after.mapAtR.toFixed(3)}`);
await akin.models.saveModel(model, join(dir, 'adapter'));    // reload with akin.models.loadModel
model.dispose();
rmSync(dir, { recursive: true, force: true });
