import * as tf from '@tensorflow/tfjs';
import { registerWasmKernel, withOps, type Info, type WasmOps } from './wasm-ops.js';
import {
  BR_IF0, END, I32, I32_ADD as ADD, I32_LT_U as LT_U, I32_MUL as MUL, I32_SUB as SUB, LOOP, V128, i32Const, instantiateOnHeap,
  localGet as get, localSet as set, localTee as tee, moduleBytes, simd, v128Load, v128Store,
} from './wasm-asm.js';

type KernelArgs = Parameters<tf.KernelConfig['kernelFunc']>[0];
type Heap = tf.backend_util.TypedArray;

/**
 * `MaxPoolGrad` for wasm. The wasm kernel starts every window's running maximum at the smallest
 * positive float, so a window whose values are all <= 0 passes no gradient at all (and its forward
 * `MaxPoolWithArgmax` reports that float as the maximum). This one routes each output's gradient to
 * the first maximum of its window in row-major order, as the cpu and webgl backends do; NaN never
 * wins; a window entirely in the padding passes nothing. Works on the heap directly (NHWC).
 */
function maxPoolGrad(args: KernelArgs): Info {
  const { dy, input } = args.inputs as { dy: Info; input: Info };
  const a = args.attrs as unknown as tf.MaxPoolGradAttrs;
  return withOps(args.backend, (ops) => {
    const c = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const dx = ops.empty([...input.shape]);
    if (!routeToMaxima2x2Simd(ops, input, dy, dx, c)) routeToMaxima(ops.heap(input), ops.heap(dy), ops.heap(dx), c);
    return dx;
  });
}

/** 2 x 2 windows with stride 2, no padding before them, inside the input (the common pooling layer). */
function isPool2x2(c: tf.backend_util.Conv2DInfo): boolean {
  return c.effectiveFilterHeight === 2 && c.effectiveFilterWidth === 2 && c.strideHeight === 2 && c.strideWidth === 2 &&
    c.dilationHeight === 1 && c.dilationWidth === 1 && c.padInfo.top === 0 && c.padInfo.left === 0 &&
    2 * c.outHeight <= c.inHeight && 2 * c.outWidth <= c.inWidth;
}

/**
 * The loops of {@link maxPoolGrad}, in a function of their own so that V8 optimises them once (not per
 * kernel call). `out` is zeroed here.
 */
function routeToMaxima(xs: Heap, gs: Heap, out: Heap, c: tf.backend_util.Conv2DInfo): void {
  out.fill(0);
  const { inHeight: h, inWidth: w, inChannels: ch, outHeight: oh, outWidth: ow } = c;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = c;
  const { effectiveFilterHeight: fh, effectiveFilterWidth: fw } = c;
  const top = c.padInfo.top, left = c.padInfo.left;
  if (isPool2x2(c)) {
    routeToMaxima2x2(xs, gs, out, c.batchSize, h, w, ch, oh, ow);
    return;
  }
  const best = new Float32Array(ch);
  const arg = new Int32Array(ch);
  for (let b = 0; b < c.batchSize; b++) {
    for (let yr = 0; yr < oh; yr++) {
      const r0 = yr * sh - top;
      for (let yc = 0; yc < ow; yc++) {
        const c0 = yc * sw - left;
        best.fill(-Infinity);
        arg.fill(-1);
        for (let i = 0; i < fh; i += dh) {
          const r = r0 + i;
          if (r < 0 || r >= h) continue;
          for (let j = 0; j < fw; j += dw) {
            const col = c0 + j;
            if (col < 0 || col >= w) continue;
            const base = ((b * h + r) * w + col) * ch;
            for (let k = 0; k < ch; k++) {
              const v = xs[base + k];
              if (v > best[k]) {
                best[k] = v;
                arg[k] = base + k;
              }
            }
          }
        }
        const g = ((b * oh + yr) * ow + yc) * ch;
        for (let k = 0; k < ch; k++) if (arg[k] >= 0) out[arg[k]] += gs[g + k];
      }
    }
  }
}

