import { readFileSync } from 'node:fs';

/** akin's version, read from its package.json. */
export function akinVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
