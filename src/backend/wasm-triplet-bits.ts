import * as tf from '@tensorflow/tfjs';
import { TRIPLET_MARGIN, TRIPLET_MARGIN_GRAD, type TripletMarginAttrs } from './fused.js';
import { anchorLists } from './triplet-bits.js';
import { registerWasmKernel, withOps, type Info } from './wasm-ops.js';

type KernelArgs = Parameters<tf.KernelConfig['kernelFunc']>[0];
type Heap = tf.backend_util.TypedArray;

/**
 * Walks the kept triplets of `a.triplets` in order and calls `f(t, rowBase, p, n)` with the triplet's
 * number, the anchor's row offset in an [n, m] matrix and the positive and negative columns.
 * Written once and specialised by V8 per caller below (each passes its own arrow function).
 */
function walk(a: TripletMarginAttrs, m: number, f: (t: number, row: number, p: number, n: number) => void): void {
  const tb = a.triplets;
  const pos = new Int32Array(tb.refLabels.length), neg = new Int32Array(tb.refLabels.length);
  const bits = tb.bits;
  let w = 0, t = 0;
  for (let i = 0; i < tb.labels.length; i++) {
    const [nPos, nNeg] = anchorLists(tb, i, pos, neg);
    const words = (nNeg + 31) >>> 5;
    const row = i * m;
    for (let q = 0; q < nPos; q++, w += words) {
      const p = pos[q];
      for (let k = 0; k < words; k++) {
        let word = bits[w + k];
        while (word !== 0) {
          const b = 31 - Math.clz32(word & -word);
          word &= word - 1;
          f(t++, row, p, neg[(k << 5) + b]);
        }
      }
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
  const { inverted, relu } = a;
  walk(a, m, (t, row, p, n) => {
    const d = inverted ? xs[row + n] - xs[row + p] : xs[row + p] - xs[row + n];
    const v = Math.fround(Math.fround(d) + margin);
    ys[t] = relu && v < 0 ? 0 : v;
  });
}

/** Gradient of {@link TRIPLET_MARGIN}: `dy` added at each (a, p) and subtracted at each (a, n) (swapped when inverted), where relu passes it. */
function tripletMarginGrad(args: KernelArgs): Info {
  const { dy, x, y } = args.inputs as { dy: Info; x: Info; y: Info };
  const a = args.attrs as unknown as TripletMarginAttrs;
  const [n, m] = x.shape;
  return withOps(args.backend, (ops) => {
    const out = ops.empty([n, m], 'float32');
    const dys = ops.heap(dy), ys = ops.heap(y), dx = ops.heap(out);
    dx.fill(0);
    accumulateGrad(a, m, dys, ys, dx);
    return out;
  });
}

function accumulateGrad(a: TripletMarginAttrs, m: number, dys: Heap, ys: Heap, dx: Heap): void {
  const { inverted, relu } = a;
  walk(a, m, (t, row, p, n) => {
    if (relu && !(ys[t] > 0)) return;
    const g = dys[t];
    if (inverted) {
      dx[row + n] += g;
      dx[row + p] -= g;
    } else {
      dx[row + p] += g;
      dx[row + n] -= g;
    }
  });
}

/** Registers the kernels of {@link TRIPLET_MARGIN} for wasm. */
export function registerWasmTripletBits(): void {
  registerWasmKernel(TRIPLET_MARGIN, tripletMarginKernel);
  registerWasmKernel(TRIPLET_MARGIN_GRAD, tripletMarginGrad);
}
