/**
 * Tabular data for metric learning: a {@link TabularPreprocessor} learns, from training rows, how to
 * turn raw CSV cells into a numeric feature vector (standardised numeric columns, one-hot or hashed
 * categorical columns, integer class labels), and saves that as plain JSON so the same encoding can
 * be applied to new raw rows later.
 */
import { z } from 'zod';
import { ConfigError, DataError } from '../core/errors.js';
import { formatIssues, parseOptions } from '../core/options.js';
import { tableFromRecords, type CsvTable } from './csv.js';
import type { Dataset } from './dataset.js';

/** Options of {@link TabularPreprocessor}. */
export interface TabularOptions {
  /** The column holding each row's class; it is never a feature. Default: none (rows are unlabelled). */
  label?: string;
  /** Columns to treat as numeric. Default: every column whose non-missing training cells are all numbers. */
  numeric?: string[];
  /** Columns to treat as categorical. Default: every other column that is not ignored. */
  categorical?: string[];
  /** Columns to leave out (ids, free text, ...). Default `[]`. */
  ignore?: string[];
  /**
   * A categorical column with at most this many distinct training values is one-hot encoded (one
   * feature per value); one with more is hashed into `hashBuckets` features. Default `16`.
   */
  maxOneHot?: number;
  /** Number of features of a hashed categorical column. Default `32`. */
  hashBuckets?: number;
  /**
   * Cells that mean "missing". A missing numeric cell becomes the training mean (0 after
   * standardisation); a missing categorical cell is the category `''`. Default
   * `['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', '?']`.
   */
  missingValues?: string[];
}

const DEFAULT_MISSING = ['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', '?'];

const optionsSchema = z
  .object({
    label: z.string().min(1).optional(),
    numeric: z.array(z.string().min(1)).optional(),
    categorical: z.array(z.string().min(1)).optional(),
    ignore: z.array(z.string().min(1)).default([]),
    maxOneHot: z.number().int().min(1).default(16),
    hashBuckets: z.number().int().min(1).default(32),
    missingValues: z.array(z.string()).default(DEFAULT_MISSING),
  })
  .strict();

/** How one fitted column is encoded. */
export type TabularColumn =
  | { name: string; kind: 'numeric'; mean: number; std: number }
  | { name: string; kind: 'onehot'; categories: string[] }
  | { name: string; kind: 'hashed'; buckets: number };

/** The saved form of a fitted {@link TabularPreprocessor} (plain JSON). */
export interface TabularConfig {
  /** The label column, or null for unlabelled rows. */
  label: string | null;
  /** The training classes: label value `classes[i]` is class `i`. */
  classes: string[];
  /** Cells read as missing. */
  missingValues: string[];
  /** The feature columns in encoding order. */
  columns: TabularColumn[];
}

const columnSchema = z.discriminatedUnion('kind', [
  z.object({ name: z.string().min(1), kind: z.literal('numeric'), mean: z.number().finite(), std: z.number().finite().positive() }).strict(),
  z.object({ name: z.string().min(1), kind: z.literal('onehot'), categories: z.array(z.string()) }).strict(),
  z.object({ name: z.string().min(1), kind: z.literal('hashed'), buckets: z.number().int().min(1) }).strict(),
]);

const configSchema = z
  .object({
    label: z.string().min(1).nullable(),
    classes: z.array(z.string()),
    missingValues: z.array(z.string()),
    columns: z.array(columnSchema).min(1),
  })
  .strict();

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Learns a feature encoding from training rows and applies it to any rows with the same columns:
 *
 * - numeric columns are standardised with the training mean and standard deviation;
 * - categorical columns with at most `maxOneHot` training values are one-hot encoded (a value not
 *   seen in training encodes as all zeros), others are hashed into `hashBuckets` features;
 * - the `label` column's values become integer classes (training classes first, in sorted order).
 *
 * ```ts
 * const table = akin.data.readCsv('train.csv');
 * const prep = new akin.data.TabularPreprocessor({ label: 'species' }).fit(table);
 * const train = prep.toDataset(table);                 // { features, labels, shape: [prep.dim], classNames }
 * const saved = prep.getConfig();                      // JSON; TabularPreprocessor.fromConfig(saved) reapplies it
 * ```
 */
export class TabularPreprocessor {
  readonly className = 'TabularPreprocessor';
  private readonly options: z.output<typeof optionsSchema>;
  private state: TabularConfig | null = null;

