import type * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../core/fs.js';
import { sampleSize, type Dataset } from '../data/dataset.js';
import { embed } from '../models/embed.js';
import { project2d } from '../report/projection.js';
import { RUN_INDEX_DIR, RUN_INDEX_SOURCE } from './context.js';

/** The projector's layout: evenly spaced items, their 2-D UMAP coordinates and labels. */
export interface Layout {
  points: { id: number; x: number; y: number; label: number }[];
  classNames: string[] | null;
  thumbnails: boolean;
}

/** File of the cached layout in a run folder. */
export const RUN_LAYOUT_FILE = 'layout.json';
/** How many items the projector shows at most. */
export const LAYOUT_MAX_POINTS = 1000;
/** Bumped when the layout computation changes, so older cached layouts are recomputed. */
const LAYOUT_VERSION = 1;

/** The rows the projector shows: `min(count, maxPoints)` evenly spaced row numbers. */
export function layoutRows(count: number, maxPoints: number = LAYOUT_MAX_POINTS): number[] {
  const m = Math.min(count, maxPoints);
  return Array.from({ length: m }, (_, i) => Math.floor((i * count) / m));
}

/** The layout of items `rows` of `ds`, given their embeddings (`rows.length * dim`, in that order). */
export function layoutOf(embeddings: Float32Array, dim: number, rows: number[], ds: Pick<Dataset, 'labels' | 'classNames' | 'shape'>): Layout {
  const xy = project2d(embeddings, dim, { seed: 0 });
  return {
    points: rows.map((r, i) => ({ id: r, x: xy[2 * i], y: xy[2 * i + 1], label: ds.labels[r] })),
    classNames: ds.classNames ?? null,
    thumbnails: ds.shape.length >= 2,
  };
}

/** Embeds the projector's rows of `ds` with `model` and lays them out (a seeded UMAP: seconds for 1000 items). */
export async function computeLayout(model: tf.LayersModel, ds: Dataset, maxPoints: number = LAYOUT_MAX_POINTS): Promise<Layout> {
  const rows = layoutRows(ds.count, maxPoints);
  const size = sampleSize(ds);
  const feats = new Float32Array(rows.length * size);
  rows.forEach((r, i) => feats.set(ds.features.subarray(r * size, (r + 1) * size), i * size));
  const { embeddings, dim } = await embed(model, feats, rows.length, ds.shape);
  return layoutOf(embeddings, dim, rows, ds);
}

/**
 * What a cached layout is valid for: a hash of the run's index records (`index-source.json`, which
 * every `akin index build` rewrites, and `index/index.json`) and the number of points. Null when the
 * run has no index record, i.e. nothing to key a cache on.
 */
export function runLayoutKey(runDir: string, maxPoints: number = LAYOUT_MAX_POINTS): string | null {
  const source = join(runDir, RUN_INDEX_SOURCE);
  if (!existsSync(source)) return null;
  const h = createHash('sha256').update(`akin-layout ${LAYOUT_VERSION} ${maxPoints}\n`).update(readFileSync(source));
  const manifest = join(runDir, RUN_INDEX_DIR, 'index.json');
  if (existsSync(manifest)) h.update(readFileSync(manifest));
  return h.digest('hex');
}

/** The run's cached layout when it is valid for the current index, else null (missing, stale or unreadable). */
export function readRunLayout(runDir: string, maxPoints: number = LAYOUT_MAX_POINTS): Layout | null {
  const key = runLayoutKey(runDir, maxPoints);
  const path = join(runDir, RUN_LAYOUT_FILE);
  if (key === null || !existsSync(path)) return null;
  try {
    const saved = JSON.parse(readFileSync(path, 'utf8')) as Layout & { key?: string };
    if (saved.key !== key || !Array.isArray(saved.points)) return null;
    return { points: saved.points, classNames: saved.classNames ?? null, thumbnails: saved.thumbnails === true };
  } catch {
    return null;
  }
}

/**
 * Caches a layout in the run folder (atomically) under `key`: the {@link runLayoutKey} taken before
 * the layout was computed, so a layout of an index replaced meanwhile is never stored as current.
 */
export function writeRunLayout(runDir: string, layout: Layout, key: string): void {
  writeJsonAtomic(join(runDir, RUN_LAYOUT_FILE), { key, ...layout });
}
