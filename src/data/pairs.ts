/**
 * Pairs and triplets instead of class labels: duplicate questions, query-document pairs, two ids of
 * your own vectors that mean the same thing. They are read from JSON lines or CSV and turned into
 * classes that the label-based losses, miners and metrics already understand.
 *
 * ## How pairs become classes (and training batches)
 * Every distinct item (a text, or a vector id) is a node; every positive pair (a record whose match
 * field is 1 / true or absent, and the anchor-positive of each triplet) is an edge. The connected
 * components of that graph are the classes ({@link pairGraph}): a pair is a class of two, and chains
 * of duplicates (a~b, b~c) merge into one class. Items seen only as negatives (the second item of a
 * match-0 pair, the negative of a triplet) are classes of their own.
 *
 * A run trains with `m = 2` items per class per batch (m-per-class sampling), so a batch holds
 * `batchSize / 2` positive pairs and every other item of the batch is a negative for them: in-batch
 * negatives, as NT-Xent / multiple-negatives ranking use them. Explicit negatives are items of their
 * own classes that join batches like any other; they are not forced into their anchor's batch. A
 * negative pair whose two items fall in one component (a~b, b~c, but a and c marked different) is
 * counted in {@link PairGraph.conflicts}: the component treats them as positives.
 *
 * ## Evaluation
 * Classes (components), not items, are split ({@link splitPairClasses}): a `heldOut` fraction of them
 * is the test set and never trained on. Every held-out item queries all other held-out items and its
 * component-mates are the relevant ones, so MAP@R is computed over the components and, for plain
 * pairs, precision@1 is the recall@1 of each query's partner. Held-out items of one-item classes
 * (explicit negatives) are distractors: they are searched but ask no query.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DataError } from '../core/errors.js';
import { shuffleInPlace, type Random } from '../core/random.js';
import { parseCsv } from './csv.js';
import { forEachJsonLine } from './text-io.js';

const field = z.string().min(1);

/**
 * The `pairs` options of a text or vectors run config (`data.pairs`): the layout of the pairs file,
 * its field names and the fraction of classes held out for testing.
 */
export const pairOptionsSchema = z
  .object({
    /** `'pairs'` (default): two items and an optional 0/1 match field per record. `'triplets'`: anchor, positive, negative. */
    layout: z.enum(['pairs', 'triplets']).default('pairs'),
    /** Field / column of a pair's first item. Default `'text_a'`. */
    a: field.default('text_a'),
    /** Field / column of a pair's second item. Default `'text_b'`. */
    b: field.default('text_b'),
    /** Field / column of a pair's 0/1 match label; a record without it (or with it empty) is a positive pair. Default `'match'`. */
    match: field.default('match'),
    /** Field / column of a triplet's anchor. Default `'anchor'`. */
    anchor: field.default('anchor'),
    /** Field / column of a triplet's positive. Default `'positive'`. */
    positive: field.default('positive'),
    /** Field / column of a triplet's negative. Default `'negative'`. */
    negative: field.default('negative'),
    /** Fraction of the classes (components, see `data/pairs.ts`) held out as the test set. Default `0.2`. */
    heldOut: z.number().min(0.01).max(0.9).default(0.2),
  })
  .strict();

/** Parsed `data.pairs` options. */
export type PairOptions = z.output<typeof pairOptionsSchema>;

/** One pair read from a file: two item keys, whether they match, and where it was read (for errors). */
export interface PairRecord {
  a: string;
  b: string;
  match: boolean;
  where: string;
}

/** Options of {@link readPairRecords}. */
export interface ReadPairsOptions extends Partial<PairOptions> {
  /** File format. Default `'auto'`: by extension (`.jsonl`/`.ndjson`/`.json` or `.csv`/`.tsv`). */
  format?: 'auto' | 'jsonl' | 'csv';
  /** What the item fields hold: `'text'` (default; non-empty strings) or `'id'` (strings or integers). */
  values?: 'text' | 'id';
}

const TRUE = new Set(['1', 'true', 'yes']);
const FALSE = new Set(['0', 'false', 'no']);

function matchValue(v: unknown, where: string, name: string): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (v === true || v === 1) return true;
  if (v === false || v === 0) return false;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === '' || TRUE.has(s)) return true;
    if (FALSE.has(s)) return false;
  }
  throw new DataError(`${where}: match field '${name}' must be 1 / 0, true / false or empty (got ${JSON.stringify(v)})`);
}

function itemValue(v: unknown, where: string, name: string, values: 'text' | 'id'): string {
  if (typeof v === 'string' && v.trim() !== '') return v;
  if (values === 'id' && typeof v === 'number' && Number.isInteger(v)) return String(v);
  const want = values === 'text' ? 'a non-empty string' : 'a string or an integer id';
  throw new DataError(`${where}: ${v === undefined ? `no field '${name}'` : `field '${name}' must be ${want} (got ${JSON.stringify(v)})`}`);
}

/**
 * Reads pairs or triplets from JSON lines or CSV. A triplet becomes two records: anchor-positive
 * (match) and anchor-negative (no match). Errors name the file, the line and the field, e.g.
 * `dupes.jsonl:7: no field 'text_b'`.
 */
