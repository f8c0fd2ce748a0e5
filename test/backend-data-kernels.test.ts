// The wasm data-movement kernels akin replaces (Tile, GatherV2, broadcasting comparisons), checked
// against the cpu backend's kernels on random inputs of several shapes and dtypes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { assertClose } from './helpers.js';

const tf = akin.tf;
type T = akin.tf.Tensor;

/** Runs `f` on wasm and on cpu; returns [shape, values] of each result. */
async function onBoth(f: () => T): Promise<{ wasm: [number[], number[]]; cpu: [number[], number[]] }> {
  await akin.backend.init({ backend: 'wasm', threads: 2 });
  await tf.setBackend('wasm');
  const run = (): [number[], number[]] => tf.tidy(() => {
    const y = f();
    return [y.shape, Array.from(y.dataSync() as ArrayLike<number>, Number)];
  });
  const before = tf.memory().numTensors;
  const w = run();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked on wasm');
  await tf.setBackend('cpu');
  const c = run();
  await tf.setBackend('wasm');
  return { wasm: w, cpu: c };
}

function values(n: number, seed: number): number[] {
  const r = akin.createRandom(seed);
  return Array.from({ length: n }, () => Math.round((r.next() * 2 - 1) * 4) / 4);
}

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

function same(r: { wasm: [number[], number[]]; cpu: [number[], number[]] }, msg: string): void {
  assert.deepEqual(r.wasm[0], r.cpu[0], `${msg} shape`);
  assertClose(r.wasm[1], r.cpu[1], { atol: 0, rtol: 0, msg });
}

test('Tile on wasm matches cpu for float32, int32 and bool of ranks 1-4', async () => {
  const cases: [number[], number[]][] = [[[5], [3]], [[1, 1], [4, 6]], [[2, 3], [3, 1]], [[2, 1, 3], [1, 4, 2]], [[3, 2, 1, 2], [2, 1, 3, 2]], [[2, 3], [1, 1]], [[1], [1000]]];
  for (const [k, [shape, reps]] of cases.entries()) {
    const v = values(size(shape), k);
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      same(await onBoth(() => tf.tile(tf.tensor(v.map((x) => (dtype === 'float32' ? x : Math.round(x * 4) % 2)), shape, dtype), reps)), `tile ${shape} x ${reps} ${dtype}`);
    }
  }
});

test('broadcasting comparisons, logicals, maximum/minimum and pow on wasm match cpu', async () => {
  const shapes: [number[], number[]][] = [[[6, 5], [6, 1]], [[6, 5], [5]], [[3, 1, 4], [2, 1]], [[1, 7], [4, 1]], [[2, 3, 4], [1, 3, 1]]];
  const ops: [string, (a: T, b: T) => T][] = [
    ['equal', tf.equal], ['notEqual', tf.notEqual], ['greater', tf.greater], ['greaterEqual', tf.greaterEqual],
    ['less', tf.less], ['lessEqual', tf.lessEqual], ['maximum', tf.maximum], ['minimum', tf.minimum],
    ['logicalAnd', (a, b) => tf.logicalAnd(tf.greater(a, 0), tf.greater(b, 0))],
    ['logicalOr', (a, b) => tf.logicalOr(tf.greater(a, 0), tf.less(b, 0))],
    ['pow', (a, b) => tf.pow(tf.add(tf.abs(a), 0.5), b)],
  ];
  for (const [k, [sa, sb]] of shapes.entries()) {
    const va = values(size(sa), 10 + k);
    const vb = values(size(sb), 20 + k);
    for (const [name, op] of ops) {
      for (const [x, y, p, q] of [[va, vb, sa, sb], [vb, va, sb, sa]] as [number[], number[], number[], number[]][]) {
        same(await onBoth(() => op(tf.tensor(x, p), tf.tensor(y, q))), `${name} ${p} vs ${q}`);
      }
    }
  }
});

test('GatherV2 on wasm matches cpu for every axis, 0-, 1- and 2-D indices, repeated indices, int32 data', async () => {
  const shape = [4, 5, 3];
  const v = values(size(shape), 30);
  const idx: [number[], number[]][] = [[[2], []], [[0, 2, 2, 1], [4]], [[1, 0, 1, 2, 2, 0], [2, 3]]];
  for (let axis = 0; axis < 3; axis++) {
    for (const [ids, ishape] of idx) {
      for (const dtype of ['float32', 'int32'] as const) {
        const data = dtype === 'float32' ? v : v.map((x) => Math.round(x * 8));
        same(await onBoth(() => tf.gather(tf.tensor(data, shape, dtype), tf.tensor(ids, ishape, 'int32'), axis)), `gather axis ${axis} ids ${ishape} ${dtype}`);
      }
    }
  }
});
