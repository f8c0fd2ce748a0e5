import * as tf from '@tensorflow/tfjs';
import { registerWasmKernel, withOps, type Info, type WasmOps } from './wasm-ops.js';

type Conv2DInfo = tf.backend_util.Conv2DInfo;

/**
 * Batch rows handled per step by the filter gradients, chosen so that the patch matrix of one step
 * holds at most this many floats (64 MiB).
 */
const PATCH_FLOATS = 1 << 24;

/**
 * The input values each filter tap sees: `[n, outHeight, outWidth, taps * channels]`, taps in
 * row-major (filter row, filter column) order, channels innermost. `x` is NHWC.
 */
function patches(ops: WasmOps, x: Info, c: Conv2DInfo): Info {
  const [n, , , ch] = x.shape;
  const { top, bottom, left, right } = c.padInfo;
  const padded = top > 0 || bottom > 0 || left > 0 || right > 0
    ? ops.call('PadV2', { x }, {
      paddings: [[0, 0], [Math.max(top, 0), Math.max(bottom, 0)], [Math.max(left, 0), Math.max(right, 0)], [0, 0]],
      constantValue: 0,
    })
    : x;
  const taps: Info[] = [];
  for (let i = 0; i < c.filterHeight; i++) {
    for (let j = 0; j < c.filterWidth; j++) {
      const r0 = i * c.dilationHeight;
      const c0 = j * c.dilationWidth;
      taps.push(ops.call('StridedSlice', { x: padded }, {
        begin: [0, r0, c0, 0],
        end: [n, r0 + (c.outHeight - 1) * c.strideHeight + 1, c0 + (c.outWidth - 1) * c.strideWidth + 1, ch],
        strides: [1, c.strideHeight, c.strideWidth, 1],
        beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
      }));
    }
  }
  return taps.length === 1 ? taps[0] : ops.call('Concat', taps, { axis: 3 });
}

/** Calls `step(begin, size)` over batch chunks of at most `rows` and sums the results. */
function sumOverBatch(ops: WasmOps, batch: number, rows: number, step: (begin: number, size: number) => Info): Info {
  let total: Info | null = null;
  for (let b = 0; b < batch; b += rows) {
    const part = step(b, Math.min(rows, batch - b));
    total = total ? ops.add(total, part) : part;
  }
  return total!;
}

function batchSlice(ops: WasmOps, x: Info, begin: number, size: number): Info {
  if (begin === 0 && size === x.shape[0]) return x;
  return ops.call('Slice', { x }, { begin: [begin, 0, 0, 0], size: [size, -1, -1, -1] });
}

function chunkRows(c: Conv2DInfo, perTap: number): number {
  const perRow = c.outHeight * c.outWidth * c.filterHeight * c.filterWidth * perTap;
  return Math.max(1, Math.floor(PATCH_FLOATS / Math.max(1, perRow)));
}

/**
 * `Conv2DBackpropFilter` for wasm. Per batch chunk, the transposed patch matrix `[taps * in, m]` is
 * written straight from the input on the heap (the wasm Transpose/Slice/Concat kernels move data an
 * order of magnitude slower than a plain loop), then one XNNPACK matmul with `dy` `[m, out]` gives the
 * gradient of every tap at once, already in filter layout `[h, w, in, out]`. Dilations are 1 (as in
 * every tfjs backend); NCHW inputs are transposed to NHWC.
 */
function conv2DBackpropFilter(args: Parameters<tf.KernelConfig['kernelFunc']>[0]): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const a = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const format = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
  return withOps(args.backend, (ops) => {
    const xh = format === 'channelsLast' ? x : ops.transpose(x, [0, 2, 3, 1]);
    const dyh = format === 'channelsLast' ? dy : ops.transpose(dy, [0, 2, 3, 1]);
    const c = tf.backend_util.computeConv2DInfo(
      xh.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
    const taps = c.filterHeight * c.filterWidth;
    const g = sumOverBatch(ops, c.batchSize, chunkRows(c, c.inChannels), (b, size) => {
      const m = size * c.outHeight * c.outWidth;
      const pt = ops.empty([1, taps * c.inChannels, m]);
      fillPatchesTransposed(ops.heap(xh), ops.heap(pt), c, b, size);
      const d = ops.reshape(batchSlice(ops, dyh, b, size), [1, m, c.outChannels]);
      return ops.matMul(pt, d);
    });
    return ops.reshape(g, [...a.filterShape]);
  });
}

