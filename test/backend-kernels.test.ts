// The kernels akin adds to (or fixes in) the wasm backend, checked against the cpu backend's own kernels
// on random inputs, and against plain loops / linearity where the cpu kernels do not cover a case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { assertClose } from './helpers.js';
import { onBoth, size, values, wasm } from './backend-helpers.js';

const tf = akin.tf;
type T = akin.tf.Tensor;

/** Gradients of sum(op(x, w) * probe) with respect to x and w, as flat arrays. */
function grads(op: (x: T, w: T) => T, xShape: number[], wShape: number[], seed: number): () => number[][] {
  const xv = values(size(xShape), seed);
  const wv = values(size(wShape), seed + 1);
  return () => tf.tidy(() => {
    const x = tf.tensor(xv, xShape);
    const w = tf.tensor(wv, wShape);
    const y = op(x, w);
    const probe = tf.tensor(values(y.size, seed + 2), y.shape);
    const g = tf.grads((a: T, b: T) => tf.sum(tf.mul(op(a, b), probe)))([x, w]);
    return [Array.from(y.dataSync()), Array.from(g[0].dataSync()), Array.from(g[1].dataSync())];
  });
}

function assertSame(r: { wasm: number[][]; cpu: number[][] }, msg: string, atol = 1e-5, rtol = 1e-4): void {
  ['value', 'dx', 'dw'].slice(0, r.cpu.length).forEach((what, i) => assertClose(r.wasm[i], r.cpu[i], { atol, rtol, msg: `${msg} ${what}` }));
}

test('UnsortedSegmentSum on wasm matches cpu and plain loops: repeated, negative and too-large ids, 2-D ids', async () => {
  const cases: { x: number[]; ids: number[]; idShape: number[]; n: number }[] = [
    { x: [10, 6, 3], ids: [0, 2, 2, 5, 0, 1, 2, 2, 3, 0], idShape: [10], n: 6 },
    { x: [7, 4], ids: [3, -1, 0, 3, 9, 1, 3], idShape: [7], n: 4 },
    { x: [3, 4, 2], ids: [1, 0, 1, 1, 2, 0, 0, 1, 2, 2, 0, 1], idShape: [3, 4], n: 3 },
    { x: [0, 3], ids: [], idShape: [0], n: 2 },
  ];
  for (const [k, c] of cases.entries()) {
    const xv = values(size(c.x), 10 + k);
    const run = (): number[][] => tf.tidy(() => {
      const out = tf.engine().runKernel('UnsortedSegmentSum', { x: tf.tensor(xv, c.x), segmentIds: tf.tensor(c.ids, c.idShape, 'int32') }, { numSegments: c.n }) as T;
      assert.deepEqual(out.shape, [c.n, ...c.x.slice(c.idShape.length)]);
      return [Array.from(out.dataSync())];
    });
    const inner = size(c.x.slice(c.idShape.length));
    const want = new Array<number>(c.n * inner).fill(0);
    c.ids.forEach((s, i) => {
      if (s >= 0 && s < c.n) for (let j = 0; j < inner; j++) want[s * inner + j] += xv[i * inner + j];
    });
    if (c.idShape.length === 1) {
      const r = await onBoth(run);
      assertClose(r.wasm[0], r.cpu[0], { msg: `case ${k} vs cpu` });
    }
    await wasm();
    assertClose(run()[0], want, { msg: `case ${k} vs loops` });
  }
});

test('the gradient of tf.gather works on wasm and matches cpu (axis 0 and 1, repeated indices)', async () => {
  for (const axis of [0, 1]) {
    const idx = [2, 0, 2, 1, 2];
    const r = await onBoth(grads((x, w) => tf.mul(tf.gather(x, tf.tensor1d(idx, 'int32'), axis), tf.sum(w)), [3, 4, 2], [2], 20 + axis));
    assertSame(r, `gather axis ${axis}`);
  }
});

