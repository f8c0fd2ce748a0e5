// The fused kernels (masked log-sum-exp, pair masks) and the data kernels added for speed (copy-free
// Identity, blocked Transpose, byte-loop logicals, Sum/Mean gradients): checked against plain float64
// loops and against the cpu backend, where the fused ops fall back to stock tfjs ops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { assertClose } from './helpers.js';
import { onBoth, size, values, wasm } from './backend-helpers.js';

const tf = akin.tf;
const { maskedLogSumExp, pairMasks } = akin.backend.fused;
type T = akin.tf.Tensor;

/** Per row: the largest kept `scale (x - shift)` (at least 0 with addOne), and the sum of `w exp(z - max)`. */
function rowSums(x: number[], w: number[], i: number, m: number, addOne: boolean, scale: number, shift: number): { max: number; sum: number; any: boolean } {
  let max = addOne ? 0 : -Infinity;
  let any = false;
  for (let j = 0; j < m; j++) {
    if (w[i * m + j] > 0) {
      any = true;
      max = Math.max(max, scale * (x[i * m + j] - shift));
    }
  }
  let sum = addOne ? Math.exp(-max) : 0;
  for (let j = 0; j < m; j++) if (w[i * m + j] > 0) sum += w[i * m + j] * Math.exp(scale * (x[i * m + j] - shift) - max);
  return { max, sum, any };
}

/** Plain float64 `log([1 +] sum_{w > 0} w exp(scale (x - shift)))` per row; 0 for rows with no w > 0. */
function lseRef(x: number[], w: number[], n: number, m: number, addOne: boolean, scale: number, shift: number): number[] {
  return Array.from({ length: n }, (_, i) => {
    const { max, sum, any } = rowSums(x, w, i, m, addOne, scale, shift);
    return any ? Math.log(sum) + max : 0;
  });
}

/** d/dx of sum_i probe_i * lse_i: probe_i * scale * w_ij exp(z_ij) / (sum), 0 where w = 0. */
function lseGradRef(x: number[], w: number[], probe: number[], n: number, m: number, addOne: boolean, scale: number, shift: number): number[] {
  const out = new Array<number>(n * m).fill(0);
  for (let i = 0; i < n; i++) {
    const { max, sum } = rowSums(x, w, i, m, addOne, scale, shift);
    for (let j = 0; j < m; j++) {
      const v = w[i * m + j];
      if (v > 0) out[i * m + j] = probe[i] * scale * v * Math.exp(scale * (x[i * m + j] - shift) - max) / sum;
    }
  }
  return out;
}

test('maskedLogSumExp on wasm matches float64 loops and the stock-op version on cpu (values and gradients)', async () => {
  const n = 7, m = 9;
  // Row 2 keeps nothing; logits up to 60 (exp overflows float32 without the max shift).
  // float32 values, so that the float64 reference sees exactly what the kernels see.
  const x = values(n * m, 1, -3, 3).map((v, k) => Math.fround(k % 11 === 0 ? v * 20 : v));
  const boolW = values(n * m, 2).map((v, k) => (Math.floor(k / m) === 2 ? 0 : v > -0.2 ? 1 : 0));
  const countW = values(n * m, 3).map((v, k) => (Math.floor(k / m) === 2 ? 0 : v > 0 ? Math.round(v * 3) : 0));
  const probe = values(n, 4).map(Math.fround);
  const settings = [
    { addOne: false, scale: 1, shift: 0 },
    { addOne: true, scale: 2, shift: 0.5 },
    { addOne: true, scale: -50, shift: 0.5 },
    { addOne: false, scale: 0.25, shift: -1 },
  ];
  for (const s of settings) {
    for (const [kind, w] of [['bool', boolW], ['counts', countW]] as const) {
      const run = (): number[][] => tf.tidy(() => {
        const xt = tf.tensor2d(x, [n, m]);
        const wt = kind === 'bool' ? tf.tensor2d(w, [n, m], 'bool') : tf.tensor2d(w, [n, m]);
        const y = maskedLogSumExp(xt, wt, s);
        const g = tf.grad((v: T) => tf.sum(tf.mul(maskedLogSumExp(v as akin.tf.Tensor2D, wt, s), tf.tensor1d(probe))))(xt);
        return [Array.from(y.dataSync()), Array.from(g.dataSync())];
      });
      const r = await onBoth(run);
      const msg = `${kind} ${JSON.stringify(s)}`;
      const want = lseRef(x, w, n, m, s.addOne, s.scale, s.shift);
      const wantGrad = lseGradRef(x, w, probe, n, m, s.addOne, s.scale, s.shift);
      assertClose(r.wasm[0], want, { atol: 1e-5, rtol: 1e-6, msg: `${msg} wasm value` });
      assertClose(r.cpu[0], want, { atol: 1e-4, rtol: 1e-5, msg: `${msg} cpu value` });
      // The gradient uses the float32 output y in exp(z - y): its rounding (half an ulp of |y|) limits it.
      const zMax = Math.max(...x.map((v) => Math.abs(s.scale * (v - s.shift))));
      assertClose(r.wasm[1], wantGrad, { atol: 1e-6, rtol: 1e-5 + 1e-7 * zMax, msg: `${msg} wasm grad` });
      assertClose(r.wasm[1], r.cpu[1], { atol: 1e-5, rtol: 1e-4, msg: `${msg} wasm vs cpu grad` });
    }
  }
});