  constructor(options: TabularOptions = {}) {
    this.options = parseOptions('TabularPreprocessor', optionsSchema, options);
    const o = this.options;
    const lists: [string, string[] | undefined][] = [['numeric', o.numeric], ['categorical', o.categorical], ['ignore', o.ignore]];
    const owner = new Map<string, string>();
    if (o.label) owner.set(o.label, 'label');
    for (const [option, names] of lists) {
      for (const n of names ?? []) {
        const prev = owner.get(n);
        if (prev) throw new ConfigError(`TabularPreprocessor: column '${n}' is named in both '${prev}' and '${option}'`);
        owner.set(n, option);
      }
    }
  }

  /** Rebuilds a fitted preprocessor from {@link getConfig}'s output; errors name the bad field. */
  static fromConfig(config: unknown): TabularPreprocessor {
    const r = configSchema.safeParse(config);
    if (!r.success) throw new ConfigError(formatIssues('TabularPreprocessor.fromConfig', r.error, config));
    const p = new TabularPreprocessor({ label: r.data.label ?? undefined, missingValues: r.data.missingValues });
    p.state = r.data;
    return p;
  }

  /** True once {@link fit} (or {@link fromConfig}) has run. */
  get fitted(): boolean {
    return this.state !== null;
  }

  /** Length of an encoded row. */
  get dim(): number {
    return this.fittedState().columns.reduce((n, c) => n + width(c), 0);
  }

  /** The training classes (class `i` is `classes[i]`). */
  get classes(): string[] {
    return this.fittedState().classes.slice();
  }

  /** The fitted column encodings. */
  get columns(): TabularColumn[] {
    return this.fittedState().columns.map((c) => ({ ...c }));
  }

  /** One name per encoded feature: `age`, `colour=red`, `city#7` (hash bucket 7). */
  featureNames(): string[] {
    return this.fittedState().columns.flatMap((c) => {
      if (c.kind === 'numeric') return [c.name];
      if (c.kind === 'onehot') return c.categories.map((v) => `${c.name}=${v}`);
      return Array.from({ length: c.buckets }, (_, b) => `${c.name}#${b}`);
    });
  }

  /** The fitted encoding as plain JSON (see {@link TabularConfig}). */
  getConfig(): TabularConfig {
    return JSON.parse(JSON.stringify(this.fittedState())) as TabularConfig;
  }

  /** Learns the encoding from training rows; returns `this`. */
  fit(table: CsvTable): this {
    const o = this.options;
    const missing = new Set(o.missingValues);
    const index = columnIndex(table);
    if (o.label !== undefined) requireColumn(table, index, o.label, 'label');
    for (const [option, names] of [['numeric', o.numeric], ['categorical', o.categorical], ['ignore', o.ignore]] as const) {
      for (const n of names ?? []) requireColumn(table, index, n, option);
    }
    if (table.rows.length === 0) throw new DataError(`${table.source}: no data rows to fit on`);
    const skip = new Set([...(o.ignore ?? []), ...(o.label ? [o.label] : [])]);
    const forcedNumeric = new Set(o.numeric ?? []);
    const forcedCategorical = new Set(o.categorical ?? []);
    const columns: TabularColumn[] = [];
    table.columns.forEach((name, j) => {
      if (skip.has(name)) return;
      const isNumeric = forcedNumeric.has(name) || (!forcedCategorical.has(name) && looksNumeric(table, j, missing));
      if (isNumeric) {
        let sum = 0;
        let n = 0;
        const values = table.rows.map((row, i) => {
          const v = readNumber(table, i, j, missing);
          if (!Number.isNaN(v)) { sum += v; n++; }
          return v;
        });
        const mean = n > 0 ? sum / n : 0;
        let ss = 0;
        for (const v of values) if (!Number.isNaN(v)) ss += (v - mean) ** 2;
        const std = n > 0 ? Math.sqrt(ss / n) : 0;
        columns.push({ name, kind: 'numeric', mean, std: std > 1e-12 ? std : 1 });
      } else {
        const values = new Set<string>();
        for (const row of table.rows) values.add(missing.has(row[j]) ? '' : row[j]);
        if (values.size <= o.maxOneHot) columns.push({ name, kind: 'onehot', categories: [...values].sort() });
        else columns.push({ name, kind: 'hashed', buckets: o.hashBuckets });
      }
    });
    if (columns.length === 0) throw new ConfigError(`TabularPreprocessor: ${table.source} has no feature columns left after 'label' and 'ignore'`);
    let classes: string[] = [];
    if (o.label !== undefined) {
      const j = index.get(o.label)!;
      classes = sortLabels(new Set(table.rows.map((row, i) => labelCell(table, i, j, missing))));
    }
    this.state = { label: o.label ?? null, classes, missingValues: o.missingValues.slice(), columns };
    return this;
  }

