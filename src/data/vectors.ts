/**
 * Bring-your-own vectors: embeddings computed elsewhere (a sentence encoder, an audio model, a
 * feature pipeline) read from `.npy` or JSON lines, with their labels, as a {@link Dataset} that
 * akin can train an adapter on and evaluate.
 */
import { z } from 'zod';
import { DataError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import type { Dataset } from './dataset.js';
import { readNpy } from './npy.js';
import { forEachJsonLine, readText } from './text-io.js';

/** Options of {@link readVectors}. */
export interface ReadVectorsOptions {
  /**
   * A separate labels file, one label per vector, in vector order: `.npy` (integers), `.json` (an
   * array), `.jsonl` (one value, or an object with `labelField`, per line) or any other text file
   * (one label per line). Default: none, which means the labels come from the vectors file's
   * JSON-lines field `labelField` (and an `.npy` vectors file then needs this option).
   */
  labels?: string;
  /** The label field of JSON-lines records. Default `'label'`. */
  labelField?: string;
  /** The vector field of JSON-lines records. Default: the first of `vector`, `embedding`, `features`, `x` present. */
  vectorField?: string;
}

const schema = z
  .object({
    labels: z.string().min(1).optional(),
    labelField: z.string().min(1).default('label'),
    vectorField: z.string().min(1).optional(),
  })
  .strict();

const VECTOR_FIELDS = ['vector', 'embedding', 'features', 'x'];

/**
 * Reads vectors and their labels. Integer labels are kept as they are; any other labels (strings)
 * become classes `0..k-1` in sorted order, with `classNames` giving each class's original value.
 * Errors name the file and, for JSON lines, the line.
 *
 * ```ts
 * const ds = akin.data.readVectors('embeddings.jsonl');            // {"vector": [...], "label": "cat"} per line
 * const ds2 = akin.data.readVectors('emb.npy', { labels: 'labels.txt' });
 * ```
 */
export function readVectors(path: string, options: ReadVectorsOptions = {}): Dataset {
  const o = parseOptions('readVectors', schema, options);
  let features: Float32Array;
  let dim: number;
  let inlineLabels: unknown[] | null = null;
  if (path.toLowerCase().endsWith('.npy')) {
    const a = readNpy(path);
    if (a.shape.length !== 2) throw new DataError(`${path}: expected a 2-D array [count, dim] of vectors (got shape [${a.shape}])`);
    features = a.data;
    dim = a.shape[1];
  } else {
    const parsed = parseVectorLines(readText(path), path, o.labels === undefined ? o.labelField : null, o.vectorField);
    features = parsed.features;
    dim = parsed.dim;
    inlineLabels = parsed.labels;
  }
  const count = dim === 0 ? 0 : features.length / dim;
  let raw: unknown[];
  let labelSource: string;
  if (o.labels !== undefined) {
    raw = readLabelFile(o.labels, o.labelField);
    labelSource = o.labels;
  } else if (inlineLabels) {
    raw = inlineLabels;
    labelSource = path;
  } else {
    throw new DataError(`${path}: an .npy file holds no labels; give them with the 'labels' option (a labels file)`);
  }
  if (raw.length !== count) throw new DataError(`${labelSource}: has ${raw.length} labels but ${path} has ${count} vectors`);
  const { labels, classNames } = encodeLabels(raw, labelSource);
  return { features, labels, count, shape: [dim], ...(classNames ? { classNames } : {}) };
}

/** The field of `rec` holding its vector: `vectorField`, else the first of {@link VECTOR_FIELDS} present. */
function vectorFieldOf(rec: Record<string, unknown>, where: string, vectorField?: string): string {
  const field = vectorField ?? VECTOR_FIELDS.find((f) => f in rec);
  if (field === undefined || !(field in rec)) {
    throw new DataError(`${where}: no vector field '${vectorField ?? VECTOR_FIELDS.join("' / '")}'`);
  }
  return field;
}

/**
 * The vector of one JSON row as akin reads vectors: the row itself when it is an array, else the
 * array its vector field holds (`vectorField`, or the first of {@link VECTOR_FIELDS}); errors name
 * `where`. The server reads request rows with it too.
 */
export function rowVector(v: unknown, where: string, vectorField?: string): number[] {
  let vec: unknown = v;
  if (!Array.isArray(v)) {
    if (v === null || typeof v !== 'object') throw new DataError(`${where}: expected an array of numbers or an object with a vector`);
    const rec = v as Record<string, unknown>;
    vec = rec[vectorFieldOf(rec, where, vectorField)];
  }
  if (!Array.isArray(vec) || vec.length === 0 || vec.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw new DataError(`${where}: the vector must be a non-empty array of finite numbers`);
  }
  return vec as number[];
}

/**
 * Parses JSON lines of vectors: each non-empty line is an array of numbers or an object holding one
 * (`vectorField`, else `vector`/`embedding`/`features`/`x`) and, when `labelField` is not null, a label.
 */
export function parseVectorLines(
  text: string,
  name: string,
  labelField: string | null,
  vectorField?: string,
  idField?: string,
): { features: Float32Array; dim: number; labels: unknown[] | null; ids: string[] | null } {
  const rows: number[][] = [];
  const labels: unknown[] = [];
  const ids: string[] = [];
  let dim = -1;
  forEachJsonLine(text, name, (v, where) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const rec = v as Record<string, unknown>;
      vectorFieldOf(rec, where, vectorField);
      if (idField !== undefined) {
        const id = rec[idField];
        if (!(typeof id === 'string' && id !== '') && !(typeof id === 'number' && Number.isInteger(id))) {
          throw new DataError(`${where}: id field '${idField}' must be a non-empty string or an integer (got ${JSON.stringify(id)})`);
        }
        ids.push(String(id));
      }
      if (labelField !== null) {
        if (!(labelField in rec) || rec[labelField] === null) throw new DataError(`${where}: no label field '${labelField}'`);
        labels.push(rec[labelField]);
      }
    } else if (Array.isArray(v) && labelField !== null) {
      throw new DataError(`${where}: a bare array has no label; write objects like {"vector": [...], "${labelField}": ...} or give a labels file`);
    } else if (Array.isArray(v) && idField !== undefined) {
      throw new DataError(`${where}: a bare array has no id; write objects like {"${idField}": ..., "vector": [...]}`);
    }
    const vec = rowVector(v, where, vectorField);
    if (dim === -1) dim = vec.length;
    else if (vec.length !== dim) throw new DataError(`${where}: vector has ${vec.length} values, earlier ones have ${dim}`);
    rows.push(vec);
  });
  if (rows.length === 0) throw new DataError(`${name}: no vectors`);
  const features = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => features.set(r, i * dim));
  return { features, dim, labels: labelField === null ? null : labels, ids: idField === undefined ? null : ids };
}

