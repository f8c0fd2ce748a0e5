import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { DataError } from '../core/errors.js';
import { readNpy } from '../data/npy.js';
import { parseVectorLines } from '../data/vectors.js';
import { readIdx } from '../data/idx.js';

/**
 * Reads numeric inputs (images or vectors) to embed from `.npy` (uint8 images are scaled to [0, 1]),
 * IDX (`-idx3-ubyte[.gz]`, scaled likewise) or JSON lines (each line an array of numbers, or an
 * object with a `vector`, `embedding`, `features` or `x` array). Every sample must have `size` values
 * (e.g. 784 for 28x28 images). Returns the flat rows and their count.
 */
export async function readNumericInputs(path: string, size: number): Promise<{ features: Float32Array; count: number }> {
  const lower = path.toLowerCase();
  let data: Float32Array;
  if (lower.endsWith('.npy')) {
    const a = readNpy(path);
    data = a.dtype === 'u1' ? a.data.map((v) => v / 255) : a.data;
  } else if (/idx\d-ubyte(\.gz)?$/.test(lower) || lower.endsWith('.idx') || lower.endsWith('.idx.gz')) {
    const a = await readIdx(path);
    data = Float32Array.from(a.data as ArrayLike<number>, (v) => (a.dtype === 'uint8' ? v / 255 : v));
  } else if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || extname(lower) === '.json') {
    data = readJsonLines(path, size);
  } else {
    throw new DataError(`${path}: unknown input format; use .npy, an IDX file (e.g. t10k-images-idx3-ubyte.gz) or .jsonl`);
  }
  if (data.length % size !== 0) {
    throw new DataError(`${path}: ${data.length} values is not a whole number of samples of ${size} values each`);
  }
  return { features: data, count: data.length / size };
}

function readJsonLines(path: string, size: number): Float32Array {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // Rows of differing length are reported by the parser with their line; the first fixes the width.
  const { features, dim } = parseVectorLines(text, path, null);
  if (dim !== size) throw new DataError(`${path}:1: has ${dim} values, the model takes ${size}`);
  return features;
}

/** Splits flat rows of `size` values into one view per sample (no copy). */
export function rowViews(features: Float32Array, size: number): Float32Array[] {
  const n = size === 0 ? 0 : features.length / size;
  return Array.from({ length: n }, (_, i) => features.subarray(i * size, (i + 1) * size));
}

/** Concatenates samples of `size` values each into flat rows; errors name the sample whose length is wrong. */
export function concatRows(items: ArrayLike<number>[], size: number, what = 'input'): Float32Array {
  const out = new Float32Array(items.length * size);
  items.forEach((r, i) => {
    if (r.length !== size) throw new DataError(`${what}${items.length > 1 ? `[${i}]` : ''} has ${r.length} values; the model takes ${size}`);
    out.set(r, i * size);
  });
  return out;
}

/** Numeric raw inputs sent as JSON (arrays of finite numbers of `size` values each), as sample rows. */
export function parseNumericInputs(values: unknown[], field: string, size: number): Float32Array[] {
  return values.map((v, i) => {
    const where = `${field}${values.length > 1 ? `[${i}]` : ''}`;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
      throw new DataError(`${where} must be an array of finite numbers`);
    }
    if (v.length !== size) throw new DataError(`${where} has ${v.length} values; the model takes ${size}`);
    return Float32Array.from(v as number[]);
  });
}