test('maskedLogSumExp on wasm: a NaN among the kept logits makes its row NaN, a NaN left out does not', async () => {
  await wasm();
  const [y, g] = tf.tidy(() => {
    const x = tf.tensor2d([[0, NaN, 1], [NaN, 2, 3]]);
    const w = tf.tensor2d([[1, 1, 1], [0, 1, 1]], [2, 3], 'bool');
    const out = maskedLogSumExp(x, w);
    const grad = tf.grad((v: T) => tf.sum(maskedLogSumExp(v as akin.tf.Tensor2D, w)))(x);
    return [Array.from(out.dataSync()), Array.from(grad.dataSync())];
  });
  assert.ok(Number.isNaN(y[0]));
  assertClose(y[1], Math.log(Math.exp(2) + Math.exp(3)));
  assert.ok(Number.isNaN(g[0]) && Number.isNaN(g[2]));
  assert.equal(g[3], 0);
  assertClose(g.slice(4), [Math.exp(2) / (Math.exp(2) + Math.exp(3)), Math.exp(3) / (Math.exp(2) + Math.exp(3))]);
});

test('pairMasks on wasm and cpu mark same-label pairs (self-pairs excluded without a reference set) and different-label pairs', async () => {
  const labels = Int32Array.from([3, 1, 3, 3, 0, 1]);
  const ref = Int32Array.from([1, 3, 7, 1]);
  for (const refLabels of [undefined, ref]) {
    const r = await onBoth(() => tf.tidy(() => {
      const { pos, neg } = pairMasks(labels, refLabels);
      assert.equal(pos.dtype, 'bool');
      return [Array.from(pos.dataSync()), Array.from(neg.dataSync())];
    }));
    const cols = refLabels ?? labels;
    const wantPos: number[] = [], wantNeg: number[] = [];
    labels.forEach((l, i) => cols.forEach((c, j) => {
      wantPos.push(l === c && !(refLabels === undefined && i === j) ? 1 : 0);
      wantNeg.push(l !== c ? 1 : 0);
    }));
    for (const side of [r.wasm, r.cpu]) {
      assert.deepEqual(side[0], wantPos);
      assert.deepEqual(side[1], wantNeg);
    }
  }
});

test('Identity on wasm shares data: a clone keeps its values after the original is disposed, and frees nothing twice', async () => {
  await wasm();
  const before = tf.memory();
  const a = tf.tensor2d([[1, 2], [3, 4]]);
  const b = tf.clone(a);
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3, 4]);
  const c = tf.add(b, 1);
  b.dispose();
  assert.deepEqual(Array.from(c.dataSync()), [2, 3, 4, 5]);
  c.dispose();
  assert.equal(tf.memory().numTensors, before.numTensors);
  assert.equal(tf.memory().numBytes, before.numBytes);
});