/**
 * Writes `out[(tap * in + ch) * m + row]` = the input value that filter tap `tap` meets at output
 * position `row` (batch rows `b0 .. b0 + size - 1`, row-major over (batch, out row, out column)), 0 in
 * the padding. Convolutions with stride 1 whose output is as wide as the input ('same' padding) take
 * {@link fillPatchesRuns}; the rest take the element-wise loop of {@link fillPatchesStrided}.
 */
function fillPatchesTransposed(x: ArrayLike<number>, out: Heap, c: Conv2DInfo, b0: number, size: number): void {
  if (c.strideHeight === 1 && c.strideWidth === 1 && c.dilationHeight === 1 && c.dilationWidth === 1 && c.outWidth === c.inWidth) {
    fillPatchesRuns(x, out, c, b0, size);
  } else {
    fillPatchesStrided(x, out, c, b0, size);
  }
}

type Heap = Float32Array | Int32Array | Uint8Array;

/** Largest channel-major copy (floats) kept between calls by {@link fillPatchesRuns}. */
const KEEP_PLANES = 1 << 22;
let planesScratch = new Float32Array(0);

/**
 * {@link fillPatchesTransposed} for stride 1 and `outWidth === inWidth`. The input is first copied
 * channel-major (`[in, size, h, w]`, with a guard band either side). Then, for one tap, channel and
 * batch row, the output rows that meet the input are consecutive input rows shifted by the tap's
 * column offset, so they are one contiguous run: one `set` per (tap, channel, batch row), after which
 * the columns that fall in the left/right padding (they picked up values of the neighbouring row, or
 * of the guard band) are zeroed, and the rows that fall in the top/bottom padding are filled with 0.
 */
