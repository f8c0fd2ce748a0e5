// Writes docs/components.md from the registries of the built library (run by `npm run docs`, after the build).
import { mkdirSync, writeFileSync } from 'node:fs';
import { catalogue } from '../dist/index.js';

const dir = new URL('../docs/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('components.md', dir), catalogue.componentsMarkdown());
console.log('wrote docs/components.md');