test('Transpose of the last two axes and transposed matmuls on wasm match cpu (float32, int32, bool, batched, odd sizes)', async () => {
  const shapes = [[1, 1], [3, 17], [17, 3], [9, 8], [70, 65], [2, 5, 11], [3, 2, 13, 9]];
  for (const [k, shape] of shapes.entries()) {
    const n = size(shape);
    const v = values(n, 30 + k);
    const perm = [...shape.keys()];
    [perm[shape.length - 2], perm[shape.length - 1]] = [perm[shape.length - 1], perm[shape.length - 2]];
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      const data = dtype === 'float32' ? v : v.map((x) => (dtype === 'bool' ? (x > 0 ? 1 : 0) : Math.round(x * 100)));
      const r = await onBoth(() => tf.tidy(() => {
        const y = tf.transpose(tf.tensor(data, shape, dtype), perm);
        return [y.shape, Array.from(y.dataSync() as ArrayLike<number>, Number)];
      }));
      assert.deepEqual(r.wasm, r.cpu, `transpose ${shape} ${dtype}`);
    }
  }
  const a = values(13 * 7, 40);
  const b = values(13 * 5, 41);
  for (const [ta, tb, sa, sb] of [[true, false, [7, 13], [7, 5]], [false, true, [13, 7], [5, 7]], [true, true, [7, 13], [5, 7]]] as [boolean, boolean, number[], number[]][]) {
    const r = await onBoth(() => tf.tidy(() => {
      const y = tf.matMul(tf.tensor2d(a.slice(0, sa[0] * sa[1]), [sa[0], sa[1]]), tf.tensor2d(b.slice(0, sb[0] * sb[1]), [sb[0], sb[1]]), ta, tb);
      return [y.shape, Array.from(y.dataSync())];
    }));
    assert.deepEqual(r.wasm[0], r.cpu[0]);
    assertClose(r.wasm[1], r.cpu[1], { msg: `matmul ${ta} ${tb}` });
  }
});

test('logicalAnd / logicalOr / logicalXor of same-shape and broadcast bool tensors on wasm match cpu', async () => {
  const shapes: [number[], number[]][] = [[[5, 7], [5, 7]], [[5, 7], [5, 1]], [[1, 7], [5, 7]], [[2, 3, 4], [3, 1]]];
  for (const [k, [sa, sb]] of shapes.entries()) {
    const va = values(size(sa), 50 + k);
    const vb = values(size(sb), 60 + k);
    for (const op of [tf.logicalAnd, tf.logicalOr, tf.logicalXor]) {
      const r = await onBoth(() => tf.tidy(() => {
        const y = op(tf.greater(tf.tensor(va, sa), 0), tf.greater(tf.tensor(vb, sb), 0.2));
        return [y.shape, Array.from(y.dataSync())];
      }));
      assert.deepEqual(r.wasm, r.cpu, `${op.name} ${sa} ${sb}`);
    }
  }
});

test('gradients of sum and mean broadcast dy over the reduced axes (plain loops, wasm and cpu)', async () => {
  const shape = [3, 4, 5];
  const x = values(60, 70);
  for (const axis of [[0], [1], [2], [0, 2], [0, 1, 2]]) {
    const kept = shape.map((d, i) => (axis.includes(i) ? 1 : d));
    const probe = values(size(kept), 71);
    const r = await onBoth(() => tf.tidy(() => {
      const p = tf.tensor(probe, kept);
      const gs = tf.grad((v: T) => tf.sum(tf.mul(tf.sum(v, axis, true), p)))(tf.tensor(x, shape));
      const gm = tf.grad((v: T) => tf.sum(tf.mul(tf.mean(v, axis, true), p)))(tf.tensor(x, shape));
      return [Array.from(gs.dataSync()), Array.from(gm.dataSync())];
    }));
    const count = axis.reduce((p, a) => p * shape[a], 1);
    const want: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 5; k++) {
      const idx = [i, j, k].map((c, d) => (axis.includes(d) ? 0 : c));
      want.push(Math.fround(probe[(idx[0] * kept[1] + idx[1]) * kept[2] + idx[2]]));
    }
    for (const side of [r.wasm, r.cpu]) {
      assertClose(side[0], want, { atol: 0, rtol: 0, msg: `sum axis ${axis}` });
      assertClose(side[1], want.map((v) => v / count), { atol: 1e-7, rtol: 1e-6, msg: `mean axis ${axis}` });
    }
  }
});

