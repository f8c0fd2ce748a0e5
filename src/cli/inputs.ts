import { DataError } from '../core/errors.js';
import { readNumericInputs } from '../pipeline/inputs.js';
import { writeFileAtomic } from '../core/fs.js';
import { writeNpy } from '../data/npy.js';

/** Samples read for embedding: `count` rows of `size` float32 features. */
export interface InputRows {
  features: Float32Array;
  count: number;
}

/**
 * Reads numeric inputs to embed from `.npy`, IDX or JSON lines (see `pipeline/inputs.ts`); every
 * sample must have `size` values. Runs of any input kind read raw inputs with `readRunInputs` instead.
 */
export async function readInputs(path: string, size: number): Promise<InputRows> {
  return readNumericInputs(path, size);
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
