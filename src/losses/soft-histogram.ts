/**
 * Soft (linearly interpolated) histograms shared by the histogram-based losses (FastAP, Histogram):
 * a value between two nodes of a regular grid is split between them in proportion to its distance
 * from each, which is the triangular kernel `relu(1 - |x - node| / width)`.
 */
import * as tf from '@tensorflow/tfjs';

/** `count` evenly spaced nodes from `start` to `end` (both included), like `linspace`. */
export function gridNodes(start: number, end: number, count: number): Float32Array {
  const out = new Float32Array(count);
  const step = count > 1 ? (end - start) / (count - 1) : 0;
  for (let k = 0; k < count; k++) out[k] = k === count - 1 ? end : start + k * step;
  return out;
}

/**
 * Triangular-kernel weights of every value of `x` at every node: a tensor of shape
 * `[nodes.length, ...x.shape]` holding `relu(1 - |x - nodes[k]| / width)`. With `width` the node
 * spacing, each value inside the grid spreads a total weight of 1 over its two neighbouring nodes.
 */
export function triangularKernel(x: tf.Tensor, nodes: Float32Array, width: number): tf.Tensor {
  const shape = [nodes.length, ...x.shape.map(() => 1)];
  const t = tf.tensor(nodes, shape);
  return tf.relu(tf.sub(1, tf.div(tf.abs(tf.sub(tf.expandDims(x, 0), t)), width)));
}

/**
 * Cumulative sums along the last axis of a [rows, k] matrix, as a product with an upper-triangular
 * matrix of ones (differentiable on every backend).
 */
export function cumsumRows(x: tf.Tensor2D): tf.Tensor2D {
  const k = x.shape[1];
  const upper = new Float32Array(k * k);
  for (let i = 0; i < k; i++) for (let j = i; j < k; j++) upper[i * k + j] = 1;
  return tf.matMul(x, tf.tensor2d(upper, [k, k]));
}
