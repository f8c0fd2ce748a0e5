/**
 * Adam with one pass per variable on the wasm backend. tfjs's `AdamOptimizer` runs about a dozen
 * elementwise kernels per variable and step (each allocating a result on the heap and going through the
 * engine); here the moments and the weights are updated in place on the wasm heap, one loop per
 * variable, with float32 rounding after every operation so that the result is what tfjs's kernel
 * sequence gives. On other backends it is tfjs's Adam unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from '../backend/wasm-ops.js';

interface OptimizerVariable {
  originalName: string;
  variable: tf.Variable;
}

/** The state `tf.AdamOptimizer` keeps in private fields (read and updated here in place). */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: OptimizerVariable[];
  accumulatedSecondMoment: OptimizerVariable[];
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

type Backend = WasmBackendLike & { refCount(dataId: tf.DataId): number };

const f32 = Math.fround;

/**
 * `tf.train.adam` with an in-place update on the wasm backend (the same class name, config, weights and
 * checkpoint format as tfjs's `AdamOptimizer`, of which it is a subclass). Build it like tfjs's:
 * `new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon?)`; `makeOptimizer('adam', lr)` returns one.
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const backend = tf.backend() as Partial<Backend>;
    if (tf.getBackend() !== 'wasm' || typeof backend.typedArrayFromHeap !== 'function' || typeof backend.refCount !== 'function') {
      super.applyGradients(variableGradients);
      return;
    }
    const s = this as unknown as AdamState;
    const list = Array.isArray(variableGradients)
      ? variableGradients.map((v) => ({ name: v.name, grad: v.tensor as tf.Tensor | undefined }))
      : Object.keys(variableGradients).map((name) => ({ name, grad: variableGradients[name] as tf.Tensor | undefined }));
    const work: { w: tf.Variable; m: tf.Variable; v: tf.Variable; g: tf.Tensor }[] = [];
    list.forEach(({ name, grad }, i) => {
      const w = tf.engine().registeredVariables[name];
      // As tfjs: moments are created for every listed variable, in list order, even without a gradient.
      s.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(w).variable(false)) };
      s.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(w).variable(false)) };
      if (grad == null) return;
      work.push({ w, m: s.accumulatedFirstMoment[i].variable, v: s.accumulatedSecondMoment[i].variable, g: grad });
    });
    const b = backend as Backend;
    if (work.some(({ w, g }) => w.dtype !== 'float32' || g.dtype !== 'float32' || g.size !== w.size)) {
      super.applyGradients(variableGradients);
      return;
    }
    // Every buffer written in place must belong to its variable alone (a clone or a checkpoint's source
    // tensor may share it); copies are made before any heap view is taken (allocation can move the heap).
    for (const { w, m, v } of work) for (const x of [w, m, v]) ownBuffer(b, x);
    ownBuffer(b, s.accBeta1);
    ownBuffer(b, s.accBeta2);
    const acc1 = b.typedArrayFromHeap(s.accBeta1) as Float32Array;
    const acc2 = b.typedArrayFromHeap(s.accBeta2) as Float32Array;
    const c = {
      b1: f32(s.beta1), c1: f32(1 - s.beta1), b2: f32(s.beta2), c2: f32(1 - s.beta2), eps: f32(s.epsilon),
      negLr: f32(-s.learningRate), o1: f32(1 - acc1[0]), o2: f32(1 - acc2[0]),
    };
    for (const { w, m, v, g } of work) {
      adamPass(
        b.typedArrayFromHeap(w) as Float32Array, b.typedArrayFromHeap(m) as Float32Array,
        b.typedArrayFromHeap(v) as Float32Array, b.typedArrayFromHeap(g) as Float32Array, c,
      );
    }
    acc1[0] = f32(acc1[0] * c.b1);
    acc2[0] = f32(acc2[0] * c.b2);
    this.incrementIterations();
  }
}

/** Gives `x` a buffer of its own when its data is shared with another tensor (an exact copy). */
function ownBuffer(backend: Backend, x: tf.Variable): void {
  if (backend.refCount(x.dataId) <= 1) return;
  const copy = tf.tidy(() => tf.mul(x, tf.scalar(1, 'float32')));
  x.assign(copy);
  copy.dispose();
}

interface AdamConstants {
  b1: number; c1: number; b2: number; c2: number; eps: number; negLr: number;
  /** `1 - beta1^t` and `1 - beta2^t` as float32. */
  o1: number; o2: number;
}

/**
 * One Adam step over a variable, in place, rounding to float32 after each operation as tfjs's kernels
 * do: `m = m b1 + g (1 - b1)`, `v = v b2 + g^2 (1 - b2)`, `w = (m / o1) / (sqrt(v / o2) + eps) * -lr + w`.
 */
function adamPass(w: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, c: AdamConstants): void {
  const { b1, c1, b2, c2, eps, negLr, o1, o2 } = c;
  for (let k = 0; k < w.length; k++) {
    const gk = g[k];
    const mk = f32(f32(m[k] * b1) + f32(gk * c1));
    const vk = f32(f32(v[k] * b2) + f32(f32(gk * gk) * c2));
    m[k] = mk;
    v[k] = vk;
    const den = f32(f32(Math.sqrt(f32(vk / o2))) + eps);
    w[k] = f32(f32(f32(f32(mk / o1) / den) * negLr) + w[k]);
  }
}
