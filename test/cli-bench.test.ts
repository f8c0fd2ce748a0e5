// `akin bench train|loss|knn` print one JSON line each with the measured rate and the backend it ran on
// (tiny sizes: this checks the commands and their output, not speed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(repo, 'bin', 'akin.js');

function bench(args: string[], env: Record<string, string> = {}): Record<string, unknown> {
  const r = spawnSync(process.execPath, [bin, '--backend', 'wasm', ...args, '--json'], { cwd: repo, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line expected, got ${r.stdout}`);
  return JSON.parse(lines[0]) as Record<string, unknown>;
}

test('bench train, loss and knn print one JSON line with a positive rate, the backend and the matmul kernel', () => {
  const train = bench(['--threads', '1', 'bench', 'train', '--model', 'mlp', '--loss', 'contrastive', '--batch', '16', '--steps', '2']);
  assert.equal(train.workload, 'train');
  assert.equal(train.backend, 'wasm');
  assert.equal(train.threads, 1);
  assert.equal(train.matmul, 'akin', 'one thread should use akin\'s matmul');
  assert.ok((train.samples_per_s as number) > 0);
  assert.ok(Math.abs((train.ms_per_step as number) - 16e3 / (train.samples_per_s as number)) < 1e-6 * (train.ms_per_step as number));

  const loss = bench(['--threads', '1', 'bench', 'loss', '--loss', 'ntxent', '--batch', '16', '--dim', '8', '--steps', '2'], { AKIN_WASM_MATMUL: 'xnnpack' });
  assert.equal(loss.matmul, 'xnnpack', 'AKIN_WASM_MATMUL should choose the kernel');
  assert.ok((loss.ms_per_call as number) > 0);

  const knn = bench(['--threads', '1', 'bench', 'knn', '--queries', '20', '--database', '50', '--dim', '8', '--k', '3']);
  assert.ok((knn.seconds as number) > 0);
});
