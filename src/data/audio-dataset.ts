/**
 * Labelled audio collections: a folder with one sub-folder of WAV files per class, or a CSV / JSON-lines
 * list of WAV paths with labels. {@link readAudioDataset} turns either into a {@link Dataset} of
 * fixed-size features through an {@link AudioPreprocessor}.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { DataError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { readCsv } from './csv.js';
import type { Dataset } from './dataset.js';
import { AudioPreprocessor } from './audio-preprocessor.js';
import { encodeLabels } from './vectors.js';

/** One labelled clip. */
export interface AudioItem {
  path: string;
  label: string;
}

/** Options of {@link listAudio} and {@link readAudioDataset}. */
export interface ListAudioOptions {
  /** The path column / field of a CSV or JSON-lines list. Default `'path'`. */
  pathField?: string;
  /** The label column / field of a CSV or JSON-lines list. Default `'label'`. */
  labelField?: string;
}

const listSchema = z
  .object({ pathField: z.string().min(1).default('path'), labelField: z.string().min(1).default('label') })
  .strict();

const isWav = (name: string): boolean => extname(name).toLowerCase() === '.wav';

/**
 * Lists labelled WAV files. `source` is
 * - a folder whose sub-folders are the classes (`yes/a.wav`, `no/b.wav`; nested folders are searched,
 *   files directly in `source` are an error), or
 * - a `.csv` file with a header (columns `pathField`, `labelField`), or a `.jsonl` / `.ndjson` file of
 *   objects with those fields.
 *
 * Relative paths in a list are resolved against the list's folder. Items come sorted by label, then
 * path, for a folder, and in file order for a list. Errors name the file (and line) at fault.
 */
export function listAudio(source: string, options: ListAudioOptions = {}): AudioItem[] {
  const o = parseOptions('listAudio', listSchema, options);
  let stat;
  try {
    stat = statSync(source);
  } catch (e) {
    throw new DataError(`cannot read ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (stat.isDirectory()) return listFolder(source);
  const ext = extname(source).toLowerCase();
  const base = dirname(source);
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  if (ext === '.csv') {
    const table = readCsv(source);
    const pi = table.columns.indexOf(o.pathField);
    const li = table.columns.indexOf(o.labelField);
    for (const [field, i] of [[o.pathField, pi], [o.labelField, li]] as const) {
      if (i < 0) throw new DataError(`${source}: no column '${field}' (columns: ${table.columns.join(', ')})`);
    }
    return table.rows.map((row, r) => {
      if (row[pi] === '' || row[li] === '') throw new DataError(`${source}:${table.lines[r]}: empty '${row[pi] === '' ? o.pathField : o.labelField}'`);
      return { path: at(row[pi]), label: row[li] };
    });
  }
  if (ext === '.jsonl' || ext === '.ndjson') {
    const items: AudioItem[] = [];
    readFileSync(source, 'utf8').split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${source}:${i + 1}`;
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch (e) {
        throw new DataError(`${where}: not valid JSON (${(e as Error).message})`);
      }
      const r = rec as Record<string, unknown>;
      if (rec === null || typeof rec !== 'object' || typeof r[o.pathField] !== 'string') throw new DataError(`${where}: expected an object with a string '${o.pathField}'`);
      const label = r[o.labelField];
      if (typeof label !== 'string' && typeof label !== 'number') throw new DataError(`${where}: no string or number '${o.labelField}'`);
      items.push({ path: at(r[o.pathField] as string), label: String(label) });
    });
    if (items.length === 0) throw new DataError(`${source}: no items`);
    return items;
  }
  throw new DataError(`${source}: give a folder of class folders of WAV files, or a .csv / .jsonl list of WAV paths and labels`);
}

function listFolder(root: string): AudioItem[] {
  const items: AudioItem[] = [];
  const walk = (dir: string, label: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.isDirectory()) walk(join(dir, e.name), label);
      else if (isWav(e.name)) items.push({ path: join(dir, e.name), label });
    }
  };
  for (const e of readdirSync(root, { withFileTypes: true })) {
    if (e.isFile() && isWav(e.name)) {
      throw new DataError(`${root}: ${e.name} is not in a class folder; put each class's WAV files in a sub-folder named after the class`);
    }
  }
  const classes = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  for (const c of classes) walk(join(root, c), c);
  if (items.length === 0) throw new DataError(`${root}: no .wav files in class sub-folders`);
  return items;
}

/** Options of {@link readAudioDataset}. */
export interface ReadAudioDatasetOptions extends ListAudioOptions {
  /** The feature settings. Default `new AudioPreprocessor()`. */
  preprocessor?: AudioPreprocessor;
}

/**
 * Reads labelled WAV files (see {@link listAudio}) into a {@link Dataset} of shape
 * `preprocessor.shape`. Labels that are all integers stay integers; others become classes in sorted
 * order with `classNames`.
 *
 * ```ts
 * const prep = new akin.data.AudioPreprocessor();
 * const ds = akin.data.readAudioDataset('words/', { preprocessor: prep });   // words/yes/*.wav, words/no/*.wav
 * ```
 */
export function readAudioDataset(source: string, options: ReadAudioDatasetOptions = {}): Dataset & { paths: string[] } {
  const { preprocessor, ...listOptions } = options;
  const prep = preprocessor ?? new AudioPreprocessor();
  const items = listAudio(source, listOptions);
  const features = prep.transformFiles(items.map((i) => i.path));
  const { labels, classNames } = encodeLabels(items.map((i) => i.label), source);
  return { features, labels, count: items.length, shape: prep.shape, ...(classNames ? { classNames } : {}), paths: items.map((i) => i.path) };
}
