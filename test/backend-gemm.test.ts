// akin's own float32 matmul for the wasm backend (src/backend/wasm-gemm.ts), checked against float64
// loops and the cpu backend: block edges (rows not a multiple of 4, columns not of 8), transposes, batches
// that broadcast, fused bias and activations, and the gradients that training takes through it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import * as akin from 'akin';
import { assertClose } from './helpers.js';
import { onBoth, size, values, wasm } from './backend-helpers.js';

const tf = akin.tf;
type T = akin.tf.Tensor;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let stats: { calls: number };

before(async () => {
  ({ akinMatMulStats: stats } = (await import(join(root, 'dist', 'backend', 'wasm-gemm.js'))) as { akinMatMulStats: { calls: number } });
  await wasm();
  akin.backend.setWasmMatMul('akin');
});
after(() => akin.backend.setWasmMatMul('auto'));

/** C = op(A) op(B) in float64, batches broadcast one against many; A, B given as stored. */
function loops(av: number[], aShape: number[], bv: number[], bShape: number[], ta: boolean, tb: boolean): number[] {
  const ra = aShape.length, rb = bShape.length;
  const [M, K] = ta ? [aShape[ra - 1], aShape[ra - 2]] : [aShape[ra - 2], aShape[ra - 1]];
  const N = tb ? bShape[rb - 2] : bShape[rb - 1];
  const batchA = size(aShape.slice(0, -2)), batchB = size(bShape.slice(0, -2));
  const out: number[] = [];
  for (let t = 0; t < Math.max(batchA, batchB); t++) {
    const ao = (batchA > 1 ? t : 0) * M * K, bo = (batchB > 1 ? t : 0) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += av[ao + (ta ? k * M + i : i * K + k)] * bv[bo + (tb ? j * K + k : k * N + j)];
        out.push(s);
      }
    }
  }
  return out;
}

test('matmul on the akin path matches float64 loops: block edges, all four transposes, broadcast batches', async () => {
  const cases: { a: number[]; b: number[] }[] = [
    { a: [13, 7], b: [7, 19] }, // 13 = 3 blocks of 4 + 1 row; 19 = 2 panels of 8 + 3 columns
    { a: [4, 1], b: [1, 8] }, // K = 1, one block exactly
    { a: [3, 33], b: [33, 9] }, // fewer than 4 rows
    { a: [64, 50], b: [50, 24] },
    { a: [3, 6, 5], b: [3, 5, 10] }, // batch against batch
    { a: [1, 6, 5], b: [2, 5, 16] }, // one against many
    { a: [2, 9, 5], b: [5, 8] }, // many against a plain matrix
    { a: [6, 1100], b: [1100, 10] }, // k in three blocks of at most 512
    { a: [5, 20], b: [20, 1024] }, // few rows, but B's rows 4 KiB apart: packed
    { a: [40, 600], b: [600, 16] }, // packed, and k in two blocks
  ];
  // (fewer than 32 rows read B in place, from 32 rows B is packed: the cases above take both paths)
  for (const [n, c] of cases.entries()) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const swap = (s: number[], t: boolean): number[] => (t ? [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]] : s);
        const aShape = swap(c.a, ta), bShape = swap(c.b, tb);
        const av = values(size(aShape), 100 + n), bv = values(size(bShape), 200 + n);
        const before = stats.calls;
        const got = tf.tidy(() => Array.from(tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), ta, tb).dataSync()));
        assert.equal(stats.calls, before + 1, `case ${n} (${ta}, ${tb}) did not take the akin path`);
        assertClose(got, loops(av, aShape, bv, bShape, ta, tb), { atol: 1e-5, rtol: 1e-5, msg: `case ${n} ta=${ta} tb=${tb}` });
      }
    }
  }
});

test('fused matmul on either path: a bias of one row, one value or a full matrix, and each activation, match cpu', async () => {
  const K = 530; // two blocks of k: the bias must be added once
  const xv = values(11 * K, 1), wv = values(K * 12, 2), pv = values(12, 4);
  const activations = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
  for (const kernel of ['akin', 'xnnpack'] as const) {
    for (const activation of activations) {
      for (const biasShape of [[12], [1], [11, 12], null]) {
        const bv = biasShape ? values(size(biasShape), 3).map((v) => 4 * v) : null;
        const r = await onBoth(() => tf.tidy(() => {
          akin.backend.setWasmMatMul(kernel);
          const y = tf.fused.matMul({
            a: tf.tensor(xv, [11, K]), b: tf.tensor(wv, [K, 12]),
            bias: bv ? tf.tensor(bv, biasShape!) : undefined, activation, leakyreluAlpha: 0.3,
            preluActivationWeights: activation === 'prelu' ? tf.tensor(pv, [12]) : undefined,
          });
          return [Array.from(y.dataSync())];
        }));
        assertClose(r.wasm[0], r.cpu[0], { atol: 1e-4, rtol: 1e-5, msg: `${kernel} ${activation} bias ${JSON.stringify(biasShape)}` });
      }
    }
  }
  akin.backend.setWasmMatMul('akin');
});

