import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync, existsSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

/**
 * Writes a file atomically: the bytes go to a temporary file beside the target, which is flushed to
 * disk and then renamed over the target. A crash leaves either the old file or the new one, never half.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Writes a JSON file atomically, pretty-printed. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Replaces directory `dir` atomically with what `fill(tmpDir)` writes: the new content is built in a
 * temporary sibling, the old directory is moved aside, the new one renamed into place, then the old
 * one removed. A crash leaves a complete old or new directory (plus, at worst, a stray sibling).
 */
export async function replaceDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void> | void): Promise<void> {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.${process.pid}.${Date.now()}.tmp`);
  const old = join(parent, `.${basename(dir)}.${process.pid}.${Date.now()}.old`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await fill(tmp);
  const hadOld = existsSync(dir);
  if (hadOld) renameSync(dir, old);
  renameSync(tmp, dir);
  if (hadOld) rmSync(old, { recursive: true, force: true });
}
