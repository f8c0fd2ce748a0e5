import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError, ShapeError } from '../core/errors.js';

/**
 * Embeddings as the evaluation functions accept them: a `[n, dim]` tensor, row-major `Float32Array`
 * rows (pass `dim` alongside), or an array of rows.
 */
export type EmbeddingsLike = tf.Tensor2D | Float32Array | number[][];

/** Host-side embeddings: `n` rows of `dim` floats, row-major. */
export interface HostMatrix {
  data: Float32Array;
  n: number;
  dim: number;
}

/**
 * Resolves the dimension of `x`: the tensor's second axis, the rows' length, or `dim` for a
 * Float32Array. Throws a {@link ShapeError}/{@link ConfigError} naming `what` when they disagree.
 */
export function embeddingShape(x: EmbeddingsLike, dim: number | undefined, what: string): { n: number; dim: number } {
  if (dim !== undefined && (!Number.isInteger(dim) || dim < 1)) {
    throw new ConfigError(`option 'dim' must be an integer >= 1 (got ${JSON.stringify(dim)})`);
  }
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2) throw new ShapeError(`${what} must be a 2-D tensor [n, dim] (got shape [${x.shape}])`);
    if (dim !== undefined && x.shape[1] !== dim) {
      throw new ShapeError(`${what} has ${x.shape[1]} columns but 'dim' is ${dim}`);
    }
    return { n: x.shape[0], dim: x.shape[1] };
  }
  if (x instanceof Float32Array) {
    if (dim === undefined) throw new ConfigError(`option 'dim' is required when ${what} is a Float32Array`);
    if (x.length % dim !== 0) {
      throw new ShapeError(`${what} has ${x.length} values, which is not a multiple of dim = ${dim}`);
    }
    return { n: x.length / dim, dim };
  }
  if (Array.isArray(x)) {
    const d = dim ?? (x.length > 0 ? x[0].length : 0);
    for (let i = 0; i < x.length; i++) {
      if (!Array.isArray(x[i]) || x[i].length !== d) {
        throw new ShapeError(`${what}: row ${i} has ${Array.isArray(x[i]) ? x[i].length : 'no'} values, expected ${d}`);
      }
    }
    if (x.length > 0 && d < 1) throw new ShapeError(`${what}: rows are empty`);
    return { n: x.length, dim: d };
  }
  throw new ConfigError(`${what} must be a tf.Tensor2D, a Float32Array or an array of rows`);
}

/** Throws a {@link DataError} naming `what` and the first bad position when `data` holds NaN or ±Infinity. */
export function assertFinite(data: ArrayLike<number>, dim: number, what: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new DataError(`${what} has a non-finite value (${data[i]}) at row ${Math.floor(i / dim)}, column ${i % dim}`);
    }
  }
}

/** Copies (or reads back) `x` into a host {@link HostMatrix}, checking that every value is finite. */
export function toHostMatrix(x: EmbeddingsLike, dim: number | undefined, what: string): HostMatrix {
  const shape = embeddingShape(x, dim, what);
  let data: Float32Array;
  if (x instanceof tf.Tensor) data = Float32Array.from(x.dataSync() as ArrayLike<number>);
  else if (x instanceof Float32Array) data = x;
  else {
    data = new Float32Array(shape.n * shape.dim);
    x.forEach((row, i) => data.set(row, i * shape.dim));
  }
  assertFinite(data, shape.dim, what);
  return { data, n: shape.n, dim: shape.dim };
}

/**
 * `x` as a float32 tensor. Returns the caller's own tensor untouched (`owned: false`) or a new one
 * the caller must dispose (`owned: true`). Host arrays are checked for non-finite values.
 */
export function toTensor(x: EmbeddingsLike, dim: number | undefined, what: string): { tensor: tf.Tensor2D; owned: boolean; n: number; dim: number } {
  const shape = embeddingShape(x, dim, what);
  if (x instanceof tf.Tensor) {
    if (x.dtype === 'float32') return { tensor: x, owned: false, ...shape };
    return { tensor: tf.cast(x, 'float32') as tf.Tensor2D, owned: true, ...shape };
  }
  const host = toHostMatrix(x, shape.dim, what);
  return { tensor: tf.tensor2d(host.data, [host.n, host.dim], 'float32'), owned: true, ...shape };
}
