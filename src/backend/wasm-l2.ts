import * as tf from '@tensorflow/tfjs';
import { L2_DISTANCE, L2_GRAD, L2_GRAD_SELF, L2_SELF } from './fused.js';
import { transposeLastTwo } from './wasm-data-kernels.js';
import { registerWasmKernel, withOps, type Info, type WasmOps } from './wasm-ops.js';

type KernelArgs = Parameters<tf.KernelConfig['kernelFunc']>[0];
type Heap = tf.backend_util.TypedArray;

/**
 * Squared row norms of an [rows, dim] matrix, summed in float32 in index order, as the matmul sums each
 * product: a row compared with an identical row then gets exactly 0 (|q|^2 + |q|^2 - 2 q.q).
 */
function rowNorms(x: Heap, rows: number, dim: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let k = i * dim; k < (i + 1) * dim; k++) s = Math.fround(s + Math.fround(x[k] * x[k]));
    out[i] = s;
  }
  return out;
}

/** `a @ b^T` for [n, dim] and [m, dim] operands, as a [1, n, m] tensor (XNNPACK). */
function gram(ops: WasmOps, a: Info, b: Info): Info {
  const [n, dim] = a.shape;
  const m = b.shape[0];
  return ops.matMul(ops.reshape(a, [1, n, dim]), transposeLastTwo(ops, ops.reshape(b, [1, m, dim])));
}

/**
 * Forward of {@link L2_DISTANCE} / {@link L2_SELF}: the gram matrix by matmul, then per cell
 * `sqrt(relu(fround(qq_i + rr_j) - 2 g_ij))` with float32 rounding at each step, as the stock-op chain
 * (sum of squares, broadcast add, matmul, subtract, relu, sqrt) computes it.
 */
function l2Forward(args: KernelArgs): Info {
  const { q, r } = args.inputs as { q: Info; r?: Info };
  const same = r === undefined;
  const ref = r ?? q;
  const [n, dim] = q.shape;
  const m = ref.shape[0];
  return withOps(args.backend, (ops) => {
    if (same) {
      const hit = lastSelf.lookup(ops, q);
      if (hit) return hit;
    }
    const g = gram(ops, q, ref);
    const out = ops.empty([n, m], 'float32');
    const qs = ops.heap(q), rs = ops.heap(ref), gs = ops.heap(g), ds = ops.heap(out);
    const qq = rowNorms(qs, n, dim);
    const rr = same ? qq : rowNorms(rs, m, dim);
    for (let i = 0; i < n; i++) {
      const row = i * m;
      const qi = qq[i];
      for (let j = 0; j < m; j++) {
        const d2 = Math.fround(Math.fround(qi + rr[j]) - 2 * gs[row + j]);
        ds[row + j] = d2 > 0 ? Math.sqrt(d2) : 0;
      }
      if (same) ds[row + i] = 0;
    }
    if (same) lastSelf.store(qs, ds, n, dim);
    return out;
  });
}

/**
 * The last self-distance matrix {@link L2_SELF} computed, with a copy of its input: a miner and then its
 * loss compute the same matrix from equal embeddings (each normalises them itself, so the tensors differ
 * but their values do not), and the second call copies the matrix instead of running the matmul again.
 * The kernel is a pure function of its input's values, so a bit-for-bit equal input gives the same
 * output. Kept on the host in buffers reused from call to call, for matrices of 64k to 4M entries.
 */
class SelfDistanceCache {
  private q = new Int32Array(0);
  private d = new Float32Array(0);
  private n = -1;
  private dim = -1;

  private static fits(n: number): boolean {
    return n * n >= 1 << 16 && n * n <= 1 << 22;
  }

  /** The cached matrix as a new tensor when `q` has the values of the last input, else null. */
  lookup(ops: WasmOps, q: Info): Info | null {
    const [n, dim] = q.shape;
    if (n !== this.n || dim !== this.dim || !SelfDistanceCache.fits(n)) return null;
    const qs = ops.heap(q);
    const bits = new Int32Array(qs.buffer, qs.byteOffset, n * dim);
    const saved = this.q;
    for (let k = 0; k < bits.length; k++) if (bits[k] !== saved[k]) return null;
    const out = ops.empty([n, n], 'float32');
    ops.heap(out).set(this.d.subarray(0, n * n));
    return out;
  }

