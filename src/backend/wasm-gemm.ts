/**
 * A float32 matrix product for the wasm backend, written as a small WebAssembly SIMD module over the
 * backend's own memory: `B` is packed into panels of 8 columns, and a 4 x 8 block of `C` is kept in eight
 * SIMD registers while `k` runs (one broadcast `A` value and two `B` vectors per row and step, with fused
 * multiply-add where the engine has relaxed SIMD). On one thread it runs ~1.2-1.4x XNNPACK's matmul in
 * the wasm backend on the shapes of metric learning (256 x 784 x 256, 1024 x 128 x 1024); with more
 * threads XNNPACK's pool is faster, so by default it only takes over when the backend runs on one thread.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import {
  BR_IF0, END, I32, I32_ADD as ADD, I32_LT_U as LT_U, I32_MUL as MUL, I32_SUB as SUB, LOOP, V128, V128_ZERO as zero,
  backendMemory, i32Const, instantiateOnHeap, localGet as get, localSet as set, localTee as tee, moduleBytes, simd, v128Load, v128Store,
} from './wasm-asm.js';
import type { WasmOps, Info } from './wasm-ops.js';
import { oneOf } from '../core/errors.js';

/** Exports of the module: see {@link gemmCode} and {@link packCode}. */
interface GemmModule {
  /**
   * C[M, N] (+)= A[M, K] · B for M a multiple of 4, N of 8, K >= 1 (byte offsets, strides in bytes): B's
   * 8 columns from `j` start at `b + (j / 8) * panelBytes` and step `kBytes` per k (packed: K * 32 and
   * 32; plain row-major: 32 and N * 4).
   */
  gemm4(a: number, aRowBytes: number, b: number, panelBytes: number, kBytes: number, c: number, cRowBytes: number, m: number, n: number, k: number, accumulate: number): void;
  /** The same for any M >= 1, one row at a time. */
  gemm1(a: number, aRowBytes: number, b: number, panelBytes: number, kBytes: number, c: number, cRowBytes: number, m: number, n: number, k: number, accumulate: number): void;
  /** Packs columns [0, n) of B (n a multiple of 8, row stride in bytes) into panels of [k][8]. */
  pack(b: number, bRowBytes: number, dst: number, n: number, k: number): void;
  /** Whether the products are fused multiply-adds. */
  fma: boolean;
}

const splat32 = [...simd(0x09), 0x02, 0x00]; // v128.load32_splat

