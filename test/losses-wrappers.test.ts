import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as akin from 'akin';
import { initBackend, assertClose, checkGradient, randomRows } from './helpers.js';

const tf = akin.tf;
const L = akin.losses;

before(async () => {
  await initBackend();
});

const TOL = { atol: 1e-5, rtol: 1e-4 };
const X = randomRows(6, 3, 11);
const Y = [0, 0, 1, 1, 2, 2];

function value(f: () => akin.tf.Scalar): number {
  return tf.tidy(() => f().arraySync() as number);
}
const t2 = (rows: number[][]): akin.tf.Tensor2D => tf.tensor2d(rows, [rows.length, rows[0]?.length ?? 3]);

// ------------------------------------------------------------------------------------------------
// MultipleLosses
// ------------------------------------------------------------------------------------------------

test('MultipleLosses: the weighted sum of its losses (list and map forms, default weights 1)', () => {
  const c = new L.ContrastiveLoss(), t = new L.TripletMarginLoss({ margin: 0.2 });
  const lc = value(() => c.compute(t2(X), Y)), lt = value(() => t.compute(t2(X), Y));
  assert.ok(lc > 0 && lt > 0);
  const list = new L.MultipleLosses({ losses: [c, t], weights: [0.3, 2] });
  assertClose(value(() => list.compute(t2(X), Y)), 0.3 * lc + 2 * lt, TOL);
  const map = new L.MultipleLosses({ losses: { con: c, tri: t }, weights: { tri: 2, con: 0.3 } });
  assertClose(value(() => map.compute(t2(X), Y)), 0.3 * lc + 2 * lt, TOL);
  assertClose(value(() => new L.MultipleLosses({ losses: [c, t] }).compute(t2(X), Y)), lc + lt, TOL);
  tf.tidy(() => {
    const dict = map.computeLossDict(t2(X), Y);
    assert.deepEqual(Object.keys(dict), ['con', 'tri']);
    assertClose(dict.con.losses!.arraySync() as number, 0.3 * lc, TOL);
    assert.equal(dict.tri.reductionType, 'already_reduced');
  });
});

test('MultipleLosses: per-loss miners; given index tuples go to every loss without a miner', () => {
  const miner = new akin.miners.TripletMarginMiner({ margin: 0.5, typeOfTriplets: 'all' });
  const c = new L.ContrastiveLoss(), t = new L.TripletMarginLoss();
  const xt = t2(X);
  const mined = miner.mine(xt, Y);
  xt.dispose();
  assert.ok(akin.core.isTriplets(mined) && mined.anchors.length > 0);
  const lt = value(() => t.compute(t2(X), Y, mined));
  const lc = value(() => c.compute(t2(X), Y));
  const ml = new L.MultipleLosses({ losses: [c, t], miners: [null, miner], weights: [1, 0.5] });
  assertClose(value(() => ml.compute(t2(X), Y)), lc + 0.5 * lt, TOL);
  const mm = new L.MultipleLosses({ losses: { c, t }, miners: { t: miner } });
  assertClose(value(() => mm.compute(t2(X), Y)), lc + lt, TOL);
  assert.throws(() => value(() => ml.compute(t2(X), Y, mined)), (e: unknown) => e instanceof akin.ShapeError);
  // without miners the given tuples reach every loss
  const pairs: akin.PairIndices = { anchors1: Int32Array.of(0, 2), positives: Int32Array.of(1, 3), anchors2: Int32Array.of(0, 4), negatives: Int32Array.of(5, 1) };
  const both = new L.MultipleLosses({ losses: [c, t] });
  assertClose(value(() => both.compute(t2(X), Y, pairs)), value(() => c.compute(t2(X), Y, pairs)) + value(() => t.compute(t2(X), Y, pairs)), TOL);
});

