/**
 * Adam with one pass per variable on the wasm backend. tfjs's `AdamOptimizer` runs about a dozen
 * elementwise kernels per variable and step (each allocating a result on the heap and going through the
 * engine); here one pass per variable (WebAssembly SIMD over the heap, `backend/wasm-adam.ts`) updates
 * the moments in place and writes the new weights, with the same float32 operations as tfjs's kernels, so
 * the result is what tfjs's kernel sequence gives. On other backends it is tfjs's Adam unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackendLike } from '../backend/wasm-ops.js';
import { adamSimd, adamUpdate } from '../backend/wasm-adam.js';

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
 * `tf.train.adam` with one pass per variable on the wasm backend (the same class name, config, weights and
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
    // The moments are updated in place, and must belong to their variable alone (a checkpoint's source
    // tensor may share them). The weights get a new buffer: the wasm matmul caches packed weights by
    // buffer, so a weight changed in place would be multiplied stale. Every allocation comes before the
    // first heap view is taken (allocation can move the heap).
    for (const { m, v } of work) for (const x of [m, v]) ownBuffer(b, x);
    ownBuffer(b, s.accBeta1);
    ownBuffer(b, s.accBeta2);
    const next = work.map(({ w }) => tf.engine().makeTensorFromTensorInfo(b.makeOutput(w.shape, 'float32')));
    const acc1 = b.typedArrayFromHeap(s.accBeta1) as Float32Array;
    const acc2 = b.typedArrayFromHeap(s.accBeta2) as Float32Array;
    const c = {
      b1: f32(s.beta1), c1: f32(1 - s.beta1), b2: f32(s.beta2), c2: f32(1 - s.beta2), eps: f32(s.epsilon),
      negLr: f32(-s.learningRate), o1: f32(1 - acc1[0]), o2: f32(1 - acc2[0]),
    };
    const heap = (x: tf.Tensor): Float32Array => b.typedArrayFromHeap(x) as Float32Array;
    const simd = adamSimd(b);
    work.forEach(({ w, m, v, g }, i) => adamUpdate(simd, heap(w), heap(m), heap(v), heap(g), heap(next[i]), c));
    acc1[0] = f32(acc1[0] * c.b1);
    acc2[0] = f32(acc2[0] * c.b2);
    work.forEach(({ w }, i) => {
      w.assign(next[i]);
      next[i].dispose();
    });
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
