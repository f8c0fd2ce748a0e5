import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { DataError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';

/**
 * A CSV file read as text: the header's column names and one array of raw string cells per record,
 * with the line each record ends on (1-based, counting the header), so that later errors can point
 * at `file:line`.
 */
export interface CsvTable {
  /** Where the text came from (the file path, or the `name` given to {@link parseCsv}); used in errors. */
  source: string;
  /** Column names from the header row, in file order. */
  columns: string[];
  /** One record per data row; `rows[i][j]` is the cell of column `columns[j]`. */
  rows: string[][];
  /** `lines[i]` is the line on which record `i` ends (1-based; a quoted cell may span lines). */
  lines: number[];
}

/** Options of {@link parseCsv} and {@link readCsv}. */
export interface CsvOptions {
  /** Field delimiter (one character). Default `','`. */
  delimiter?: string;
  /** Quote character. Default `'"'`. */
  quote?: string;
  /** Trim spaces around unquoted cells. Default `true`. */
  trim?: boolean;
  /** Lines starting with this character are comments and skipped (`''` = none). Default `''`. */
  comment?: string;
}

const csvSchema = z
  .object({
    delimiter: z.string().length(1).default(','),
    quote: z.string().length(1).default('"'),
    trim: z.boolean().default(true),
    comment: z.string().max(1).default(''),
  })
  .strict();

/**
 * Parses CSV text (RFC 4180: quoted cells may hold delimiters, doubled quotes and line breaks) whose
 * first row is the header. Empty lines are skipped and a UTF-8 byte-order mark is dropped. Every
 * record must have as many cells as the header. Errors are {@link DataError}s naming `name` and the
 * line, e.g. `train.csv:14: row has 3 cells, the header has 4`.
 */
export function parseCsv(text: string, name = 'csv text', options: CsvOptions = {}): CsvTable {
  const o = parseOptions('parseCsv', csvSchema, options);
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter: o.delimiter,
      quote: o.quote,
      trim: o.trim,
      bom: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
      ...(o.comment ? { comment: o.comment } : {}),
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    const err = e as Error & { lines?: number };
    const where = err.lines !== undefined ? `${name}:${err.lines}` : name;
    throw new DataError(`${where}: cannot parse CSV: ${err.message}`);
  }
  if (records.length === 0) throw new DataError(`${name}: empty CSV: a header row is required`);
  const columns = records[0].record;
  const seen = new Set<string>();
  columns.forEach((c, j) => {
    if (c === '') throw new DataError(`${name}:${records[0].info.lines}: header column ${j + 1} has no name`);
    if (seen.has(c)) throw new DataError(`${name}:${records[0].info.lines}: header names column '${c}' twice`);
    seen.add(c);
  });
  const rows: string[][] = [];
  const lines: number[] = [];
  for (let i = 1; i < records.length; i++) {
    const { record, info } = records[i];
    if (record.length !== columns.length) {
      throw new DataError(`${name}:${info.lines}: row has ${record.length} cells, the header has ${columns.length}`);
    }
    rows.push(record);
    lines.push(info.lines);
  }
  return { source: name, columns, rows, lines };
}

/** Reads a CSV file with {@link parseCsv}; errors name the file and line. */
export function readCsv(path: string, options: CsvOptions = {}): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseCsv(text, path, options);
}

/**
 * A table built from plain objects (e.g. JSON rows sent to a server): each record's keys are column
 * names; a missing key or `null` becomes an empty cell, numbers become their decimal text.
 */
export function tableFromRecords(records: Record<string, unknown>[], columns: string[], name = 'records'): CsvTable {
  const rows = records.map((rec, i) => {
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
      throw new DataError(`${name}[${i}]: expected an object of column values`);
    }
    return columns.map((c) => {
      const v = rec[c];
      if (v === undefined || v === null) return '';
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      if (typeof v === 'string') return v;
      throw new DataError(`${name}[${i}]: column '${c}' must be a string, number or null (got ${JSON.stringify(v)})`);
    });
  });
  return { source: name, columns: columns.slice(), rows, lines: records.map((_, i) => i + 1) };
}