function gemmCode(rows: number, fma: boolean): [number[], [number, number][], number[]] {
  const [A, ARS, B, PANEL, KSTEP, C, CRS, M, N, K, ACC] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  let next = 11;
  const I = next++, J = next++, KK = next++, PB = next++, PBJ = next++, PC = next++;
  const PA = Array.from({ length: rows }, () => next++);
  const ints = next - 11;
  const acc = Array.from({ length: rows }, () => [next++, next++]);
  const B0 = next++, B1 = next++, S = next++;
  const vecs = next - 11 - ints;
  const rowPtr = (base: number, stride: number, r: number, extra: number[] = []): number[] =>
    [...get(base), ...get(I), ...i32Const(r), ADD, ...get(stride), MUL, ADD, ...extra];
  const c: number[] = [];
  c.push(...get(B), ...set(PBJ), ...i32Const(0), ...set(J), ...LOOP);
  {
    c.push(...i32Const(0), ...set(I), ...LOOP);
    {
      for (let r = 0; r < rows; r++) c.push(...rowPtr(A, ARS, r), ...set(PA[r]));
      c.push(...get(PBJ), ...set(PB));
      for (let r = 0; r < rows; r++) {
        c.push(...rowPtr(C, CRS, r, [...get(J), ...i32Const(4), MUL, ADD]), ...set(PC));
        for (let h = 0; h < 2; h++) {
          // acc = accumulate ? load(c) : 0
          c.push(...get(ACC), 0x04, V128, ...get(PC), ...v128Load(16 * h), 0x05, ...zero, ...END, ...set(acc[r][h]));
        }
      }
      c.push(...get(K), ...set(KK), ...LOOP);
      {
        c.push(...get(PB), ...v128Load(0), ...set(B0), ...get(PB), ...v128Load(16), ...set(B1));
        c.push(...get(PB), ...get(KSTEP), ADD, ...set(PB));
        for (let r = 0; r < rows; r++) {
          c.push(...get(PA[r]), ...splat32, ...set(S), ...get(PA[r]), ...i32Const(4), ADD, ...set(PA[r]));
          for (let h = 0; h < 2; h++) {
            // acc = s * b + acc: relaxed fused multiply-add, or a multiply then an add
            if (fma) c.push(...get(S), ...get(h ? B1 : B0), ...get(acc[r][h]), ...simd(0x105), ...set(acc[r][h]));
            else c.push(...get(S), ...get(h ? B1 : B0), ...simd(0xe6), ...get(acc[r][h]), ...simd(0xe4), ...set(acc[r][h]));
          }
        }
        c.push(...get(KK), ...i32Const(1), SUB, ...tee(KK), ...BR_IF0);
      }
      c.push(...END);
      for (let r = 0; r < rows; r++) {
        c.push(...rowPtr(C, CRS, r, [...get(J), ...i32Const(4), MUL, ADD]), ...tee(PC));
        c.push(...get(acc[r][0]), ...v128Store(0), ...get(PC), ...get(acc[r][1]), ...v128Store(16));
      }
      c.push(...get(I), ...i32Const(rows), ADD, ...tee(I), ...get(M), LT_U, ...BR_IF0);
    }
    c.push(...END);
    c.push(...get(PBJ), ...get(PANEL), ADD, ...set(PBJ));
    c.push(...get(J), ...i32Const(8), ADD, ...tee(J), ...get(N), LT_U, ...BR_IF0);
  }
  c.push(...END);
  return [new Array<number>(11).fill(I32), [[ints, I32], [vecs, V128]], c];
}

function packCode(): [number[], [number, number][], number[]] {
  const [B, BRS, D, N, K] = [0, 1, 2, 3, 4];
  const J = 5, KK = 6, P = 7;
  const c: number[] = [];
  c.push(...i32Const(0), ...set(J), ...LOOP);
  {
    c.push(...get(B), ...get(J), ...i32Const(4), MUL, ADD, ...set(P), ...get(K), ...set(KK), ...LOOP);
    {
      c.push(...get(D), ...get(P), ...v128Load(0), ...v128Store(0), ...get(D), ...get(P), ...v128Load(16), ...v128Store(16));
      c.push(...get(D), ...i32Const(32), ADD, ...set(D), ...get(P), ...get(BRS), ADD, ...set(P));
      c.push(...get(KK), ...i32Const(1), SUB, ...tee(KK), ...BR_IF0);
    }
    c.push(...END);
    c.push(...get(J), ...i32Const(8), ADD, ...tee(J), ...get(N), LT_U, ...BR_IF0);
  }
  c.push(...END);
  return [new Array<number>(5).fill(I32), [[3, I32]], c];
}

function build(shared: boolean, fma: boolean): Uint8Array<ArrayBuffer> {
  return moduleBytes(shared, [['gemm4', ...gemmCode(4, fma)], ['gemm1', ...gemmCode(1, fma)], ['pack', ...packCode()]]);
}

const cache = new WeakMap<WebAssembly.Memory, GemmModule | null>();

/** The module bound to the backend's memory (with FMA when relaxed SIMD validates), or null. */
function gemmModule(backend: tf.KernelBackend): GemmModule | null {
  return instantiateOnHeap(backend, cache, (shared, memory) => {
    const fmaBytes = build(shared, true);
    const fma = WebAssembly.validate(fmaBytes);
    akinMatMulStats.fma = fma;
    const bytes = fma ? fmaBytes : build(shared, false);
    const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as Omit<GemmModule, 'fma'>;
    return { gemm4: exports.gemm4, gemm1: exports.gemm1, pack: exports.pack, fma };
  });
}

/** When akin's matmul replaces XNNPACK's: `auto` on one thread only. */
export type MatMulKernel = 'auto' | 'akin' | 'xnnpack';
export const MATMUL_KERNELS: readonly MatMulKernel[] = ['auto', 'akin', 'xnnpack'];
let mode: MatMulKernel = 'auto';

