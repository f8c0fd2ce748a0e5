import * as tf from '@tensorflow/tfjs';
import { registerWasmKernel, withOps, type Info } from './wasm-ops.js';

type KernelArgs = Parameters<tf.KernelConfig['kernelFunc']>[0];

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
    const xs = ops.heap(input);
    const gs = ops.heap(dy);
    const out = ops.heap(dx);
    out.fill(0);
    const { inHeight: h, inWidth: w, inChannels: ch, outHeight: oh, outWidth: ow } = c;
    const best = new Float32Array(ch);
    const arg = new Int32Array(ch);
    for (let b = 0; b < c.batchSize; b++) {
      for (let yr = 0; yr < oh; yr++) {
        const r0 = yr * c.strideHeight - c.padInfo.top;
        for (let yc = 0; yc < ow; yc++) {
          const c0 = yc * c.strideWidth - c.padInfo.left;
          best.fill(-Infinity);
          arg.fill(-1);
          for (let i = 0; i < c.effectiveFilterHeight; i += c.dilationHeight) {
            const r = r0 + i;
            if (r < 0 || r >= h) continue;
            for (let j = 0; j < c.effectiveFilterWidth; j += c.dilationWidth) {
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
    return dx;
  });
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
