/**
 * The Adam update as a small WebAssembly SIMD function over the wasm backend's own memory: four lanes at a
 * time, each operation an IEEE float32 operation (as tfjs's elementwise kernels compute them), so the
 * result is bit for bit what tfjs's Adam kernel sequence gives, in one pass over the buffers. Built once
 * per memory from the bytes below (no toolchain: the module has one function and a loop).
 */
import type * as tf from '@tensorflow/tfjs';
import {
  BR_IF0, END, F32, I32, I32_ADD, I32_LT_U, I32_SHL, LOOP, V128, i32Const, instantiateOnHeap, localGet as get, localSet as set,
  localTee as tee, moduleBytes, simd,
} from './wasm-asm.js';

/** Float32 constants of one Adam step. */
export interface AdamConstants {
  b1: number; c1: number; b2: number; c2: number; eps: number; negLr: number;
  /** `1 - beta1^t` and `1 - beta2^t` as float32. */
  o1: number; o2: number;
}

type AdamSimd = (w: number, m: number, v: number, g: number, out: number, groups: number, ...c: number[]) => void;

const cache = new WeakMap<WebAssembly.Memory, AdamSimd | null>();

// Parameters: w, m, v, g, out (byte offsets), groups (of 4 floats), then b1 c1 b2 c2 o1 o2 eps negLr.
const [W, M, V, G, OUT, N] = [0, 1, 2, 3, 4, 5];
const [B1, C1, B2, C2, O1, O2, EPS, NLR] = [6, 7, 8, 9, 10, 11, 12, 13];
// Locals: the byte index (14), the splatted constants (param + 9: 15..22), then g, new m, new v.
const I = 14, SPLAT = 9, GK = 23, MK = 24, VK = 25;

const load = simd(0x00).concat([0x00, 0x00]);
const store = simd(0x0b).concat([0x00, 0x00]);
const [SPLAT_F32, SQRT, ADD, MUL, DIV] = [0x13, 0xe3, 0xe4, 0xe6, 0xe7].map(simd);
const at = (base: number): number[] => [...get(base), ...get(I), I32_ADD]; // base + i

function code(): number[] {
  const code: number[] = [];
  for (let p = B1; p <= NLR; p++) code.push(...get(p), ...SPLAT_F32, ...set(p + SPLAT));
  code.push(...get(N), ...i32Const(4), I32_SHL, ...set(N)); // n = groups * 16 bytes
  code.push(0x02, 0x40, ...get(N), 0x45, 0x0d, 0); // block; if n == 0 break
  code.push(...LOOP);
  code.push(...at(G), ...load, ...set(GK));
  // m = m * b1 + g * c1
  code.push(...at(M), ...at(M), ...load, ...get(B1 + SPLAT), ...MUL, ...get(GK), ...get(C1 + SPLAT), ...MUL, ...ADD, ...tee(MK), ...store);
  // v = v * b2 + (g * g) * c2
  code.push(...at(V), ...at(V), ...load, ...get(B2 + SPLAT), ...MUL, ...get(GK), ...get(GK), ...MUL, ...get(C2 + SPLAT), ...MUL, ...ADD, ...tee(VK), ...store);
  // out = (m / o1) / (sqrt(v / o2) + eps) * -lr + w
  code.push(...at(OUT), ...get(MK), ...get(O1 + SPLAT), ...DIV, ...get(VK), ...get(O2 + SPLAT), ...DIV, ...SQRT, ...get(EPS + SPLAT), ...ADD, ...DIV);
  code.push(...get(NLR + SPLAT), ...MUL, ...at(W), ...load, ...ADD, ...store);
  code.push(...get(I), ...i32Const(16), I32_ADD, ...tee(I), ...get(N), I32_LT_U, ...BR_IF0); // i += 16; continue while i < n
  code.push(...END, ...END); // end loop, end block
  return code;
}

/**
 * The SIMD Adam function bound to the wasm backend's memory, or null when it cannot be built there (no
 * SIMD, or the memory is not reachable): callers then use {@link adamScalar}.
 */
export function adamSimd(backend: tf.KernelBackend): AdamSimd | null {
  return instantiateOnHeap(backend, cache, (shared, memory) => {
    const params = [...new Array<number>(6).fill(I32), ...new Array<number>(8).fill(F32)];
    const bytes = moduleBytes(shared, [['adam', params, [[1, I32], [11, V128]], code()]]);
    return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.adam as AdamSimd;
  });
}

const f32 = Math.fround;

/** The same update in JavaScript, elements [from, to), rounding to float32 after each operation. */
export function adamScalar(w: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, out: Float32Array, c: AdamConstants, from = 0, to = w.length): void {
  const { b1, c1, b2, c2, eps, negLr, o1, o2 } = c;
  for (let k = from; k < to; k++) {
    const gk = g[k];
    const mk = f32(f32(m[k] * b1) + f32(gk * c1));
    const vk = f32(f32(v[k] * b2) + f32(f32(gk * gk) * c2));
    m[k] = mk;
    v[k] = vk;
    const den = f32(f32(Math.sqrt(f32(vk / o2))) + eps);
    out[k] = f32(f32(f32(f32(mk / o1) / den) * negLr) + w[k]);
  }
}

/** One Adam step over a variable's buffers on the heap: SIMD for groups of four, JavaScript for the rest. */
export function adamUpdate(simdFn: AdamSimd | null, w: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, out: Float32Array, c: AdamConstants): void {
  const groups = simdFn ? w.length >>> 2 : 0;
  if (groups > 0) {
    simdFn!(w.byteOffset, m.byteOffset, v.byteOffset, g.byteOffset, out.byteOffset, groups, c.b1, c.c1, c.b2, c.c2, c.o1, c.o2, c.eps, c.negLr);
  }
  adamScalar(w, m, v, g, out, c, groups << 2, w.length);
}