function fillPatchesRuns(x: ArrayLike<number>, out: Heap, c: Conv2DInfo, b0: number, size: number): void {
  const { inHeight: h, inWidth: w, inChannels: ch, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = c;
  const top = c.padInfo.top;
  const left = c.padInfo.left;
  const hw = h * w;
  const plane = size * hw;
  const guard = w + fw;
  const need = plane * ch + 2 * guard;
  let xt = planesScratch;
  if (xt.length < need) {
    xt = new Float32Array(need);
    if (need <= KEEP_PLANES) planesScratch = xt;
  }
  const base = b0 * hw * ch;
  for (let k = 0; k < ch; k++) {
    const o = guard + k * plane;
    for (let p = 0; p < plane; p++) xt[o + p] = x[base + p * ch + k];
  }
  const m = size * oh * ow;
  for (let i = 0; i < fh; i++) {
    const dr = i - top;
    const rlo = Math.min(oh, Math.max(0, -dr));
    const rhi = Math.max(rlo, Math.min(oh, h - dr));
    for (let j = 0; j < fw; j++) {
      const dc = j - left;
      const lo = Math.min(ow, Math.max(0, -dc));
      const hi = Math.max(lo, Math.min(ow, w - dc));
      const tap = i * fw + j;
      for (let k = 0; k < ch; k++) {
        let o = (tap * ch + k) * m;
        const kb = guard + k * plane + (rlo + dr) * w + dc;
        for (let b = 0; b < size; b++) {
          if (rlo > 0) out.fill(0, o, o + rlo * ow);
          if (rhi > rlo) {
            const from = kb + b * hw;
            out.set(xt.subarray(from, from + (rhi - rlo) * w), o + rlo * ow);
            if (lo > 0 || hi < ow) {
              for (let q = o + rlo * ow; q < o + rhi * ow; q += ow) {
                for (let yc = 0; yc < lo; yc++) out[q + yc] = 0;
                for (let yc = hi; yc < ow; yc++) out[q + yc] = 0;
              }
            }
          }
          if (rhi < oh) out.fill(0, o + rhi * ow, o + oh * ow);
          o += oh * ow;
        }
      }
    }
  }
}

/** {@link fillPatchesTransposed} element by element (any stride and output size). */
function fillPatchesStrided(x: ArrayLike<number>, out: Heap, c: Conv2DInfo, b0: number, size: number): void {
  const { inHeight: h, inWidth: w, inChannels: ch, outHeight: oh, outWidth: ow } = c;
  const m = size * oh * ow;
  for (let i = 0; i < c.filterHeight; i++) {
    for (let j = 0; j < c.filterWidth; j++) {
      const tap = i * c.filterWidth + j;
      for (let k = 0; k < ch; k++) {
        let o = (tap * ch + k) * m;
        for (let b = b0; b < b0 + size; b++) {
          for (let yr = 0; yr < oh; yr++) {
            const r = yr * c.strideHeight + i * c.dilationHeight - c.padInfo.top;
            if (r < 0 || r >= h) {
              out.fill(0, o, o + ow);
              o += ow;
              continue;
            }
            const rowBase = (b * h + r) * w;
            for (let yc = 0; yc < ow; yc++) {
              const col = yc * c.strideWidth + j * c.dilationWidth - c.padInfo.left;
              out[o++] = col < 0 || col >= w ? 0 : x[(rowBase + col) * ch + k];
            }
          }
        }
      }
    }
  }
}

/**
 * `Conv2DBackpropInput` for wasm: the stock kernel is a plain single-threaded loop; the input gradient
 * of a conv is itself a conv (XNNPACK, threaded) of `dy` (dilated by the strides, zeros written on the
 * heap) with the filter flipped in space and its channel axes swapped. Cases whose padding would have
 * to crop (explicit pads wider than the filter) keep the stock kernel.
 */
function makeConv2DBackpropInput(stock: tf.KernelConfig['kernelFunc'] | null): tf.KernelConfig['kernelFunc'] {
  return (args) => {
    const { dy, filter } = args.inputs as { dy: Info; filter: Info };
    const a = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    const format = tf.backend_util.convertConv2DDataFormat(a.dataFormat);
    const inShape = (format === 'channelsLast' ? a.inputShape : [0, 2, 3, 1].map((d) => a.inputShape[d])) as [number, number, number, number];
    const c = tf.backend_util.computeConv2DInfo(
      inShape, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
    const { filterHeight: fh, filterWidth: fw } = c;
    const dh = (c.outHeight - 1) * c.strideHeight + 1;
    const dw = (c.outWidth - 1) * c.strideWidth + 1;
    const pads = [fh - 1 - c.padInfo.top, 0, fw - 1 - c.padInfo.left, 0];
    pads[1] = c.inHeight - dh - pads[0] + fh - 1;
    pads[3] = c.inWidth - dw - pads[2] + fw - 1;
    if (pads.some((p) => p < 0)) {
      if (!stock) throw new Error('Conv2DBackpropInput: padding not supported on wasm');
      return stock(args);
    }
    return withOps(args.backend, (ops) => {
      const dyh = format === 'channelsLast' ? dy : ops.transpose(dy, [0, 2, 3, 1]);
      const inC = c.inChannels;
      const outC = c.outChannels;
      const w = ops.backend.readSync(filter.dataId) as Float32Array;
      const flipped = new Float32Array(w.length);
      for (let i = 0; i < fh; i++) {
        for (let j = 0; j < fw; j++) {
          const src = ((fh - 1 - i) * fw + (fw - 1 - j)) * inC * outC;
          const dst = (i * fw + j) * outC * inC;
          for (let k = 0; k < inC; k++) for (let o = 0; o < outC; o++) flipped[dst + o * inC + k] = w[src + k * outC + o];
        }
      }
      const wf = ops.tensor(flipped, [fh, fw, outC, inC], 'float32');
      let src = dyh;
      if (c.strideHeight > 1 || c.strideWidth > 1) {
        src = ops.empty([c.batchSize, dh, dw, outC]);
        const to = ops.heap(src);
        const from = ops.heap(dyh);
        to.fill(0);
        for (let b = 0; b < c.batchSize; b++) {
          for (let r = 0; r < c.outHeight; r++) {
            for (let q = 0; q < c.outWidth; q++) {
              const s0 = ((b * c.outHeight + r) * c.outWidth + q) * outC;
              to.set(from.subarray(s0, s0 + outC), ((b * dh + r * c.strideHeight) * dw + q * c.strideWidth) * outC);
            }
          }
        }
      }
      const dx = ops.call('Conv2D', { x: src, filter: wf }, {
        strides: [1, 1], dilations: [1, 1], dataFormat: 'NHWC',
        pad: [[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]],
      });
      return format === 'channelsLast' ? dx : ops.transpose(dx, [0, 3, 1, 2]);
    });
  };
}

/**
 * `DepthwiseConv2dNativeBackpropFilter` for wasm: per batch chunk, the patches `[m, taps, in, 1]`
 * times `dy` `[m, 1, in, multiplier]`, summed over m. Supports strides, dilations and every padding.
 */
function depthwiseBackpropFilter(args: Parameters<tf.KernelConfig['kernelFunc']>[0]): Info {
  const { x, dy } = args.inputs as { x: Info; dy: Info };
  const a = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  return withOps(args.backend, (ops) => {
    const c = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], a.filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode, true);
    const taps = c.filterHeight * c.filterWidth;
    const mult = c.outChannels / c.inChannels;
    const g = sumOverBatch(ops, c.batchSize, chunkRows(c, c.inChannels * mult), (b, size) => {
      const m = size * c.outHeight * c.outWidth;
      const p = ops.reshape(patches(ops, batchSlice(ops, x, b, size), c), [m, taps, c.inChannels, 1]);
      const d = ops.reshape(batchSlice(ops, dy, b, size), [m, 1, c.inChannels, mult]);
      return ops.call('Sum', { x: ops.call('Multiply', { a: p, b: d }) }, { axis: [0], keepDims: false });
    });
    return ops.reshape(g, [...a.filterShape]);
  });
}

