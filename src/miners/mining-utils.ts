import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { BaseDistance } from '../distances/base-distance.js';
import { registry as distances } from '../distances/registry.js';
import { isComponentConfig, type ComponentConfig } from '../core/registry.js';
import type { MinerInput } from './base-miner.js';
import { readInPlace } from '../backend/read-in-place.js';

/** A distance given as a live object or as its saved `{ className, config }`. */
export type DistanceSpec = BaseDistance | ComponentConfig;

/** Zod schema for a `distance` option: a BaseDistance or a `{ className, config }` object. */
export const distanceSpecSchema = z.custom<DistanceSpec>(
  (v) => v instanceof BaseDistance || isComponentConfig(v),
  { message: 'must be a distance (e.g. new LpDistance()) or its { className, config }' },
);

/** Builds the distance from an option value, or the miner's default when it is absent. */
export function resolveDistance(spec: DistanceSpec | undefined, makeDefault: () => BaseDistance): BaseDistance {
  if (spec === undefined) return makeDefault();
  return distances.fromConfig(spec);
}

/** A distance matrix read back to the host, with the labels of its rows and columns. */
export interface HostMatrix {
  /** Row-major [rows, cols] float32 values. */
  values: Float32Array;
  rows: number;
  cols: number;
  /** True when the reference set is the batch itself (self-comparisons must be excluded). */
  self: boolean;
  /** Labels of the rows (the batch). */
  labels: Int32Array;
  /** Labels of the columns (the reference set, or the batch). */
  refLabels: Int32Array;
}

/** Computes the query x reference distance matrix on the backend and reads it back once. */
export function hostMatrix(distance: BaseDistance, input: MinerInput): HostMatrix {
  // One copy: the values outlive the tensor.
  return withHostMatrix(distance, input, (m) => ({ ...m, values: Float32Array.from(m.values) }));
}

/**
 * Computes the query x reference distance matrix and hands it to `f` read in place (no copy on wasm,
 * see `readInPlace`). `f` must not create tensors, and `m.values` must not be kept after it returns.
 */
export function withHostMatrix<T>(distance: BaseDistance, input: MinerInput, f: (m: HostMatrix) => T): T {
  const self = input.refEmbeddings === undefined;
  const mat = tf.tidy(() => distance.matrix(input.embeddings, self ? undefined : input.refEmbeddings));
  try {
    const [rows, cols] = mat.shape;
    const values = readInPlace(mat) as Float32Array;
    return f({ values, rows, cols, self, labels: input.labels, refLabels: input.refLabels ?? input.labels });
  } finally {
    mat.dispose();
  }
}

/**
 * Fills `pos` and `neg` (cleared first) with the reference indices of row i's positives (same label,
 * not i itself when the reference set is the batch) and negatives (other label), ascending.
 */
export function splitRow(m: HostMatrix, i: number, pos: number[], neg: number[]): void {
  pos.length = 0;
  neg.length = 0;
  const label = m.labels[i];
  for (let j = 0; j < m.refLabels.length; j++) {
    if (m.refLabels[j] !== label) neg.push(j);
    else if (!(m.self && i === j)) pos.push(j);
  }
}

/** Clears a miner's records before a new call. */
export function clearRecords(records: Record<string, number>): void {
  for (const key of Object.keys(records)) delete records[key];
}

/** A growable list of int32 values (cheaper than `number[]` for millions of mined indices). */
export class IntList {
  private data = new Int32Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }

  /** The values as an Int32Array of exactly `length` entries. */
  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }
}