test('conv2d gradients on wasm match cpu (padding same/valid/explicit, strides)', async () => {
  const cases: { x: number[]; w: number[]; s: [number, number]; pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]] }[] = [
    { x: [2, 7, 6, 3], w: [3, 3, 3, 4], s: [1, 1], pad: 'same' },
    { x: [2, 7, 6, 3], w: [3, 2, 3, 4], s: [1, 1], pad: 'valid' },
    { x: [3, 9, 8, 2], w: [3, 3, 2, 5], s: [2, 2], pad: 'same' },
    { x: [2, 9, 7, 2], w: [2, 3, 2, 3], s: [2, 1], pad: 'valid' },
    { x: [1, 6, 6, 1], w: [1, 1, 1, 2], s: [2, 2], pad: 'valid' },
    { x: [2, 5, 6, 2], w: [3, 3, 2, 2], s: [1, 2], pad: [[0, 0], [2, 1], [0, 2], [0, 0]] },
  ];
  for (const [k, c] of cases.entries()) {
    const r = await onBoth(grads((x, w) => tf.conv2d(x as akin.tf.Tensor4D, w as akin.tf.Tensor4D, c.s, c.pad), c.x, c.w, 30 + k));
    assertSame(r, `conv2d case ${k}`);
  }
});

test('Conv2DBackpropFilter on wasm matches cpu for NCHW data', async () => {
  const xShape = [2, 3, 7, 6];
  const dyShape = [2, 4, 4, 3];
  const xv = values(size(xShape), 40);
  const dyv = values(size(dyShape), 41);
  const r = await onBoth(() => tf.tidy(() => {
    const out = tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(xv, xShape), dy: tf.tensor(dyv, dyShape) },
      { strides: [2, 2], pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 3, 4] }) as T;
    return [Array.from(out.dataSync())];
  }));
  assertClose(r.wasm[0], r.cpu[0], { msg: 'NCHW filter gradient' });
});

/** The filter gradient of a stride-1 NHWC conv in float64 loops: sum over b, output (r, q) of x * dy. */
function filterGradLoops(xv: number[], xs: number[], dyv: number[], ds: number[], fh: number, fw: number, top: number, left: number): number[] {
  const [n, h, w, ch] = xs;
  const [, oh, ow, oc] = ds;
  const out = new Float64Array(fh * fw * ch * oc);
  for (let i = 0; i < fh; i++) for (let j = 0; j < fw; j++) for (let b = 0; b < n; b++) for (let r = 0; r < oh; r++) for (let q = 0; q < ow; q++) {
    const y = r + i - top;
    const x = q + j - left;
    if (y < 0 || y >= h || x < 0 || x >= w) continue;
    for (let k = 0; k < ch; k++) {
      const xval = xv[((b * h + y) * w + x) * ch + k];
      for (let o = 0; o < oc; o++) out[((i * fw + j) * ch + k) * oc + o] += xval * dyv[((b * oh + r) * ow + q) * oc + o];
    }
  }
  return Array.from(out);
}

