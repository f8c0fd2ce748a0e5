// Recall@10 of the approximate indexes against exact search, on real embeddings: a run's model
// embeds every Fashion-MNIST image its data source has; 1000 of them are queries.
// Usage: npm run build && node bench/search-recall.mjs --run RUN_DIR [--queries 1000] [--k 10]
import * as akin from '../dist/index.js';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const runDir = arg('run');
if (!runDir) {
  process.stderr.write('usage: node bench/search-recall.mjs --run RUN_DIR [--queries 1000] [--k 10]\n');
  process.exit(2);
}
const nq = Number(arg('queries', 1000));
const k = Number(arg('k', 10));

await akin.backend.init();
const run = await akin.pipeline.loadRun(runDir);
const fm = await akin.data.loadFashionMnist({ source: run.config.data.source === 'embedded' ? 'embedded' : 'auto' });
const ds = fm.test;
const { embeddings, dim } = await akin.models.embed(run.model, ds.features, ds.count, ds.shape);
const ids = Array.from({ length: ds.count }, (_, i) => i);
const queries = [];
for (let i = 0; i < nq; i++) queries.push(Math.floor((i * ds.count) / nq));

async function measure(kind) {
  const index = akin.search.createIndex(kind, { metric: 'cosine', warn: (m) => process.stderr.write(`warning: ${m}\n`) });
  const t0 = performance.now();
  await index.add(embeddings, dim, ids);
  const t1 = performance.now();
  const results = [];
  for (const q of queries) results.push((await index.search(embeddings.subarray(q * dim, (q + 1) * dim), k)).map((h) => h.id));
  const t2 = performance.now();
  await index.close?.();
  return { kind: index.kind, buildS: (t1 - t0) / 1000, qps: queries.length / ((t2 - t1) / 1000), results };
}

const exact = await measure('exact');
const rows = [exact];
for (const kind of akin.search.availableKinds().filter((x) => x !== 'exact')) rows.push(await measure(kind));
process.stdout.write(`${ds.count} items, dim ${dim}, ${queries.length} queries, k=${k}\n`);
process.stdout.write('kind     build(s)  queries/s  recall@k vs exact\n');
for (const r of rows) {
  let hit = 0;
  r.results.forEach((ids, i) => {
    const truth = new Set(exact.results[i]);
    for (const id of ids) if (truth.has(id)) hit++;
  });
  const recall = hit / (queries.length * k);
  process.stdout.write(`${r.kind.padEnd(9)}${r.buildS.toFixed(2).padEnd(10)}${r.qps.toFixed(0).padEnd(11)}${recall.toFixed(4)}\n`);
}