test('gatherDiff on wasm matches plain loops and cpu (values and the scatter-add gradient, repeated cells), and rejects bad indices', async () => {
  const n = 5, m = 6;
  const x = values(n * m, 80).map(Math.fround);
  const rows = Int32Array.from([0, 0, 3, 4, 4, 4, 2]);
  const plus = Int32Array.from([1, 1, 5, 0, 2, 2]).slice(0, 6);
  const rowsT = rows.slice(0, 6);
  const minus = Int32Array.from([2, 3, 5, 1, 0, 3]);
  const probe = values(6, 81).map(Math.fround);
  const r = await onBoth(() => tf.tidy(() => {
    const xt = tf.tensor2d(x, [n, m]);
    const y = akin.backend.fused.gatherDiff(xt, rowsT, plus, minus);
    const g = tf.grad((v: T) => tf.sum(tf.mul(akin.backend.fused.gatherDiff(v as akin.tf.Tensor2D, rowsT, plus, minus), tf.tensor1d(probe))))(xt);
    return [Array.from(y.dataSync()), Array.from(g.dataSync())];
  }));
  const want = Array.from(rowsT, (a, t) => Math.fround(x[a * m + plus[t]] - x[a * m + minus[t]]));
  const wantGrad = new Array<number>(n * m).fill(0);
  rowsT.forEach((a, t) => {
    wantGrad[a * m + plus[t]] += probe[t];
    wantGrad[a * m + minus[t]] -= probe[t];
  });
  for (const side of [r.wasm, r.cpu]) {
    assertClose(side[0], want, { atol: 0, rtol: 0, msg: 'value' });
    assertClose(side[1], wantGrad, { atol: 1e-6, rtol: 1e-6, msg: 'grad' });
  }
  await wasm();
  const x2 = tf.zeros([2, 2]) as akin.tf.Tensor2D;
  for (const [a, p, q] of [[2, 0, 0], [0, -1, 0], [0, 0, 2]]) {
    assert.throws(() => akin.backend.fused.gatherDiff(x2, Int32Array.of(a), Int32Array.of(p), Int32Array.of(q)), RangeError);
  }
  x2.dispose();
});

/** Plain float64 Euclidean distances between the rows of a [n, d] and a [m, d] matrix. */
function l2Ref(a: number[], b: number[], n: number, m: number, d: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (a[i * d + k] - b[j * d + k]) ** 2;
      out.push(Math.sqrt(s));
    }
  }
  return out;
}

test('L2 distance matrices (LpDistance, fused on wasm) match float64 loops and cpu, gradients included, for the batch itself and a reference set', async () => {
  const n = 9, m = 7, d = 5;
  // Rows 3 and 6 of q repeat row 0 (zero distances off the diagonal too); raw rows, normalised by the distance.
  const qv = values(n * d, 90).map(Math.fround);
  for (const row of [3, 6]) for (let k = 0; k < d; k++) qv[row * d + k] = qv[k];
  const rv = values(m * d, 91).map(Math.fround);
  const dist = new akin.distances.LpDistance({ normalizeEmbeddings: false });
  for (const withRef of [false, true]) {
    const cols = withRef ? m : n;
    const probe = values(n * cols, 92);
    const run = (): number[][] => tf.tidy(() => {
      const q = tf.tensor2d(qv, [n, d]);
      const r = tf.tensor2d(rv, [m, d]);
      const f = (a: T, b: T): T => (withRef ? dist.matrix(a as akin.tf.Tensor2D, b as akin.tf.Tensor2D) : dist.matrix(a as akin.tf.Tensor2D));
      const y = f(q, r);
      const p = tf.tensor2d(probe, [n, cols]);
      const [gq, gr] = withRef
        ? tf.grads((a: T, b: T) => tf.sum(tf.mul(f(a, b), p)))([q, r])
        : [tf.grad((a: T) => tf.sum(tf.mul(f(a, r), p)))(q), tf.zerosLike(r)];
      return [Array.from(y.dataSync()), Array.from(gq.dataSync()), Array.from(gr.dataSync())];
    });
    const r = await onBoth(run);
    const want = l2Ref(qv, withRef ? rv : qv, n, cols, d);
    const msg = withRef ? 'with reference' : 'self';
    assertClose(r.wasm[0], want, { atol: 2e-3, rtol: 1e-4, msg: `${msg} wasm value` });
    for (const [i, j] of [[0, 3], [3, 6], [6, 0], [2, 2]]) if (!withRef) assert.equal(r.wasm[0][i * n + j], 0, `${msg} d(${i}, ${j})`);
    for (let k = 0; k < 3; k++) assertClose(r.wasm[k], r.cpu[k], { atol: 1e-4, rtol: 1e-3, msg: `${msg} wasm vs cpu ${k}` });
    // d/dq_i of sum_j probe_ij d_ij = sum_j probe_ij (q_i - r_j) / d_ij over d_ij > 0 (and the same for the columns when self).
    const gq = new Array<number>(n * d).fill(0);
    const gr = new Array<number>(m * d).fill(0);
    const other = withRef ? rv : qv;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < cols; j++) {
        const dij = want[i * cols + j];
        if (dij < 1e-6) continue;
        for (let k = 0; k < d; k++) {
          const g = probe[i * cols + j] * (qv[i * d + k] - other[j * d + k]) / dij;
          gq[i * d + k] += g;
          if (withRef) gr[j * d + k] -= g;
          else gq[j * d + k] -= g;
        }
      }
    }
    assertClose(r.wasm[1], gq, { atol: 1e-4, rtol: 1e-3, msg: `${msg} wasm dq` });
    assertClose(r.wasm[2], gr, { atol: 1e-4, rtol: 1e-3, msg: `${msg} wasm dr` });
  }
});