test('Conv2DBackpropFilter on wasm matches float64 loops for stride-1 convs as wide as their input (even, odd, oversized filters, batch chunks)', async () => {
  await wasm();
  const cases: { x: number[]; f: [number, number]; oc: number; pad: 'same' | [[number, number], [number, number], [number, number], [number, number]]; top: number; left: number; oh: number }[] = [
    { x: [2, 6, 5, 3], f: [3, 3], oc: 2, pad: 'same', top: 1, left: 1, oh: 6 },
    { x: [2, 6, 5, 2], f: [2, 4], oc: 3, pad: 'same', top: 0, left: 1, oh: 6 },
    { x: [3, 3, 2, 2], f: [5, 5], oc: 2, pad: 'same', top: 2, left: 2, oh: 3 },
    { x: [2, 4, 4, 1], f: [1, 1], oc: 2, pad: 'same', top: 0, left: 0, oh: 4 },
    // explicit pads: rows shrink (oh = 5 - 3 + 1 + 1), columns keep the width with pads 0 left, 2 right
    { x: [2, 5, 4, 2], f: [3, 3], oc: 2, pad: [[0, 0], [1, 0], [0, 2], [0, 0]], top: 1, left: 0, oh: 4 },
    // 6 batch rows per patch chunk: the second chunk starts at batch row 6
    { x: [7, 48, 48, 48], f: [5, 5], oc: 2, pad: 'same', top: 2, left: 2, oh: 48 },
  ];
  for (const [k, c] of cases.entries()) {
    const ds = [c.x[0], c.oh, c.x[2], c.oc];
    const xv = values(size(c.x), 60 + k);
    const dyv = values(size(ds), 70 + k);
    const got = tf.tidy(() => {
      const out = tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(xv, c.x), dy: tf.tensor(dyv, ds) },
        { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', filterShape: [c.f[0], c.f[1], c.x[3], c.oc] }) as T;
      return Array.from(out.dataSync());
    });
    assertClose(got, filterGradLoops(xv, c.x, dyv, ds, c.f[0], c.f[1], c.top, c.left), { atol: c.x[0] > 3 ? 2e-3 : 1e-4, rtol: 1e-4, msg: `case ${k}` }); // case 5 sums 16k float32 products
  }
});

test('Conv2DBackpropInput on wasm matches cpu for NCHW data and for pads wider than the filter', async () => {
  const cases = [
    { dy: [2, 4, 4, 3], w: [3, 3, 2, 4], attrs: { strides: [2, 2], pad: 'same', dataFormat: 'NCHW', inputShape: [2, 2, 7, 6] } },
    { dy: [1, 9, 8, 2], w: [2, 2, 3, 2], attrs: { strides: [1, 1], pad: [[0, 0], [3, 0], [0, 2], [0, 0]], dataFormat: 'NHWC', inputShape: [1, 7, 7, 3] } },
    { dy: [2, 3, 3, 2], w: [3, 3, 3, 2], attrs: { strides: [3, 3], pad: 'valid', dataFormat: 'NHWC', inputShape: [2, 11, 10, 3] } },
  ];
  for (const [k, c] of cases.entries()) {
    const dyv = values(size(c.dy), 42 + k);
    const wv = values(size(c.w), 45 + k);
    const r = await onBoth(() => tf.tidy(() => {
      const out = tf.engine().runKernel('Conv2DBackpropInput', { dy: tf.tensor(dyv, c.dy), filter: tf.tensor(wv, c.w) }, c.attrs as unknown as akin.tf.NamedAttrMap) as T;
      return [Array.from(out.dataSync())];
    }));
    assertClose(r.wasm[0], r.cpu[0], { msg: `input gradient case ${k}` });
  }
});

test('sums over leading axes on wasm match cpu (keepDims or not)', async () => {
  const shape = [6, 5, 4, 3];
  const xv = values(size(shape), 48);
  for (const [axes, keep] of [[[0, 1, 2], false], [[1, 0], true], [[0], false]] as [number[], boolean][]) {
    const r = await onBoth(() => tf.tidy(() => {
      const s = tf.sum(tf.tensor(xv, shape), axes, keep);
      return [s.shape, Array.from(s.dataSync())];
    }));
    assert.deepEqual(r.wasm[0], r.cpu[0]);
    assertClose(r.wasm[1], r.cpu[1], { msg: `sum over ${axes}` });
  }
});

test('depthwise conv2d gradients on wasm match cpu (multipliers, padding, strides)', async () => {
  const cases: { x: number[]; w: number[]; s: [number, number]; pad: 'same' | 'valid' }[] = [
    { x: [2, 7, 6, 3], w: [3, 3, 3, 1], s: [1, 1], pad: 'same' },
    { x: [2, 7, 6, 3], w: [3, 2, 3, 2], s: [1, 1], pad: 'valid' },
    { x: [2, 9, 8, 2], w: [3, 3, 2, 3], s: [2, 2], pad: 'same' },
    { x: [1, 8, 9, 4], w: [2, 3, 4, 1], s: [2, 1], pad: 'valid' },
  ];
  for (const [k, c] of cases.entries()) {
    const r = await onBoth(grads((x, w) => tf.depthwiseConv2d(x as akin.tf.Tensor4D, w as akin.tf.Tensor4D, c.s, c.pad), c.x, c.w, 50 + k));
    assertSame(r, `depthwise case ${k}`);
  }
});

