// The fused Adam (one in-place pass per variable on wasm) against tfjs's own Adam on the cpu backend and
// against Adam written out in float64 loops; its state, config and memory behaviour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { assertClose } from './helpers.js';
import { values, wasm } from './backend-helpers.js';

const tf = akin.tf;
const { FusedAdamOptimizer } = akin.train;

const SHAPES = [[6, 5], [5], [3, 2, 4]];
const STEPS = 12;

/** The gradient of variable `v` at step `s` (deterministic; variable 1 has none at steps 3 and 7). */
function gradientValues(v: number, s: number): number[] | null {
  if (v === 1 && (s === 3 || s === 7)) return null;
  const n = SHAPES[v].reduce((a, b) => a * b, 1);
  // Mixed scales, so that the second moment and epsilon both matter.
  return values(n, 100 * v + s, -1, 1).map((x, i) => (i % 3 === 0 ? x * 1e-3 : x));
}

/** Learning rate of step s (changed part-way, as a schedule does through `learningRate`). */
/** applyGradients with a map of gradients (tfjs types the map as variables). */
function apply(opt: akin.tf.Optimizer, grads: Record<string, akin.tf.Tensor | null>): void {
  opt.applyGradients(grads as unknown as Parameters<akin.tf.Optimizer['applyGradients']>[0]);
}

const lrAt = (s: number): number => (s < 6 ? 0.01 : 0.003);

/** Runs STEPS steps of `opt` on fresh variables and returns their values and the optimiser's weights. */
async function run(opt: akin.tf.Optimizer, from = 0, to = STEPS, start?: number[][]): Promise<{ vars: number[][]; state: number[][] }> {
  const vars = SHAPES.map((shape, v) => tf.variable(tf.tensor(start?.[v] ?? values(shape.reduce((a, b) => a * b, 1), 7 + v), shape), true, `adam-test-${tf.getBackend()}-${v}-${Math.random()}`));
  for (let s = from; s < to; s++) {
    (opt as unknown as { learningRate: number }).learningRate = lrAt(s);
    // A variable without a gradient keeps its slot with a null entry (tfjs's Adam keys its moments by
    // position in the map, so a missing key would shift the others).
    const grads: Record<string, akin.tf.Tensor | null> = {};
    vars.forEach((x, v) => {
      const g = gradientValues(v, s);
      grads[x.name] = g ? tf.tensor(g, x.shape) : null;
    });
    apply(opt, grads);
    tf.dispose(Object.values(grads).filter((g): g is akin.tf.Tensor => g !== null));
  }
  const out = { vars: vars.map((x) => Array.from(x.dataSync())), state: await Promise.all((await opt.getWeights()).map(async (w) => Array.from(await w.tensor.data()))) };
  tf.dispose(vars);
  return out;
}

/** Adam in float64 loops, as Kingma & Ba write it (epsilon added to the square root of v-hat). */
function adamReference(): number[][] {
  const [b1, b2, eps] = [0.9, 0.999, 1e-7];
  return SHAPES.map((shape, v) => {
    const w = values(shape.reduce((a, b) => a * b, 1), 7 + v);
    const m = w.map(() => 0), u = w.map(() => 0);
    for (let s = 0; s < STEPS; s++) {
      const g = gradientValues(v, s);
      if (!g) continue;
      // tfjs counts the bias correction by optimiser steps, not by the variable's own updates.
      const t = s + 1;
      for (let k = 0; k < w.length; k++) {
        m[k] = b1 * m[k] + (1 - b1) * g[k];
        u[k] = b2 * u[k] + (1 - b2) * g[k] * g[k];
        w[k] -= lrAt(s) * (m[k] / (1 - b1 ** t)) / (Math.sqrt(u[k] / (1 - b2 ** t)) + eps);
      }
    }
    return w;
  });
}

test('fused Adam on wasm matches tf.train.adam on cpu and a float64 Adam', async () => {
  await wasm();
  const fused = new FusedAdamOptimizer(0.01, 0.9, 0.999);
  const got = await run(fused);
  fused.dispose();
  await tf.setBackend('cpu');
  const stock = tf.train.adam(0.01);
  const want = await run(stock);
  stock.dispose();
  await tf.setBackend('wasm');
  got.vars.forEach((x, v) => assertClose(x, want.vars[v], { atol: 1e-7, rtol: 1e-6, msg: `variable ${v}` }));
  assert.equal(got.state.length, want.state.length);
  got.state.forEach((x, i) => assertClose(x, want.state[i], { atol: 1e-9, rtol: 1e-6, msg: `optimizer weight ${i}` }));
  const ref = adamReference();
  got.vars.forEach((x, v) => assertClose(x, ref[v], { atol: 1e-6, rtol: 1e-5, msg: `variable ${v} vs float64` }));
  // The weights moved: a no-op update would fail the float64 comparison, but say so plainly.
  assert.ok(Math.abs(got.vars[0][0] - values(30, 7)[0]) > 1e-3);
});

