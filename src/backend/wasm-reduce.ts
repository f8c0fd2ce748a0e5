import * as tf from '@tensorflow/tfjs';
import { registerWasmKernel, withOps } from './wasm-ops.js';

/**
 * Wraps the wasm `Sum` kernel: a float32 sum over leading axes (e.g. the bias gradient, which sums a
 * `[batch, h, w, channels]` tensor over its first three axes) makes the stock kernel transpose the
 * reduced axes to the end first, which costs ~30x a plain pass over the data. Such a sum is a matmul
 * of a row of ones with `x` reshaped to `[leading, rest]` instead (XNNPACK, threaded). Every other
 * case keeps the stock kernel.
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
      const ones = ops.tensor(new Float32Array(lead).fill(1), [1, 1, lead], 'float32');
      const s = ops.matMul(ones, ops.reshape(x, [1, lead, rest]));
      return ops.reshape(s, keepDims ? [...axes.map(() => 1), ...restShape] : restShape);
    });
  });
}