test('depthwise backprop kernels with dilations match the forward conv by linearity', async () => {
  // The cpu backprop kernels ignore dilations, so the reference is built from the (dilation-aware)
  // forward conv: both gradients of sum(conv(x, w) * dy) are linear, so entry e of dx is
  // sum(conv(onehot_e, w) * dy) and entry e of dw is sum(conv(x, onehot_e) * dy).
  for (const pad of ['same', 'valid'] as const) {
    const xShape = [2, 8, 7, 2];
    const wShape: [number, number, number, number] = [3, 2, 2, 2];
    const dil: [number, number] = [2, 2];
    const xv = values(size(xShape), 60);
    const wv = values(size(wShape), 61);
    await tf.setBackend('cpu');
    const outShape = tf.tidy(() => tf.depthwiseConv2d(tf.tensor4d(xv, xShape as [number, number, number, number]), tf.tensor4d(wv, wShape), 1, pad, 'NHWC', dil).shape);
    const dyv = values(size(outShape), 62);
    const probe = (x: number[], w: number[]): number => tf.tidy(() => tf.sum(tf.mul(
      tf.depthwiseConv2d(tf.tensor4d(x, xShape as [number, number, number, number]), tf.tensor4d(w, wShape), 1, pad, 'NHWC', dil),
      tf.tensor(dyv, outShape))).dataSync()[0]);
    const onehot = (n: number, i: number): number[] => Array.from({ length: n }, (_, j) => (j === i ? 1 : 0));
    const wantDx = xv.map((_, i) => probe(onehot(xv.length, i), wv));
    const wantDw = wv.map((_, i) => probe(xv, onehot(wv.length, i)));
    await wasm();
    const [gotDx, gotDw] = tf.tidy(() => {
      const dy = tf.tensor(dyv, outShape);
      const attrs = { strides: [1, 1], dilations: dil, pad };
      const dx = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: tf.tensor(wv, wShape) }, { ...attrs, inputShape: xShape }) as T;
      const dw = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor(xv, xShape), dy }, { ...attrs, filterShape: wShape }) as T;
      return [Array.from(dx.dataSync()), Array.from(dw.dataSync())];
    });
    assertClose(gotDx, wantDx, { msg: `dilated dx (${pad})` });
    assertClose(gotDw, wantDw, { msg: `dilated dw (${pad})` });
  }
});

