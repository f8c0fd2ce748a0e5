#!/usr/bin/env node
// Wasm backend, one thread: akin's float32 matmul against XNNPACK's (the stock kernel) on the shapes of
// metric learning. Both run in one process, alternating shape by shape and round by round, through
// tf.matMul (so transposes and packing count). Prints one JSON line per shape: GFLOP/s of each (median
// over rounds) and their ratio. Run `npm run build` first.
//   node bench/matmul-kernels.mjs [rounds]
import * as akin from '../dist/index.js';

const rounds = Number(process.argv[2] ?? 5);
await akin.backend.init({ backend: 'wasm', threads: 1 });
const tf = akin.tf;
// [M, K, N, transposeA, transposeB, what]
const shapes = [
  [256, 784, 256, false, false, 'seed MLP first layer, forward'],
  [784, 256, 256, true, false, 'seed MLP first layer, weight gradient (x^T dy)'],
  [256, 256, 128, false, false, 'seed MLP second layer, forward'],
  [256, 128, 256, false, true, 'similarity matrix of 256 embeddings (e e^T)'],
  [1024, 128, 1024, false, true, 'similarity matrix of 1024 embeddings (e e^T)'],
  [288, 25088, 64, false, false, 'conv net second conv, filter gradient (patch matrix built transposed, times dy)'],
];
const gflops = (m, k, n, ms) => (2 * m * k * n) / ms / 1e6;
const median = (xs) => xs.slice().sort((x, y) => x - y)[Math.floor(xs.length / 2)];
for (const [m, k, n, ta, tb, what] of shapes) {
  const a = tf.randomNormal(ta ? [k, m] : [m, k], 0, 1, 'float32', 1);
  const b = tf.randomNormal(tb ? [n, k] : [k, n], 0, 1, 'float32', 2);
  const time = (kernel) => {
    akin.backend.setWasmMatMul(kernel);
    const call = () => tf.matMul(a, b, ta, tb).dispose();
    for (let i = 0; i < 3; i++) call();
    const reps = Math.max(3, Math.round(2e9 / (2 * m * k * n)));
    const t = performance.now();
    for (let i = 0; i < reps; i++) call();
    return (performance.now() - t) / reps;
  };
  const mine = [], stock = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) { mine.push(time('akin')); stock.push(time('xnnpack')); } else { stock.push(time('xnnpack')); mine.push(time('akin')); }
  }
  const [ga, gx] = [gflops(m, k, n, median(mine)), gflops(m, k, n, median(stock))];
  console.log(JSON.stringify({ shape: `${m}x${k}x${n}`, transposeA: ta, transposeB: tb, what, akin_gflops: +ga.toFixed(1), xnnpack_gflops: +gx.toFixed(1), ratio: +(ga / gx).toFixed(2) }));
  tf.dispose([a, b]);
}
