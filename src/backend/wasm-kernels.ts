import * as tf from '@tensorflow/tfjs';
import { registerWasmConvGrads } from './wasm-conv-grads.js';
import { registerWasmMiscGrads } from './wasm-misc-grads.js';
import { registerWasmSum } from './wasm-reduce.js';
import { registerWasmDataKernels } from './wasm-data-kernels.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type Info = tf.TensorInfo;

const patched = new Set<string>();

/**
 * The wasm backend's matmul runs 15-20x slower when an operand is marked transposed (every backward
 * pass and every `a @ b^T` similarity matrix takes that path) than when both are plain. This wraps
 * `BatchMatMul` and `_FusedMatMul` so that a transposed operand is first transposed explicitly with the
 * (fast) Transpose kernel and the plain path is used. Results are unchanged.
 */
export function patchWasmMatMul(): void {
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    if (patched.has(name)) continue;
    const original = tf.getKernel(name, 'wasm');
    if (!original) continue;
    const transpose = tf.getKernel('Transpose', 'wasm');
    if (!transpose) return;
    const kernelFunc: KernelFunc = (args) => {
      const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean };
      if (!attrs.transposeA && !attrs.transposeB) return original.kernelFunc(args);
      const backend = args.backend as tf.KernelBackend;
      const temps: Info[] = [];
      const flip = (x: Info): Info => {
        const rank = x.shape.length;
        const perm = [...Array(rank).keys()];
        [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
        const out = transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }) as Info;
        temps.push(out);
        return out;
      };
      const inputs = { ...args.inputs } as Record<string, Info>;
      if (attrs.transposeA) inputs.a = flip(inputs.a);
      if (attrs.transposeB) inputs.b = flip(inputs.b);
      try {
        return original.kernelFunc({ ...args, inputs, attrs: { ...args.attrs, transposeA: false, transposeB: false } });
      } finally {
        for (const t of temps) backend.disposeData(t.dataId);
      }
    };
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...original, kernelFunc });
    patched.add(name);
  }
}

let extraRegistered = false;

/**
 * Everything akin adds to the wasm backend: the matmul fix above, the convolution gradients wasm
 * lacks (`Conv2DBackpropFilter`, `DepthwiseConv2dNativeBackpropInput`/`Filter`), `UnsortedSegmentSum`
 * (the gradient of `tf.gather`), a correct `MaxPoolGrad`, faster
 * `Conv2DBackpropInput`, leading-axis `Sum`, `Tile`, `GatherV2` and broadcasting comparisons. Idempotent.
 */
export function registerWasmKernels(): void {
  patchWasmMatMul();
  if (extraRegistered) return;
  registerWasmConvGrads();
  registerWasmMiscGrads();
  registerWasmSum();
  registerWasmDataKernels();
  extraRegistered = true;
}
