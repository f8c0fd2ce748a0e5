import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as akin from 'akin';

// The row selector is internal (akin.eval.knn and accuracy use it); it is tested here directly on
// hand-built score blocks, against a full sort of every row.
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
interface Segment { values: Float32Array; bits: Int32Array; column: number; width: number }
interface Block { start: number; rows: number; segments: Segment[] }
interface Selector { select(block: Block, row: number, exclude: number, m: number, out: Int32Array, offset?: number, scoreBits?: Int32Array): void }
const { RowSelector } = (await import(join(root, 'dist', 'eval', 'row-select.js'))) as { RowSelector: new (columns: number) => Selector };

/** A block of `rows.length` rows split into segments of `width` columns (the last one shorter). */
function block(rows: number[][], width: number): Block {
  const n = rows[0].length;
  const segments: Segment[] = [];
  for (let c = 0; c < n; c += width) {
    const w = Math.min(width, n - c);
    const values = new Float32Array(rows.length * w);
    rows.forEach((r, i) => values.set(r.slice(c, c + w), i * w));
    segments.push({ values, bits: new Int32Array(values.buffer), column: c, width: w });
  }
  return { start: 0, rows: rows.length, segments };
}

/** Every column but `exclude`, sorted by (float32 value desc, column asc), NaN last; the first m. */
function bruteForce(row: number[], exclude: number, m: number): number[] {
  const v = Float32Array.from(row);
  const cols = [...v.keys()].filter((c) => c !== exclude);
  const rank = (x: number): number => (Number.isNaN(x) ? -Infinity : x);
  cols.sort((a, b) => (rank(v[b]) === rank(v[a]) ? a - b : rank(v[b]) > rank(v[a]) ? 1 : -1));
  return cols.slice(0, m);
}

function check(rows: number[][], width: number, ms: number[], msg: string): void {
  const b = block(rows, width);
  const sel = new RowSelector(rows[0].length);
  rows.forEach((row, r) => {
    for (const exclude of [-1, r % row.length, row.length - 1]) {
      for (const m of ms) {
        if (m > row.length - (exclude >= 0 ? 1 : 0)) continue;
        const out = new Int32Array(m + 3).fill(-7);
        const scores = new Float32Array(m + 3);
        sel.select(b, r, exclude, m, out, 2, new Int32Array(scores.buffer));
        const want = bruteForce(row, exclude, m);
        assert.deepEqual(Array.from(out.subarray(2, 2 + m)), want, `${msg}: row ${r}, exclude ${exclude}, m ${m}`);
        assert.equal(out[0], -7, 'wrote before offset');
        assert.equal(out[m + 2], -7, 'wrote past m');
        const f = Float32Array.from(row);
        want.forEach((c, j) => assert.ok(Object.is(scores[2 + j], f[c]) || (f[c] === 0 && scores[2 + j] === 0) || (Number.isNaN(f[c]) && Number.isNaN(scores[2 + j])), `${msg}: score of column ${c}`));
      }
    }
  });
}

test('random rows (sampled threshold path): equals a full sort for m from 1 to every column', () => {
  const r = akin.createRandom(4);
  const n = 3000; // >= 1024 columns: the selector estimates a threshold from a sample
  const rows = Array.from({ length: 4 }, () => Array.from({ length: n }, () => r.next() * 10 - 7));
  check(rows, 700, [1, 2, 10, 99, 300, 749, 750, 1500, n - 1, n], 'uniform');
  // Gaussian-like scores (a sum of uniforms) and a wide range of magnitudes.
  const bell = Array.from({ length: 3 }, () => Array.from({ length: n }, () => [0, 1, 2, 3].reduce((s) => s + r.next(), 0) - 2));
  check(bell, 1024, [1, 7, 150, 700], 'bell');
  const wide = Array.from({ length: 2 }, () => Array.from({ length: n }, () => (r.next() - 0.5) * 10 ** Math.floor(r.next() * 12 - 6)));
  check(wide, 512, [1, 30, 600], 'wide');
});

test('ties go to the lower column (also across segments), -0 ties +0, NaN ranks last', () => {
  const r = akin.createRandom(5);
  const n = 2048;
  const ints = Array.from({ length: 4 }, () => Array.from({ length: n }, () => Math.floor(r.next() * 9) - 4));
  check(ints, 300, [1, 5, 40, 200, 511, 600, 2000], 'integers');
  const zeros = Array.from({ length: n }, (_, c) => (c % 3 === 0 ? -0 : c % 3 === 1 ? 0 : c % 7 === 0 ? Number.NaN : -1));
  check([zeros], 256, [1, 5, 700, 1400, 1500, n - 1], 'signed zeros and NaN');
  const constant = [Array.from({ length: n }, () => 2.5)];
  check(constant, 1000, [1, 100, n - 1], 'constant');
});

test('a misleading sample falls back to the whole row; crowded keys fall back to radix passes', () => {
  // Every sampled column (64 runs of 16 evenly spaced over 16,384 columns: 256 t + 128 .. + 143) holds
  // the row's largest value, so the estimated threshold is too high for m >= 1024 and the whole row
  // must be taken.
  const n = 16384;
  const r = akin.createRandom(6);
  const trap = Array.from({ length: n }, (_, c) => (c % 256 >= 128 && c % 256 < 144 ? 10 : r.next()));
  check([trap], 4096, [3, 1000, 1024, 1025, 2000, 4000], 'misleading sample');
  // Thousands of distinct values packed into a tiny range next to one huge outlier: the leading-bits
  // buckets put almost everything together, and the sort must still come out exact.
  const crowded = Array.from({ length: 3000 }, (_, c) => (c === 1234 ? 1e30 : 1 + Math.floor(r.next() * 5000) * 2 ** -20));
  check([crowded], 1000, [1, 2, 500, 700, 2999], 'crowded');
});

test('segments narrower than a sample run (reference tiles of a few rows)', () => {
  const r = akin.createRandom(7);
  const row = Array.from({ length: 5000 }, () => Math.floor(r.next() * 50));
  check([row], 5, [1, 9, 300, 1100], 'width 5');
  check([row], 1, [1, 300], 'width 1');
});

test('a small row (no sampling) and a single column', () => {
  check([[3, 1, 2], [0, 0, 0]], 2, [1, 2], 'three columns');
  check([[5]], 1, [1], 'one column');
});