/**
 * `DepthwiseConv2dNativeBackpropInput` for wasm: a depthwise conv is a regular conv whose filter is
 * block-diagonal over channels (input channel k feeds only outputs k*multiplier ... k*multiplier +
 * multiplier - 1). The filter is expanded that way (with its dilation written out as zero taps) and
 * the wasm `Conv2DBackpropInput` kernel does the rest.
 */
function depthwiseBackpropInput(args: Parameters<tf.KernelConfig['kernelFunc']>[0]): Info {
  const { dy, filter } = args.inputs as { dy: Info; filter: Info };
  const a = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  return withOps(args.backend, (ops) => {
    const c = tf.backend_util.computeConv2DInfo(
      a.inputShape, filter.shape as [number, number, number, number], a.strides, a.dilations, a.pad, a.dimRoundingMode, true);
    const [fh, fw, inC, mult] = filter.shape;
    const eh = c.effectiveFilterHeight;
    const ew = c.effectiveFilterWidth;
    const outC = inC * mult;
    const w = ops.backend.readSync(filter.dataId) as Float32Array;
    const full = new Float32Array(eh * ew * inC * outC);
    for (let i = 0; i < fh; i++) {
      for (let j = 0; j < fw; j++) {
        const dst = ((i * c.dilationHeight) * ew + j * c.dilationWidth) * inC * outC;
        const src = (i * fw + j) * inC * mult;
        for (let k = 0; k < inC; k++) {
          for (let q = 0; q < mult; q++) full[dst + k * outC + k * mult + q] = w[src + k * mult + q];
        }
      }
    }
    const expanded = ops.tensor(full, [eh, ew, inC, outC], 'float32');
    return ops.call('Conv2DBackpropInput', { dy, filter: expanded }, {
      strides: a.strides, pad: a.pad, dataFormat: 'NHWC', dimRoundingMode: a.dimRoundingMode, inputShape: a.inputShape,
    });
  });
}

/** Registers the convolution gradients the wasm backend lacks. */
export function registerWasmConvGrads(): void {
  const stock = tf.getKernel('Conv2DBackpropInput', 'wasm');
  registerWasmKernel('Conv2DBackpropInput', makeConv2DBackpropInput(stock ? stock.kernelFunc : null));
  registerWasmKernel('Conv2DBackpropFilter', conv2DBackpropFilter);
  registerWasmKernel('DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilter);
  registerWasmKernel('DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInput);
}