test('MultipleLosses: gradients, trainable weights of every loss, config round trip, dispose', () => {
  const ml = new L.MultipleLosses({ losses: [new L.ContrastiveLoss(), new L.MultiSimilarityLoss()], weights: [0.7, 1.3] });
  checkGradient((x) => ml.compute(x, Y), X);
  const pa = new L.ProxyAnchorLoss({ numClasses: 3, embeddingSize: 3 });
  const af = new L.ArcFaceLoss({ numClasses: 3, embeddingSize: 3 });
  const withWeights = new L.MultipleLosses({ losses: { pa, af }, miners: { af: new akin.miners.MultiSimilarityMiner() } });
  assert.deepEqual(withWeights.trainableWeights, [pa.proxies, af.W]);
  const cfg = withWeights.getConfig();
  assert.deepEqual(Object.keys(cfg.losses as object), ['pa', 'af']);
  assert.equal(((cfg.miners as Record<string, akin.core.ComponentConfig>).af).className, 'MultiSimilarityMiner');
  const rebuilt = L.fromConfig({ className: 'MultipleLosses', config: cfg }) as akin.losses.MultipleLosses;
  assertClose(value(() => rebuilt.compute(t2(X), Y)), value(() => withWeights.compute(t2(X), Y)), TOL);
  const listCfg = new L.MultipleLosses({ losses: ['ContrastiveLoss', { className: 'TripletMarginLoss', config: { margin: 0.3 } }], miners: [null, 'BatchHardMiner'], weights: [2, 3] }).getConfig();
  assert.deepEqual(listCfg.weights, [2, 3]);
  assert.equal((listCfg.miners as unknown[])[0], null);
  const again = L.fromConfig({ className: 'MultipleLosses', config: JSON.parse(JSON.stringify(listCfg)) as Record<string, unknown> });
  assert.deepEqual(again.getConfig(), listCfg);
  withWeights.dispose();
  assert.ok(pa.proxies.isDisposed && af.W.isDisposed);
  rebuilt.dispose();
});

test('MultipleLosses: bad options are named', () => {
  const c = new L.ContrastiveLoss();
  const bad = (o: unknown, what: string): void => assert.throws(() => new L.MultipleLosses(o as akin.losses.MultipleLossesOptions),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes(what), what);
  bad({ losses: [] }, "'losses'");
  bad({ losses: [c], weights: [1, 2] }, "'weights'");
  bad({ losses: { a: c, b: c }, weights: { a: 1 } }, "'weights'");
  bad({ losses: { a: c }, weights: [1] }, "'weights'");
  bad({ losses: [c, c], miners: [null] }, "'miners'");
  bad({ losses: { a: c }, miners: { b: 'BatchHardMiner' } }, "'miners'");
  bad({ losses: [3] }, "'losses");
});

// ------------------------------------------------------------------------------------------------
// SelfSupervisedLoss
// ------------------------------------------------------------------------------------------------

const V1 = randomRows(4, 3, 21);
const V2 = V1.map((r, i) => r.map((v, k) => v + 0.3 * Math.sin(7 * i + k)));
const unit = (r: number[]): number[] => { const n = Math.hypot(...r); return r.map((v) => v / n); };
const l2 = (a: number[], b: number[]): number => { const ua = unit(a), ub = unit(b); return Math.sqrt(ua.reduce((s, v, k) => s + (v - ub[k]) ** 2, 0)); };
const avgNonZero = (v: number[]): number => { const nz = v.filter((x) => x > 0); return nz.length ? nz.reduce((s, x) => s + x, 0) / nz.length : 0; };