test('fused Adam: no tensor is left behind per step, and the state resumes through getWeights/setWeights', async () => {
  await wasm();
  const x = tf.variable(tf.tensor(values(40, 3), [8, 5]));
  const opt = new FusedAdamOptimizer(0.05, 0.9, 0.999);
  const step = (): void => {
    const g = tf.tidy(() => tf.mul(x, 2));
    apply(opt, { [x.name]: g });
    g.dispose();
  };
  step(); // creates the moments
  const before = tf.memory().numTensors;
  const bytes = tf.memory().numBytes;
  for (let i = 0; i < 5; i++) step();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked per step');
  assert.equal(tf.memory().numBytes, bytes, 'bytes leaked per step');

  // Save the state, continue, and compare with a second optimiser restored from the saved state, whose
  // moment buffers are shared with the saved tensors (the update must not write into those).
  const saved = await Promise.all((await opt.getWeights()).map(async (w) => ({ name: w.name, tensor: tf.tensor(await w.tensor.data(), w.tensor.shape) })));
  const savedCopy = saved.map((w) => Array.from(w.tensor.dataSync()));
  const x0 = Array.from(x.dataSync());
  for (let i = 0; i < 4; i++) step();
  const straight = Array.from(x.dataSync());

  x.assign(tf.tensor(x0, [8, 5]));
  const resumed = FusedAdamOptimizer.fromConfig(FusedAdamOptimizer, opt.getConfig()) as InstanceType<typeof FusedAdamOptimizer>;
  assert.ok(resumed instanceof FusedAdamOptimizer);
  assert.equal(resumed.getClassName(), 'Adam');
  assert.deepEqual(resumed.getConfig(), opt.getConfig());
  await resumed.setWeights(saved);
  for (let i = 0; i < 4; i++) {
    const g = tf.tidy(() => tf.mul(x, 2));
    apply(resumed, { [x.name]: g });
    g.dispose();
  }
  // (tfjs recomputes beta^t with pow on setWeights where the running product was kept: last-bit differences.)
  assertClose(x.dataSync(), straight, { atol: 1e-7, rtol: 1e-6, msg: 'resumed run' });
  saved.forEach((w, i) => assert.deepEqual(Array.from(w.tensor.dataSync()), savedCopy[i], `saved tensor ${w.name} was overwritten`));
  tf.dispose(saved.map((w) => w.tensor));
  opt.dispose();
  resumed.dispose();
  x.dispose();
});

test('fused Adam does not write into a buffer the variable shares with another tensor', async () => {
  await wasm();
  const x = tf.variable(tf.tensor([1, 2, 3, 4], [4]));
  const alias = tf.clone(x); // copy-free on wasm: the same buffer
  const opt = new FusedAdamOptimizer(0.1, 0.9, 0.999);
  const g = tf.tensor([1, -1, 1, -1], [4]);
  apply(opt, { [x.name]: g });
  assert.deepEqual(Array.from(alias.dataSync()), [1, 2, 3, 4]);
  // The first Adam step moves every weight by lr against the gradient's sign (m-hat / sqrt(v-hat) = ±1).
  assertClose(x.dataSync(), [0.9, 2.1, 2.9, 4.1], { atol: 1e-6, rtol: 0 });
  tf.dispose([x, alias, g]);
  opt.dispose();
});

test('makeOptimizer("adam") gives the fused Adam with tfjs defaults', async () => {
  await wasm();
  const opt = akin.train.makeOptimizer('adam', 0.002);
  assert.ok(opt instanceof FusedAdamOptimizer);
  assert.ok(opt instanceof tf.AdamOptimizer);
  const stock = tf.train.adam(0.002);
  assert.deepEqual(opt.getConfig(), stock.getConfig());
  opt.dispose();
  stock.dispose();
});

test('fused Adam: a matmul after the step uses the new weights (the wasm matmul caches packed weights)', async () => {
  await wasm();
  const w = tf.variable(tf.tensor(values(12, 5), [4, 3]));
  const x = tf.tensor(values(8, 6), [2, 4]);
  const opt = new FusedAdamOptimizer(0.1, 0.9, 0.999);
  tf.tidy(() => tf.matMul(x, w)).dispose(); // packs w
  const g = tf.tensor(values(12, 9), [4, 3]);
  apply(opt, { [w.name]: g });
  const y = tf.tidy(() => tf.matMul(x, w));
  // The same product in float64 loops over the updated weights.
  const [wv, xv] = [Array.from(w.dataSync()), Array.from(x.dataSync())];
  const want = [0, 1].flatMap((i) => [0, 1, 2].map((j) => [0, 1, 2, 3].reduce((s, k) => s + xv[i * 4 + k] * wv[k * 3 + j], 0)));
  assertClose(y.dataSync(), want, { atol: 1e-5, rtol: 1e-5 });
  tf.dispose([w, x, g, y]);
  opt.dispose();
});
