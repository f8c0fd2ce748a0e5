/**
 * Tabular rows from a CSV file with a label column: a {@link TabularPreprocessor} fitted on the
 * training rows (standardised numbers, one-hot or hashed categories) and saved with the run; the
 * default model is a small MLP.
 */
import { z } from 'zod';
import { DataError } from '../../core/errors.js';
import { readCsv, type CsvTable } from '../../data/csv.js';
import { TabularPreprocessor } from '../../data/tabular.js';
import { encodeLabels } from '../../data/vectors.js';
import { registerModality, type Preprocessing } from '../modality.js';

/** One raw row: its cells by column name, and where it was read (for errors). */
export interface TabularRow {
  values: Record<string, string>;
  source?: string;
  line?: number;
}

const schema = z
  .object({
    /** The column holding each row's class. Required. */
    label: z.string().min(1),
    numeric: z.array(z.string().min(1)).optional(),
    categorical: z.array(z.string().min(1)).optional(),
    ignore: z.array(z.string().min(1)).default([]),
    maxOneHot: z.number().int().min(1).default(16),
    hashBuckets: z.number().int().min(1).default(32),
    missingValues: z.array(z.string()).optional(),
    /** CSV field delimiter. Default `','`. */
    delimiter: z.string().length(1).default(','),
  })
  .strict();

type TabularModalityOptions = z.output<typeof schema>;

function rowsOf(table: CsvTable): TabularRow[] {
  return table.rows.map((cells, i) => ({
    values: Object.fromEntries(table.columns.map((c, j) => [c, cells[j]])),
    source: table.source,
    line: table.lines[i],
  }));
}

/** Rows back into a table with `columns` (a missing cell is empty), keeping their file and lines for errors. */
function tableOf(rows: TabularRow[], columns: string[]): CsvTable {
  return {
    source: rows[0]?.source ?? 'rows',
    columns,
    rows: rows.map((r) => columns.map((c) => r.values[c] ?? '')),
    lines: rows.map((r, i) => r.line ?? i + 1),
  };
}

function preprocessing(prep: TabularPreprocessor): Preprocessing<TabularRow> {
  const columns = prep.columns.map((c) => c.name);
  return {
    input: { shape: [prep.dim] },
    rawName: 'standardised features',
    transform: (rows) => prep.transform(tableOf(rows, columns)),
    toJSON: () => prep.getConfig(),
  };
}

registerModality<TabularRow, TabularModalityOptions>({
  kind: 'tabular',
  description: 'tabular rows: a CSV file with a header and a label column',
  schema,
  async load(options, ctx) {
    if (ctx.source === 'auto') throw new DataError("data.source: give the CSV file for data.kind 'tabular'");
    const table = readCsv(ctx.source, { delimiter: options.delimiter });
    const j = table.columns.indexOf(options.label);
    if (j < 0) throw new DataError(`${ctx.source}: label column '${options.label}' is not in the header (columns: ${table.columns.join(', ')})`);
    const { labels, classNames } = encodeLabels(table.rows.map((r) => r[j]), `${ctx.source} column '${options.label}'`);
    return { items: rowsOf(table), labels, classNames, description: `${table.rows.length} rows of ${ctx.source}` };
  },
  fit(options, train) {
    const { delimiter: _d, ...o } = options;
    const columns = Object.keys(train[0]?.values ?? {});
    return preprocessing(new TabularPreprocessor(o).fit(tableOf(train, columns)));
  },
  restore: (saved) => preprocessing(TabularPreprocessor.fromConfig(saved)),
  defaultModel: () => ({ type: 'mlp', hidden: [64], embeddingDim: 32 }),
  readInputs: (path, options) => rowsOf(readCsv(path, { delimiter: options.delimiter })),
  parseInputs(values, field) {
    return values.map((v, i) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DataError(`${field}[${i}] must be an object of column values`);
      const out: Record<string, string> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (x === null || x === undefined) out[k] = '';
        else if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out[k] = String(x);
        else throw new DataError(`${field}[${i}]: column '${k}' must be a string, number or null`);
      }
      return { values: out, source: field, line: i + 1 };
    });
  },
});
