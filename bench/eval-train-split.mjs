// Retrieval and clustering metrics of a run's model on the 60,000 Fashion-MNIST training images
// (Debian's dataset-fashion-mnist), timed per stage. Usage: node bench/eval-train-split.mjs RUN_DIR
import * as akin from '../dist/index.js';
await akin.backend.init();
const run = await akin.pipeline.loadRun(process.argv[2]);
const fm = await akin.data.loadFashionMnist({ source: 'debian' });
const ds = fm.train;
let t = performance.now();
const { embeddings, dim } = await akin.models.embed(run.model, ds.features, ds.count, ds.shape);
const tEmbed = (performance.now() - t) / 1000;
t = performance.now();
const m = await akin.eval.accuracy({ query: embeddings, queryLabels: ds.labels, dim });
const tAcc = (performance.now() - t) / 1000;
t = performance.now();
const c = await akin.eval.clusteringScores(embeddings, ds.labels, dim, { random: akin.createRandom(0) });
const tClu = (performance.now() - t) / 1000;
console.log(JSON.stringify({ n: ds.count, embedSeconds: tEmbed, accuracySeconds: tAcc, clusteringSeconds: tClu, ...m, ...c, maxRSSMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