/** {@link routeToMaxima} for 2 x 2 windows with stride 2 inside the input (the common pooling layer). */
function routeToMaxima2x2(xs: Heap, gs: Heap, out: Heap, batch: number, h: number, w: number, ch: number, oh: number, ow: number): void {
  const down = w * ch;
  for (let b = 0; b < batch; b++) {
    for (let yr = 0; yr < oh; yr++) {
      for (let yc = 0; yc < ow; yc++) {
        const p0 = ((b * h + 2 * yr) * w + 2 * yc) * ch;
        const g = ((b * oh + yr) * ow + yc) * ch;
        for (let k = 0; k < ch; k++) {
          // First maximum in row-major order; NaN never wins (v > best is false).
          let at = -1;
          let best = -Infinity;
          let v = xs[p0 + k];
          if (v > best) { best = v; at = p0 + k; }
          v = xs[p0 + ch + k];
          if (v > best) { best = v; at = p0 + ch + k; }
          v = xs[p0 + down + k];
          if (v > best) { best = v; at = p0 + down + k; }
          v = xs[p0 + down + ch + k];
          if (v > best) at = p0 + down + ch + k;
          if (at >= 0) out[at] += gs[g + k];
        }
      }
    }
  }
}

type Pool2x2 = (x: number, g: number, out: number, batch: number, h: number, w: number, ch: number, oh: number, ow: number) => void;
const poolCache = new WeakMap<WebAssembly.Memory, Pool2x2 | null>();

/**
 * {@link routeToMaxima2x2} as a WebAssembly SIMD function, four channels at a time (`ch` a multiple of
 * 4; byte offsets). Per window: `c0 = v0 > -inf`, the running maximum `m`, `ci = vi > m`; the gradient
 * goes to the last `i` with `ci` set, which is the first maximum in row-major order; NaN never wins.
 * Every input position of a window is written (the gradient or 0); the caller zeroes the rest.
 */
function pool2x2Code(): number[] {
  const [X, G, OUT, B, H, W, CH, OH, OW] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [BI, YR, YC, K, P0, GP, ROWB, CHB] = [9, 10, 11, 12, 13, 14, 15, 16];
  const [V0, V1, V2, V3, M, C0, C1, C2, C3, GV, NEG] = [17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27];
  const [GT, AND, ANDNOT, SELECT] = [simd(0x44), simd(0x4e), simd(0x4f), simd(0x52)];
  const c: number[] = [];
  // NEG = splat(-inf), ROWB = w * ch * 4 (one input row), CHB = ch * 4
  c.push(...i32Const(0xff800000 | 0), ...simd(0x11), ...set(NEG)); // i32x4.splat of -inf's bits
  c.push(...get(W), ...get(CH), MUL, ...i32Const(4), MUL, ...set(ROWB), ...get(CH), ...i32Const(4), MUL, ...set(CHB));
  c.push(...get(G), ...set(GP), ...i32Const(0), ...set(BI), ...LOOP);
  c.push(...i32Const(0), ...set(YR), ...LOOP);
  c.push(...i32Const(0), ...set(YC), ...LOOP);
  // p0 = x + ((b * h + 2 yr) * w + 2 yc) * ch * 4
  c.push(...get(BI), ...get(H), MUL, ...get(YR), ...i32Const(2), MUL, ADD, ...get(W), MUL, ...get(YC), ...i32Const(2), MUL, ADD, ...get(CHB), MUL, ...set(P0));
  c.push(...i32Const(0), ...set(K), ...LOOP);
  const at = (row: boolean, col: boolean): number[] => [
    ...get(X), ...get(P0), ADD, ...get(K), ADD, ...(row ? [...get(ROWB), ADD] : []), ...(col ? [...get(CHB), ADD] : []),
  ];
  c.push(...at(false, false), ...v128Load(), ...set(V0), ...at(false, true), ...v128Load(), ...set(V1));
  c.push(...at(true, false), ...v128Load(), ...set(V2), ...at(true, true), ...v128Load(), ...set(V3));
  c.push(...get(GP), ...get(K), ADD, ...v128Load(), ...set(GV));
  c.push(...get(V0), ...get(NEG), ...GT, ...set(C0), ...get(V0), ...get(NEG), ...get(C0), ...SELECT, ...set(M));
  c.push(...get(V1), ...get(M), ...GT, ...set(C1), ...get(V1), ...get(M), ...get(C1), ...SELECT, ...set(M));
  c.push(...get(V2), ...get(M), ...GT, ...set(C2), ...get(V2), ...get(M), ...get(C2), ...SELECT, ...set(M));
  c.push(...get(V3), ...get(M), ...GT, ...set(C3));
  const store = (row: boolean, col: boolean, mask: number[]): void => {
    c.push(...at(row, col), ...get(OUT), ...get(X), SUB, ADD, ...get(GV), ...mask, ...AND, ...v128Store());
  };
  store(true, true, get(C3));
  store(true, false, [...get(C2), ...get(C3), ...ANDNOT]);
  store(false, true, [...get(C1), ...get(C2), ...ANDNOT, ...get(C3), ...ANDNOT]);
  store(false, false, [...get(C0), ...get(C1), ...ANDNOT, ...get(C2), ...ANDNOT, ...get(C3), ...ANDNOT]);
  c.push(...get(K), ...i32Const(16), ADD, ...tee(K), ...get(CHB), LT_U, ...BR_IF0, ...END);
  c.push(...get(GP), ...get(CHB), ADD, ...set(GP));
  c.push(...get(YC), ...i32Const(1), ADD, ...tee(YC), ...get(OW), LT_U, ...BR_IF0, ...END);
  c.push(...get(YR), ...i32Const(1), ADD, ...tee(YR), ...get(OH), LT_U, ...BR_IF0, ...END);
  c.push(...get(BI), ...i32Const(1), ADD, ...tee(BI), ...get(B), LT_U, ...BR_IF0, ...END);
  return c;
}

