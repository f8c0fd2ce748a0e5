import * as tf from '@tensorflow/tfjs';
import {
  fillPairMasks, GATHER_DIFF, GATHER_DIFF_GRAD, L2_NORMALIZE, L2_NORMALIZE_GRAD, MASKED_LSE, MASKED_LSE_GRAD, PAIR_MASKS,
  SUPCON, SUPCON_GRAD, type GatherDiffAttrs, type L2NormalizeAttrs, type MaskedLseAttrs,
} from './fused.js';
import { expShifted } from './fast-math.js';
import { expRows, type ExpRows } from './wasm-exp.js';
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

/**
 * Forward of {@link SUPCON}, per row (kept cells: `keep` or `pos`): the maximum kept logit, the positives' count and logit sum, then
 * `lse = log(sum_keep exp(l - max)) + max` and `loss = -(posSum - count lse) / max(count, 1)`.
 * Outputs the losses and the log-sum-exps (for the gradient).
 */
function supConKernel(args: KernelArgs): Info[] {
  const { logits, pos, keep } = args.inputs as { logits: Info; pos: Info; keep: Info };
  const [n, m] = logits.shape;
  const ops = new WasmOps(args.backend as WasmBackendLike);
  const losses = ops.empty([n], 'float32');
  const lse = ops.empty([n], 'float32');
  const [ls, ps, ks, out, lses] = views(ops, logits, pos, keep, losses, lse);
  supConRowsLoop(ls, ps, ks, out, lses, n, m, expRows(ops.backend));
  return [losses, lse];
}

function supConRowsLoop(ls: Heap, ps: Heap, ks: Heap, out: Heap, lses: Heap, n: number, m: number, er: ExpRows | null): void {
  // the first m4 cells of a row go to the SIMD module (when there is one), the rest to expShifted
  const m4 = er ? m & ~3 : 0;
  for (let i = 0; i < n; i++) {
    const row = i * m;
    let max = -Infinity, count = 0, posSum = 0;
    let any = false, nan = false;
    for (let j = row; j < row + m; j++) {
      const l = ls[j];
      if (ks[j] || ps[j]) {
        any = true;
        if (l > max) max = l;
        else if (l !== l) nan = true;
      }
      if (ps[j]) {
        count++;
        posSum += l;
      }
    }
    let lse = 0;
    if (nan) lse = NaN;
    else if (any) {
      let s = m4 > 0 ? er!.sumExp(ls.byteOffset + 4 * row, ks.byteOffset + row, ps.byteOffset + row, m4, max) : 0;
      for (let j = row + m4; j < row + m; j++) if (ks[j] || ps[j]) s += expShifted(ls[j] - max);
      lse = Math.log(s) + max;
    }
    lses[i] = lse;
    out[i] = count === 0 ? 0 : -(posSum - count * lse) / count;
  }
}

/** Gradient of {@link SUPCON}: `dl_ij = dy_i / max(c_i, 1) * (c_i (keep_ij or pos_ij) exp(l_ij - lse_i) - pos_ij)`. */
function supConGrad(args: KernelArgs): Info {
  const { dy, logits, pos, keep, lse } = args.inputs as { dy: Info; logits: Info; pos: Info; keep: Info; lse: Info };
  const [n, m] = logits.shape;
  return withOps(args.backend, (ops) => {
    const out = ops.empty([n, m], 'float32');
    const [dys, ls, ps, ks, lses, dl] = views(ops, dy, logits, pos, keep, lse, out);
    supConGradLoop(dys, ls, ps, ks, lses, dl, n, m, expRows(ops.backend));
    return out;
  });
}

function supConGradLoop(dys: Heap, ls: Heap, ps: Heap, ks: Heap, lses: Heap, dl: Heap, n: number, m: number, er: ExpRows | null): void {
  const m4 = er ? m & ~3 : 0;
  for (let i = 0; i < n; i++) {
    const row = i * m;
    let count = 0;
    for (let j = row; j < row + m; j++) count += ps[j];
    if (count === 0) {
      dl.fill(0, row, row + m);
      continue;
    }
    const g = dys[i] / count;
    const y = lses[i];
    if (y !== y || g !== g) {
      for (let j = row; j < row + m; j++) dl[j] = ks[j] || ps[j] ? NaN : 0;
      continue;
    }
    if (m4 > 0) er!.gradRow(ls.byteOffset + 4 * row, ks.byteOffset + row, ps.byteOffset + row, dl.byteOffset + 4 * row, m4, y, count, g);
    for (let j = row + m4; j < row + m; j++) {
      const p = ks[j] || ps[j] ? count * expShifted(ls[j] - y) : 0;
      dl[j] = g * (p - ps[j]);
    }
  }
}

/** Forward {@link L2_NORMALIZE}: per row of the last axis, the norm in float64, then each value divided by it. */
function l2Normalize(args: KernelArgs): Info {
  const { x } = args.inputs as { x: Info };
  const { epsilon } = args.attrs as unknown as L2NormalizeAttrs;
  const d = x.shape[x.shape.length - 1];
  return withOps(args.backend, (ops) => {
    const out = ops.empty(x.shape, 'float32');
    const [xs, ys] = views(ops, x, out);
    for (let row = 0; row < xs.length; row += d) {
      let ss = 0;
      for (let j = row; j < row + d; j++) ss += xs[j] * xs[j];
      const norm = Math.max(Math.sqrt(ss), epsilon);
      for (let j = row; j < row + d; j++) ys[j] = xs[j] / norm;
    }
    return out;
  });
}

/**
 * Gradient of {@link L2_NORMALIZE}: `(dy - y (dy . y)) / |x|` for a row whose norm reaches `epsilon`
 * (the stock ops' `maximum` passes the gradient to its first argument on a tie), `dy / epsilon` below.
 */
function l2NormalizeGrad(args: KernelArgs): Info {
  const { dy, x, y } = args.inputs as { dy: Info; x: Info; y: Info };
  const { epsilon } = args.attrs as unknown as L2NormalizeAttrs;
  const d = x.shape[x.shape.length - 1];
  return withOps(args.backend, (ops) => {
    const out = ops.empty(x.shape, 'float32');
    const [dys, xs, ys, dx] = views(ops, dy, x, y, out);
    for (let row = 0; row < xs.length; row += d) {
      let ss = 0, dot = 0;
      for (let j = row; j < row + d; j++) {
        ss += xs[j] * xs[j];
        dot += dys[j] * ys[j];
      }
      const norm = Math.sqrt(ss);
      if (norm >= epsilon) for (let j = row; j < row + d; j++) dx[j] = (dys[j] - ys[j] * dot) / norm;
      else for (let j = row; j < row + d; j++) dx[j] = dys[j] / epsilon;
    }
    return out;
  });
}

/** Registers the fused kernels of `fused.ts` for wasm. */
export function registerWasmFused(): void {
  registerWasmKernel(L2_NORMALIZE, l2Normalize);
  registerWasmKernel(L2_NORMALIZE_GRAD, l2NormalizeGrad);
  registerWasmKernel(MASKED_LSE, maskedLse);
  registerWasmKernel(MASKED_LSE_GRAD, maskedLseGrad);
  registerWasmKernel(PAIR_MASKS, pairMasksKernel as unknown as tf.KernelConfig['kernelFunc']);
  registerWasmKernel(GATHER_DIFF, gatherDiffKernel);
  registerWasmKernel(GATHER_DIFF_GRAD, gatherDiffGrad);
  registerWasmKernel(SUPCON, supConKernel as unknown as tf.KernelConfig['kernelFunc']);
  registerWasmKernel(SUPCON_GRAD, supConGrad);
}
