import * as tf from '@tensorflow/tfjs';
import { parseOptions } from '../core/options.js';
import { detached } from '../core/tensor.js';
import { MarginSoftmaxBase, rowNorms, marginSoftmaxSchema, type MarginSoftmaxLossOptions } from './margin-softmax-base.js';
import { registry } from './registry.js';

/** Options of {@link LargeMarginSoftmaxLoss} (PML's keyword arguments, in camelCase). */
export interface LargeMarginSoftmaxLossOptions extends MarginSoftmaxLossOptions {
  /** The angle multiplier m (an integer; PML truncates with `int()`). Default `4`. */
  margin?: number;
  /** Logit scale. Default `1`. */
  scale?: number;
}

/** C(n, k) for small n. */
function binom(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/**
 * Large-margin softmax (L-Softmax, Liu et al. 2016; PML `LargeMarginSoftmaxLoss`). The target logit
 * `|w_y| |x| cos(theta)` becomes `|w_y| |x| psi(theta)` with
 * `psi = (-1)^k cos(m theta) - 2k`, `k = floor(theta m / pi)` (no gradient through k) and `cos(m theta)`
 * expanded by the multiple-angle formula; every logit is scaled by `|w_j| |x_i| * scale`.
 */
export class LargeMarginSoftmaxLoss extends MarginSoftmaxBase {
  readonly className: string = 'LargeMarginSoftmaxLoss';

  constructor(options: LargeMarginSoftmaxLossOptions) {
    const o = parseOptions('LargeMarginSoftmaxLoss', marginSoftmaxSchema(4, 1), options);
    super('LargeMarginSoftmaxLoss', { ...o, margin: Math.trunc(o.margin) });
  }

  /** `cos(m theta)` from `cos(theta)`: sum_n (-1)^n C(m, 2n) cos^(m-2n) (1 - cos^2)^n. */
  protected cosWithMargin(c: tf.Tensor1D): tf.Tensor1D {
    const m = this.margin;
    const sin2 = tf.sub(1, tf.square(c));
    let out: tf.Tensor = tf.zerosLike(c);
    for (let n = 0; n <= Math.floor(m / 2); n++) {
      const term = tf.mul(tf.mul(tf.pow(c, m - 2 * n), tf.pow(sin2, n)), (n % 2 === 0 ? 1 : -1) * binom(m, 2 * n));
      out = tf.add(out, term);
    }
    return out as tf.Tensor1D;
  }

  protected modifyTarget(cosTarget: tf.Tensor1D): tf.Tensor1D {
    const cwm = this.cosWithMargin(cosTarget);
    const angles = this.angles(cosTarget);
    const m = this.margin;
    const k = detached(angles, (a) => tf.floor(tf.div(a, Math.PI / m)));
    const sign = detached(k, (v) => tf.sub(1, tf.mul(tf.mod(tf.abs(v), 2), 2)));
    return tf.sub(tf.mul(sign, cwm), tf.mul(k, 2)) as tf.Tensor1D;
  }

  protected override scaleLogits(logits: tf.Tensor2D, embeddings: tf.Tensor2D): tf.Tensor2D {
    const p = this.distance.p;
    const en = rowNorms(embeddings, p);
    const wn = rowNorms(tf.transpose(this.W) as tf.Tensor2D, p);
    return tf.mul(tf.mul(logits, tf.mul(tf.expandDims(en, 1), tf.expandDims(wn, 0))), this.scale) as tf.Tensor2D;
  }

  getConfig(): Record<string, unknown> {
    return this.baseConfig();
  }
}

registry.register('LargeMarginSoftmaxLoss', (c) => new LargeMarginSoftmaxLoss(c as unknown as LargeMarginSoftmaxLossOptions));
