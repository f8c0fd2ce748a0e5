import * as tf from '@tensorflow/tfjs';
import { registerWasmKernel, withOps, type Info, type WasmOps } from './wasm-ops.js';

type Heap = tf.backend_util.TypedArray;
type KernelArgs = Parameters<tf.KernelConfig['kernelFunc']>[0];

/**
 * Binary kernels whose stock wasm version takes a per-element index path when the operands differ in
 * shape (other than one being a single value): ~30x slower than equal shapes (e.g. 300 ms for a
 * `[1024, 1024]` vs `[1024, 1]` comparison, the core of every label mask).
 */
const SLOW_BROADCAST = [
  'Equal', 'NotEqual', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalOr', 'LogicalXor',
  'Maximum', 'Minimum', 'Pow', 'FloorDiv', 'Mod', 'Atan2',
];

function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/**
 * Copies `src` (shape `srcShape`, same rank as `outShape`) into `dst` repeated along every axis where
 * `srcShape` is 1 (broadcast) or, with `tile`, `outShape[d] / srcShape[d]` times (tile). The first copy
 * of each block is written element- or row-wise, the repeats with `copyWithin` (memmove speed).
 */
function replicate(src: Heap, srcShape: number[], dst: Heap, outShape: number[]): void {
  const rank = outShape.length;
  if (rank === 0) {
    dst[0] = src[0];
    return;
  }
  const ss = strides(srcShape);
  const os = strides(outShape);
  const rec = (d: number, s: number, o: number): void => {
    const n = srcShape[d];
    const copies = outShape[d] / n;
    if (d === rank - 1) {
      if (n === 1) dst.fill(src[s] as never, o, o + outShape[d]);
      else dst.set(src.subarray(s, s + n) as never, o);
    } else {
      for (let i = 0; i < n; i++) rec(d + 1, s + i * ss[d], o + i * os[d]);
    }
    if (n > 1 || d < rank - 1) {
      const block = n * os[d];
      for (let r = 1; r < copies; r++) dst.copyWithin(o + r * block, o, o + block);
    }
  };
  rec(0, 0, 0);
}

/** `x` repeated to `outShape` (x's shape left-padded with 1s), written on the heap. */
function broadcastTo(ops: WasmOps, x: Info, outShape: number[]): Info {
  const shape = [...new Array<number>(outShape.length - x.shape.length).fill(1), ...x.shape];
  const out = ops.empty(outShape, x.dtype);
  replicate(ops.heap(x), shape, ops.heap(out), outShape);
  return out;
}

const LOGICAL = new Set(['LogicalAnd', 'LogicalOr', 'LogicalXor']);

/**
 * `LogicalAnd` / `LogicalOr` / `LogicalXor` of two bool tensors on the heap (operands broadcast first):
 * the stock kernels take ~5 ns an element, a byte loop well under 1.
 */
function logical(args: KernelArgs, name: string): Info {
  const { a, b } = args.inputs as { a: Info; b: Info };
  const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  return withOps(args.backend, (ops) => {
    const a2 = tf.util.arraysEqual(a.shape, outShape) ? a : broadcastTo(ops, a, outShape);
    const b2 = tf.util.arraysEqual(b.shape, outShape) ? b : broadcastTo(ops, b, outShape);
    const out = ops.empty(outShape, 'bool');
    const p = ops.heap(a2);
    const q = ops.heap(b2);
    const o = ops.heap(out);
    const n = o.length;
    if (name === 'LogicalAnd') for (let i = 0; i < n; i++) o[i] = p[i] & q[i];
    else if (name === 'LogicalOr') for (let i = 0; i < n; i++) o[i] = p[i] | q[i];
    else for (let i = 0; i < n; i++) o[i] = p[i] ^ q[i];
    return out;
  });
}

