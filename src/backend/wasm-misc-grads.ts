import * as tf from '@tensorflow/tfjs';
import { registerWasmKernel, withOps, type Info } from './wasm-ops.js';

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
    routeToMaxima(ops.heap(input), ops.heap(dy), ops.heap(dx), c);
    return dx;
  });
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
  if (fh === 2 && fw === 2 && sh === 2 && sw === 2 && dh === 1 && dw === 1 && top === 0 && left === 0 && 2 * oh <= h && 2 * ow <= w) {
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
