import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(repo, 'bin', 'akin.js');

function akin(args: string[], cwd = repo): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, AKIN_BACKEND: process.env.AKIN_BACKEND ?? 'wasm' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Decodes a float32 .npy written by akin: returns [rows, cols] and the values. */
function readNpyF32(path: string): { shape: number[]; data: Float32Array } {
  const buf = readFileSync(path);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + headerLen).toString('latin1');
  const shape = /\((\d+), (\d+)\)/.exec(header)!.slice(1).map(Number);
  const body = buf.subarray(10 + headerLen);
  const data = new Float32Array(body.length / 4);
  for (let i = 0; i < data.length; i++) data[i] = body.readFloatLE(i * 4);
  return { shape, data };
}

const tmp = tempDir('akin-cli-');
const runDir = join(tmp, 'run');

test('akin train trains a small run end to end; training beats the untrained network on seen classes', () => {
  const config = {
    name: 'tiny', seed: 1,
    data: { source: 'embedded', maxTrain: 1500, validation: 0.1, seenHoldout: 0.2 },
    model: { type: 'mlp', hidden: [64], embeddingDim: 32 },
    loss: { className: 'ContrastiveLoss', config: {} },
    batchSize: 50, m: 10, epochs: 4,
  };
  const cfgPath = join(tmp, 'tiny.json');
  writeFileSync(cfgPath, JSON.stringify(config));
  const r = akin(['train', '--config', cfgPath, '--out', runDir]);
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['config.json', 'model/model.json', 'model/weights.bin', 'metrics.json', 'log.jsonl', 'summary.txt', 'checkpoint/state.json']) {
    assert.ok(existsSync(join(runDir, f)), `missing ${f}`);
  }
  assert.match(r.stdout, /raw pixels/);
  assert.match(r.stdout, /trained network/);
  const m = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8'));
  for (const row of ['raw', 'untrained', 'trained']) for (const split of ['seen', 'unseen']) {
    for (const k of ['precisionAt1', 'rPrecision', 'mapAtR', 'nmi']) {
      const v = m[row][split][k];
      assert.ok(v >= 0 && v <= 1, `${row}.${split}.${k} = ${v}`);
    }
  }
  assert.ok(m.trained.seen.mapAtR > m.untrained.seen.mapAtR + 0.05, `seen MAP@R ${m.untrained.seen.mapAtR} -> ${m.trained.seen.mapAtR}`);
  const epochs = readFileSync(join(runDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.event === 'epoch');
  assert.equal(epochs.length, 4);
  assert.ok(epochs.every((e) => typeof e.val_mapAtR === 'number'));
});

test('akin evaluate --json reproduces the trained metrics of the run', () => {
  const r = akin(['evaluate', '--run', runDir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  const saved = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8')).trained;
  for (const split of ['seen', 'unseen']) {
    assert.ok(Math.abs(got[split].mapAtR - saved[split].mapAtR) < 1e-6, `${split}: ${got[split].mapAtR} vs ${saved[split].mapAtR}`);
  }
});

test('akin embed writes unit-norm embeddings of .jsonl inputs, one per line', () => {
  const input = join(tmp, 'in.jsonl');
  const rows = [Array.from({ length: 784 }, (_, i) => (i % 7) / 7), Array.from({ length: 784 }, (_, i) => (i % 3) / 3)];
  writeFileSync(input, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const out = join(tmp, 'out.npy');
  const r = akin(['embed', '--run', runDir, '--input', input, '--output', out]);
  assert.equal(r.code, 0, r.stderr);
  const { shape, data } = readNpyF32(out);
  assert.deepEqual(shape, [2, 32]);
  for (let i = 0; i < 2; i++) {
    let n = 0;
    for (let j = 0; j < 32; j++) n += data[i * 32 + j] ** 2;
    assert.ok(Math.abs(Math.sqrt(n) - 1) < 1e-4, `row ${i} norm ${Math.sqrt(n)}`);
  }
  const outJ = join(tmp, 'out.jsonl');
  assert.equal(akin(['embed', '--run', runDir, '--input', input, '--output', outJ]).code, 0);
  const lines = readFileSync(outJ, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  for (let j = 0; j < 32; j++) assert.ok(Math.abs(lines[1].embedding[j] - data[32 + j]) < 1e-5);
});

test('bad configs and inputs fail with a message naming the field or file and a non-zero exit', () => {
  const bad = join(tmp, 'bad.json');
  writeFileSync(bad, JSON.stringify({ epochs: 'ten', optimizer: { learningRate: -1 } }));
  const r = akin(['train', '--config', bad]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /epochs/);
  assert.match(r.stderr, /optimizer\.learningRate/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace without --verbose');
  const missing = akin(['train', '--config', join(tmp, 'nope.json')]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /nope\.json/);
  const notRun = akin(['evaluate', '--run', tmp]);
  assert.notEqual(notRun.code, 0);
  assert.match(notRun.stderr, /config\.json/);
  const badInput = join(tmp, 'bad.jsonl');
  writeFileSync(badInput, '[1, 2, 3]\n');
  const e = akin(['embed', '--run', runDir, '--input', badInput, '--output', join(tmp, 'x.npy')]);
  assert.notEqual(e.code, 0);
  assert.match(e.stderr, /bad\.jsonl:1/);
});

test('--help is available on every command', () => {
  for (const cmd of ['demo', 'train', 'evaluate', 'embed']) {
    const r = akin([cmd, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: akin/);
  }
});

test('the README quickstart example runs', () => {
  const r = spawnSync(process.execPath, [join(repo, 'examples', 'quickstart.mjs')], { cwd: repo, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const m = /cosine similarity of images 0 and 1 \(labels \d, \d\): (-?\d\.\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.ok(Math.abs(Number(m[1])) <= 1);
});