function wrapBroadcast(name: string): void {
  const stock = tf.getKernel(name, 'wasm');
  if (!stock) return;
  registerWasmKernel(name, (args) => {
    const { a, b } = args.inputs as { a: Info; b: Info };
    const sa = tf.util.sizeFromShape(a.shape);
    const sb = tf.util.sizeFromShape(b.shape);
    if (LOGICAL.has(name) && a.dtype === 'bool' && b.dtype === 'bool' && sa > 1 && sb > 1) return logical(args, name);
    if (a.dtype === 'string' || tf.util.arraysEqual(a.shape, b.shape) || sa <= 1 || sb <= 1) return stock.kernelFunc(args);
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    return withOps(args.backend, (ops) => {
      const a2 = tf.util.arraysEqual(a.shape, outShape) ? a : broadcastTo(ops, a, outShape);
      const b2 = tf.util.arraysEqual(b.shape, outShape) ? b : broadcastTo(ops, b, outShape);
      return ops.call(name, { a: a2, b: b2 }, args.attrs as Record<string, unknown>, stock.kernelFunc);
    });
  });
}

/** `Tile` on the heap: the stock kernel walks the output element by element (130 ms per million). */
function tile(args: KernelArgs, stock: tf.KernelConfig['kernelFunc']): Info {
  const { x } = args.inputs as { x: Info };
  const { reps } = args.attrs as unknown as tf.TileAttrs;
  if (x.dtype === 'string' || reps.length !== x.shape.length) return stock(args) as Info;
  return withOps(args.backend, (ops) => {
    const outShape = x.shape.map((n, d) => n * reps[d]);
    const out = ops.empty(outShape, x.dtype);
    if (tf.util.sizeFromShape(outShape) > 0) replicate(ops.heap(x), x.shape, ops.heap(out), outShape);
    return out;
  });
}

/**
 * `GatherV2` (batchDims 0) on the heap: rows (or single values) copied by index. The stock kernel
 * computes every element's source position with a generic index routine (85 ms for 650k values).
 * Out-of-range indices go to the stock kernel.
 */
function gather(args: KernelArgs, stock: tf.KernelConfig['kernelFunc']): Info {
  const { x, indices } = args.inputs as { x: Info; indices: Info };
  const { axis, batchDims } = args.attrs as unknown as tf.GatherV2Attrs;
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  if ((batchDims ?? 0) !== 0 || x.dtype === 'string') return stock(args) as Info;
  const n = x.shape[ax];
  const idx = (args.backend as unknown as { typedArrayFromHeap(i: Info): Heap }).typedArrayFromHeap(indices);
  for (let i = 0; i < idx.length; i++) if (idx[i] < 0 || idx[i] >= n) return stock(args) as Info;
  return withOps(args.backend, (ops) => {
    const outer = x.shape.slice(0, ax).reduce((p, q) => p * q, 1);
    const inner = x.shape.slice(ax + 1).reduce((p, q) => p * q, 1);
    const outShape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
    const out = ops.empty(outShape, x.dtype);
    const src = ops.heap(x);
    const ids = ops.heap(indices);
    const dst = ops.heap(out);
    const k = ids.length;
    for (let o = 0; o < outer; o++) {
      const sBase = o * n * inner;
      const dBase = o * k * inner;
      if (inner === 1) {
        for (let i = 0; i < k; i++) dst[dBase + i] = src[sBase + ids[i]];
      } else {
        for (let i = 0; i < k; i++) {
          const s = sBase + ids[i] * inner;
          dst.set(src.subarray(s, s + inner) as never, dBase + i * inner);
        }
      }
    }
    return out;
  });
}

/**
 * `Identity` without a copy: the output shares the input's data (reference-counted, as `Reshape` does
 * on every backend). The stock kernel copies the data, and the engine runs it for every tensor it keeps
 * for a gradient (`tf.clone`), i.e. once per saved input or output of every recorded op.
 */
