// Recall@10 of the approximate indexes against exact search, on real embeddings: a run's model
// embeds every Fashion-MNIST image its data source has; 1000 of them are queries.
// With --pg-url URL (a PostgreSQL server with pgvector) or --pglite (PGlite with pgvector, served on
// a loopback port by this process; the devDependencies), pgvector is measured too: exact scans and
// an HNSW index at two ef_search values, with the query plan showing whether the index was used.
// Usage: npm run build && node bench/search-recall.mjs --run RUN_DIR [--queries 1000] [--k 10] [--pg-url URL | --pglite]
import * as akin from '../dist/index.js';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const runDir = arg('run');
if (!runDir) {
  process.stderr.write('usage: node bench/search-recall.mjs --run RUN_DIR [--queries 1000] [--k 10] [--pg-url URL | --pglite]\n');
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

let pgUrl = arg('pg-url');
let pglite = null;
if (args.includes('--pglite')) {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create({ extensions: { vector } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 16 });
  await server.start();
  pglite = { db, server };
  pgUrl = `postgres://postgres@${server.getServerConn()}/postgres`;
}

async function measure(label, make) {
  const index = make();
  const t0 = performance.now();
  await index.add(embeddings, dim, ids);
  // An approximate index is built before the first search: count it as build time.
  await index.search(embeddings.subarray(0, dim), 1);
  const t1 = performance.now();
  const results = [];
  for (const q of queries) results.push((await index.search(embeddings.subarray(q * dim, (q + 1) * dim), k)).map((h) => h.id));
  const t2 = performance.now();
  const plan = index.kind === 'pgvector' ? await queryPlan(index) : '';
  await index.close?.();
  return { label, buildS: (t1 - t0) / 1000, qps: queries.length / ((t2 - t1) / 1000), results, plan };
}

/** The scan line of the plan of one search: 'Index Scan using <table>_ann' when the HNSW index is used. */
async function queryPlan(index) {
  const plan = await index.explain(embeddings.subarray(0, dim), k);
  return plan.find((l) => /Index Scan|Seq Scan/.test(l))?.replace(/\s+\(cost.*$/, '').trim() ?? '';
}

const exact = await measure('exact', () => akin.search.createIndex('exact', { metric: 'cosine' }));
const rows = [exact];
for (const kind of akin.search.availableKinds().filter((x) => x !== 'exact')) {
  rows.push(await measure(kind, () => akin.search.createIndex(kind, { metric: 'cosine', warn: (m) => process.stderr.write(`warning: ${m}\n`) })));
}
if (pgUrl) {
  const pgIndex = (table, extra) => () => akin.search.createIndex('pgvector', { metric: 'cosine', pgvector: { connectionString: pgUrl, table, ifExists: 'replace', ...extra } });
  rows.push(await measure('pgvector exact scan', pgIndex('akin_bench_exact', {})));
  for (const efSearch of [40, 100]) {
    rows.push(await measure(`pgvector hnsw m=16 efc=64 ef=${efSearch}`, pgIndex(`akin_bench_hnsw_${efSearch}`, { annIndex: 'hnsw', m: 16, efConstruction: 64, efSearch })));
  }
}
process.stdout.write(`${ds.count} items, dim ${dim}, ${queries.length} queries, k=${k}\n`);
/** Cosine similarity of items a and b, in plain loops. */
function cos(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let j = 0; j < dim; j++) {
    const x = embeddings[a * dim + j], y = embeddings[b * dim + j];
    d += x * y; na += x * x; nb += y * y;
  }
  return d / Math.sqrt(na * nb);
}
// recall@k: share of the exact top-k ids found. Fashion-MNIST has duplicate images (equal embeddings),
// whose order among ties is arbitrary: the second figure also counts an item as found when it is as
// close to the query as the exact k-th neighbour (within 1e-6).
process.stdout.write('index                                build(s)  queries/s  recall@k vs exact  (ties as hits)\n');
for (const r of rows) {
  let hit = 0, tieHit = 0;
  r.results.forEach((found, i) => {
    const truth = new Set(exact.results[i]);
    const kth = cos(queries[i], exact.results[i][exact.results[i].length - 1]);
    for (const id of found) {
      if (truth.has(id)) hit++;
      if (truth.has(id) || cos(queries[i], id) >= kth - 1e-6) tieHit++;
    }
  });
  const recall = hit / (queries.length * k);
  const tieRecall = tieHit / (queries.length * k);
  process.stdout.write(`${r.label.padEnd(37)}${r.buildS.toFixed(2).padEnd(10)}${r.qps.toFixed(0).padEnd(11)}${recall.toFixed(4).padEnd(19)}${tieRecall.toFixed(4)}${r.plan ? `   plan: ${r.plan}` : ''}\n`);
}
if (pglite) {
  await pglite.server.stop();
  await pglite.db.close();
}
