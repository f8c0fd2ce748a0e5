// Retrieval and clustering metrics of a run's model on the 60,000 Fashion-MNIST training images
// (Debian's dataset-fashion-mnist), timed per stage: wall seconds and CPU seconds (all threads of this
// process; on a shared machine the CPU time is the steadier number), with the load average at the
// start and the end. Usage: node bench/eval-train-split.mjs RUN_DIR [N]   (N: the first N images only)
import { loadavg } from 'node:os';
import * as akin from '../dist/index.js';
await akin.backend.init();
const load0 = loadavg()[0];
const run = await akin.pipeline.loadRun(process.argv[2]);
const fm = await akin.data.loadFashionMnist({ source: 'debian' });
const n = Math.min(Number(process.argv[3] ?? fm.train.count), fm.train.count);
const ds = fm.train;
const size = ds.features.length / ds.count;

/** Runs f, returning its result with the wall and CPU seconds it took. */
async function timed(f) {
  const c = process.cpuUsage();
  const t = performance.now();
  const result = await f();
  const cpu = process.cpuUsage(c);
  return [result, { wall: +((performance.now() - t) / 1000).toFixed(1), cpu: +((cpu.user + cpu.system) / 1e6).toFixed(1) }];
}
const [{ embeddings, dim }, embed] = await timed(() => akin.models.embed(run.model, ds.features.subarray(0, n * size), n, ds.shape));
const labels = ds.labels.subarray(0, n);
const [m, retrieval] = await timed(() => akin.eval.accuracy({ query: embeddings, queryLabels: labels, dim }));
const [c, clustering] = await timed(() => akin.eval.clusteringScores(embeddings, labels, dim, { random: akin.createRandom(0) }));
console.log(JSON.stringify({
  n, seconds: { embed, retrieval, clustering }, ...m, ...c,
  maxRSSMiB: Math.round(process.resourceUsage().maxRSS / 1024), loadAverage: [+load0.toFixed(1), +loadavg()[0].toFixed(1)],
}));
