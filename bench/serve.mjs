// HTTP load test of `akin serve` on loopback with autocannon: 200 connections, a bounded time per route.
// The server runs in a child process: the run given with --run (it needs an index: akin index build),
// or a synthetic one (an untrained 784 -> 256 -> 128 MLP and an index of 10,000 random vectors).
// Usage: npm run bench:serve [-- --run DIR] [--kind exact|hnsw] [--seconds 10] [--connections 200] [--batch 16]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};

if (args.includes('--child')) {
  const akin = await import('../dist/index.js');
  const server = await import('../dist/server/index.js');
  await akin.backend.init();
  let ctx;
  if (arg('run')) {
    ctx = await server.openRunContext(arg('run'), { loadItems: false });
  } else {
    const model = akin.models.mlp({ inputDim: 784, hidden: [256], embeddingDim: 128, seed: 0 });
    const n = 10000, dim = 128;
    const r = akin.createRandom(1);
    const vectors = Float32Array.from({ length: n * dim }, () => r.next() * 2 - 1);
    const index = akin.search.createIndex(arg('kind', 'exact'), { metric: 'cosine' });
    await index.add(vectors, dim, Array.from({ length: n }, (_, i) => i), Array.from({ length: n }, (_, i) => ({ label: i % 10 })));
    ctx = { model, inputShape: [784], index, thresholds: null, info: { run: 'synthetic' } };
  }
  const s = await server.startServer(ctx, { host: '127.0.0.1', port: 0, ui: false });
  process.stdout.write(`${s.url} ${ctx.index.kind} ${ctx.index.size}\n`);
  process.on('SIGTERM', () => s.close().then(() => process.exit(0)));
} else {
  const { default: autocannon } = await import('autocannon');
  const seconds = Number(arg('seconds', 10));
  const connections = Number(arg('connections', 200));
  const childArgs = [fileURLToPath(import.meta.url), '--child', ...args];
  const child = spawn(process.execPath, childArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 120 s')), 120_000);
    createInterface({ input: child.stdout }).once('line', (l) => { clearTimeout(timer); resolve(l); });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const [url, kind, size] = line.split(' ');
  const r = akin0();
  function akin0() {
    let s = 7;
    return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  }
  const randomRow = () => Array.from({ length: 784 }, () => Number(r().toFixed(3)));
  const randomInput = JSON.stringify({ input: randomRow(), k: 10 });
  const batch = Number(arg('batch', 16));
  const randomBatch = JSON.stringify({ inputs: Array.from({ length: batch }, randomRow), k: 10 });
  const routes = [
    { name: 'GET /health', method: 'GET', path: '/health', queries: 1 },
    { name: 'POST /search {id, k: 10}', method: 'POST', path: '/search', body: JSON.stringify({ id: 1, k: 10 }), queries: 1 },
    { name: 'POST /search {input: 784 floats, k: 10}', method: 'POST', path: '/search', body: randomInput, queries: 1 },
    { name: `POST /search {inputs: ${batch} x 784 floats, k: 10}`, method: 'POST', path: '/search', body: randomBatch, queries: batch },
  ];
  process.stdout.write(`server: ${kind} index of ${size} items; ${connections} connections, ${seconds} s per route, loopback\n\n`);
  process.stdout.write('| route | requests/s (mean) | queries/s | latency p50 ms | p99 ms | non-2xx | errors/timeouts |\n|---|---|---|---|---|---|---|\n');
  try {
    for (const route of routes) {
      const result = await autocannon({
        url: url + route.path, method: route.method, connections, duration: seconds, timeout: 10,
        headers: route.body ? { 'content-type': 'application/json' } : {}, body: route.body,
      });
      const qps = route.path === '/search' ? (result.requests.average * route.queries).toFixed(0) : '';
      process.stdout.write(`| ${route.name} | ${result.requests.average.toFixed(0)} | ${qps} | ${result.latency.p50} | ${result.latency.p99} | ${result.non2xx} | ${result.errors}/${result.timeouts} |\n`);
    }
  } finally {
    child.kill('SIGTERM');
  }
}