export function readPairRecords(path: string, options: ReadPairsOptions = {}): PairRecord[] {
  const { format = 'auto', values = 'text', ...rest } = options;
  const o = pairOptionsSchema.parse(rest);
  const lower = path.toLowerCase();
  const fmt = format !== 'auto' ? format : /\.(csv|tsv)$/.test(lower) ? 'csv' : /\.(jsonl|ndjson|json)$/.test(lower) ? 'jsonl' : null;
  if (fmt === null) throw new DataError(`${path}: pairs must be JSON lines (.jsonl) or CSV (.csv); set data.format for another extension`);
  let body: string;
  try {
    body = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const records: { rec: Record<string, unknown>; where: string }[] = [];
  const names = o.layout === 'pairs' ? [o.a, o.b] : [o.anchor, o.positive, o.negative];
  if (fmt === 'csv') {
    const table = parseCsv(body, path, { delimiter: lower.endsWith('.tsv') ? '\t' : ',' });
    for (const n of names) {
      if (!table.columns.includes(n)) throw new DataError(`${path}: column '${n}' is not in the header (columns: ${table.columns.join(', ')})`);
    }
    table.rows.forEach((r, i) => records.push({ rec: Object.fromEntries(table.columns.map((c, j) => [c, r[j]])), where: `${path}:${table.lines[i]}` }));
  } else {
    forEachJsonLine(body, path, (v, where) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DataError(`${where}: expected an object with fields ${names.map((n) => `'${n}'`).join(', ')}`);
      records.push({ rec: v as Record<string, unknown>, where });
    });
  }
  const out: PairRecord[] = [];
  for (const { rec, where } of records) {
    const item = (name: string): string => itemValue(rec[name], where, name, values);
    if (o.layout === 'pairs') {
      const a = item(o.a);
      const b = item(o.b);
      out.push({ a, b, match: matchValue(rec[o.match], where, o.match), where });
    } else {
      const anchor = item(o.anchor);
      out.push({ a: anchor, b: item(o.positive), match: true, where });
      out.push({ a: anchor, b: item(o.negative), match: false, where });
    }
  }
  if (out.length === 0) throw new DataError(`${path}: no ${o.layout}`);
  return out;
}

/** The classes that pairs define (see the module comment). */
export interface PairGraph {
  /** The distinct items, in order of first appearance. */
  keys: string[];
  /** Class (component) of each item, numbered 0.. in order of first appearance. */
  labels: Int32Array;
  /** Number of classes. */
  classes: number;
  /** Positive and negative pairs read (a pair given twice counts twice). */
  positives: number;
  negatives: number;
  /** Negative pairs whose two items ended up in one class. */
  conflicts: number;
}

/** Connected components of the positive pairs (union-find); items only in negative pairs are classes of one. */
export function pairGraph(records: PairRecord[]): PairGraph {
  const index = new Map<string, number>();
  const keys: string[] = [];
  const id = (k: string): number => {
    let i = index.get(k);
    if (i === undefined) {
      i = keys.length;
      index.set(k, i);
      keys.push(k);
    }
    return i;
  };
  for (const r of records) {
    id(r.a);
    id(r.b);
  }
  const parent = Int32Array.from(keys, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  let positives = 0;
  for (const r of records) {
    if (!r.match) continue;
    positives++;
    const x = find(index.get(r.a)!);
    const y = find(index.get(r.b)!);
    if (x !== y) parent[Math.max(x, y)] = Math.min(x, y);
  }
  const labels = new Int32Array(keys.length);
  const classOf = new Map<number, number>();
  for (let i = 0; i < keys.length; i++) {
    const root = find(i);
    let c = classOf.get(root);
    if (c === undefined) {
      c = classOf.size;
      classOf.set(root, c);
    }
    labels[i] = c;
  }
  let conflicts = 0;
  for (const r of records) if (!r.match && labels[index.get(r.a)!] === labels[index.get(r.b)!]) conflicts++;
  return { keys, labels, classes: classOf.size, positives, negatives: records.length - positives, conflicts };
}

/** A split of synthetic classes (see {@link splitPairClasses}). */
export interface PairClassSplit {
  /** Classes trained on. */
  train: number[];
  /** Classes kept aside for validation (not trained on). */
  validation: number[];
  /** Held-out classes: the test set. */
  test: number[];
  /** A sample of the training classes, as many as `test` (or all of them when fewer), to measure retrieval among trained pairs. */
  seen: number[];
}

/**
 * Splits the classes of `labels` at random: `heldOut` of them (at least one) for testing,
 * `validation` of them for validation, the rest for training (at least two).
 */
export function splitPairClasses(labels: Int32Array, options: { heldOut: number; validation: number; random: Random }): PairClassSplit {
  const classes = [...new Set(labels)].sort((x, y) => x - y);
  shuffleInPlace(classes, options.random);
  const nTest = Math.max(1, Math.round(options.heldOut * classes.length));
  const nVal = Math.round(options.validation * classes.length);
  if (classes.length - nTest - nVal < 2) {
    throw new DataError(`the pairs form ${classes.length} classes: too few to hold out ${nTest} for testing and ${nVal} for validation and train on at least 2`);
  }
  const test = classes.slice(0, nTest);
  const validation = classes.slice(nTest, nTest + nVal);
  const train = classes.slice(nTest + nVal);
  return { train, validation, test, seen: train.slice(0, nTest) };
}