/**
 * Reads vectors with an id each, for pairs of vector ids (see `data/pairs.ts`): JSON lines of objects
 * with `idField` and a vector, or `.npy` rows whose ids are their row numbers (`"0"`, `"1"`, ...).
 * Errors name the file and line, and a repeated id.
 */
export function readVectorsById(path: string, options: { idField?: string; vectorField?: string } = {}): { features: Float32Array; dim: number; ids: string[] } {
  let features: Float32Array;
  let dim: number;
  let ids: string[];
  if (path.toLowerCase().endsWith('.npy')) {
    const a = readNpy(path);
    if (a.shape.length !== 2) throw new DataError(`${path}: expected a 2-D array [count, dim] of vectors (got shape [${a.shape}])`);
    features = a.data;
    dim = a.shape[1];
    ids = Array.from({ length: a.shape[0] }, (_, i) => String(i));
  } else {
    const parsed = parseVectorLines(readText(path), path, null, options.vectorField, options.idField ?? 'id');
    features = parsed.features;
    dim = parsed.dim;
    ids = parsed.ids!;
  }
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new DataError(`${path}: id '${id}' is given to more than one vector`);
    seen.add(id);
  }
  return { features, dim, ids };
}

function readLabelFile(path: string, labelField: string): unknown[] {
  const lower = path.toLowerCase();
  if (lower.endsWith('.npy')) {
    const a = readNpy(path);
    if (a.shape.length !== 1) throw new DataError(`${path}: labels must be a 1-D array (got shape [${a.shape}])`);
    return Array.from(a.data);
  }
  const text = readText(path);
  if (lower.endsWith('.json')) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new DataError(`${path}: not valid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(v)) throw new DataError(`${path}: expected a JSON array of labels`);
    return v;
  }
  const out: unknown[] = [];
  const jsonl = lower.endsWith('.jsonl') || lower.endsWith('.ndjson');
  text.split('\n').forEach((line, i) => {
    const t = line.trim();
    if (t === '') return;
    if (!jsonl) {
      out.push(t);
      return;
    }
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch (e) {
      throw new DataError(`${path}:${i + 1}: not valid JSON (${(e as Error).message})`);
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const rec = v as Record<string, unknown>;
      if (!(labelField in rec)) throw new DataError(`${path}:${i + 1}: no label field '${labelField}'`);
      v = rec[labelField];
    }
    out.push(v);
  });
  return out;
}

/** Integer labels stay as they are; anything else becomes sorted classes 0..k-1 with their names. */
export function encodeLabels(raw: unknown[], source = 'labels'): { labels: Int32Array; classNames?: string[] } {
  const isInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 31;
  const isIntText = (v: unknown): boolean => typeof v === 'string' && /^\d{1,9}$/.test(v);
  if (raw.every(isInt)) return { labels: Int32Array.from(raw as number[]) };
  if (raw.every(isIntText)) return { labels: Int32Array.from(raw as string[], Number) };
  raw.forEach((v, i) => {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new DataError(`${source}: label ${i + 1} must be a string or a number (got ${JSON.stringify(v)})`);
    }
  });
  const names = [...new Set(raw.map(String))].sort();
  const index = new Map(names.map((n, i) => [n, i]));
  return { labels: Int32Array.from(raw, (v) => index.get(String(v))!), classNames: names };
}
