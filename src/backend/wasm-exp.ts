/**
 * Masked rows of `e^x` as WebAssembly SIMD functions over the wasm backend's memory, four values at a
 * time, for the JavaScript kernels whose time goes into `exp` (SupCon's rows). `e^x` in float32 from
 * the Cephes `expf` reduction and polynomial (x = k ln 2 + r, |r| <= ln 2 / 2; within ~1 ulp), with x
 * clamped to [-87, 88] so that lanes a mask drops never overflow. Masks are byte tensors (bool).
 */
import type * as tf from '@tensorflow/tfjs';
import {
  BR_IF0, END, F32, F64, I32, I32_ADD as ADD, I32_LT_U as LT_U, I32_SHL as SHL, LOOP, V128, V128_ZERO as ZERO, i32Const,
  instantiateOnHeap, localGet as get, localSet as set, localTee as tee, moduleBytes, simd, v128Load, v128Store,
} from './wasm-asm.js';

/** Exports of the module (byte offsets; `m` a multiple of 4). */
export interface ExpRows {
  /** `sum_j [k_j or p_j] e^(x_j - shift)` over `j < m`, each term float32, summed in float64. */
  sumExp(x: number, k: number, p: number, m: number, shift: number): number;
  /** `out_j = g ([k_j or p_j] c e^(x_j - shift) - p_j)` for `j < m`, in float32. */
  gradRow(x: number, k: number, p: number, out: number, m: number, shift: number, c: number, g: number): void;
}

const f32Const = (v: number): number[] => {
  const b = new Uint8Array(new Float32Array([v]).buffer);
  return [0x43, ...b];
};
const splat = (v: number): number[] => [...f32Const(v), ...simd(0x13)];
const [F_ADD, F_SUB, F_MUL, F_MIN, F_MAX, F_NEAREST] = [0xe4, 0xe5, 0xe6, 0xe8, 0xe9, 0x6a].map(simd);
const [I_ADD, I_SHL, I_NE, TRUNC_SAT, CONVERT_U] = [0xae, 0xab, 0x38, 0xf8, 0xfb].map(simd);
const [AND, OR] = [simd(0x4e), simd(0x50)];
const LOAD32_ZERO = [...simd(0x5c), 0x02, 0x00];
const WIDEN = [...simd(0x89), ...simd(0xa9)]; // u8 -> u16 -> u32, low lanes

/** Leaves `e^t` (f32x4) on the stack for `t` in local `T`, using local `K` as scratch. */
function expOf(T: number, K: number): number[] {
  const c: number[] = [];
  c.push(...get(T), ...splat(88), ...F_MIN, ...splat(-87), ...F_MAX, ...set(T));
  c.push(...get(T), ...splat(1.44269504088896341), ...F_MUL, ...F_NEAREST, ...set(K));
  // r = t - k * 0.693359375 + k * 2.12194440e-4
  c.push(...get(T), ...get(K), ...splat(0.693359375), ...F_MUL, ...F_SUB, ...get(K), ...splat(2.12194440e-4), ...F_MUL, ...F_ADD, ...set(T));
  // p = ((((( c6 r + c5) r + c4) r + c3) r + c2) r + c1) r^2 + r + 1
  c.push(...splat(1.9875691500e-4), ...get(T), ...F_MUL, ...splat(1.3981999507e-3), ...F_ADD);
  for (const coef of [8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1]) c.push(...get(T), ...F_MUL, ...splat(coef), ...F_ADD);
  c.push(...get(T), ...get(T), ...F_MUL, ...F_MUL, ...get(T), ...F_ADD, ...splat(1), ...F_ADD);
  // times 2^k: ((int k) + 127) << 23 as float bits
  c.push(...get(K), ...TRUNC_SAT, ...i32Const(127), ...simd(0x11), ...I_ADD, ...i32Const(23), ...I_SHL, ...F_MUL);
  return c;
}

