// Shared by the backend kernel tests: run the same computation on wasm and on cpu.
import assert from 'node:assert/strict';
import * as akin from 'akin';

const tf = akin.tf;

/** Starts (once) and selects the wasm backend with 2 threads. */
export async function wasm(): Promise<void> {
  await akin.backend.init({ backend: 'wasm', threads: 2 });
  await tf.setBackend('wasm');
}

/** Runs `f` on wasm (checking that it leaves no tensor behind), then on cpu, and returns both results. */
export async function onBoth(f: () => number[][]): Promise<{ wasm: number[][]; cpu: number[][] }> {
  await wasm();
  const before = tf.memory().numTensors;
  const w = f();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked on wasm');
  await tf.setBackend('cpu');
  const c = f();
  await tf.setBackend('wasm');
  return { wasm: w, cpu: c };
}

/** `n` deterministic values in [lo, hi). */
export function values(n: number, seed: number, lo = -1, hi = 1): number[] {
  const r = akin.createRandom(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * r.next());
}

/** The number of elements of a shape. */
export const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