test('maxPool gradient on wasm matches cpu, including windows whose values are all <= 0 and ties', async () => {
  const cases: { shape: number[]; f: [number, number]; s: [number, number]; pad: 'same' | 'valid'; lo: number; hi: number }[] = [
    { shape: [2, 6, 6, 3], f: [2, 2], s: [2, 2], pad: 'valid', lo: -1, hi: 0.3 },
    { shape: [2, 7, 5, 2], f: [3, 3], s: [2, 2], pad: 'same', lo: -1, hi: 1 },
    { shape: [1, 6, 7, 2], f: [3, 2], s: [1, 1], pad: 'valid', lo: -2, hi: -1 },
    { shape: [2, 5, 5, 3], f: [2, 2], s: [1, 2], pad: 'same', lo: -1, hi: 0 },
    { shape: [2, 6, 6, 8], f: [2, 2], s: [2, 2], pad: 'valid', lo: -1, hi: 0.3 }, // SIMD path: channels in fours
    { shape: [1, 7, 5, 4], f: [2, 2], s: [2, 2], pad: 'valid', lo: -1, hi: 1 }, // SIMD path, last row and column outside
  ];
  for (const [k, c] of cases.entries()) {
    const r = await onBoth(grads((x, w) => tf.mul(tf.maxPool(x as akin.tf.Tensor4D, c.f, c.s, c.pad), tf.sum(w)), c.shape, [1], 70 + k));
    assertSame(r, `maxPool case ${k}`);
  }
  // Ties (a window of equal values, zeros included) go to the first element in row-major order.
  const tie = await onBoth(() => tf.tidy(() => {
    const x = tf.tensor4d([0, 0, -1, -1, 0, 0, -1, -1, 2, 2, 0, -3, 2, 2, -3, 0], [1, 4, 4, 1]);
    return [Array.from(tf.grad((v: T) => tf.sum(tf.maxPool(v as akin.tf.Tensor4D, 2, 2, 'valid')))(x).dataSync())];
  }));
  assert.deepEqual(tie.wasm[0], [1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual(tie.wasm[0], tie.cpu[0]);
  // Four channels of one 2 x 2 window (the SIMD path), each a case: a tie, NaN first, all -Infinity, the
  // maximum last; the gradient goes to the first strict maximum in row-major order, NaN and -Infinity never win.
  const win = [
    [3, NaN, -Infinity, -5], // top left
    [3, 1, -Infinity, -4], // top right
    [2, 2, -Infinity, -3], // bottom left
    [3, NaN, -Infinity, -2], // bottom right
  ];
  const gv = [10, 20, 30, 40];
  const want = win.map(() => [0, 0, 0, 0]);
  for (let ch = 0; ch < 4; ch++) {
    let best = -Infinity, at = -1;
    win.forEach((v, p) => {
      if (v[ch] > best) { best = v[ch]; at = p; }
    });
    if (at >= 0) want[at][ch] = gv[ch];
  }
  await wasm();
  const got = tf.tidy(() => {
    const x = tf.tensor4d(win.flat(), [1, 2, 2, 4]);
    return Array.from(tf.grad((v: T) => tf.sum(tf.mul(tf.maxPool(v as akin.tf.Tensor4D, 2, 2, 'valid'), tf.tensor(gv, [1, 1, 1, 4]))))(x).dataSync());
  });
  assert.deepEqual(got, want.flat());
  assert.deepEqual(want.flat(), [10, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 40]);
});

test('one training step of the conv net gives the same loss and gradients on wasm and cpu', async () => {
  const batch = 8;
  const xv = values(batch * 12 * 12, 80, -1, 1);
  const labels = Int32Array.from({ length: batch }, (_, i) => i >> 1);
  let weights: number[][] | null = null;
  const step = (): number[][] => {
    const model = akin.models.convnet({ inputShape: [12, 12, 1], filters: [4, 6], embeddingDim: 8, seed: 3 });
    if (weights) model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i].shape)));
    else weights = model.getWeights().map((w) => Array.from(w.dataSync()));
    const loss = new akin.losses.TripletMarginLoss({ margin: 0.2 });
    const vars = model.trainableWeights.map((w) => w.read() as akin.tf.Variable);
    const out = tf.tidy(() => {
      const x = tf.tensor4d(xv, [batch, 12, 12, 1]);
      const { value, grads: g } = tf.variableGrads(() => loss.compute(model.apply(x) as akin.tf.Tensor2D, labels), vars);
      return [[value.dataSync()[0]], ...vars.map((v) => Array.from(g[v.name].dataSync()))];
    });
    model.layers.forEach((l) => l.dispose());
    return out;
  };
  await wasm();
  const w = step();
  await tf.setBackend('cpu');
  const c = step();
  await tf.setBackend('wasm');
  assert.ok(c.slice(1).some((g) => g.some((v) => v !== 0)), 'the reference gradients are all zero');
  w.forEach((g, i) => assertClose(g, c[i], { atol: 1e-5, rtol: 1e-3, msg: i === 0 ? 'loss' : `gradient ${i}` }));
});
