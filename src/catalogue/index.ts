/**
 * The component catalogue: every class registered in each family with its one-line summary and paper,
 * and the components reference page (`docs/components.md`, written by `npm run docs`) rendered from it,
 * so the page lists exactly what the registries hold.
 */
import { AkinError } from '../core/errors.js';
import { registry as distances } from '../distances/index.js';
import { registry as losses } from '../losses/index.js';
import { registry as miners } from '../miners/index.js';
import { registry as reducers } from '../reducers/index.js';
import { registry as regularizers } from '../regularizers/index.js';
import * as samplers from '../samplers/index.js';
import { METADATA, type ComponentInfo, type Family } from './metadata.js';

export { METADATA, type ComponentInfo, type Family };

/** The families in the order the page lists them. */
export const FAMILIES: readonly Family[] = ['losses', 'miners', 'reducers', 'regularizers', 'distances', 'samplers'];

/** One row of the catalogue. */
export interface CatalogueEntry extends ComponentInfo {
  family: Family;
  className: string;
}

/**
 * Components that wrap others and so live outside their family's registry: MaximumLossMiner picks a
 * sub-batch instead of index tuples, BatchedDistance tiles a registered distance. Both have their own
 * `fromConfig`.
 */
const UNREGISTERED: Partial<Record<Family, readonly string[]>> = {
  miners: ['MaximumLossMiner'],
  distances: ['BatchedDistance'],
};

/**
 * The class names of each family, sorted: the registries' names plus {@link UNREGISTERED}, and for
 * samplers (which configs do not build) the classes the samplers module exports.
 */
export function registeredNames(): Record<Family, string[]> {
  const samplerClasses = Object.entries(samplers)
    .filter(([, v]) => typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v)))
    .map(([name]) => name)
    .sort();
  const withExtra = (family: Family, names: string[]): string[] => [...names, ...(UNREGISTERED[family] ?? [])].sort();
  return {
    losses: losses.names(), miners: withExtra('miners', miners.names()), reducers: reducers.names(),
    regularizers: regularizers.names(), distances: withExtra('distances', distances.names()), samplers: samplerClasses,
  };
}

/** What is out of step between the class names and the metadata: classes without an entry, entries without a class. */
export function metadataProblems(
  names: Record<Family, string[]> = registeredNames(),
  metadata: Readonly<Record<Family, Readonly<Record<string, ComponentInfo>>>> = METADATA,
): string[] {
  const problems: string[] = [];
  for (const family of FAMILIES) {
    const known = new Set(names[family]);
    for (const name of names[family]) {
      if (!Object.hasOwn(metadata[family], name)) problems.push(`${family}: ${name} is registered but has no metadata`);
    }
    for (const name of Object.keys(metadata[family])) {
      if (!known.has(name)) problems.push(`${family}: metadata names ${name}, which is not registered`);
    }
  }
  return problems;
}

/**
 * Every registered component with its metadata, family by family, sorted by class name.
 * @throws AkinError (`E_CATALOGUE`) when the metadata and the registries disagree
 */
export function catalogue(): CatalogueEntry[] {
  const names = registeredNames();
  const problems = metadataProblems(names);
  if (problems.length > 0) {
    throw new AkinError('E_CATALOGUE', `component metadata is out of date (src/catalogue/metadata.ts): ${problems.join('; ')}`);
  }
  return FAMILIES.flatMap((family) => names[family].map((className) => ({ family, className, ...METADATA[family][className] })));
}

const HEADINGS: Record<Family, string> = {
  losses: 'Losses', miners: 'Miners', reducers: 'Reducers', regularizers: 'Regularizers', distances: 'Distances', samplers: 'Samplers',
};

const INTROS: Record<Family, string> = {
  losses: 'Per-element losses from embeddings and labels (with optional index tuples and a reference set); `akin.losses`.',
  miners: 'Choose informative pairs or triplets from a batch and hand them to a loss as index tuples; `akin.miners`.',
  reducers: 'Turn a loss\'s per-element values into one scalar (every loss takes a `reducer` option); `akin.reducers`.',
  regularizers: 'Penalties on embeddings (`embeddingRegularizer`) or on a loss\'s class weights (`weightRegularizer`); `akin.regularizers`.',
  distances: 'Pairwise distance or similarity matrices (every distance-based loss and miner takes a `distance` option); `akin.distances`.',
  samplers: 'Decide which dataset items form each batch; built in code, not from configs; `akin.samplers`.',
};

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** The components reference page (`docs/components.md`). */
export function componentsMarkdown(): string {
  const entries = catalogue();
  const lines = [
    '# Components',
    '',
    '<!-- Generated from the registries by `npm run docs` (src/catalogue); edit src/catalogue/metadata.ts, not this file. -->',
    '',
    'Every loss, miner, reducer, regularizer and distance below is registered under its class name, so',
    '`{ className, config }` (or the bare name) builds it in run configs and `fromConfig`. Semantics follow',
    'pytorch-metric-learning 2.8.1 unless the class documentation says otherwise.',
  ];
  for (const family of FAMILIES) {
    const rows = entries.filter((e) => e.family === family);
    lines.push('', `## ${HEADINGS[family]} (${rows.length})`, '', INTROS[family], '', '| Class | What it does | Paper |', '| --- | --- | --- |');
    for (const e of rows) lines.push(`| \`${e.className}\` | ${cell(e.summary)} | ${e.paper === null ? '—' : cell(e.paper)} |`);
  }
  return `${lines.join('\n')}\n`;
}