/** The byte mask `[k_j or p_j]` of 4 lanes at byte offset local `J` as all-ones / zero i32 lanes. */
function keepMask(K: number, P: number, J: number): number[] {
  return [
    ...get(K), ...get(J), ADD, ...LOAD32_ZERO, ...get(P), ...get(J), ADD, ...LOAD32_ZERO, ...OR, ...WIDEN, ...ZERO, ...I_NE,
  ];
}

function sumExpCode(): number[] {
  const [X, K, P, M, SHIFT] = [0, 1, 2, 3, 4];
  const [J, T, KK, ACC0, ACC1, E, SH] = [5, 6, 7, 8, 9, 10, 11];
  const c: number[] = [];
  c.push(...ZERO, ...set(ACC0), ...ZERO, ...set(ACC1), ...get(SHIFT), ...simd(0x13), ...set(SH), ...i32Const(0), ...set(J));
  c.push(...LOOP);
  c.push(...get(X), ...get(J), ...i32Const(2), SHL, ADD, ...v128Load(), ...get(SH), ...F_SUB, ...set(T));
  c.push(...expOf(T, KK), ...keepMask(K, P, J), ...AND, ...tee(E));
  c.push(...simd(0x5f), ...get(ACC0), ...simd(0xf0), ...set(ACC0)); // f64x2.promote_low_f32x4; f64x2.add
  // high two lanes: shuffle them down, then promote
  c.push(...get(E), ...get(E), ...simd(0x0d), 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
  c.push(...simd(0x5f), ...get(ACC1), ...simd(0xf0), ...set(ACC1));
  c.push(...get(J), ...i32Const(4), ADD, ...tee(J), ...get(M), LT_U, ...BR_IF0, ...END);
  c.push(...get(ACC0), ...get(ACC1), ...simd(0xf0), ...tee(ACC0), ...simd(0x21), 0, ...get(ACC0), ...simd(0x21), 1, 0xa0 /* f64.add */);
  return c;
}

function gradRowCode(): number[] {
  const [X, K, P, OUT, M, SHIFT, C, G] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [J, T, KK, SH, CS, GS] = [8, 9, 10, 11, 12, 13];
  const c: number[] = [];
  c.push(...get(SHIFT), ...simd(0x13), ...set(SH), ...get(C), ...simd(0x13), ...set(CS), ...get(G), ...simd(0x13), ...set(GS));
  c.push(...i32Const(0), ...set(J), ...LOOP);
  c.push(...get(OUT), ...get(J), ...i32Const(2), SHL, ADD); // store address
  c.push(...get(X), ...get(J), ...i32Const(2), SHL, ADD, ...v128Load(), ...get(SH), ...F_SUB, ...set(T));
  c.push(...expOf(T, KK), ...get(CS), ...F_MUL, ...keepMask(K, P, J), ...AND);
  c.push(...get(P), ...get(J), ADD, ...LOAD32_ZERO, ...WIDEN, ...CONVERT_U, ...F_SUB, ...get(GS), ...F_MUL, ...v128Store());
  c.push(...get(J), ...i32Const(4), ADD, ...tee(J), ...get(M), LT_U, ...BR_IF0, ...END);
  return c;
}

const cache = new WeakMap<WebAssembly.Memory, ExpRows | null>();

/** The module bound to the backend's memory, or null where it cannot be built (then use JavaScript). */
export function expRows(backend: tf.KernelBackend): ExpRows | null {
  return instantiateOnHeap(backend, cache, (shared, memory) => {
    const bytes = moduleBytes(shared, [
      ['sumExp', [I32, I32, I32, I32, F32], [[1, I32], [6, V128]], sumExpCode(), [F64]],
      ['gradRow', [I32, I32, I32, I32, I32, F32, F32, F32], [[1, I32], [5, V128]], gradRowCode()],
    ]);
    return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as ExpRows;
  });
}