test('SelfSupervisedLoss: row i of each view is the positive of row i of the other (plain loops)', () => {
  // Not symmetric: ContrastiveLoss of V1 against the reference set V2, labels 0..n-1 on both sides.
  const pos: number[] = [], neg: number[] = [];
  V1.forEach((a, i) => V2.forEach((b, j) => (i === j ? pos : neg).push(i === j ? l2(a, b) : Math.max(0, 1 - l2(a, b)))));
  const oneWay = new L.SelfSupervisedLoss({ loss: new L.ContrastiveLoss(), symmetric: false });
  assertClose(value(() => oneWay.computeViews(t2(V1), t2(V2))), avgNonZero(pos) + avgNonZero(neg), TOL);
  // Symmetric: one batch [V1; V2] labelled [0..n-1, 0..n-1], self-pairs excluded.
  const all = [...V1, ...V2], lab = [0, 1, 2, 3, 0, 1, 2, 3];
  const sp: number[] = [], sn: number[] = [];
  all.forEach((a, i) => all.forEach((b, j) => {
    if (i === j) return;
    if (lab[i] === lab[j]) sp.push(l2(a, b)); else sn.push(Math.max(0, 1 - l2(a, b)));
  }));
  const sym = new L.SelfSupervisedLoss({ loss: new L.ContrastiveLoss() });
  assertClose(value(() => sym.computeViews(t2(V1), t2(V2))), avgNonZero(sp) + avgNonZero(sn), TOL);
  // The same as composing the inner loss by hand (NTXent).
  const nt = new L.NTXentLoss({ temperature: 0.2 });
  assertClose(value(() => new L.SelfSupervisedLoss({ loss: nt }).computeViews(t2(V1), t2(V2))), value(() => nt.compute(t2(all), lab)), TOL);
  assertClose(value(() => new L.SelfSupervisedLoss({ loss: nt, symmetric: false }).computeViews(t2(V1), t2(V2))),
    value(() => nt.compute(t2(V1), [0, 1, 2, 3], undefined, t2(V2), [0, 1, 2, 3])), TOL);
});

test('SelfSupervisedLoss: gradients, config, supported losses, errors', () => {
  const sym = new L.SelfSupervisedLoss({ loss: new L.TripletMarginLoss({ margin: 0.5 }) });
  const v2 = tf.tensor2d(V2);
  // a triplet sits within 1e-2 of its hinge here, so the step is smaller
  checkGradient((x) => sym.computeViews(x, v2), V1, { eps: 1e-3 });
  checkGradient((x) => sym.computeViews(tf.tensor2d(V1), x), V2, { eps: 1e-3 });
  v2.dispose();
  const cfg = sym.getConfig();
  assert.deepEqual(cfg, { loss: { className: 'TripletMarginLoss', config: sym.loss.getConfig() }, symmetric: true });
  const rebuilt = L.fromConfig({ className: 'SelfSupervisedLoss', config: cfg }) as akin.losses.SelfSupervisedLoss;
  assertClose(value(() => rebuilt.computeViews(t2(V1), t2(V2))), value(() => sym.computeViews(t2(V1), t2(V2))), TOL);
  assert.throws(() => new L.SelfSupervisedLoss({ loss: new L.ArcFaceLoss({ numClasses: 2, embeddingSize: 3 }) }),
    (e: unknown) => e instanceof akin.ConfigError && e.message.includes('ArcFaceLoss'));
  assert.throws(() => value(() => sym.computeViews(t2(V1), t2(V2.slice(0, 3)))), (e: unknown) => e instanceof akin.ShapeError);
  assert.throws(() => value(() => sym.compute(t2(V1), [0, 1, 2, 3])), (e: unknown) => e instanceof akin.ShapeError);
});

// ------------------------------------------------------------------------------------------------
// CrossBatchMemory
// ------------------------------------------------------------------------------------------------

/** A plain ring buffer following PML's add_to_memory. */
class RefMemory {
  emb: number[][] = [];
  lab: number[] = [];
  q = 0;
  filled = false;
  constructor(readonly size: number, dim: number) {
    this.emb = Array.from({ length: size }, () => new Array<number>(dim).fill(0));
    this.lab = new Array<number>(size).fill(0);
  }
  add(rows: number[][], labels: number[]): number[] {
    const slots = rows.map((_, k) => (this.q + k) % this.size);
    slots.forEach((s, k) => { this.emb[s] = rows[k].slice(); this.lab[s] = labels[k]; });
    const prev = this.q;
    this.q = (this.q + rows.length) % this.size;
    if (!this.filled && this.q <= prev) this.filled = true;
    return slots;
  }
  view(): { emb: number[][]; lab: number[] } {
    const n = this.filled ? this.size : this.q;
    return { emb: this.emb.slice(0, n), lab: this.lab.slice(0, n) };
  }
}

