/**
 * Fused operations for the losses' hot paths. Each is one kernel on backends that register it (akin
 * registers them for wasm, see `wasm-fused.ts`) and the same computation from stock tfjs ops elsewhere.
 * Values agree to float32 rounding: the fused kernels accumulate in float64.
 */
import * as tf from '@tensorflow/tfjs';
import { detached, gatherPairs, maskedLogSumExp as compositeLse } from '../core/tensor.js';
import { tripletLists, type TripletBits } from './triplet-bits.js';

/** Kernel names (akin's own; no tfjs kernel uses the prefix). */
export const MASKED_LSE = 'AkinMaskedLogSumExp';
export const MASKED_LSE_GRAD = 'AkinMaskedLogSumExpGrad';
export const PAIR_MASKS = 'AkinPairMasks';
export const GATHER_DIFF = 'AkinGatherDiff';
export const GATHER_DIFF_GRAD = 'AkinGatherDiffGrad';
export const SUPCON = 'AkinSupConRows';
export const SUPCON_GRAD = 'AkinSupConRowsGrad';
export const L2_DISTANCE = 'AkinL2Distance';
export const L2_SELF = 'AkinL2DistanceSelf';
/** Gradient of {@link L2_DISTANCE} for one side: inputs dy, d, x (that side) and other; attr `transpose` (x is r). */
export const L2_GRAD = 'AkinL2DistanceGrad';
export const L2_GRAD_SELF = 'AkinL2DistanceSelfGrad';
export const TRIPLET_MARGIN = 'AkinTripletBitsMargin';
export const TRIPLET_MARGIN_GRAD = 'AkinTripletBitsMarginGrad';
export const TRIPLET_MEAN = 'AkinTripletBitsPositiveMean';
export const TRIPLET_MEAN_GRAD = 'AkinTripletBitsPositiveMeanGrad';
export const L2_NORMALIZE = 'AkinL2NormalizeRows';
/** Gradient of {@link L2_NORMALIZE}: inputs dy, x, y; attr epsilon. */
export const L2_NORMALIZE_GRAD = 'AkinL2NormalizeRowsGrad';

/** Attributes of {@link MASKED_LSE} and {@link MASKED_LSE_GRAD}. */
export interface MaskedLseAttrs {
  /** Adds a constant 0 logit to every row: `log(1 + sum ...)`. */
  addOne: boolean;
  /** The logits are `scale * (x - shift)`. */
  scale: number;
  shift: number;
}

function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/**
 * The gradient of a one-input kernel `name` (input `x`, output `y`) as the kernel `gradName` with inputs
 * `dy`, `x` and `y` and the forward kernel's attributes.
 */
function registerGradientFromXY(name: string, gradName: string): void {
  tf.registerGradient({
    kernelName: name,
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved;
      return { x: () => tf.engine().runKernel(gradName, { dy: dy as tf.Tensor, x, y }, attrs) as tf.Tensor };
    },
  });
}

/**
 * Row-wise `log([1 +] sum_j w_ij exp(z_ij))` with `z = scale * (x - shift)`, over the entries with
 * `w_ij > 0` (`w` is a boolean mask or non-negative float32 weights, e.g. how often a pair occurs).
 * Rows with no such entry give 0. Differentiable with respect to `x` only; entries left out get no
 * gradient and never produce NaN.
 *
 * @param x  [n, m] values.
 * @param weights  [n, m] bool mask or float32 weights.
 * @returns [n] values.
 */
export function maskedLogSumExp(
  x: tf.Tensor2D,
  weights: tf.Tensor2D,
  { addOne = false, scale = 1, shift = 0 }: Partial<MaskedLseAttrs> = {},
): tf.Tensor1D {
  if (hasKernel(MASKED_LSE)) {
    const attrs: MaskedLseAttrs = { addOne, scale, shift };
    return tf.engine().runKernel(MASKED_LSE, { x, weights }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor1D;
  }
  return tf.tidy(() => {
    let z = x;
    if (shift !== 0) z = tf.sub(z, shift);
    if (scale !== 1) z = tf.mul(z, scale);
    if (weights.dtype === 'bool') return compositeLse(z, weights, addOne);
    const keep = tf.greater(weights, 0) as tf.Tensor2D;
    return compositeLse(tf.add(z, tf.log(tf.where(keep, weights, tf.onesLike(weights)))), keep, addOne);
  });
}

tf.registerGradient({
  kernelName: MASKED_LSE,
  inputsToSave: ['x', 'weights'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, weights, y] = saved;
    return {
      x: () => tf.engine().runKernel(MASKED_LSE_GRAD, { dy: dy as tf.Tensor, x, weights, y }, attrs) as tf.Tensor,
      weights: () => tf.zerosLike(weights),
    };
  },
});

