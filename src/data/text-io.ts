/**
 * Reading texts: JSON lines (`{"text": "...", "label": "..."}`), CSV with a text and a label column,
 * or plain text with one text per line (unlabelled, for embedding).
 */
import { readFileSync } from 'node:fs';
import { DataError } from '../core/errors.js';
import { parseCsv } from './csv.js';

/** Options of {@link readTexts}. */
export interface ReadTextsOptions {
  /** The text field (JSON lines) or column (CSV). Default `'text'`. */
  textField?: string;
  /** The label field or column, or null to read texts only. Default `'label'`. */
  labelField?: string | null;
  /** File format. Default `'auto'`: by extension (`.jsonl`/`.ndjson`/`.json`, `.csv`/`.tsv`, anything else one text per line). */
  format?: 'auto' | 'jsonl' | 'csv' | 'lines';
  /** CSV delimiter. Default `','` (`'\t'` for `.tsv`). */
  delimiter?: string;
}

/** Texts read by {@link readTexts}, with their raw labels when a label field was read. */
export interface TextRecords {
  texts: string[];
  labels: unknown[] | null;
}

/** The file as UTF-8 text; a file that cannot be read is a {@link DataError} naming it and why. */
export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The format `auto` picks for a path. */
export function textFormatOf(path: string): 'jsonl' | 'csv' | 'lines' {
  const lower = path.toLowerCase();
  if (/\.(jsonl|ndjson|json)$/.test(lower)) return 'jsonl';
  if (/\.(csv|tsv)$/.test(lower)) return 'csv';
  return 'lines';
}

/**
 * Reads texts (and labels) from a file. JSON lines may also be bare JSON strings when no label is
 * wanted. Errors name the file and line, e.g. `talks.jsonl:7: no text field 'text'`.
 */
export function readTexts(path: string, options: ReadTextsOptions = {}): TextRecords {
  const textField = options.textField ?? 'text';
  const labelField = options.labelField === undefined ? 'label' : options.labelField;
  const format = !options.format || options.format === 'auto' ? textFormatOf(path) : options.format;
  const body = readText(path);
  if (format === 'lines') {
    if (labelField !== null) throw new DataError(`${path}: plain text (one text per line) has no labels; use JSON lines or CSV with a '${labelField}' field`);
    return { texts: body.split(/\r?\n/).filter((l) => l.trim() !== ''), labels: null };
  }
  if (format === 'csv') {
    const delimiter = options.delimiter ?? (path.toLowerCase().endsWith('.tsv') ? '\t' : ',');
    const table = parseCsv(body, path, { delimiter, trim: false });
    const col = (name: string): number => {
      const j = table.columns.indexOf(name);
      if (j < 0) throw new DataError(`${path}: column '${name}' is not in the header (columns: ${table.columns.join(', ')})`);
      return j;
    };
    const tj = col(textField);
    const lj = labelField === null ? -1 : col(labelField);
    table.rows.forEach((r, i) => {
      if (lj >= 0 && r[lj].trim() === '') throw new DataError(`${path}:${table.lines[i]}: label column '${labelField}' is empty`);
    });
    return { texts: table.rows.map((r) => r[tj]), labels: lj < 0 ? null : table.rows.map((r) => r[lj].trim()) };
  }
  const texts: string[] = [];
  const labels: unknown[] = [];
  forEachJsonLine(body, path, (v, where) => {
    if (typeof v === 'string' && labelField === null) {
      texts.push(v);
      return;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DataError(`${where}: expected an object with a '${textField}' field`);
    const rec = v as Record<string, unknown>;
    if (typeof rec[textField] !== 'string') throw new DataError(`${where}: no text field '${textField}' (a string)`);
    texts.push(rec[textField] as string);
    if (labelField !== null) {
      const l = rec[labelField];
      if (l === undefined || l === null || l === '') throw new DataError(`${where}: no label field '${labelField}'`);
      labels.push(l);
    }
  });
  if (texts.length === 0) throw new DataError(`${path}: no texts`);
  return { texts, labels: labelField === null ? null : labels };
}

/**
 * Calls `fn` with the parsed value of every non-empty line of JSON-lines text and where it was read
 * (`name:line`); a line that is not JSON is a {@link DataError} naming it.
 */
export function forEachJsonLine(body: string, name: string, fn: (value: unknown, where: string) => void): void {
  body.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${name}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new DataError(`${where}: not valid JSON (${(e as Error).message})`);
    }
    fn(v, where);
  });
}

/** Raw inputs sent as JSON (strings, or objects with `textField`) as texts; errors name `field[i]`. */
export function parseTextInputs(values: unknown[], field: string, textField = 'text'): string[] {
  return values.map((v, i) => {
    if (typeof v === 'string') return v;
    if (v !== null && typeof v === 'object' && typeof (v as Record<string, unknown>)[textField] === 'string') return (v as Record<string, string>)[textField];
    throw new DataError(`${field}${values.length > 1 ? `[${i}]` : ''} must be a text (a string, or an object with a '${textField}' string)`);
  });
}