/** Every batch-memory pair; positives whose memory slot is the anchor's own are dropped when `slots` is given. */
function refPairs(labels: number[], memLabels: number[], slots?: number[]): akin.PairIndices {
  const a1: number[] = [], p: number[] = [], a2: number[] = [], n: number[] = [];
  labels.forEach((l, i) => memLabels.forEach((m, j) => {
    if (l !== m) { a2.push(i); n.push(j); } else if (!slots || slots[i] !== j) { a1.push(i); p.push(j); }
  }));
  return { anchors1: Int32Array.from(a1), positives: Int32Array.from(p), anchors2: Int32Array.from(a2), negatives: Int32Array.from(n) };
}

const BATCHES = [0, 1, 2, 3].map((b) => ({ x: randomRows(3, 3, 40 + b), y: [b % 2, (b + 1) % 3, 1] }));

test('CrossBatchMemory: the inner loss against the ring buffer, with the index tuples PML builds', () => {
  const inner = new L.ContrastiveLoss({ negMargin: 1.2, reducer: 'MeanReducer' }); // a self-pair would add a zero
  const cbm = new L.CrossBatchMemory({ loss: inner, embeddingSize: 3, memorySize: 5 });
  const ref = new RefMemory(5, 3);
  BATCHES.forEach(({ x, y }, step) => {
    const slots = ref.add(x, y);
    const mem = ref.view();
    const want = value(() => inner.compute(t2(x), y, refPairs(y, mem.lab, slots), t2(mem.emb), mem.lab));
    assertClose(value(() => cbm.compute(t2(x), y)), want, { ...TOL, msg: `step ${step}` });
    assert.equal(cbm.queueIdx, ref.q);
    assert.equal(cbm.hasBeenFilled, ref.filled);
    const got = cbm.memory();
    assertClose(got.embeddings.dataSync(), mem.emb.flat(), TOL);
    assert.deepEqual(Array.from(got.labels), mem.lab);
    got.embeddings.dispose();
  });
  assert.ok(cbm.hasBeenFilled && cbm.queueIdx === 2); // 12 rows through 5 slots
  cbm.resetQueue();
  assert.equal(cbm.memoryCount, 0);
  // after a reset the first batch only meets itself (self-pairs removed)
  const { x, y } = BATCHES[0];
  assertClose(value(() => cbm.compute(t2(x), y)), value(() => inner.compute(t2(x), y, refPairs(y, y, [0, 1, 2]), t2(x), y)), TOL);
  cbm.dispose();
});

test('CrossBatchMemory: a one-row batch loses its self-pair; enqueuing nothing leaves the memory as it was', () => {
  // PML keeps the self-pair of a one-row batch (its wrap test treats start == end as wrapped); akin drops it.
  const inner = new L.ContrastiveLoss({ reducer: 'MeanReducer' });
  const cbm = new L.CrossBatchMemory({ loss: inner, embeddingSize: 3, memorySize: 5 });
  const ref = new RefMemory(5, 3);
  for (const [x, y] of [[BATCHES[0].x, BATCHES[0].y], [[BATCHES[1].x[0]], [1]]] as [number[][], number[]][]) {
    const slots = ref.add(x, y);
    const mem = ref.view();
    assertClose(value(() => cbm.compute(t2(x), y)), value(() => inner.compute(t2(x), y, refPairs(y, mem.lab, slots), t2(mem.emb), mem.lab)), TOL);
  }
  // PML marks the memory full after enqueuing zero rows (and then reads its unused zero slots); akin does not.
  const q = [BATCHES[2].x[0], BATCHES[2].x[1]], ql = [0, 1];
  const mem = ref.view();
  assertClose(value(() => cbm.computeWithEnqueueMask(t2(q), ql, [false, false])),
    value(() => inner.compute(t2(q), ql, refPairs(ql, mem.lab), t2(mem.emb), mem.lab)), TOL);
  assert.equal(cbm.hasBeenFilled, false);
  assert.equal(cbm.memoryCount, 4);
  cbm.dispose();
});

