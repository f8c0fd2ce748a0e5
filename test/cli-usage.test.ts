import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(repo, 'bin', 'akin.js');

function akin(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: repo, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('usage errors exit 2 with one akin: error line that names the option; help and version exit 0', () => {
  const cases: [string[], RegExp][] = [
    [['demo', '--bogus'], /^akin: error: unknown option '--bogus'\n$/],
    [['demo', '--epochs', 'abc'], /^akin: error: option '--epochs <n>' argument 'abc' is invalid\. --epochs must be an integer >= 1\n$/],
    [['index', 'build', '--run', 'x', '--kind', 'foo'], /^akin: error: option '--kind <kind>' argument 'foo' is invalid/],
    [['train'], /^akin: error: train needs --config FILE \(or --resume DIR/],
  ];
  for (const [args, message] of cases) {
    const r = akin(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  const version = akin(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const help = akin(['train', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--resume <dir>/);
  assert.match(help.stdout, /--seed <n>/);
});
