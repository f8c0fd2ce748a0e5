import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { DataError } from '../core/errors.js';
import { readNpy } from '../data/npy.js';
import { parseVectorLines } from '../data/vectors.js';
import { readIdx } from '../data/idx.js';
import { writeFileAtomic } from '../core/fs.js';
import { writeNpy } from '../data/npy.js';

/** Samples read for embedding: `count` rows of `size` float32 features. */
export interface InputRows {
  features: Float32Array;
  count: number;
}

/**
 * Reads inputs to embed from `.npy` (uint8 images are scaled to [0, 1]), IDX (`-idx3-ubyte[.gz]`,
 * scaled likewise) or JSON lines (each line an array of numbers, or an object with a `vector`,
 * `embedding`, `features` or `x` array). Every sample must have `size` values (e.g. 784 for 28x28 images).
 */
export async function readInputs(path: string, size: number): Promise<InputRows> {
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

/** Writes embeddings as `.npy` ([count, dim] float32) or JSON lines (`{"index": i, "embedding": [...]}`). */
export function writeEmbeddings(path: string, embeddings: Float32Array, count: number, dim: number): void {
  if (path.toLowerCase().endsWith('.npy')) {
    writeNpy(path, embeddings, [count, dim]);
    return;
  }
  if (!/\.(jsonl|ndjson|json)$/i.test(path)) throw new DataError(`${path}: output must end in .npy or .jsonl`);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(JSON.stringify({ index: i, embedding: Array.from(embeddings.subarray(i * dim, (i + 1) * dim), (x) => Number(x.toPrecision(7))) }));
  }
  writeFileAtomic(path, `${lines.join('\n')}\n`);
}