test('CrossBatchMemory: enqueue mask, miner, given tuples (converted and appended)', () => {
  // Enqueue mask: rows 0 and 2 go to the memory, rows 1 and 3 are scored; no self-comparison removal.
  const inner = new L.TripletMarginLoss({ margin: 0.4 });
  const masked = new L.CrossBatchMemory({ loss: inner, embeddingSize: 3, memorySize: 6 });
  const ref = new RefMemory(6, 3);
  const B = randomRows(4, 3, 55), BY = [0, 1, 1, 0];
  for (const [x, y] of [[B, BY], [randomRows(4, 3, 56), [1, 0, 0, 1]]] as [number[][], number[]][]) {
    ref.add([x[0], x[2]], [y[0], y[2]]);
    const mem = ref.view();
    const q = [x[1], x[3]], ql = [y[1], y[3]];
    const want = value(() => inner.compute(t2(q), ql, refPairs(ql, mem.lab), t2(mem.emb), mem.lab));
    assertClose(value(() => masked.computeWithEnqueueMask(t2(x), y, [true, false, 1, 0])), want, TOL);
  }
  assert.throws(() => value(() => masked.computeWithEnqueueMask(t2(B), BY, [true])), (e: unknown) => e instanceof akin.ShapeError);
  masked.dispose();

  // Miner: the batch mined against the memory, then self-comparisons removed.
  const miner = new akin.miners.TripletMarginMiner({ margin: 1, typeOfTriplets: 'all' });
  const ms = new L.MultiSimilarityLoss();
  const mined = new L.CrossBatchMemory({ loss: ms, embeddingSize: 3, memorySize: 8, miner });
  const r2 = new RefMemory(8, 3);
  for (const { x, y } of BATCHES.slice(0, 3)) {
    const slots = r2.add(x, y);
    const mem = r2.view();
    const want = value(() => {
      const t = miner.mine(t2(x), y, t2(mem.emb), mem.lab) as akin.TripletIndices;
      const keep = Array.from(t.anchors.keys()).filter((i) => slots[t.anchors[i]] !== t.positives[i]);
      const pickIdx = (a: Int32Array): Int32Array => Int32Array.from(keep, (i) => a[i]);
      const tt = { anchors: pickIdx(t.anchors), positives: pickIdx(t.positives), negatives: pickIdx(t.negatives) };
      return ms.compute(t2(x), y, tt, t2(mem.emb), mem.lab);
    });
    assertClose(value(() => mined.compute(t2(x), y)), want, TOL);
  }
  mined.dispose();

  // Given triplets with the all-pairs default: converted to pairs (a, p, a, n) and appended.
  const con = new L.ContrastiveLoss();
  const given = new L.CrossBatchMemory({ loss: con, embeddingSize: 3, memorySize: 4 });
  const { x, y } = BATCHES[1];
  const trip: akin.TripletIndices = { anchors: Int32Array.of(0, 2), positives: Int32Array.of(1, 0), negatives: Int32Array.of(2, 1) };
  const base = refPairs(y, y, [0, 1, 2]);
  const cat = (a: Int32Array, b: Int32Array): Int32Array => Int32Array.from([...a, ...b]);
  const all = { anchors1: cat(base.anchors1, trip.anchors), positives: cat(base.positives, trip.positives), anchors2: cat(base.anchors2, trip.anchors), negatives: cat(base.negatives, trip.negatives) };
  assertClose(value(() => given.compute(t2(x), y, trip)), value(() => con.compute(t2(x), y, all, t2(x), y)), TOL);
  given.dispose();
});

