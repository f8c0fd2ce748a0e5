/**
 * Labelled audio collections: a folder with one sub-folder of WAV files per class, or a CSV / JSON-lines
 * list of WAV paths with labels. {@link readAudioDataset} turns either into a {@link Dataset} of
 * fixed-size features through an {@link AudioPreprocessor}.
 */
import { readdirSync, statSync, type Stats } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { DataError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { readCsv } from './csv.js';
import { forEachJsonLine, readText } from './text-io.js';
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
  if (statOf(source).isDirectory()) return listFolder(source);
  return readList(source, o.pathField, o.labelField).map((e) => ({ path: e.path, label: e.label! }));
}

/**
 * Lists WAV files to embed, without labels: `source` is one `.wav` file, a folder (every `.wav` below
 * it, sorted by path), a `.csv` / `.jsonl` list with a `pathField` column or field, or a `.txt` file of
 * one path per line. Relative paths in a list are resolved against the list's folder.
 */
export function listAudioInputs(source: string, options: Pick<ListAudioOptions, 'pathField'> = {}): string[] {
  const o = parseOptions('listAudioInputs', listSchema, options);
  if (statOf(source).isDirectory()) {
    const out: string[] = [];
    walkWavs(source, out);
    if (out.length === 0) throw new DataError(`${source}: no .wav files`);
    return out;
  }
  if (isWav(source)) return [source];
  return readList(source, o.pathField, null).map((e) => e.path);
}

function statOf(source: string): Stats {
  try {
    return statSync(source);
  } catch (e) {
    throw new DataError(`cannot read ${source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Entries of a CSV, JSON-lines or (without labels) plain-text list of paths. */
function readList(source: string, pathField: string, labelField: string | null): { path: string; label?: string }[] {
  const ext = extname(source).toLowerCase();
  const base = dirname(source);
  const at = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  let out: { path: string; label?: string }[];
  if (ext === '.csv') {
    const table = readCsv(source);
    const fields = labelField === null ? [pathField] : [pathField, labelField];
    const cols = fields.map((f) => {
      const i = table.columns.indexOf(f);
      if (i < 0) throw new DataError(`${source}: no column '${f}' (columns: ${table.columns.join(', ')})`);
      return i;
    });
    out = table.rows.map((row, r) => {
      cols.forEach((c, j) => {
        if (row[c] === '') throw new DataError(`${source}:${table.lines[r]}: empty '${fields[j]}'`);
      });
      return { path: at(row[cols[0]]), ...(cols.length > 1 ? { label: row[cols[1]] } : {}) };
    });
  } else if (ext === '.jsonl' || ext === '.ndjson') {
    out = [];
    forEachJsonLine(readText(source), source, (rec, where) => {
      const r = rec as Record<string, unknown>;
      if (rec === null || typeof rec !== 'object' || typeof r[pathField] !== 'string') throw new DataError(`${where}: expected an object with a string '${pathField}'`);
      if (labelField === null) {
        out.push({ path: at(r[pathField] as string) });
        return;
      }
      const label = r[labelField];
      if (typeof label !== 'string' && typeof label !== 'number') throw new DataError(`${where}: no string or number '${labelField}'`);
      out.push({ path: at(r[pathField] as string), label: String(label) });
    });
  } else if (ext === '.txt' && labelField === null) {
    out = readText(source).split('\n').map((l) => l.trim()).filter((l) => l !== '').map((p) => ({ path: at(p) }));
  } else {
    throw new DataError(
      labelField === null
        ? `${source}: give a .wav file, a folder of WAV files, or a .csv / .jsonl / .txt list of WAV paths`
        : `${source}: give a folder of class folders of WAV files, or a .csv / .jsonl list of WAV paths and labels`,
    );
  }
  if (out.length === 0) throw new DataError(`${source}: no items`);
  return out;
}

function walkWavs(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.isDirectory()) walkWavs(join(dir, e.name), out);
    else if (isWav(e.name)) out.push(join(dir, e.name));
  }
}

function listFolder(root: string): AudioItem[] {
  const items: AudioItem[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    if (e.isFile() && isWav(e.name)) {
      throw new DataError(`${root}: ${e.name} is not in a class folder; put each class's WAV files in a sub-folder named after the class`);
    }
  }
  const classes = readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  for (const c of classes) {
    const paths: string[] = [];
    walkWavs(join(root, c), paths);
    for (const path of paths) items.push({ path, label: c });
  }
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
