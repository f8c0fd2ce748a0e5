import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, assertClose } from './helpers.js';

test('backend starts and computes a matmul that matches plain loops', async () => {
  const info = await initBackend();
  assert.equal(akin.tf.getBackend(), info.backend);
  const a = [[1, 2, 3], [4, 5, 6]];
  const b = [[7, 8], [9, 10], [11, 12]];
  const got = akin.tf.matMul(akin.tf.tensor2d(a), akin.tf.tensor2d(b)).dataSync();
  const want: number[] = [];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
    let s = 0;
    for (let k = 0; k < 3; k++) s += a[i][k] * b[k][j];
    want.push(s);
  }
  assertClose(got, want);
});

test('safeSqrt has a zero gradient at zero and 1/(2 sqrt x) elsewhere', async () => {
  await initBackend();
  const tf = akin.tf;
  const g = tf.grad((v: akin.tf.Tensor) => tf.sum(akin.core.safeSqrt(v)))(tf.tensor1d([0, 4, 0.25])).dataSync();
  assertClose(g, [0, 1 / (2 * 2), 1 / (2 * 0.5)]);
});

test('a bad AKIN_THREADS value is named in the error', async () => {
  const saved = process.env.AKIN_THREADS;
  process.env.AKIN_THREADS = 'two';
  try {
    await assert.rejects(() => akin.backend.init({ backend: 'cpu' }), /AKIN_THREADS/);
  } finally {
    if (saved === undefined) delete process.env.AKIN_THREADS; else process.env.AKIN_THREADS = saved;
  }
});

test("a bad 'matMul' option or AKIN_WASM_MATMUL value is named in the error", async () => {
  await assert.rejects(() => akin.backend.init({ backend: 'cpu', matMul: 'blas' as 'auto' }), /option 'matMul' must be one of auto, akin, xnnpack \(got 'blas'\)/);
  const saved = process.env.AKIN_WASM_MATMUL;
  process.env.AKIN_WASM_MATMUL = 'fast';
  try {
    await assert.rejects(() => akin.backend.init({ backend: 'cpu' }), /AKIN_WASM_MATMUL must be one of auto, akin, xnnpack \(got 'fast'\)/);
  } finally {
    if (saved === undefined) delete process.env.AKIN_WASM_MATMUL; else process.env.AKIN_WASM_MATMUL = saved;
  }
});