test('gradients of a dense layer through the akin path match cpu and central differences', async () => {
  const [B, I, O] = [10, 17, 9];
  const xv = values(B * I, 5), wv = values(I * O, 6), bv = values(O, 7), pv = values(B * O, 8);
  const f = (x: T, w: T, b: T): T => tf.sum(tf.mul(tf.fused.matMul({ a: x, b: w, bias: b, activation: 'relu' }), tf.tensor(pv, [B, O])));
  const run = (): number[][] => tf.tidy(() => {
    const g = tf.grads(f)([tf.tensor(xv, [B, I]), tf.tensor(wv, [I, O]), tf.tensor(bv, [O])]);
    return g.map((t) => Array.from(t.dataSync()));
  });
  const before = stats.calls;
  const r = await onBoth(run);
  assert.ok(stats.calls >= before + 3, 'forward and both gradients should take the akin path');
  ['dx', 'dw', 'db'].forEach((what, i) => assertClose(r.wasm[i], r.cpu[i], { atol: 1e-5, rtol: 1e-4, msg: what }));
  // central differences on a few weights, in float64 from the definition
  const loss = (w: number[]): number => {
    let s = 0;
    for (let i = 0; i < B; i++) {
      for (let o = 0; o < O; o++) {
        let z = bv[o];
        for (let k = 0; k < I; k++) z += xv[i * I + k] * w[k * O + o];
        s += Math.max(0, z) * pv[i * O + o];
      }
    }
    return s;
  };
  for (const idx of [0, 13, 77, I * O - 1]) {
    const h = 1e-4;
    const up = wv.slice(), down = wv.slice();
    up[idx] += h;
    down[idx] -= h;
    assertClose(r.wasm[1][idx], (loss(up) - loss(down)) / (2 * h), { atol: 2e-3, rtol: 1e-3, msg: `dw[${idx}] vs differences` });
  }
});

test('shapes the akin path does not take fall back to the stock kernels with the same results', async () => {
  const av = values(5 * 6, 9), bv = values(6 * 3, 10);
  const before = stats.calls;
  // N = 3 < 8: stock kernel
  const got = tf.tidy(() => Array.from(tf.matMul(tf.tensor(av, [5, 6]), tf.tensor(bv, [6, 3])).dataSync()));
  assert.equal(stats.calls, before, 'N < 8 should use the stock kernel');
  assertClose(got, loops(av, [5, 6], bv, [6, 3], false, false), { atol: 1e-5, rtol: 1e-5 });
  akin.backend.setWasmMatMul('xnnpack');
  try {
    const wv = values(6 * 16, 11);
    const x = tf.tidy(() => Array.from(tf.matMul(tf.tensor(av, [5, 6]), tf.tensor(wv, [6, 16])).dataSync()));
    assert.equal(stats.calls, before, "'xnnpack' should use the stock kernel");
    assertClose(x, loops(av, [5, 6], wv, [6, 16], false, false), { atol: 1e-5, rtol: 1e-5 });
  } finally {
    akin.backend.setWasmMatMul('akin');
  }
  assert.throws(() => akin.backend.setWasmMatMul('fast' as 'auto'), (e: unknown) => e instanceof akin.ConfigError && /^setWasmMatMul: kernel must be one of auto, akin, xnnpack \(got 'fast'\)$/.test(e.message));
});

test('the fused multiply-add build (relaxed SIMD, switched on here by a V8 flag) gives the same products', () => {
  // A child process with relaxed SIMD: Node 20 has it behind a flag, Node 22+ and current browsers by default.
  const script = `
    const akin = await import(${JSON.stringify(join(root, 'dist', 'index.js'))});
    const { akinMatMulStats } = await import(${JSON.stringify(join(root, 'dist', 'backend', 'wasm-gemm.js'))});
    await akin.backend.init({ backend: 'wasm', threads: 1, matMul: 'akin' });
    const tf = akin.tf;
    const out = [];
    for (const [m, k, n] of [[13, 7, 19], [64, 50, 24], [3, 33, 9]]) {
      const a = Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.37));
      const b = Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.11));
      out.push({ m, k, n, a, b, c: Array.from(tf.matMul(tf.tensor(a, [m, k]), tf.tensor(b, [k, n])).dataSync()) });
    }
    process.stdout.write(JSON.stringify({ fma: akinMatMulStats.fma, calls: akinMatMulStats.calls, out }));`;
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as { fma: boolean; calls: number; out: { m: number; k: number; n: number; a: number[]; b: number[]; c: number[] }[] };
  assert.equal(got.fma, true, 'the relaxed-SIMD build should validate with the flag');
  assert.equal(got.calls, 3);
  for (const { m, k, n, a, b, c } of got.out) {
    assertClose(c, loops(a, [m, k], b, [k, n], false, false), { atol: 1e-5, rtol: 1e-5, msg: `fma ${m}x${k}x${n}` });
  }
});
