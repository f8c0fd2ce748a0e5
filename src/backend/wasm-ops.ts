import * as tf from '@tensorflow/tfjs';

/** A tensor as kernels see it: data id, shape and dtype. */
export type Info = tf.TensorInfo;

/** The parts of the wasm backend that composite kernels use. */
export interface WasmBackendLike extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): Info;
  typedArrayFromHeap(info: Info): tf.backend_util.TypedArray;
}

/**
 * Calls other wasm kernels from inside a kernel and frees every intermediate result at the end.
 * Kernels must not call `tf` ops (that would go through the engine and the gradient tape), so
 * composite kernels are written with this instead:
 *
 * ```ts
 * const ops = new WasmOps(backend);
 * try {
 *   const y = ops.call('Transpose', { x }, { perm: [1, 0] });
 *   return ops.keep(ops.call('Reshape', { x: y }, { shape: [-1] }));
 * } finally {
 *   ops.dispose();
 * }
 * ```
 */
export class WasmOps {
  private readonly temps: Info[] = [];

  constructor(readonly backend: WasmBackendLike) {}

  /**
   * Runs the wasm kernel `name` (or `kernelFunc`, e.g. the stock kernel a wrapper replaced) and returns
   * its first output (all outputs are freed by {@link dispose}).
   */
  call(name: string, inputs: Record<string, Info> | Info[], attrs: Record<string, unknown> = {}, kernelFunc?: tf.KernelConfig['kernelFunc']): Info {
    const f = kernelFunc ?? tf.getKernel(name, 'wasm')?.kernelFunc;
    if (!f) throw new Error(`the wasm backend has no '${name}' kernel`);
    const out = f({
      inputs: inputs as unknown as tf.NamedTensorInfoMap,
      attrs: attrs as tf.NamedAttrMap,
      backend: this.backend,
    }) as Info | Info[];
    const outs = Array.isArray(out) ? out : [out];
    this.temps.push(...outs);
    return outs[0];
  }

  /** A new tensor holding `values`. */
  tensor(values: Float32Array | Int32Array, shape: number[], dtype: 'float32' | 'int32'): Info {
    const out = this.backend.makeOutput(shape, dtype, undefined, values);
    this.temps.push(out);
    return out;
  }

  /** An uninitialised tensor, to be filled through {@link heap}. */
  empty(shape: number[], dtype: tf.DataType = 'float32'): Info {
    const out = this.backend.makeOutput(shape, dtype);
    this.temps.push(out);
    return out;
  }

  /**
   * A view of the tensor's data on the wasm heap. Views are invalidated when the heap grows (any
   * allocation): take them after the last allocation and use them at once.
   */
  heap(x: Info): tf.backend_util.TypedArray {
    return this.backend.typedArrayFromHeap(x);
  }

  reshape(x: Info, shape: number[]): Info {
    return this.call('Reshape', { x }, { shape });
  }

  transpose(x: Info, perm: number[]): Info {
    return this.call('Transpose', { x }, { perm });
  }

  /** Plain (untransposed) batched matmul of rank-3 operands. */
  matMul(a: Info, b: Info): Info {
    return this.call('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  }

  add(a: Info, b: Info): Info {
    return this.call('Add', { a, b });
  }

  /** Takes `x` out of this scope's care: it becomes the caller's (the kernel's output). */
  keep(x: Info): Info {
    const i = this.temps.lastIndexOf(x);
    if (i >= 0) this.temps.splice(i, 1);
    return x;
  }

  /** Frees every intermediate not handed out with {@link keep}. */
  dispose(): void {
    for (const t of this.temps.splice(0)) this.backend.disposeData(t.dataId);
  }
}

/** Runs `f` with a fresh {@link WasmOps} and frees its intermediates afterwards, also on error. */
export function withOps(backend: unknown, f: (ops: WasmOps) => Info): Info {
  const ops = new WasmOps(backend as WasmBackendLike);
  try {
    return ops.keep(f(ops));
  } finally {
    ops.dispose();
  }
}

/**
 * Replaces (or adds) the wasm kernel `name`. A replaced kernel's setup function stays registered, so
 * the stock kernel can still be called as a fallback.
 */
export function registerWasmKernel(name: string, kernelFunc: tf.KernelConfig['kernelFunc']): void {
  const stock = tf.getKernel(name, 'wasm');
  if (stock) tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...stock, kernelName: name, backendName: 'wasm', kernelFunc });
}