/** Chooses the wasm backend's float32 matmul (default `auto`: akin's on one thread, XNNPACK's with more). */
export function setWasmMatMul(kernel: MatMulKernel): void {
  mode = oneOf('setWasmMatMul: kernel', MATMUL_KERNELS, kernel);
}

/** The float32 matmul the wasm backend uses now: `akin` or `xnnpack`. */
export function wasmMatMulKernel(): 'akin' | 'xnnpack' {
  return active() ? 'akin' : 'xnnpack';
}

function active(): boolean {
  if (mode === 'auto') {
    try {
      return getThreadsCount() === 1;
    } catch {
      return false;
    }
  }
  return mode === 'akin';
}

/** Steps of `k` per pass over the output: a B panel's block (16 KiB) stays in the first-level cache. */
const kBlock = 512;

/** Rows of A from which B is packed (see {@link akinMatMul}). */
const packMinRows = 32;

/** Products computed on this path so far, and whether its module multiplies-adds fused (for tests and benchmarks). */
export const akinMatMulStats: { calls: number; fma: boolean | null } = { calls: 0, fma: null };

/** Activations of `_FusedMatMul` this path applies, as the wasm kernel that computes each. */
const ACTIVATIONS: Record<string, string | null> = { linear: null, relu: 'Relu', relu6: 'Relu6', elu: 'Elu', sigmoid: 'Sigmoid', leakyrelu: 'LeakyRelu' };

export interface MatMulArgs {
  a: Info;
  b: Info;
  transposeA: boolean;
  transposeB: boolean;
  bias?: Info;
  activation?: string;
  leakyreluAlpha?: number;
}

/**
 * The output's batch shape when the two batch shapes are equal, or one of them holds a single matrix
 * (and has no more axes than the other); null for any other broadcast.
 */
function broadcastBatch(sa: number[], sb: number[]): number[] | null {
  if (sa.length === sb.length && sa.every((d, i) => d === sb[i])) return sa;
  if (tf.util.sizeFromShape(sa) === 1 && sb.length >= sa.length) return sb;
  if (tf.util.sizeFromShape(sb) === 1 && sa.length >= sb.length) return sa;
  return null;
}

/**
 * `BatchMatMul` / `_FusedMatMul` through the module above, or null when this path does not apply (not
 * chosen, not float32, batch shapes that broadcast other than one against many, N < 8, K = 0, a bias
 * that is not one value or one row, PReLU): the caller then runs the stock kernel.
 * `transposeLastTwo` is the heap transpose the caller's path uses.
 */
