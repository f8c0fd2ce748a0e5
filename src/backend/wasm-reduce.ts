import * as tf from '@tensorflow/tfjs';
import { registerWasmKernel, withOps } from './wasm-ops.js';

/**
 * Wraps the wasm `Sum` kernel: a float32 sum over leading axes (e.g. the bias gradient, which sums a
 * `[batch, h, w, channels]` tensor over its first three axes) makes the stock kernel transpose the
 * reduced axes to the end first, which costs ~30x a plain pass over the data. Such a sum is one pass
 * over `x` as `[leading, rest]` here, accumulating each column in float64 (a matmul with a row of ones
 * spends most of its time packing `x` as a weight matrix: ~5 ns an element). Every other case keeps the
 * stock kernel.
 */
export function registerWasmSum(): void {
  const stock = tf.getKernel('Sum', 'wasm');
  if (!stock) return;
  registerWasmKernel('Sum', (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).slice().sort((p, q) => p - q);
    const leading = axes.every((d, i) => d === i);
    if (x.dtype !== 'float32' || !leading || axes.length === 0 || axes.length === rank) return stock.kernelFunc(args);
    const lead = x.shape.slice(0, axes.length).reduce((p, q) => p * q, 1);
    const restShape = x.shape.slice(axes.length);
    const rest = restShape.reduce((p, q) => p * q, 1);
    if (lead < 8 || rest === 0) return stock.kernelFunc(args);
    return withOps(args.backend, (ops) => {
      const out = ops.empty(keepDims ? [...axes.map(() => 1), ...restShape] : restShape, 'float32');
      sumColumns(ops.heap(x), lead, rest, ops.heap(out));
      return out;
    });
  });
}

/** `out[c] = sum_r x[r * rest + c]`, accumulated in float64 (one sequential pass over x). */
function sumColumns(x: tf.backend_util.TypedArray, lead: number, rest: number, out: tf.backend_util.TypedArray): void {
  const acc = new Float64Array(rest);
  for (let r = 0; r < lead; r++) {
    const base = r * rest;
    for (let c = 0; c < rest; c++) acc[c] += x[base + c];
  }
  for (let c = 0; c < rest; c++) out[c] = acc[c];
}
