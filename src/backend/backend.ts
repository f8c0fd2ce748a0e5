import * as tf from '@tensorflow/tfjs';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, oneOf } from '../core/errors.js';
import { registerWasmKernels } from './wasm-kernels.js';
import { MATMUL_KERNELS, setWasmMatMul, type MatMulKernel } from './wasm-gemm.js';

/** The TensorFlow.js backends akin can run on, fastest first. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface BackendOptions {
  /**
   * Backend to use. Default: `AKIN_BACKEND` from the environment, else the first that works of
   * `tensorflow` (native TensorFlow through the optional `@tensorflow/tfjs-node`), `wasm`, `cpu`.
   */
  backend?: BackendName;
  /**
   * Threads for the wasm backend. Default: `AKIN_THREADS` from the environment, else every core
   * (`os.availableParallelism()`). Fixed once the wasm module has started: later calls cannot change it.
   */
  threads?: number;
  /**
   * The wasm backend's float32 matmul: `akin` (akin's own SIMD kernel), `xnnpack` (the stock one) or
   * `auto` (akin's on one thread, where it is faster, XNNPACK's threaded one otherwise). Default:
   * `AKIN_WASM_MATMUL` from the environment, else what it was (`auto` at first). Can be changed by
   * calling `init` again.
   */
  matMul?: MatMulKernel;
}

export interface BackendInfo {
  /** The backend now active. */
  backend: BackendName;
  /** Threads the backend computes with (wasm: XNNPACK's thread pool; others: reported as 0 = native). */
  threads: number;
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
let wasmThreads: number | null = null;
let current: BackendInfo | null = null;

/**
 * Chooses and starts the TensorFlow.js backend. Call once before building models; calling again with
 * the same choice is free. Throws a {@link ConfigError} when an explicitly requested backend cannot start.
 */
export async function init(options: BackendOptions = {}): Promise<BackendInfo> {
  const matMul = options.matMul ?? envMatMul();
  if (matMul !== undefined) setWasmMatMul(oneOf("backend: option 'matMul'", MATMUL_KERNELS, matMul));
  const requested = options.backend ?? envBackend();
  const threads = options.threads ?? envThreads() ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new ConfigError(`backend: option 'threads' must be an integer >= 1 (got ${threads})`);
  }
  if (current && (requested === undefined || requested === current.backend) &&
      (current.backend !== 'wasm' || options.threads === undefined || options.threads === current.threads)) {
    return current;
  }
  const order: BackendName[] = requested ? [requested] : [...BACKEND_NAMES];
  const failures: string[] = [];
  for (const name of order) {
    try {
      current = await start(name, threads);
      return current;
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new ConfigError(`backend: could not start ${order.join(' or ')} (${failures.join('; ')})`);
}

/** The active backend, or null before {@link init}. */
export function info(): BackendInfo | null {
  return current;
}

/** The environment variable `name` when set: one of `allowed`, else a {@link ConfigError}. */
function envChoice<T extends string>(name: string, allowed: readonly T[]): T | undefined {
  const v = isNode ? process.env[name] : undefined;
  return v === undefined || v === '' ? undefined : oneOf(name, allowed, v);
}

const envBackend = (): BackendName | undefined => envChoice('AKIN_BACKEND', BACKEND_NAMES);
const envMatMul = (): MatMulKernel | undefined => envChoice('AKIN_WASM_MATMUL', MATMUL_KERNELS);

function envThreads(): number | undefined {
  const v = isNode ? process.env.AKIN_THREADS : undefined;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`AKIN_THREADS must be an integer >= 1 (got '${v}')`);
  return n;
}

async function start(name: BackendName, threads: number): Promise<BackendInfo> {
  if (name === 'tensorflow') {
    // Optional dependency: absent (or without its native library) when it could not be installed.
    await import('@tensorflow/tfjs-node' as string);
    if (!(await tf.setBackend('tensorflow'))) throw new Error('tfjs-node did not register');
    return { backend: 'tensorflow', threads: 0 };
  }
  if (name === 'wasm') {
    if (isNode) registerThreadedWasm(threads);
    registerWasmKernels();
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm module failed to start');
    await tf.ready();
    return { backend: 'wasm', threads: wasm.getThreadsCount() };
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to start');
  return { backend: 'cpu', threads: 1 };
}

/**
 * tfjs turns wasm threads off under Node and gives its pthread workers blob URLs that worker_threads
 * cannot load. This registers the `wasm` backend again with a factory that starts the threaded-SIMD
 * module itself: the workers load a small bootstrap file, the main script is read from disk, and the
 * core count the module sees is set so that XNNPACK's pool gets `threads` threads (tfjs halves the
 * reported core count and caps the pool by it).
 */
function registerThreadedWasm(threads: number): void {
  if (wasmThreads !== null) {
    if (wasmThreads !== threads) {
      throw new Error(`the wasm backend already runs with ${wasmThreads} thread(s); threads are fixed per process`);
    }
    return;
  }
  wasmThreads = threads;
  if (threads === 1) return; // tfjs's own single-threaded SIMD module
  const require = createRequire(import.meta.url);
  const outDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const mainScript = join(outDir, 'tfjs-backend-wasm-threaded-simd.js');
  const wasmFile = join(outDir, 'tfjs-backend-wasm-threaded-simd.wasm');
  const workerFile = join(dirname(fileURLToPath(import.meta.url)), 'wasm-worker.cjs');
  type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;
  const factory = require(mainScript) as Factory;
  tf.removeBackend('wasm');
  wasm.setThreadsCount(threads);
  tf.registerBackend(
    'wasm',
    async () => {
      const before = { uncaughtException: process.listeners('uncaughtException'), unhandledRejection: process.listeners('unhandledRejection') };
      const module = await factory({
        locateFile: (path: string) => (path.endsWith('.worker.js') ? workerFile : join(outDir, path)),
        mainScriptUrlOrBlob: mainScript,
        instantiateWasm(imports: { env: Record<string, unknown> }, receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) {
          imports.env.emscripten_num_logical_cores = () => 2 * threads;
          WebAssembly.instantiate(readFileSync(wasmFile), imports as WebAssembly.Imports).then(
            (r) => receive(r.instance, r.module),
            (e: unknown) => { throw e; },
          );
          return {};
        },
      });
      // The emscripten runtime installs process handlers that rethrow every uncaught error from inside
      // its own (minified, ~100 KB) source line, which then floods the terminal. Errors are the
      // application's to handle: take those handlers off again.
      for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
        for (const l of process.listeners(event as 'uncaughtException')) {
          if (!(before[event] as unknown[]).includes(l)) process.removeListener(event as 'uncaughtException', l);
        }
      }
      const cwrap = module.cwrap;
      module.tfjs = {
        init: cwrap('init', null, []),
        initWithThreadsCount: cwrap('init_with_threads_count', null, ['number']),
        getThreadsCount: cwrap('get_threads_count', 'number', []),
        registerTensor: cwrap('register_tensor', null, ['number', 'number', 'number']),
        disposeData: cwrap('dispose_data', null, ['number']),
        dispose: cwrap('dispose', null, []),
      };
      const backend = new wasm.BackendWasm(module as unknown as ConstructorParameters<typeof wasm.BackendWasm>[0]);
      // XNNPACK's pool threads run for the life of the process; emscripten keeps their workers ref'd,
      // which would stop Node from exiting once the program is done.
      for (const w of [...module.PThread.runningWorkers, ...module.PThread.unusedWorkers]) w.unref();
      return backend;
    },
    2,
  );
}

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => number;
  tfjs?: Record<string, (...args: number[]) => number>;
  PThread: { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] };
}
