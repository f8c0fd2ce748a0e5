import * as tf from '@tensorflow/tfjs';
import { registerWasmConvGrads } from './wasm-conv-grads.js';
import { registerWasmMiscGrads } from './wasm-misc-grads.js';
import { registerWasmSum } from './wasm-reduce.js';
import { registerWasmDataKernels, transposeLastTwo } from './wasm-data-kernels.js';
import { withOps, WasmOps, type WasmBackendLike } from './wasm-ops.js';
import { akinMatMul, applyActivation } from './wasm-gemm.js';
import { registerWasmFused } from './wasm-fused.js';
import { registerWasmL2 } from './wasm-l2.js';
import { registerWasmTripletBits } from './wasm-triplet-bits.js';
import { registerReductionGradients } from './gradients.js';

type KernelFunc = tf.KernelConfig['kernelFunc'];
type Info = tf.TensorInfo;

const patched = new Set<string>();

/**
 * The wasm backend's matmul runs 15-20x slower when an operand is marked transposed (every backward
 * pass and every `a @ b^T` similarity matrix takes that path) than when both are plain. This wraps
 * `BatchMatMul` and `_FusedMatMul` so that a transposed operand is first transposed explicitly on the
 * heap ({@link transposeLastTwo}) and the plain path is used. Results are unchanged. On one thread,
 * float32 products go to akin's own SIMD matmul instead ({@link akinMatMul}), which is faster there.
 * A fused matmul whose bias is not one value per column (one value, or a full [M, N] matrix) is computed
 * as matmul, add, activation: the stock kernel gets those wrong.
 */
export function patchWasmMatMul(): void {
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    if (patched.has(name)) continue;
    const original = tf.getKernel(name, 'wasm');
    if (!original) continue;
    const kernelFunc: KernelFunc = (args) => {
      const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean; activation?: string; leakyreluAlpha?: number };
      const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, Info | undefined>;
      if (!preluActivationWeights) {
        const ops = new WasmOps(args.backend as WasmBackendLike);
        try {
          const out = akinMatMul(ops, {
            a: a!, b: b!, bias, transposeA: !!attrs.transposeA, transposeB: !!attrs.transposeB,
            activation: attrs.activation, leakyreluAlpha: attrs.leakyreluAlpha,
          }, transposeLastTwo);
          if (out) return ops.keep(out);
        } finally {
          ops.dispose();
        }
      }
      if (bias && biasNeedsBroadcast(bias, b!, !!attrs.transposeB)) {
        // the stock kernel adds a bias of other than one value per column to the first columns only
        return withOps(args.backend, (ops) => {
          const y = ops.call('BatchMatMul', { a: a!, b: b! }, { transposeA: !!attrs.transposeA, transposeB: !!attrs.transposeB });
          return applyActivation(ops, ops.add(y, bias), attrs.activation ?? 'linear', attrs.leakyreluAlpha, preluActivationWeights);
        });
      }
      if (!attrs.transposeA && !attrs.transposeB) return original.kernelFunc(args);
      return withOps(args.backend, (ops) => {
        const inputs = { ...args.inputs } as Record<string, Info>;
        if (attrs.transposeA) inputs.a = transposeLastTwo(ops, inputs.a);
        if (attrs.transposeB) inputs.b = transposeLastTwo(ops, inputs.b);
        return ops.call(name, inputs, { ...args.attrs, transposeA: false, transposeB: false }, original.kernelFunc);
      });
    };
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...original, kernelFunc });
    patched.add(name);
  }
}

/** Whether a fused matmul's bias is other than one value per output column (shape [N] or [1, ..., N]). */
function biasNeedsBroadcast(bias: Info, b: Info, transposeB: boolean): boolean {
  const n = b.shape[b.shape.length - (transposeB ? 2 : 1)];
  return tf.util.sizeFromShape(bias.shape) !== n || bias.shape[bias.shape.length - 1] !== n;
}

let extraRegistered = false;

/**
 * Everything akin adds to the wasm backend: the matmul fix above, the convolution gradients wasm
 * lacks (`Conv2DBackpropFilter`, `DepthwiseConv2dNativeBackpropInput`/`Filter`), `UnsortedSegmentSum`
 * (the gradient of `tf.gather`), a correct `MaxPoolGrad`, faster
 * `Conv2DBackpropInput`, leading-axis `Sum`, `Tile`, `GatherV2`, broadcasting comparisons, a copy-free
 * `Identity`, a blocked `Transpose`, the fused kernels of `fused.ts` (triplet margins over mined bits included), and `Sum`/`Mean` gradients
 * without host-built ones. Idempotent.
 */
export function registerWasmKernels(): void {
  patchWasmMatMul();
  if (extraRegistered) return;
  registerWasmConvGrads();
  registerWasmMiscGrads();
  registerWasmSum();
  registerWasmDataKernels();
  registerWasmFused();
  registerWasmL2();
  registerWasmTripletBits();
  registerReductionGradients();
  extraRegistered = true;
}
