// An embedding compared with an identical one (the same rows in two tensors) is at distance exactly 0
// on every backend (the expanded formula |q|^2 + |r|^2 - 2 q.r only gets to within rounding otherwise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { assertClose } from './helpers.js';
import { onBoth, values } from './backend-helpers.js';

const tf = akin.tf;

test('LpDistance: identical rows in separate tensors are exactly 0 apart on wasm and cpu', async () => {
  const n = 9, dim = 37;
  const rows = Array.from({ length: n }, (_, i) => values(dim, 900 + i, -3, 3));
  for (const distance of [new akin.distances.LpDistance(), new akin.distances.LpDistance({ normalizeEmbeddings: false })]) {
    const { wasm, cpu } = await onBoth(() => tf.tidy(() => [Array.from(distance.matrix(tf.tensor2d(rows), tf.tensor2d(rows)).dataSync())]));
    for (const [name, d] of [['wasm', wasm[0]], ['cpu', cpu[0]]] as const) {
      for (let i = 0; i < n; i++) assert.equal(d[i * n + i], 0, `${name} d(${i}, ${i}) = ${d[i * n + i]}`);
      // Off the diagonal: float64 distances of the (normalised) rows.
      const unit = rows.map((r) => {
        const s = distance.normalizeEmbeddings ? Math.sqrt(r.reduce((a, v) => a + v * v, 0)) : 1;
        return r.map((v) => v / s);
      });
      const want = unit.flatMap((a) => unit.map((b) => Math.sqrt(a.reduce((s, v, k) => s + (v - b[k]) ** 2, 0))));
      assertClose(d, want, { atol: 2e-3, rtol: 1e-4, msg: name });
    }
  }
});