test('CrossBatchMemory: gradients reach the batch only (the memory is detached)', () => {
  const inner = new L.ContrastiveLoss({ posMargin: 0.1, negMargin: 0.9 });
  const cbm = new L.CrossBatchMemory({ loss: inner, embeddingSize: 3, memorySize: 10 });
  const prev = BATCHES[2], cur = BATCHES[3];
  // Query rows not enqueued (mask): the loss is a function of them alone, so finite differences apply.
  const dummy = [[0.3, -0.2, 0.9]];
  checkGradient((x) => {
    cbm.resetQueue();
    cbm.compute(tf.tensor2d(prev.x), prev.y);
    return cbm.computeWithEnqueueMask(tf.concat([x, tf.tensor2d(dummy)]) as akin.tf.Tensor2D, [...cur.y, 0], [0, 0, 0, 1]);
  }, cur.x);
  // Without a mask the batch is also in the memory, but only the query side carries gradient (as PML).
  const ref = new RefMemory(10, 3);
  ref.add(prev.x, prev.y);
  const slots = ref.add(cur.x, cur.y);
  const mem = ref.view();
  const want = tf.tidy(() => Array.from(tf.grad((x: akin.tf.Tensor) =>
    inner.compute(x as akin.tf.Tensor2D, cur.y, refPairs(cur.y, mem.lab, slots), t2(mem.emb), mem.lab))(t2(cur.x)).dataSync()));
  const got = tf.tidy(() => Array.from(tf.grad((x: akin.tf.Tensor) => {
    cbm.resetQueue();
    cbm.compute(tf.tensor2d(prev.x), prev.y);
    return cbm.compute(x as akin.tf.Tensor2D, cur.y);
  })(t2(cur.x)).dataSync()));
  assert.ok(want.some((v) => Math.abs(v) > 1e-3));
  assertClose(got, want, TOL);
  cbm.dispose();
});

test('CrossBatchMemory: config round trip, trainable weights, errors, no tensor growth', () => {
  const cbm = new L.CrossBatchMemory({ loss: new L.NTXentLoss({ temperature: 0.3 }), embeddingSize: 3, memorySize: 7, miner: 'MultiSimilarityMiner' });
  const cfg = cbm.getConfig();
  assert.equal(cfg.memorySize, 7);
  assert.equal((cfg.miner as akin.core.ComponentConfig).className, 'MultiSimilarityMiner');
  const twin = L.fromConfig({ className: 'CrossBatchMemory', config: JSON.parse(JSON.stringify(cfg)) as Record<string, unknown> });
  assert.deepEqual(twin.getConfig(), cfg);
  for (const { x, y } of BATCHES) assertClose(value(() => twin.compute(t2(x), y)), value(() => cbm.compute(t2(x), y)), TOL);
  assert.deepEqual(new L.CrossBatchMemory({ loss: 'ContrastiveLoss', embeddingSize: 2 }).getConfig().memorySize, 1024);
  const margin = new L.MarginLoss({ numClasses: 3, learnBeta: true });
  const withBeta = new L.CrossBatchMemory({ loss: margin, embeddingSize: 3 });
  assert.deepEqual(withBeta.trainableWeights, margin.trainableWeights);
  assert.equal(withBeta.trainableWeights.length, 1);
  withBeta.dispose();

  const bad = (f: () => unknown, cls: typeof akin.AkinError, what: string): void =>
    assert.throws(f, (e: unknown) => e instanceof cls && e.message.includes(what), what);
  bad(() => new L.CrossBatchMemory({ loss: new L.ProxyNCALoss({ numClasses: 2, embeddingSize: 3 }), embeddingSize: 3 }), akin.ConfigError, 'ProxyNCALoss');
  bad(() => new L.CrossBatchMemory({ loss: 'ContrastiveLoss', embeddingSize: 0 }), akin.ConfigError, "'embeddingSize'");
  const small = new L.CrossBatchMemory({ loss: 'ContrastiveLoss', embeddingSize: 3, memorySize: 2 });
  bad(() => value(() => small.compute(t2(X), Y)), akin.ShapeError, 'memorySize');
  bad(() => value(() => small.compute(t2(X.slice(0, 2)), [0, 1], undefined, t2(X), Y)), akin.ShapeError, 'reference');
  small.dispose();

  const x = tf.tensor2d(BATCHES[0].x);
  tf.tidy(() => cbm.compute(x, BATCHES[0].y)).dispose(); // warm-up
  const before = tf.memory().numTensors;
  for (let i = 0; i < 4; i++) {
    tf.tidy(() => cbm.compute(x, BATCHES[i].y)).dispose();
    tf.tidy(() => cbm.computeWithEnqueueMask(x, BATCHES[i].y, [1, 0, 1])).dispose();
  }
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  const mem = tf.memory().numTensors;
  cbm.dispose();
  twin.dispose();
  assert.equal(tf.memory().numTensors, mem - 2);
});
