#!/usr/bin/env node
// Wasm backend: speed-up of N threads over 1 on a 1024x1024 float32 matmul.
// Each measurement runs in its own process (wasm threads are fixed per process); 1-thread and
// N-thread runs alternate so that machine noise hits both alike. Prints one JSON line.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = process.argv[2] === '--child';
if (child) {
  const akin = await import('../dist/index.js');
  const threads = Number(process.argv[3]);
  await akin.backend.init({ backend: 'wasm', threads });
  const tf = akin.tf;
  const a = tf.randomNormal([1024, 1024], 0, 1, 'float32', 1);
  const b = tf.randomNormal([1024, 1024], 0, 1, 'float32', 2);
  const step = () => { const c = tf.matMul(a, b); c.dataSync(); c.dispose(); };
  for (let i = 0; i < 3; i++) step();
  const reps = 20;
  const t = performance.now();
  for (let i = 0; i < reps; i++) step();
  process.stdout.write(JSON.stringify({ threads, ms: (performance.now() - t) / reps }));
} else {
  const threads = Number(process.argv[2] ?? 2);
  const rounds = Number(process.argv[3] ?? 5);
  const self = fileURLToPath(import.meta.url);
  const run = (t) => JSON.parse(spawnSync(process.execPath, [self, '--child', String(t)], { encoding: 'utf8' }).stdout).ms;
  const one = [], many = [];
  for (let i = 0; i < rounds; i++) { one.push(run(1)); many.push(run(threads)); }
  const median = (xs) => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const ratio = median(one) / median(many);
  console.log(JSON.stringify({ workload: 'wasm-matmul-1024', threads, rounds, ms_1thread_median: +median(one).toFixed(2), [`ms_${threads}threads_median`]: +median(many).toFixed(2), speedup: +ratio.toFixed(2) }));
}