test('supConRows on wasm matches float64 loops and the stock-op version on cpu (values and gradients, rows without positives)', async () => {
  // rows of 8 go to the SIMD exp in fours; rows of 11 end with 3 cells in JavaScript
  for (const m of [8, 11]) await supConCase(6, m);
});

async function supConCase(n: number, m: number): Promise<void> {
  const l = values(n * m, 100, -4, 4).map(Math.fround);
  const pos = values(n * m, 101).map((v, k) => (Math.floor(k / m) === 4 ? 0 : v > 0.3 ? 1 : 0));
  const keep = values(n * m, 102).map((v, k) => (pos[k] || v > -0.5 ? 1 : 0));
  const probe = values(n, 103).map(Math.fround);
  const r = await onBoth(() => tf.tidy(() => {
    const lt = tf.tensor2d(l, [n, m]);
    const pt = tf.tensor2d(pos, [n, m], 'bool');
    // The positives enter the denominator whether `keep` lists them or not.
    const negOnly = tf.tensor2d(keep.map((k, c) => (k && !pos[c] ? 1 : 0)), [n, m], 'bool');
    const out: number[][] = [];
    for (const kt of [tf.tensor2d(keep, [n, m], 'bool'), negOnly]) {
      const y = akin.backend.fused.supConRows(lt, pt, kt);
      const g = tf.grad((v: T) => tf.sum(tf.mul(akin.backend.fused.supConRows(v as akin.tf.Tensor2D, pt, kt), tf.tensor1d(probe))))(lt);
      out.push(Array.from(y.dataSync()), Array.from(g.dataSync()));
    }
    return out;
  }));
  const want: number[] = [];
  const wantGrad = new Array<number>(n * m).fill(0);
  for (let i = 0; i < n; i++) {
    let s = 0, count = 0, posSum = 0;
    for (let j = 0; j < m; j++) {
      if (keep[i * m + j]) s += Math.exp(l[i * m + j]);
      if (pos[i * m + j]) { count++; posSum += l[i * m + j]; }
    }
    const lse = Math.log(s);
    want.push(count === 0 ? 0 : -(posSum - count * lse) / count);
    if (count === 0) continue;
    for (let j = 0; j < m; j++) {
      const softmax = keep[i * m + j] ? Math.exp(l[i * m + j] - lse) : 0;
      wantGrad[i * m + j] = (probe[i] / count) * (count * softmax - pos[i * m + j]);
    }
  }
  for (const [side, name] of [[r.wasm, 'wasm'], [r.cpu, 'cpu']] as const) {
    for (const [at, how] of [[0, 'keep with positives'], [2, 'keep without positives']] as const) {
      assertClose(side[at], want, { atol: 1e-5, rtol: 1e-5, msg: `${name} value, ${how}, m = ${m}` });
      assertClose(side[at + 1], wantGrad, { atol: 1e-6, rtol: 1e-4, msg: `${name} grad, ${how}, m = ${m}` });
    }
  }
}

