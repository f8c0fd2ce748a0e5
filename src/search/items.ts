import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../core/errors.js';
import { replaceDirAtomic, writeFileAtomic, writeJsonAtomic } from '../core/fs.js';
import type { IndexId, IndexKind, IndexManifest, Metadata } from './types.js';

/** The ids and metadata of a saved index (`items.json`), in storage order. */
export interface SavedItems {
  ids: IndexId[];
  metadata: (Metadata | null)[];
  /** Kind-specific per-item numbers (e.g. HNSW labels). */
  labels?: number[];
  /** Per-item vector norms where the store keeps unit vectors (HNSW with cosine). */
  norms?: number[];
}

/**
 * Writes an index folder atomically: `index.json`, `items.json` and whatever `extra(tmpDir)` writes,
 * all built in a temporary sibling that replaces `dir` in one rename.
 */
export async function writeIndexDir(
  dir: string, manifest: IndexManifest, items: SavedItems | null, extra?: (tmpDir: string) => Promise<void> | void,
): Promise<void> {
  await replaceDirAtomic(dir, async (tmp) => {
    if (items) writeJsonAtomic(join(tmp, 'items.json'), items);
    if (extra) await extra(tmp);
    writeJsonAtomic(join(tmp, 'index.json'), manifest);
  });
}

/** Reads and checks `index.json` of a saved index folder; errors name the folder and what is wrong. */
export function readManifest(dir: string, kind?: IndexKind): IndexManifest {
  const path = join(dir, 'index.json');
  if (!existsSync(path)) throw new DataError(`${dir} is not a saved index: ${path} is missing`);
  let m: IndexManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as IndexManifest;
  } catch (e) {
    throw new DataError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (m?.format !== 'akin-index' || m.version !== 1) throw new DataError(`${path}: not an akin index manifest (format/version)`);
  if (kind && m.kind !== kind) throw new DataError(`${path}: the index is of kind '${m.kind}', not '${kind}'`);
  return m;
}

/** Reads `items.json` of a saved index folder. */
export function readItems(dir: string): SavedItems {
  const path = join(dir, 'items.json');
  if (!existsSync(path)) throw new DataError(`${dir}: ${path} is missing`);
  return JSON.parse(readFileSync(path, 'utf8')) as SavedItems;
}

/** Writes raw little-endian float32 values (fsynced, atomically). */
export function writeFloats(path: string, values: Float32Array): void {
  writeFileAtomic(path, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** Reads a file written by {@link writeFloats}, checking its length. */
export function readFloats(path: string, expected: number): Float32Array {
  const buf = readFileSync(path);
  if (buf.byteLength !== expected * 4) throw new DataError(`${path}: expected ${expected} float32 values, found ${buf.byteLength / 4}`);
  const out = new Float32Array(expected);
  new Uint8Array(out.buffer).set(buf);
  return out;
}
