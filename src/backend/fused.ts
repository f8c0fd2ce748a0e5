/**
 * Fused operations for the losses' hot paths. Each is one kernel on backends that register it (akin
 * registers them for wasm, see `wasm-fused.ts`) and the same computation from stock tfjs ops elsewhere.
 * Values agree to float32 rounding: the fused kernels accumulate in float64.
 */
import * as tf from '@tensorflow/tfjs';
import { maskedLogSumExp as compositeLse } from '../core/tensor.js';

/** Kernel names (akin's own; no tfjs kernel uses the prefix). */
export const MASKED_LSE = 'AkinMaskedLogSumExp';
export const MASKED_LSE_GRAD = 'AkinMaskedLogSumExpGrad';
export const PAIR_MASKS = 'AkinPairMasks';

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