test('l2NormalizeRows: one kernel each way on wasm, equal to the stock ops on cpu and to float64 loops and differences', async () => {
  const { l2NormalizeRows } = akin.backend.fused;
  // rows of 5: ordinary rows, one below the floor (epsilon 0.5), 2-D and 3-D
  for (const shape of [[4, 5], [2, 3, 5]]) {
    const xv = values(size(shape), 40 + shape.length);
    for (let j = 0; j < 5; j++) xv[5 + j] *= 0.1; // second row: norm below 0.5
    const pv = values(size(shape), 50);
    const eps = 0.5;
    const run = (): number[][] => tf.tidy(() => {
      const x = tf.tensor(xv, shape);
      const y = l2NormalizeRows(x, eps);
      const g = tf.grad((a: T) => tf.sum(tf.mul(l2NormalizeRows(a, eps), tf.tensor(pv, shape))))(x);
      return [Array.from(y.dataSync()), Array.from(g.dataSync())];
    });
    const r = await onBoth(run);
    assertClose(r.wasm[0], r.cpu[0], { atol: 1e-6, msg: `${shape} value vs cpu` });
    assertClose(r.wasm[1], r.cpu[1], { atol: 1e-5, msg: `${shape} gradient vs cpu` });
    // float64: y = x / max(|x|, eps); the gradient of sum(y * p) by central differences
    const f = (v: number[]): number[] => {
      const out: number[] = [];
      for (let row = 0; row < v.length; row += 5) {
        const n = Math.max(Math.hypot(...v.slice(row, row + 5)), eps);
        for (let j = row; j < row + 5; j++) out.push(v[j] / n);
      }
      return out;
    };
    assertClose(r.wasm[0], f(xv), { atol: 1e-6, msg: `${shape} value vs loops` });
    const h = 1e-5;
    const numeric = xv.map((_, i) => {
      const up = xv.slice(), down = xv.slice();
      up[i] += h;
      down[i] -= h;
      const [fu, fd] = [f(up), f(down)];
      return fu.reduce((s, v, k) => s + (v - fd[k]) * pv[k], 0) / (2 * h);
    });
    assertClose(r.wasm[1], numeric, { atol: 1e-4, rtol: 1e-3, msg: `${shape} gradient vs differences` });
  }
  // an all-zero row: the stock ops' sqrt gives NaN gradients; the kernel gives dy / epsilon
  await wasm();
  const g = tf.tidy(() => Array.from(tf.grad((a: T) => tf.sum(tf.mul(l2NormalizeRows(a, 1e-3), tf.tensor([1, 2, 3], [1, 3]))))(tf.zeros([1, 3])).dataSync()));
  assertClose(g, [1e3, 2e3, 3e3], { rtol: 1e-6 });
  // the layer and the distances use it: one kernel forward on wasm
  const prof = await tf.profile(() => {
    tf.tidy(() => new akin.distances.CosineSimilarity().matrix(tf.tensor(values(12, 60), [4, 3]) as akin.tf.Tensor2D));
  });
  assert.ok(prof.kernels.some((k) => k.name === 'AkinL2NormalizeRows'), 'CosineSimilarity should normalise with the fused kernel');
  assert.ok(!prof.kernels.some((k) => k.name === 'Sqrt'), 'no stock Sqrt left in the cosine matrix');
});

test('gramMatrix: x x^T, and its gradient (dy + dy^T) x in one matmul, equal to float64 loops on wasm and cpu', async () => {
  const { gramMatrix } = akin.backend.fused;
  const [n, d] = [7, 5];
  const xv = values(n * d, 90), pv = values(n * n, 91); // pv not symmetric
  const run = (): number[][] => tf.tidy(() => {
    const x = tf.tensor2d(xv, [n, d]);
    const g = tf.grad((a: T) => tf.sum(tf.mul(gramMatrix(a as akin.tf.Tensor2D), tf.tensor2d(pv, [n, n]))))(x);
    return [Array.from(gramMatrix(x).dataSync()), Array.from(g.dataSync())];
  });
  const r = await onBoth(run);
  const wantY: number[] = [], wantG: number[] = [];
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += xv[i * d + k] * xv[j * d + k];
    wantY.push(s);
  }
  // d/dx[i,k] of sum_ij P_ij x_i . x_j = sum_j (P_ij + P_ji) x[j,k]
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += (pv[i * n + j] + pv[j * n + i]) * xv[j * d + k];
    wantG.push(s);
  }
  for (const [side, out] of Object.entries(r)) {
    assertClose(out[0], wantY, { msg: `${side} value` });
    assertClose(out[1], wantG, { msg: `${side} gradient` });
  }
  // the self-similarity of the dot-product distances takes it: one matmul in the backward pass
  await wasm();
  const prof = await tf.profile(() => {
    tf.tidy(() => tf.grad((a: T) => tf.sum(new akin.distances.DotProductSimilarity({ normalizeEmbeddings: false }).matrix(a as akin.tf.Tensor2D)))(tf.tensor2d(xv, [n, d])));
  });
  assert.equal(prof.kernels.filter((k) => k.name === 'BatchMatMul' || k.name === '_FusedMatMul').length, 2, 'one matmul forward, one backward');
});