/** The 2 x 2 / stride 2 gradient through {@link pool2x2Code}; false when it does not apply. */
function routeToMaxima2x2Simd(ops: WasmOps, input: Info, dy: Info, dx: Info, c: tf.backend_util.Conv2DInfo): boolean {
  const { inHeight: h, inWidth: w, inChannels: ch, outHeight: oh, outWidth: ow, batchSize: batch } = c;
  if (!isPool2x2(c) || ch % 4 !== 0 || batch * oh * ow === 0 || input.dtype !== 'float32') return false;
  const f = instantiateOnHeap(ops.backend, poolCache, (shared, memory) => {
    const bytes = moduleBytes(shared, [['pool2x2', new Array<number>(9).fill(I32), [[8, I32], [11, V128]], pool2x2Code()]]);
    return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.pool2x2 as Pool2x2;
  });
  if (!f) return false;
  const xs = ops.heap(input), gs = ops.heap(dy), out = ops.heap(dx);
  if (2 * oh !== h || 2 * ow !== w) out.fill(0);
  f(xs.byteOffset, gs.byteOffset, out.byteOffset, batch, h, w, ch, oh, ow);
  return true;
}

/**
 * `UnsortedSegmentSum` for wasm (the gradient of `tf.gather`): out[s] = sum of the rows of `x` whose
 * segment id is s, built on the wasm `ScatterNd` kernel (which adds up repeated indices). Ids outside
 * [0, numSegments) are dropped, as in TensorFlow.
 */
function unsortedSegmentSum(args: KernelArgs): Info {
  const { x, segmentIds } = args.inputs as { x: Info; segmentIds: Info };
  const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
  return withOps(args.backend, (ops) => {
    const ids = Int32Array.from(ops.backend.readSync(segmentIds.dataId) as Int32Array);
    const rows = ids.length;
    const rest = x.shape.slice(segmentIds.shape.length);
    const inner = rest.reduce((p, q) => p * q, 1);
    let dropped = false;
    for (let i = 0; i < rows; i++) {
      if (ids[i] < 0 || ids[i] >= numSegments) {
        ids[i] = numSegments;
        dropped = true;
      }
    }
    if (rows === 0) return ops.call('Fill', {}, { shape: [numSegments, ...rest], value: 0, dtype: x.dtype });
    const outRows = dropped ? numSegments + 1 : numSegments;
    const indices = ops.tensor(ids, [rows, 1], 'int32');
    let out = ops.call('ScatterNd', { indices, updates: ops.reshape(x, [rows, inner]) }, { shape: [outRows, inner] });
    if (dropped) out = ops.call('Slice', { x: out }, { begin: [0, 0], size: [numSegments, inner] });
    return ops.reshape(out, [numSegments, ...rest]);
  });
}

/** Registers the corrected `MaxPoolGrad` and the missing `UnsortedSegmentSum` for wasm. */
export function registerWasmMiscGrads(): void {
  registerWasmKernel('MaxPoolGrad', maxPoolGrad);
  registerWasmKernel('UnsortedSegmentSum', unsortedSegmentSum);
}
