import * as tf from '@tensorflow/tfjs';
import {
  fillPairMasks, GATHER_DIFF, GATHER_DIFF_GRAD, MASKED_LSE, MASKED_LSE_GRAD, PAIR_MASKS, type GatherDiffAttrs, type MaskedLseAttrs,
} from './fused.js';
import { expShifted } from './fast-math.js';
import { registerWasmKernel, withOps, WasmOps, type Info, type WasmBackendLike } from './wasm-ops.js';

type KernelArgs = Parameters<tf.KernelConfig['kernelFunc']>[0];
type Heap = tf.backend_util.TypedArray;

/** Tensors a kernel reads (views taken after its outputs are allocated: allocation may move the heap). */
function views(ops: WasmOps, ...xs: Info[]): tf.backend_util.TypedArray[] {
  return xs.map((x) => ops.heap(x));
}

/**
 * Forward {@link MASKED_LSE}: per row, the maximum kept logit (0 joins with `addOne`), then
 * `log(sum w exp(z - max)) + max` in float64. A NaN among the kept logits makes the row NaN.
 */
function maskedLse(args: KernelArgs): Info {
  const { x, weights } = args.inputs as { x: Info; weights: Info };
  const { addOne, scale, shift } = args.attrs as unknown as MaskedLseAttrs;
  const [n, m] = x.shape;
  return withOps(args.backend, (ops) => {
    const out = ops.empty([n], 'float32');
    const [xs, ws, ys] = views(ops, x, weights, out);
    for (let i = 0; i < n; i++) {
      const row = i * m;
      let max = -Infinity;
      let nan = false;
      let any = false;
      for (let j = row; j < row + m; j++) {
        if (ws[j] > 0) {
          any = true;
          const z = scale * (xs[j] - shift);
          if (z > max) max = z;
          else if (z !== z) nan = true;
        }
      }
      if (nan) {
        ys[i] = NaN;
        continue;
      }
      if (!any) {
        ys[i] = 0;
        continue;
      }
      if (addOne && max < 0) max = 0;
      let s = addOne ? expShifted(-max) : 0;
      for (let j = row; j < row + m; j++) {
        const w = ws[j];
        if (w > 0) s += w * expShifted(scale * (xs[j] - shift) - max);
      }
      ys[i] = Math.log(s) + max;
    }
    return out;
  });
}

/** Gradient of {@link MASKED_LSE} with respect to x: `dy_i * scale * w_ij * exp(z_ij - y_i)`. */
function maskedLseGrad(args: KernelArgs): Info {
  const { dy, x, weights, y } = args.inputs as { dy: Info; x: Info; weights: Info; y: Info };
  const { scale, shift } = args.attrs as unknown as MaskedLseAttrs;
  const [n, m] = x.shape;
  return withOps(args.backend, (ops) => {
    const out = ops.empty([n, m], 'float32');
    const [dys, xs, ws, ys, dx] = views(ops, dy, x, weights, y, out);
    for (let i = 0; i < n; i++) {
      const row = i * m;
      const g = dys[i] * scale;
      const yi = ys[i];
      if (yi !== yi || g !== g) {
        for (let j = row; j < row + m; j++) dx[j] = ws[j] > 0 ? NaN : 0;
        continue;
      }
      for (let j = row; j < row + m; j++) {
        const w = ws[j];
        dx[j] = w > 0 ? g * w * expShifted(scale * (xs[j] - shift) - yi) : 0;
      }
    }
    return out;
  });
}

/** {@link PAIR_MASKS}: both masks written on the heap. */
function pairMasksKernel(args: KernelArgs): Info[] {
  const { labels, refLabels } = args.inputs as { labels: Info; refLabels: Info };
  const { self } = args.attrs as unknown as { self: boolean };
  const shape = [labels.shape[0], refLabels.shape[0]];
  // Both outputs are the kernel's results: nothing to free, so no dispose().
  const ops = new WasmOps(args.backend as WasmBackendLike);
  const pos = ops.empty(shape, 'bool');
  const neg = ops.empty(shape, 'bool');
  const [ls, rs, ps, ns] = views(ops, labels, refLabels, pos, neg);
  fillPairMasks(ls, rs, self, ps as Uint8Array, ns as Uint8Array);
  return [pos, neg];
}

function gatherDiffLoop(xs: Heap, ys: Heap, rows: Int32Array, plus: Int32Array, minus: Int32Array, m: number): void {
  for (let t = 0; t < rows.length; t++) {
    const base = rows[t] * m;
    ys[t] = xs[base + plus[t]] - xs[base + minus[t]];
  }
}

/** {@link GATHER_DIFF}: `x[r, p] - x[r, q]` per index triple, rounded to float32 like a float32 subtraction. */
function gatherDiffKernel(args: KernelArgs): Info {
  const { x } = args.inputs as { x: Info };
  const { rows, plus, minus } = args.attrs as unknown as GatherDiffAttrs;
  const m = x.shape[1];
  return withOps(args.backend, (ops) => {
    const out = ops.empty([rows.length], 'float32');
    const [xs, ys] = views(ops, x, out);
    gatherDiffLoop(xs, ys, rows, plus, minus, m);
    return out;
  });
}

/** Gradient of {@link GATHER_DIFF}: `dy` added at every plus cell and subtracted at every minus cell. */
function gatherDiffGrad(args: KernelArgs): Info {
  const { dy } = args.inputs as { dy: Info };
  const { rows, plus, minus, shape } = args.attrs as unknown as GatherDiffAttrs;
  const m = shape[1];
  return withOps(args.backend, (ops) => {
    const out = ops.empty([...shape], 'float32');
    const [dys, dx] = views(ops, dy, out);
    dx.fill(0);
    for (let t = 0; t < rows.length; t++) {
      const base = rows[t] * m;
      const g = dys[t];
      dx[base + plus[t]] += g;
      dx[base + minus[t]] -= g;
    }
    return out;
  });
}

/** Registers the fused kernels of `fused.ts` for wasm. */
export function registerWasmFused(): void {
  registerWasmKernel(MASKED_LSE, maskedLse);
  registerWasmKernel(MASKED_LSE_GRAD, maskedLseGrad);
  registerWasmKernel(PAIR_MASKS, pairMasksKernel as unknown as tf.KernelConfig['kernelFunc']);
  registerWasmKernel(GATHER_DIFF, gatherDiffKernel);
  registerWasmKernel(GATHER_DIFF_GRAD, gatherDiffGrad);
}