export function akinMatMul(ops: WasmOps, m: MatMulArgs, transposeLastTwo: (ops: WasmOps, x: Info) => Info): Info | null {
  if (!active()) return null;
  const { a, b, bias } = m;
  const activation = m.activation ?? 'linear';
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || !(activation in ACTIVATIONS)) return null;
  if (a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length, rb = b.shape.length;
  const M = m.transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = m.transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const N = m.transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  const batchShapeA = a.shape.slice(0, -2), batchShapeB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(batchShapeA), batchB = tf.util.sizeFromShape(batchShapeB);
  const outBatch = broadcastBatch(batchShapeA, batchShapeB);
  if (!outBatch) return null;
  if (N < 8 || K === 0 || M === 0) return null;
  if (bias && bias.dtype !== 'float32') return null;
  const biasSize = bias ? tf.util.sizeFromShape(bias.shape) : 0;
  if (bias && !(biasSize === 1 || (biasSize === N && bias.shape[bias.shape.length - 1] === N))) return null;
  const gm = gemmModule(ops.backend);
  if (!gm) return null;

  akinMatMulStats.calls++;
  const at = m.transposeA ? transposeLastTwo(ops, a) : a;
  const bt = m.transposeB ? transposeLastTwo(ops, b) : b;
  const batch = Math.max(batchA, batchB);
  const out = ops.empty([...outBatch, M, N]);
  const N8 = N & ~7, M4 = M & ~3;
  // Packing B costs a pass over it; it pays for itself over enough rows of A, or when B's rows are a
  // multiple of 4 KiB apart (reading panels straight from B then thrashes the cache's sets).
  const pack = M >= packMinRows || (N * 4) % 4096 === 0;
  const packed = pack ? ops.empty([K * N8]) : null;
  // views only after the last allocation
  const memory = backendMemory(ops.backend)!;
  const heap = new Float32Array(memory.buffer);
  const aAt = ops.heap(at).byteOffset, bAt = ops.heap(bt).byteOffset, cAt = ops.heap(out).byteOffset;
  const pAt = packed ? ops.heap(packed).byteOffset : 0;
  if (bias) {
    const bv = ops.heap(bias) as Float32Array;
    const rows = heap.subarray(cAt >> 2, (cAt >> 2) + batch * M * N);
    for (let r = 0; r < batch * M; r++) {
      if (biasSize === 1) rows.fill(bv[0], r * N, (r + 1) * N);
      else rows.set(bv, r * N);
    }
  }
  const acc = bias ? 1 : 0;
  for (let t = 0; t < batch; t++) {
    const aT = aAt + (batchA > 1 ? t * M * K * 4 : 0);
    const bT = bAt + (batchB > 1 ? t * K * N * 4 : 0);
    const cT = cAt + t * M * N * 4;
    if (pack && (t === 0 || batchB > 1)) gm.pack(bT, N * 4, pAt, N8, K);
    // packed panels: [N / 8][K][8]; plain B: 8 columns of row-major [K][N]
    const [b0, panel, kStep] = pack ? [pAt, K * 32, 32] : [bT, 32, N * 4];
    // k in blocks, so that a block of a B panel stays in the first-level cache while the rows pass
    for (let k0 = 0; k0 < K; k0 += kBlock) {
      const kc = Math.min(kBlock, K - k0);
      const into = k0 > 0 ? 1 : acc;
      const bk = b0 + k0 * kStep;
      if (M4 > 0) gm.gemm4(aT + k0 * 4, K * 4, bk, panel, kStep, cT, N * 4, M4, N8, kc, into);
      if (M > M4) gm.gemm1(aT + M4 * K * 4 + k0 * 4, K * 4, bk, panel, kStep, cT + M4 * N * 4, N * 4, M - M4, N8, kc, into);
    }
    if (N > N8) tailColumns(heap, aT >> 2, bT >> 2, cT >> 2, M, N, K, N8, acc === 1, gm.fma);
  }
  return applyActivation(ops, out, activation, m.leakyreluAlpha);
}

/** `x` through a fused matmul's activation, computed by the wasm kernel of that activation. */
export function applyActivation(ops: WasmOps, x: Info, activation: string, leakyreluAlpha?: number, preluWeights?: Info): Info {
  if (activation === 'prelu') return ops.call('Prelu', { x, alpha: preluWeights! });
  const act = ACTIVATIONS[activation];
  if (act === undefined) throw new Error(`_FusedMatMul: unknown activation '${activation}'`);
  if (act === null) return x;
  return ops.call(act, { x }, activation === 'leakyrelu' ? { alpha: leakyreluAlpha ?? 0.2 } : {});
}

/**
 * Columns [from, N) of C (+)= A B in plain loops, with the module's float32 arithmetic and order (each
 * product rounded, then each sum; or one rounding per multiply-add with FMA), so that an entry here equals
 * the entry the SIMD path would give (with FMA, up to a rare double rounding): `x x^T` stays symmetric.
 */
function tailColumns(heap: Float32Array, a: number, b: number, c: number, M: number, N: number, K: number, from: number, accumulate: boolean, fma: boolean): void {
  const f32 = Math.fround;
  for (let i = 0; i < M; i++) {
    for (let j = from; j < N; j++) {
      let s = accumulate ? heap[c + i * N + j] : 0;
      if (fma) for (let k = 0; k < K; k++) s = f32(s + heap[a + i * K + k] * heap[b + k * N + j]);
      else for (let k = 0; k < K; k++) s = f32(s + f32(heap[a + i * K + k] * heap[b + k * N + j]));
      heap[c + i * N + j] = s;
    }
  }
}
