/**
 * A few helpers for writing small WebAssembly modules as bytes (no toolchain): LEB128 numbers, sections,
 * the instructions akin's hand-written kernels use, and binding a module to the wasm backend's memory.
 */
import type * as tf from '@tensorflow/tfjs';

/** unsigned LEB128 */
export function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** signed LEB128 (i32 constants) */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

export const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
export const name = (s: string): number[] => [...leb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

export const localGet = (i: number): number[] => [0x20, ...leb(i)];
export const localSet = (i: number): number[] => [0x21, ...leb(i)];
export const localTee = (i: number): number[] => [0x22, ...leb(i)];
export const i32Const = (n: number): number[] => [0x41, ...sleb(n)];
export const simd = (op: number): number[] => [0xfd, ...leb(op)];
/** `v128.load` / `v128.store` at a constant byte offset (alignment hint 16). */
export const v128Load = (offset = 0): number[] => [...simd(0x00), 0x04, ...leb(offset)];
export const v128Store = (offset = 0): number[] => [...simd(0x0b), 0x04, ...leb(offset)];

/** i32 arithmetic and comparison, and the control flow of a counted loop (`loop ... br_if 0 end`). */
export const I32_ADD = 0x6a, I32_SUB = 0x6b, I32_MUL = 0x6c, I32_SHL = 0x74, I32_LT_U = 0x49;
export const LOOP = [0x03, 0x40], END = [0x0b], BR_IF0 = [0x0d, 0x00];
/** `v128.const 0` */
export const V128_ZERO = [...simd(0x0c), ...new Array<number>(16).fill(0)];

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

export const F64 = 0x7c;

/**
 * A module that imports the memory `env.memory` and exports `funcs`, each given as `[name, params,
 * locals, code, results?]` (locals as `[count, type]` runs; no results unless given).
 */
export function moduleBytes(shared: boolean, funcs: [string, number[], [number, number][], number[], number[]?][]): Uint8Array<ArrayBuffer> {
  const types = funcs.map(([, params, , , results = []]) => [0x60, ...leb(params.length), ...params, ...leb(results.length), ...results]);
  const bodies = funcs.map(([, , locals, code]) => {
    const fn = [...leb(locals.length), ...locals.flatMap(([n, t]) => [...leb(n), t]), ...code, 0x0b];
    return [...leb(fn.length), ...fn];
  });
  const limits = shared ? [0x03, 1, ...leb(65536)] : [0x00, 1];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [...leb(funcs.length), ...types.flat()]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, ...limits]),
    ...section(3, [...leb(funcs.length), ...funcs.map((_, i) => i)]),
    ...section(7, [...leb(funcs.length), ...funcs.flatMap(([n], i) => [...name(n), 0x00, ...leb(i)])]),
    ...section(10, [...leb(funcs.length), ...bodies.flat()]),
  ]);
}

interface EmscriptenLike {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
}

/** The wasm backend's memory, or undefined when it is not reachable. */
export function backendMemory(backend: tf.KernelBackend): WebAssembly.Memory | undefined {
  const module = (backend as unknown as { wasm?: EmscriptenLike }).wasm;
  return module?.wasmMemory ?? module?.asm?.memory;
}

/** Whether `memory` is shared (the threaded build of the wasm backend). */
export function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

/**
 * Instantiates the module `bytes(shared)` on the backend's memory and returns its exports, cached per
 * memory and `cache`; null when that fails (no SIMD, memory not reachable).
 */
export function instantiateOnHeap<T>(
  backend: tf.KernelBackend,
  cache: WeakMap<WebAssembly.Memory, T | null>,
  build: (shared: boolean, memory: WebAssembly.Memory) => T,
): T | null {
  const memory = backendMemory(backend);
  if (!memory) return null;
  if (cache.has(memory)) return cache.get(memory)!;
  let out: T | null = null;
  try {
    out = build(isShared(memory), memory);
  } catch {
    out = null;
  }
  cache.set(memory, out);
  return out;
}
