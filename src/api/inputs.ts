import * as tf from '@tensorflow/tfjs';
import { ConfigError, ShapeError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';

/**
 * Samples as the sequential API accepts them: a tensor `[n, ...inputShape]`, row-major Float32Array
 * rows (each `size(inputShape)` values), or an array of flat rows.
 */
export type SamplesLike = tf.Tensor | Float32Array | number[][];

/** Integer class labels: one per sample. */
export type ClassLabelsLike = tf.Tensor1D | Int32Array | ArrayLike<number>;

/** Reads samples into flat host rows, checking them against the model's `inputShape`. */
export async function toRows(x: SamplesLike, inputShape: number[], what: string): Promise<{ features: Float32Array; count: number }> {
  const size = inputShape.reduce((a, b) => a * b, 1);
  if (x instanceof tf.Tensor) {
    const got = x.shape.slice(1);
    if (x.rank < 2 || got.reduce((a, b) => a * b, 1) !== size) {
      throw new ShapeError(`${what}: tensor shape [${x.shape}] does not fit the model input [batch, ${inputShape}]`);
    }
    const data = await x.data();
    return { features: data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>), count: x.shape[0] };
  }
  if (x instanceof Float32Array) {
    if (x.length % size !== 0) throw new ShapeError(`${what}: ${x.length} values is not a whole number of samples of ${size} values (input shape [${inputShape}])`);
    return { features: x, count: x.length / size };
  }
  if (Array.isArray(x)) {
    const out = new Float32Array(x.length * size);
    x.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== size) {
        throw new ShapeError(`${what}: row ${i} has ${Array.isArray(row) ? row.length : 'no'} values, the model takes ${size}`);
      }
      for (let j = 0; j < size; j++) {
        if (typeof row[j] !== 'number' || !Number.isFinite(row[j])) throw new ShapeError(`${what}: row ${i}, column ${j} is not a finite number`);
        out[i * size + j] = row[j];
      }
    });
    return { features: out, count: x.length };
  }
  throw new ConfigError(`${what} must be a tf.Tensor, a Float32Array of rows or an array of rows`);
}

/** Reads labels into an Int32Array of `count` non-negative integers. */
export function toClassLabels(labels: ClassLabelsLike, count: number, what: string): Int32Array {
  let values: ArrayLike<number>;
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 1) throw new ShapeError(`${what} must be a 1-D tensor (got shape [${labels.shape}])`);
    values = labels.dataSync() as ArrayLike<number>;
  } else if (labels !== null && typeof labels === 'object' && typeof (labels as ArrayLike<number>).length === 'number') {
    values = labels;
  } else {
    throw new ConfigError(`${what} must be an array, Int32Array or 1-D tensor of integer class labels`);
  }
  if (values.length !== count) throw new ShapeError(`${what} has ${values.length} labels but there are ${count} samples`);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0) throw new ConfigError(`${what}[${i}] must be a non-negative integer class label (got ${JSON.stringify(v)})`);
    out[i] = v;
  }
  return out;
}

/** Samples and labels as a {@link Dataset} for the Trainer; errors name `${owner}: x` or `${owner}: labels`. */
export async function toDataset(x: SamplesLike, labels: ClassLabelsLike, inputShape: number[], owner: string): Promise<Dataset> {
  const { features, count } = await toRows(x, inputShape, `${owner}: x`);
  return { features, count, labels: toClassLabels(labels, count, `${owner}: labels`), shape: inputShape.slice() };
}