function identity(args: KernelArgs, stock: tf.KernelConfig['kernelFunc']): Info {
  const { x } = args.inputs as { x: Info };
  if (x.dtype === 'string') return stock(args) as Info;
  (args.backend as tf.KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

/**
 * `dst[j * rows + i] = src[i * cols + j]` for one [rows, cols] matrix at offsets `s0` / `d0`: eight
 * source rows at a time, so that every output row is written in runs of eight.
 */
function transposeBlock(src: Heap, s0: number, dst: Heap, d0: number, rows: number, cols: number): void {
  const B = 64;
  for (let j0 = 0; j0 < cols; j0 += B) {
    const j1 = Math.min(j0 + B, cols);
    let i = 0;
    for (; i + 8 <= rows; i += 8) {
      const base = s0 + i * cols;
      for (let j = j0; j < j1; j++) {
        const d = d0 + j * rows + i;
        let s = base + j;
        dst[d] = src[s]; s += cols;
        dst[d + 1] = src[s]; s += cols;
        dst[d + 2] = src[s]; s += cols;
        dst[d + 3] = src[s]; s += cols;
        dst[d + 4] = src[s]; s += cols;
        dst[d + 5] = src[s]; s += cols;
        dst[d + 6] = src[s]; s += cols;
        dst[d + 7] = src[s];
      }
    }
    for (; i < rows; i++) {
      for (let j = j0; j < j1; j++) dst[d0 + j * rows + i] = src[s0 + i * cols + j];
    }
  }
}

/** True when `perm` keeps every axis but swaps the last two. */
export function swapsLastTwo(perm: number[]): boolean {
  const r = perm.length;
  if (r < 2 || perm[r - 2] !== r - 1 || perm[r - 1] !== r - 2) return false;
  for (let d = 0; d < r - 2; d++) if (perm[d] !== d) return false;
  return true;
}

/**
 * Swaps the last two axes of `x` on the heap (a cache-blocked loop; the stock kernel takes ~15 ms for a
 * 1024 x 1024 matrix, this ~1 ms).
 */
export function transposeLastTwo(ops: WasmOps, x: Info): Info {
  const r = x.shape.length;
  const rows = x.shape[r - 2];
  const cols = x.shape[r - 1];
  const outShape = [...x.shape.slice(0, r - 2), cols, rows];
  const out = ops.empty(outShape, x.dtype);
  const src = ops.heap(x);
  const dst = ops.heap(out);
  const m = rows * cols;
  const batch = m === 0 ? 0 : src.length / m;
  for (let b = 0; b < batch; b++) transposeBlock(src, b * m, dst, b * m, rows, cols);
  return out;
}

/** `Transpose` that swaps the last two axes (every matmul gradient) goes to {@link transposeLastTwo}. */
function transpose(args: KernelArgs, stock: tf.KernelConfig['kernelFunc']): Info {
  const { x } = args.inputs as { x: Info };
  const { perm } = args.attrs as unknown as tf.TransposeAttrs;
  if (x.dtype === 'string' || x.dtype === 'complex64' || !swapsLastTwo(perm)) return stock(args) as Info;
  return withOps(args.backend, (ops) => transposeLastTwo(ops, x));
}

/** Registers the data-movement kernels above and the broadcast wrappers for wasm. */
export function registerWasmDataKernels(): void {
  for (const name of SLOW_BROADCAST) wrapBroadcast(name);
  const stockTile = tf.getKernel('Tile', 'wasm');
  if (stockTile) registerWasmKernel('Tile', (args) => tile(args, stockTile.kernelFunc));
  const stockGather = tf.getKernel('GatherV2', 'wasm');
  if (stockGather) registerWasmKernel('GatherV2', (args) => gather(args, stockGather.kernelFunc));
  const stockIdentity = tf.getKernel('Identity', 'wasm');
  if (stockIdentity) registerWasmKernel('Identity', (args) => identity(args, stockIdentity.kernelFunc));
  const stockTranspose = tf.getKernel('Transpose', 'wasm');
  if (stockTranspose) registerWasmKernel('Transpose', (args) => transpose(args, stockTranspose.kernelFunc));
}