  /** Encodes every row of `table` as `dim` float32 features (row-major). */
  transform(table: CsvTable): Float32Array {
    const s = this.fittedState();
    const missing = new Set(s.missingValues);
    const index = columnIndex(table);
    const cols = s.columns.map((c) => requireColumn(table, index, c.name, 'feature'));
    const dim = this.dim;
    const out = new Float32Array(table.rows.length * dim);
    for (let i = 0; i < table.rows.length; i++) {
      let off = i * dim;
      s.columns.forEach((c, k) => {
        const j = cols[k];
        if (c.kind === 'numeric') {
          const v = readNumber(table, i, j, missing);
          out[off++] = Number.isNaN(v) ? 0 : (v - c.mean) / c.std;
          return;
        }
        const cell = missing.has(table.rows[i][j]) ? '' : table.rows[i][j];
        if (c.kind === 'onehot') {
          const at = c.categories.indexOf(cell);
          if (at >= 0) out[off + at] = 1;
          off += c.categories.length;
        } else {
          out[off + (hashString(`${c.name}\u0000${cell}`) % c.buckets)] = 1;
          off += c.buckets;
        }
      });
    }
    return out;
  }

  /**
   * The class of every row: training classes keep their index; a value not seen in training (an
   * unseen class) gets the next free index, in sorted order. `classNames[i]` is class `i`'s value.
   */
  labels(table: CsvTable): { labels: Int32Array; classNames: string[] } {
    const s = this.fittedState();
    if (s.label === null) throw new ConfigError("TabularPreprocessor: no 'label' column was given, so rows have no classes");
    const missing = new Set(s.missingValues);
    const j = requireColumn(table, columnIndex(table), s.label, 'label');
    const cells = table.rows.map((_, i) => labelCell(table, i, j, missing));
    const known = new Map(s.classes.map((c, i) => [c, i]));
    const classNames = s.classes.slice();
    for (const extra of sortLabels(new Set(cells.filter((c) => !known.has(c))))) {
      known.set(extra, classNames.length);
      classNames.push(extra);
    }
    return { labels: Int32Array.from(cells, (c) => known.get(c)!), classNames };
  }

  /** The rows of `table` as a labelled {@link Dataset} of shape `[dim]`. */
  toDataset(table: CsvTable): Dataset {
    const { labels, classNames } = this.labels(table);
    return { features: this.transform(table), labels, count: table.rows.length, shape: [this.dim], classNames };
  }

  /** Encodes plain objects (`{ column: value }`), e.g. rows sent as JSON; the label column is not needed. */
  transformRecords(records: Record<string, unknown>[]): Float32Array {
    return this.transform(tableFromRecords(records, this.fittedState().columns.map((c) => c.name)));
  }

  private fittedState(): TabularConfig {
    if (!this.state) throw new ConfigError('TabularPreprocessor: call fit(table) (or fromConfig) before using it');
    return this.state;
  }
}

function width(c: TabularColumn): number {
  return c.kind === 'numeric' ? 1 : c.kind === 'onehot' ? c.categories.length : c.buckets;
}

function columnIndex(table: CsvTable): Map<string, number> {
  return new Map(table.columns.map((c, j) => [c, j]));
}

function requireColumn(table: CsvTable, index: Map<string, number>, name: string, role: string): number {
  const j = index.get(name);
  if (j === undefined) {
    throw new DataError(`${table.source}: ${role} column '${name}' is not in the header (columns: ${table.columns.join(', ')})`);
  }
  return j;
}

function looksNumeric(table: CsvTable, j: number, missing: Set<string>): boolean {
  let any = false;
  for (const row of table.rows) {
    if (missing.has(row[j])) continue;
    if (!NUMBER.test(row[j])) return false;
    any = true;
  }
  return any;
}

/** The number in cell (i, j), NaN when missing; a DataError naming file, line and column otherwise. */
function readNumber(table: CsvTable, i: number, j: number, missing: Set<string>): number {
  const cell = table.rows[i][j];
  if (missing.has(cell)) return Number.NaN;
  const v = Number(cell);
  if (!NUMBER.test(cell) || !Number.isFinite(v)) {
    throw new DataError(`${table.source}:${table.lines[i]}: column '${table.columns[j]}' must be a number (got ${JSON.stringify(cell)})`);
  }
  return v;
}

function labelCell(table: CsvTable, i: number, j: number, missing: Set<string>): string {
  const cell = table.rows[i][j];
  if (missing.has(cell)) throw new DataError(`${table.source}:${table.lines[i]}: label column '${table.columns[j]}' is empty`);
  return cell;
}

/** Labels in numeric order when every one is a number, else in string order. */
function sortLabels(values: Set<string>): string[] {
  const list = [...values];
  return list.every((v) => NUMBER.test(v)) ? list.sort((a, b) => Number(a) - Number(b)) : list.sort();
}

/** 32-bit FNV-1a over UTF-16 code units: a stable bucket for hashed categories. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
