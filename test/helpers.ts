import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, sep } from 'node:path';
import * as akin from 'akin';

const tf = akin.tf;

/** Starts the backend the suite runs on (AKIN_BACKEND, default wasm) once per test file. */
export async function initBackend(): Promise<akin.backend.BackendInfo> {
  return akin.backend.init({ backend: (process.env.AKIN_BACKEND as akin.backend.BackendName | undefined) ?? 'wasm' });
}

/** Asserts |actual - expected| <= atol + rtol * |expected|, element by element. */
export function assertClose(
  actual: ArrayLike<number> | number,
  expected: ArrayLike<number> | number,
  { atol = 1e-5, rtol = 1e-4, msg = '' }: { atol?: number; rtol?: number; msg?: string } = {},
): void {
  const a = typeof actual === 'number' ? [actual] : Array.from(actual);
  const e = typeof expected === 'number' ? [expected] : Array.from(expected);
  assert.equal(a.length, e.length, `${msg} length ${a.length} != ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const tol = atol + rtol * Math.abs(e[i]);
    assert.ok(Number.isFinite(a[i]), `${msg} [${i}] is not finite: ${a[i]}`);
    assert.ok(Math.abs(a[i] - e[i]) <= tol, `${msg} [${i}]: got ${a[i]}, expected ${e[i]} (tol ${tol})`);
  }
}

/** A deterministic [n, d] matrix of values in [-1, 1) as rows of plain numbers. */
export function randomRows(n: number, d: number, seed = 1): number[][] {
  const r = akin.createRandom(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => r.next() * 2 - 1));
}

/**
 * Central finite differences of `f` (a scalar function of an [n, d] matrix computed by the code under
 * test) against tf.grad of the same function. Float32 arithmetic: use a step around 1e-2..1e-3 and a
 * tolerance that can still fail.
 */
export function checkGradient(
  f: (x: akin.tf.Tensor2D) => akin.tf.Scalar,
  rows: number[][],
  { eps = 1e-2, atol = 2e-3, rtol = 2e-2 }: { eps?: number; atol?: number; rtol?: number } = {},
): void {
  const x = tf.tensor2d(rows);
  const analytic = tf.tidy(() => tf.grad((v: akin.tf.Tensor) => f(v as akin.tf.Tensor2D))(x)).arraySync() as number[][];
  x.dispose();
  const numeric = rows.map((row, i) =>
    row.map((_, j) => {
      const plus = rows.map((r) => r.slice());
      const minus = rows.map((r) => r.slice());
      plus[i][j] += eps;
      minus[i][j] -= eps;
      const fp = tf.tidy(() => f(tf.tensor2d(plus)).arraySync() as number);
      const fm = tf.tidy(() => f(tf.tensor2d(minus)).arraySync() as number);
      return (fp - fm) / (2 * eps);
    }),
  );
  assertClose(analytic.flat(), numeric.flat(), { atol, rtol, msg: 'gradient' });
}

/** Folders made by tempDir in this process (real paths), each with the real OS temp folder it was made in. */
const tempDirs = new Map<string, string>();
let removalRegistered = false;

/** Removes every folder tempDir made, if it is a direct child of the OS temp folder; never throws. */
function removeTempDirs(): void {
  for (const [dir, root] of tempDirs) {
    const rel = relative(root, dir);
    if (rel === '' || rel === '..' || isAbsolute(rel) || rel.includes(sep)) continue;
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Best effort: a folder that cannot be removed now is left for the OS.
    }
  }
  tempDirs.clear();
}

/**
 * A new empty folder `<os temp>/<prefix>XXXXXX`, removed (with its contents) when the test process
 * exits, so it outlives every test, child process, server and worker that uses it. `prefix` is a
 * plain name (letters, digits, '.', '_', '-'); only direct children of the OS temp folder are removed.
 */
export function tempDir(prefix: string): string {
  if (!/^[\w.-]+$/.test(prefix)) throw new Error(`tempDir: 'prefix' must be a plain folder name, got ${JSON.stringify(prefix)}`);
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (!removalRegistered) {
    process.once('exit', removeTempDirs);
    removalRegistered = true;
  }
  try {
    tempDirs.set(realpathSync(dir), realpathSync(tmpdir()));
  } catch {
    // Not resolvable: never removed rather than removed by a guess.
  }
  return dir;
}
