import * as tf from '@tensorflow/tfjs';
import { TRIPLET_MARGIN, TRIPLET_MARGIN_GRAD, TRIPLET_MEAN, TRIPLET_MEAN_GRAD, type TripletMarginAttrs } from './fused.js';
import { anchorLists } from './triplet-bits.js';
import { registerWasmKernel, withOps, WasmOps, type Info, type WasmBackendLike } from './wasm-ops.js';

type KernelArgs = Parameters<tf.KernelConfig['kernelFunc']>[0];
type Heap = tf.backend_util.TypedArray;

/**
 * Walks the kept triplets of `a.triplets` in order, one (anchor, positive) run at a time: `f(t0, row, p,
 * negs, count)` gets the number of the run's first triplet, the anchor's row offset in an [n, m] matrix,
 * the positive's column and the run's negative columns (`negs[0 .. count)`, decoded from the bits; valid
 * only during the call). One call per run keeps the per-triplet loops inside the kernels.
 */
function walk(a: TripletMarginAttrs, m: number, f: (t0: number, row: number, p: number, negs: Int32Array, count: number) => void): void {
  const tb = a.triplets;
  const pos = new Int32Array(tb.refLabels.length), neg = new Int32Array(tb.refLabels.length);
  const negs = new Int32Array(tb.refLabels.length);
  const bits = tb.bits;
  let w = 0, t = 0;
  for (let i = 0; i < tb.labels.length; i++) {
    const [nPos, nNeg] = anchorLists(tb, i, pos, neg);
    const words = (nNeg + 31) >>> 5;
    for (let q = 0; q < nPos; q++, w += words) {
      let count = 0;
      for (let k = 0; k < words; k++) {
        let word = bits[w + k];
        while (word !== 0) {
          const b = 31 - Math.clz32(word & -word);
          word &= word - 1;
          negs[count++] = neg[(k << 5) + b];
        }
      }
      if (count > 0) f(t, i * m, pos[q], negs, count);
      t += count;
    }
  }
}

/** Forward of {@link TRIPLET_MARGIN}: `fround(fround(x[a,p] - x[a,n]) + margin)` (swapped when inverted), relu'd. */
function tripletMarginKernel(args: KernelArgs): Info {
  const { x } = args.inputs as { x: Info };
  const a = args.attrs as unknown as TripletMarginAttrs;
  const m = x.shape[1];
  const margin = Math.fround(a.margin);
  return withOps(args.backend, (ops) => {
    const out = ops.empty([a.triplets.count], 'float32');
    const xs = ops.heap(x), ys = ops.heap(out);
    fillMargins(a, m, margin, xs, ys);
    return out;
  });
}

function fillMargins(a: TripletMarginAttrs, m: number, margin: number, xs: Heap, ys: Heap): void {
  const { relu } = a;
  walkMargins(a, m, margin, xs, (t, v) => {
    ys[t] = relu && v < 0 ? 0 : v;
  });
}

/**
 * Calls `f(t, v, ap, an)` for every kept triplet with its margin `v = fround(fround(x[a,p] - x[a,n]) +
 * margin)` (the difference negated for similarities, which is exact: a float32 subtraction and a float32
 * add) and the offsets of its (a, p) and (a, n) cells.
 */
function walkMargins(a: TripletMarginAttrs, m: number, margin: number, xs: Heap, f: (t: number, v: number, ap: number, an: number) => void): void {
  const sign = a.inverted ? -1 : 1;
  walk(a, m, (t0, row, p, negs, count) => {
    const dap = xs[row + p];
    for (let s = 0; s < count; s++) {
      const an = row + negs[s];
      f(t0 + s, Math.fround(Math.fround(sign * (dap - xs[an])) + margin), row + p, an);
    }
  });
}

/** Forward of {@link TRIPLET_MEAN}: the mean of the positive margins (float64 sum) and their count. */
function tripletMeanKernel(args: KernelArgs): Info[] {
  const { x } = args.inputs as { x: Info };
  const a = args.attrs as unknown as TripletMarginAttrs;
  const ops = new WasmOps(args.backend as WasmBackendLike);
  const mean = ops.empty([], 'float32');
  const count = ops.empty([], 'float32');
  let sum = 0, n = 0;
  walkMargins(a, x.shape[1], Math.fround(a.margin), ops.heap(x), (_t, v) => {
    if (v > 0) {
      sum += v;
      n++;
    }
  });
  ops.heap(mean)[0] = n > 0 ? sum / n : 0;
  ops.heap(count)[0] = n;
  return [mean, count];
}

/** A zeroed gradient the shape of input `x`, filled by `f` (given its heap view and x's column count). */
function zeroGrad(args: KernelArgs, f: (ops: WasmOps, dx: Heap, m: number) => void): Info {
  const { x } = args.inputs as { x: Info };
  const [n, m] = x.shape;
  return withOps(args.backend, (ops) => {
    const out = ops.empty([n, m], 'float32');
    const dx = ops.heap(out);
    dx.fill(0);
    f(ops, dx, m);
    return out;
  });
}

/** Gradient of {@link TRIPLET_MEAN}: `dy / max(count, 1)` added at (a, p) and subtracted at (a, n) of each triplet with a positive margin. */
function tripletMeanGrad(args: KernelArgs): Info {
  const { dy, x, count } = args.inputs as { dy: Info; x: Info; count: Info };
  const a = args.attrs as unknown as TripletMarginAttrs;
  return zeroGrad(args, (ops, dx, m) => {
    const g = Math.fround(ops.heap(dy)[0] / Math.max(ops.heap(count)[0], 1));
    const [plus, minus] = a.inverted ? [-g, g] : [g, -g];
    walkMargins(a, m, Math.fround(a.margin), ops.heap(x), (_t, v, ap, an) => {
      if (v > 0) {
        dx[ap] += plus;
        dx[an] += minus;
      }
    });
  });
}

/** Gradient of {@link TRIPLET_MARGIN}: `dy` added at each (a, p) and subtracted at each (a, n) (swapped when inverted), where relu passes it. */
function tripletMarginGrad(args: KernelArgs): Info {
  const { dy, y } = args.inputs as { dy: Info; y: Info };
  const a = args.attrs as unknown as TripletMarginAttrs;
  return zeroGrad(args, (ops, dx, m) => accumulateGrad(a, m, ops.heap(dy), ops.heap(y), dx));
}

function accumulateGrad(a: TripletMarginAttrs, m: number, dys: Heap, ys: Heap, dx: Heap): void {
  const { inverted, relu } = a;
  walk(a, m, (t0, row, p, negs, count) => {
    for (let s = 0; s < count; s++) {
      if (relu && !(ys[t0 + s] > 0)) continue;
      const g = dys[t0 + s];
      const n = row + negs[s];
      if (inverted) {
        dx[n] += g;
        dx[row + p] -= g;
      } else {
        dx[row + p] += g;
        dx[n] -= g;
      }
    }
  });
}

/** Registers the kernels of {@link TRIPLET_MARGIN} and {@link TRIPLET_MEAN} for wasm. */
export function registerWasmTripletBits(): void {
  registerWasmKernel(TRIPLET_MARGIN, tripletMarginKernel);
  registerWasmKernel(TRIPLET_MARGIN_GRAD, tripletMarginGrad);
  registerWasmKernel(TRIPLET_MEAN, tripletMeanKernel as unknown as tf.KernelConfig['kernelFunc']);
  registerWasmKernel(TRIPLET_MEAN_GRAD, tripletMeanGrad);
}