/**
 * The Gram matrix `x x^T` of the rows of `x` [n, d]. Its gradient is `(dy + dy^T) x`: one [n, n] x
 * [n, d] matmul, where differentiating `matMul(x, x, false, true)` would take two (`dy x` and
 * `dy^T x`, then their sum).
 */
export const gramMatrix = tf.customGrad(((x: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: tf.matMul(x, x, false, true),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => tf.matMul(tf.add(dy, tf.transpose(dy)) as tf.Tensor2D, saved[0] as tf.Tensor2D),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D) => tf.Tensor2D;

/** Attributes of {@link L2_NORMALIZE} and {@link L2_NORMALIZE_GRAD}. */
export interface L2NormalizeAttrs {
  /** Floor on the norm. */
  epsilon: number;
}

/**
 * `x / max(|x|, epsilon)` along the last axis: each row scaled to unit L2 norm, a row whose norm is
 * below `epsilon` divided by `epsilon`. One kernel each way where {@link L2_NORMALIZE} is registered
 * (norms in float64; the gradient `(dy - y (dy . y)) / |x|`, or `dy / epsilon` below the floor, so an
 * all-zero row gets a finite gradient), the stock ops `x / max(sqrt(sum(x^2)), epsilon)` elsewhere.
 */
export function l2NormalizeRows<T extends tf.Tensor>(x: T, epsilon: number): T {
  if (x.rank >= 1 && x.dtype === 'float32' && hasKernel(L2_NORMALIZE)) {
    const attrs: L2NormalizeAttrs = { epsilon };
    return tf.engine().runKernel(L2_NORMALIZE, { x }, attrs as unknown as tf.NamedAttrMap) as T;
  }
  return tf.tidy(() => tf.div(x, tf.maximum(tf.sqrt(tf.sum(tf.square(x), -1, true)), epsilon)) as T);
}

registerGradientFromXY(L2_NORMALIZE, L2_NORMALIZE_GRAD);

/** Boolean [n, m] masks of the positive pairs (same label) and the negative pairs (different label). */
export interface PairMasks {
  pos: tf.Tensor2D;
  neg: tf.Tensor2D;
}

/**
 * The positive and negative pair masks of a batch against a reference set: `pos[i][j]` when
 * `labels[i] === refLabels[j]` (and `i !== j` when there is no reference set), `neg[i][j]` when the
 * labels differ. Written directly into backend memory where {@link PAIR_MASKS} is registered, built on
 * the host and uploaded elsewhere.
 */
export function pairMasks(labels: Int32Array, refLabels?: Int32Array): PairMasks {
  const ref = refLabels ?? labels;
  const self = refLabels === undefined;
  const n = labels.length;
  const m = ref.length;
  if (hasKernel(PAIR_MASKS)) {
    return tf.tidy(() => {
      const [pos, neg] = tf.engine().runKernel(PAIR_MASKS, { labels: tf.tensor1d(labels, 'int32'), refLabels: tf.tensor1d(ref, 'int32') }, { self }) as tf.Tensor2D[];
      return { pos, neg };
    });
  }
  const pos = new Uint8Array(n * m);
  const neg = new Uint8Array(n * m);
  fillPairMasks(labels, ref, self, pos, neg);
  return { pos: tf.tensor2d(pos, [n, m], 'bool'), neg: tf.tensor2d(neg, [n, m], 'bool') };
}

/** Writes the masks of {@link pairMasks} into `pos` and `neg` (row-major [labels.length, ref.length]). */
export function fillPairMasks(labels: ArrayLike<number>, ref: ArrayLike<number>, self: boolean, pos: Uint8Array, neg: Uint8Array): void {
  const m = ref.length;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    const row = i * m;
    for (let j = 0; j < m; j++) {
      const same = ref[j] === l ? 1 : 0;
      pos[row + j] = same;
      neg[row + j] = 1 - same;
    }
    if (self && i < m) pos[row + i] = 0;
  }
}

/** Attributes of {@link GATHER_DIFF} and {@link GATHER_DIFF_GRAD}: the index lists and x's shape. */
export interface GatherDiffAttrs {
  rows: Int32Array;
  plus: Int32Array;
  minus: Int32Array;
  shape: [number, number];
}

/**
 * `x[rows[t], plus[t]] - x[rows[t], minus[t]]` for every t (e.g. `d(a, p) - d(a, n)` for triplets), as
 * two gathers and a float32 subtraction would give it, in one pass and without uploading the indices.
 * Differentiable with respect to `x` (the gradient adds `dy` at each plus cell and subtracts it at
 * each minus cell).
 * @throws RangeError when an index is outside `x`
 */
export function gatherDiff(x: tf.Tensor2D, rows: Int32Array, plus: Int32Array, minus: Int32Array): tf.Tensor1D {
  const [n, m] = x.shape;
  if (plus.length !== rows.length || minus.length !== rows.length) {
    throw new RangeError(`gatherDiff: ${rows.length} rows, ${plus.length} plus and ${minus.length} minus indices`);
  }
  for (let t = 0; t < rows.length; t++) {
    if (!(rows[t] >= 0 && rows[t] < n && plus[t] >= 0 && plus[t] < m && minus[t] >= 0 && minus[t] < m)) {
      throw new RangeError(`gatherDiff: index ${t} (${rows[t]}, ${plus[t]}, ${minus[t]}) is outside [${n}, ${m}]`);
    }
  }
  if (hasKernel(GATHER_DIFF)) {
    const attrs: GatherDiffAttrs = { rows, plus, minus, shape: [n, m] };
    return tf.engine().runKernel(GATHER_DIFF, { x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor1D;
  }
  return tf.tidy(() => tf.sub(gatherPairs(x, rows, plus), gatherPairs(x, rows, minus)) as tf.Tensor1D);
}

tf.registerGradient({
  kernelName: GATHER_DIFF,
  gradFunc: (dy, _saved, attrs) => ({
    x: () => tf.engine().runKernel(GATHER_DIFF_GRAD, { dy: dy as tf.Tensor }, attrs) as tf.Tensor,
  }),
});

/**
 * The [n, m] Euclidean distances `sqrt(max(|q_i|^2 + |r_j|^2 - 2 q_i.r_j, 0))` between the rows of `q`
 * and `r` (`r` omitted: `q` against itself, with an exact 0 diagonal), with a gradient that is 0
 * wherever a distance is 0 (never NaN); one kernel each way, or `null` where the backend has none (the
 * caller then composes it from stock ops).
 */
export function l2DistanceMatrix(q: tf.Tensor2D, r?: tf.Tensor2D): tf.Tensor2D | null {
  if (q.dtype !== 'float32' || (r !== undefined && r.dtype !== 'float32')) return null;
  if (r === undefined) return hasKernel(L2_SELF) ? tf.engine().runKernel(L2_SELF, { q }) as tf.Tensor2D : null;
  return hasKernel(L2_DISTANCE) ? tf.engine().runKernel(L2_DISTANCE, { q, r }) as tf.Tensor2D : null;
}

tf.registerGradient({
  kernelName: L2_SELF,
  inputsToSave: ['q'],
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [q, d] = saved;
    return { q: () => tf.engine().runKernel(L2_GRAD_SELF, { dy: dy as tf.Tensor, q, d }) as tf.Tensor };
  },
});

tf.registerGradient({
  kernelName: L2_DISTANCE,
  inputsToSave: ['q', 'r'],
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [q, r, d] = saved;
    const g = dy as tf.Tensor;
    return {
      q: () => tf.engine().runKernel(L2_GRAD, { dy: g, d, x: q, other: r }, { transpose: false }) as tf.Tensor,
      r: () => tf.engine().runKernel(L2_GRAD, { dy: g, d, x: r, other: q }, { transpose: true }) as tf.Tensor,
    };
  },
});

/**
 * Supervised-contrastive row losses from logits `l` [n, m] (similarities over a temperature), boolean
 * positives `pos` and the other cells that enter the softmax denominator `keep` (the negatives; the
 * positives always enter it, so `keep` may hold them or not):
 * `-(1 / max(|P_i|, 1)) sum_{j in P_i} (l_ij - lse_i)` with `lse_i` the log-sum-exp of row i over
 * `keep` or `pos`, computed as `sum_P l - |P_i| lse_i` (no log-probability matrix). Rows without positives give
 * 0. One pass each way where the backend has the kernel; stock ops elsewhere. Differentiable with
 * respect to `logits`.
 */
export function supConRows(logits: tf.Tensor2D, pos: tf.Tensor2D, keep: tf.Tensor2D): tf.Tensor1D {
  if (hasKernel(SUPCON) && logits.dtype === 'float32' && pos.dtype === 'bool' && keep.dtype === 'bool') {
    const [losses, lse] = tf.engine().runKernel(SUPCON, { logits, pos, keep }) as tf.Tensor[];
    lse.dispose(); // the gradient keeps its own reference when one is being recorded
    return losses as tf.Tensor1D;
  }
  return tf.tidy(() => {
    const lse = maskedLogSumExp(logits, tf.logicalOr(keep, pos));
    const p = tf.cast(pos, 'float32');
    const count = tf.sum(p, 1);
    const sumPos = tf.sub(tf.sum(tf.mul(logits, p), 1), tf.mul(count, lse));
    return tf.neg(tf.div(sumPos, tf.maximum(count, 1))) as tf.Tensor1D;
  });
}

tf.registerGradient({
  kernelName: SUPCON,
  inputsToSave: ['logits', 'pos', 'keep'],
  outputsToSave: [false, true],
  gradFunc: (dy, saved) => {
    const [logits, pos, keep, lse] = saved;
    const g = Array.isArray(dy) ? dy[0] : dy;
    return {
      logits: () => tf.engine().runKernel(SUPCON_GRAD, { dy: g, logits, pos, keep, lse }) as tf.Tensor,
      pos: () => tf.zerosLike(pos),
      keep: () => tf.zerosLike(keep),
    };
  },
});

/** Attributes of {@link TRIPLET_MARGIN} and {@link TRIPLET_MARGIN_GRAD}. */
export interface TripletMarginAttrs {
  triplets: TripletBits;
  /** Added to each difference (rounded to float32, as a float32 tensor op would). */
  margin: number;
  /** Similarities: `x[a, n] - x[a, p]` instead of `x[a, p] - x[a, n]`. */
  inverted: boolean;
  /** Apply relu to the result. */
  relu: boolean;
}

/**
 * Per kept triplet of `triplets` (in their order): `x[a, p] - x[a, n] + margin` (`x[a, n] - x[a, p] +
 * margin` when `inverted`), then relu when `relu`, with float32 rounding after each operation: what
 * {@link gatherDiff}, `tf.add` and `tf.relu` give on the triplets' index lists, in one pass over the
 * bits where the backend has the kernel (the lists are never built). Differentiable with respect to `x`.
 */
export function tripletMargins(x: tf.Tensor2D, triplets: TripletBits, { margin, inverted, relu }: Omit<TripletMarginAttrs, 'triplets'>): tf.Tensor1D {
  if (hasKernel(TRIPLET_MARGIN) && x.dtype === 'float32') {
    const attrs: TripletMarginAttrs = { triplets, margin, inverted, relu };
    return tf.engine().runKernel(TRIPLET_MARGIN, { x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor1D;
  }
  return tf.tidy(() => {
    const { anchors, positives, negatives } = tripletLists(triplets);
    const diff = inverted ? gatherDiff(x, anchors, negatives, positives) : gatherDiff(x, anchors, positives, negatives);
    const v = tf.add(diff, margin);
    return (relu ? tf.relu(v) : v) as tf.Tensor1D;
  });
}

registerGradientFromXY(TRIPLET_MARGIN, TRIPLET_MARGIN_GRAD);

/**
 * The mean of the positive values of {@link tripletMargins} with relu (0 when none is positive), i.e.
 * what `AvgNonZeroReducer` makes of them, without the per-triplet tensor: one pass over the bits each
 * way where the backend has the kernel (sums in float64), the per-triplet values and stock ops
 * elsewhere. Differentiable with respect to `x`.
 */
export function tripletPositiveMean(x: tf.Tensor2D, triplets: TripletBits, { margin, inverted }: { margin: number; inverted: boolean }): tf.Scalar {
  if (hasKernel(TRIPLET_MEAN) && x.dtype === 'float32') {
    const attrs: TripletMarginAttrs = { triplets, margin, inverted, relu: true };
    const [mean, count] = tf.engine().runKernel(TRIPLET_MEAN, { x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    count.dispose(); // the gradient keeps its own reference when one is being recorded
    return mean as tf.Scalar;
  }
  return tf.tidy(() => {
    const v = tripletMargins(x, triplets, { margin, inverted, relu: true });
    const kept = detached(v, (u) => tf.greater(u, 0));
    return tf.div(tf.sum(tf.where(kept, v, tf.zerosLike(v))), tf.maximum(tf.sum(tf.cast(kept, 'float32')), 1)) as tf.Scalar;
  });
}

tf.registerGradient({
  kernelName: TRIPLET_MEAN,
  inputsToSave: ['x'],
  outputsToSave: [false, true],
  gradFunc: (dy, saved, attrs) => {
    const [x, count] = saved;
    const g = Array.isArray(dy) ? dy[0] : dy;
    return { x: () => tf.engine().runKernel(TRIPLET_MEAN_GRAD, { dy: g, x, count }, attrs) as tf.Tensor };
  },
});