  store(qs: Heap, ds: Heap, n: number, dim: number): void {
    if (!SelfDistanceCache.fits(n)) return;
    if (this.q.length < n * dim) this.q = new Int32Array(n * dim);
    if (this.d.length < n * n) this.d = new Float32Array(n * n);
    this.q.set(new Int32Array(qs.buffer, qs.byteOffset, n * dim));
    this.d.set(ds.subarray(0, n * n));
    this.n = n;
    this.dim = dim;
  }
}

const lastSelf = new SelfDistanceCache();

/**
 * `W = dy / (2 d)` where d > 0, else 0 (the gradient with respect to the squared distances, through
 * sqrt, relu and the zeroed diagonal), written to a new [n, m] tensor, with its row and column sums.
 */
function squaredGrad(ops: WasmOps, dy: Info, d: Info): { w: Info; rowSums: Float64Array; colSums: Float64Array } {
  const [n, m] = d.shape;
  const w = ops.empty([n, m], 'float32');
  const dys = ops.heap(dy), ds = ops.heap(d), ws = ops.heap(w);
  const rowSums = new Float64Array(n);
  const colSums = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    const row = i * m;
    let s = 0;
    for (let j = 0; j < m; j++) {
      const dist = ds[row + j];
      const v = dist > 0 ? Math.fround(dys[row + j] / (2 * dist)) : 0;
      ws[row + j] = v;
      s += v;
      colSums[j] += v;
    }
    rowSums[i] = s;
  }
  return { w, rowSums, colSums };
}

/** `dx_i = 2 x_i sums_i - 2 p_i` for [rows, dim] x and p (p = the matmul term), as a new tensor. */
function combine(ops: WasmOps, x: Info, sums: Float64Array, p: Info): Info {
  const [rows, dim] = x.shape;
  const out = ops.empty([rows, dim], 'float32');
  const xs = ops.heap(x), ps = ops.heap(p), os = ops.heap(out);
  for (let i = 0; i < rows; i++) {
    const s = 2 * sums[i];
    for (let k = i * dim; k < (i + 1) * dim; k++) os[k] = s * xs[k] - 2 * ps[k];
  }
  return out;
}

/**
 * Gradient of {@link L2_DISTANCE} for one side. With W from {@link squaredGrad},
 * `dq = 2 q rowSums(W) - 2 W r` and `dr = 2 r colSums(W) - 2 W^T q` (attr `transpose`: x is r).
 */
function l2Grad(args: KernelArgs): Info {
  const { dy, d, x, other } = args.inputs as { dy: Info; d: Info; x: Info; other: Info };
  const { transpose } = args.attrs as unknown as { transpose: boolean };
  return withOps(args.backend, (ops) => {
    const { w, rowSums, colSums } = squaredGrad(ops, dy, d);
    const lhs = transpose ? transposeLastTwo(ops, w) : w;
    const [rows, inner] = lhs.shape;
    const dim = other.shape[1];
    const p = ops.reshape(ops.matMul(ops.reshape(lhs, [1, rows, inner]), ops.reshape(other, [1, inner, dim])), [rows, dim]);
    return combine(ops, x, transpose ? colSums : rowSums, p);
  });
}

/**
 * Gradient of {@link L2_SELF}: q is both sides, so `dq = 2 q (rowSums + colSums) - 2 (W + W^T) q`
 * (one matmul instead of two).
 */
function l2GradSelf(args: KernelArgs): Info {
  const { dy, d, q } = args.inputs as { dy: Info; d: Info; q: Info };
  const [n, dim] = q.shape;
  return withOps(args.backend, (ops) => {
    const { w, rowSums, colSums } = squaredGrad(ops, dy, d);
    const wt = transposeLastTwo(ops, w);
    const sym = ops.add(w, wt);
    const p = ops.reshape(ops.matMul(ops.reshape(sym, [1, n, n]), ops.reshape(q, [1, n, dim])), [n, dim]);
    const sums = new Float64Array(n);
    for (let i = 0; i < n; i++) sums[i] = rowSums[i] + colSums[i];
    return combine(ops, q, sums, p);
  });
}

/** Registers the fused L2 distance kernels of `fused.ts` for wasm. */
export function registerWasmL2(): void {
  registerWasmKernel(L2_DISTANCE, l2Forward);
  registerWasmKernel(L2_SELF, l2Forward);
  registerWasmKernel(L2_GRAD, l2Grad);
  registerWasmKernel(L2_GRAD_SELF, l2GradSelf);
}
