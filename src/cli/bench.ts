import { Command, Option, InvalidArgumentError } from 'commander';
import * as akin from '../index.js';
import { ConfigError } from '../core/errors.js';
import { akinVersion } from '../core/version.js';

const tf = akin.tf;

/** The benchmark losses, named and defined as in the PyTorch reference script. */
export const BENCH_LOSSES = ['contrastive', 'triplet-hard', 'triplet-semihard', 'multisimilarity', 'ntxent'] as const;
export type BenchLoss = (typeof BENCH_LOSSES)[number];

/** A loss with its miner (if any), built from akin's components. */
interface LossSetup {
  loss: akin.losses.BaseMetricLoss;
  miner: akin.miners.BaseMiner | null;
}

/**
 * The reference's losses made of akin's components:
 * - contrastive: `ContrastiveLoss` (L2 distance, positive margin 0, negative margin 1);
 * - triplet-hard: `BatchHardMiner` (hardest positive and negative per anchor) + `TripletMarginLoss(0.05)`;
 * - triplet-semihard: `TripletMarginMiner({ margin: 0.05, typeOfTriplets: 'semihard' })` + `TripletMarginLoss(0.05)`;
 * - multisimilarity: `MultiSimilarityMiner(epsilon 0.1)` + `MultiSimilarityLoss(alpha 2, beta 50, base 0.5)`;
 * - ntxent: the reference's "supervised NT-Xent" is the SupCon form (every same-label pair is a positive,
 *   the denominator runs over all other samples), i.e. `SupConLoss({ temperature: 0.1 })`.
 */
export function benchLoss(name: BenchLoss): LossSetup {
  switch (name) {
    case 'contrastive':
      return { loss: new akin.losses.ContrastiveLoss({ posMargin: 0, negMargin: 1 }), miner: null };
    case 'triplet-hard':
      return {
        loss: new akin.losses.TripletMarginLoss({ margin: 0.05 }),
        miner: akin.miners.fromConfig('BatchHardMiner') as akin.miners.BaseMiner,
      };
    case 'triplet-semihard':
      return {
        loss: new akin.losses.TripletMarginLoss({ margin: 0.05 }),
        miner: new akin.miners.TripletMarginMiner({ margin: 0.05, typeOfTriplets: 'semihard' }),
      };
    case 'multisimilarity':
      return {
        loss: new akin.losses.MultiSimilarityLoss({ alpha: 2, beta: 50, base: 0.5 }),
        miner: new akin.miners.MultiSimilarityMiner({ epsilon: 0.1 }),
      };
    case 'ntxent':
      return { loss: new akin.losses.SupConLoss({ temperature: 0.1 }), miner: null };
  }
}

/** Labels of the reference: `i // perClass`. */
function benchLabels(batch: number, perClass = 4): Int32Array {
  return Int32Array.from({ length: batch }, (_, i) => Math.floor(i / perClass));
}

/** Seconds per call of `f` after `warmup` untimed calls: wall clock, and CPU time of this process. */
async function timeIt(f: () => Promise<void> | void, warmup: number, reps: number): Promise<{ wall: number; cpu: number }> {
  for (let i = 0; i < warmup; i++) await f();
  const c = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < reps; i++) await f();
  const wall = (performance.now() - t) / 1000 / reps;
  const used = process.cpuUsage(c);
  return { wall, cpu: (used.user + used.system) / 1e6 / reps };
}

function lossValue(setup: LossSetup, emb: akin.tf.Tensor2D, labels: Int32Array): akin.tf.Scalar {
  const tuples = setup.miner ? setup.miner.mine(emb, labels) : undefined;
  return setup.loss.compute(emb, labels, tuples);
}

/** Options of {@link benchTrain}. */
export interface BenchTrainOptions {
  model: 'mlp' | 'cnn';
  loss: BenchLoss;
  batch: number;
  steps: number;
}

/**
 * Training steps per second of the seed MLP (784-256-128) or the conv net (conv32-pool-conv64-pool-
 * dense128) on random 28x28 inputs, Adam (lr 1e-3), as the reference's `train` command: 3 warm-up
 * steps, then `steps` timed ones. Each step waits for the loss value.
 */
export async function benchTrain(o: BenchTrainOptions): Promise<Record<string, unknown>> {
  const model = o.model === 'mlp' ? akin.models.mlp({ inputDim: 784 }) : akin.models.convnet({ inputShape: [28, 28, 1] });
  const setup = benchLoss(o.loss);
  const optimizer = akin.train.makeOptimizer('adam', 1e-3); // tfjs's Adam, fused on wasm
  const x = tf.randomNormal(o.model === 'mlp' ? [o.batch, 784] : [o.batch, 28, 28, 1], 0, 1, 'float32', 0);
  const labels = benchLabels(o.batch);
  const vars = model.trainableWeights.map((w) => w.read() as akin.tf.Variable);
  const step = async (): Promise<void> => {
    const cost = optimizer.minimize(() => lossValue(setup, model.apply(x, { training: true }) as akin.tf.Tensor2D, labels), true, vars);
    await cost!.data();
    cost!.dispose();
  };
  try {
    const { wall, cpu } = await timeIt(step, 3, o.steps);
    return {
      workload: 'train', model: o.model, loss: o.loss, batch: o.batch, samples_per_s: o.batch / wall, ms_per_step: wall * 1e3,
      cpu_samples_per_s: o.batch / cpu, cpu_ms_per_step: cpu * 1e3,
    };
  } finally {
    x.dispose();
    optimizer.dispose();
    model.layers.forEach((l) => l.dispose());
  }
}

/** Options of {@link benchLoss}. */
export interface BenchLossOptions {
  loss: BenchLoss;
  batch: number;
  dim: number;
  steps: number;
}

/**
 * One loss call, forward and backward (gradient with respect to the raw embeddings, which are
 * L2-normalised first), as the reference's `loss` command: 5 warm-up calls, then `steps` timed ones.
 */
export async function benchLossCall(o: BenchLossOptions): Promise<Record<string, unknown>> {
  const setup = benchLoss(o.loss);
  const base = tf.randomNormal([o.batch, o.dim], 0, 1, 'float32', 0) as akin.tf.Tensor2D;
  const labels = benchLabels(o.batch);
  // F.normalize(e, dim=1) as the reference does it (tf.norm would go through pow(|x|, 2) and pow(s, 0.5)).
  const grad = tf.grad((e: akin.tf.Tensor) => lossValue(setup, tf.div(e, tf.sqrt(tf.sum(tf.square(e), 1, true))) as akin.tf.Tensor2D, labels));
  const call = async (): Promise<void> => {
    const g = tf.tidy(() => grad(base));
    await g.data();
    g.dispose();
  };
  try {
    const { wall, cpu } = await timeIt(call, 5, o.steps);
    return { workload: 'loss', loss: o.loss, batch: o.batch, dim: o.dim, ms_per_call: wall * 1e3, cpu_ms_per_call: cpu * 1e3 };
  } finally {
    base.dispose();
  }
}

/** Options of {@link benchKnn}. */
export interface BenchKnnOptions {
  queries: number;
  database: number;
  dim: number;
  k: number;
  reps: number;
}

/** Exact cosine k-NN of random unit vectors with `akin.eval.knn`: 1 warm-up search, then `reps` timed ones. */
export async function benchKnn(o: BenchKnnOptions): Promise<Record<string, unknown>> {
  const unit = (n: number, seed: number): akin.tf.Tensor2D => tf.tidy(() => {
    const v = tf.randomNormal([n, o.dim], 0, 1, 'float32', seed);
    return tf.div(v, tf.norm(v, 2, 1, true)) as akin.tf.Tensor2D;
  });
  const q = unit(o.queries, 1);
  const db = unit(o.database, 2);
  try {
    const { wall, cpu } = await timeIt(async () => {
      await akin.eval.knn({ query: q, reference: db, k: o.k, metric: 'ip' });
    }, 1, o.reps);
    return { workload: 'knn', queries: o.queries, database: o.database, dim: o.dim, k: o.k, seconds: wall, cpu_seconds: cpu };
  } finally {
    q.dispose();
    db.dispose();
  }
}

function intArg(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

function print(result: Record<string, unknown>, json: boolean): void {
  const info = akin.backend.info();
  const matmul = info?.backend === 'wasm' ? { matmul: akin.backend.wasmMatMulKernel() } : {};
  const out = { ...result, backend: info?.backend, threads: info?.threads, ...matmul, akin: akinVersion() };
  if (json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const lines = Object.entries(out).map(([k, v]) => `${k.padEnd(14)} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : String(v)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * Adds `akin bench train|loss|knn`, the counterparts of the PyTorch reference's commands. The backend
 * comes from the global `--backend` / `--threads` options (default: wasm with every core).
 */
export function addBenchCommand(program: Command, startBackend: (opts: { backend?: string; threads?: number }) => Promise<void>): void {
  const bench = program.command('bench').description('time training steps, loss calls and k-NN search (one JSON line each with --json)');
  const start = async (): Promise<void> => {
    const g = program.opts() as { backend?: string; threads?: number };
    await startBackend({ backend: g.backend ?? 'wasm', threads: g.threads });
  };
  const lossOption = (): Option => new Option('--loss <name>', 'loss (as in the reference script)').choices([...BENCH_LOSSES]).default('multisimilarity');
  const check = (batch: number): void => {
    if (batch % 4 !== 0) throw new ConfigError(`bench: option '--batch' must be a multiple of 4 (4 samples per class), got ${batch}`);
  };
  bench
    .command('train')
    .description('training steps per second')
    .addOption(new Option('--model <name>', 'embedding network').choices(['mlp', 'cnn']).default('mlp'))
    .addOption(lossOption())
    .option('--batch <n>', 'batch size', intArg('--batch', 4), 256)
    .option('--steps <n>', 'timed steps', intArg('--steps', 1), 30)
    .option('--json', 'print one JSON line')
    .action(async (o: BenchTrainOptions & { json?: boolean }) => {
      check(o.batch);
      await start();
      print(await benchTrain(o), Boolean(o.json));
    });
  bench
    .command('loss')
    .description('milliseconds per loss call (forward + backward)')
    .addOption(lossOption())
    .option('--batch <n>', 'batch size', intArg('--batch', 4), 256)
    .option('--dim <n>', 'embedding size', intArg('--dim', 1), 128)
    .option('--steps <n>', 'timed calls', intArg('--steps', 1), 50)
    .option('--json', 'print one JSON line')
    .action(async (o: BenchLossOptions & { json?: boolean }) => {
      check(o.batch);
      await start();
      print(await benchLossCall(o), Boolean(o.json));
    });
  bench
    .command('knn')
    .description('seconds per exact k-NN search')
    .option('--queries <n>', 'query rows', intArg('--queries', 1), 10000)
    .option('--database <n>', 'database rows', intArg('--database', 1), 10000)
    .option('--dim <n>', 'row length', intArg('--dim', 1), 128)
    .option('--k <n>', 'neighbours per query', intArg('--k', 1), 10)
    .option('--reps <n>', 'timed searches', intArg('--reps', 1), 3)
    .option('--json', 'print one JSON line')
    .action(async (o: BenchKnnOptions & { json?: boolean }) => {
      if (o.k > o.database) throw new ConfigError(`bench knn: option '--k' (${o.k}) exceeds '--database' (${o.database})`);
      await start();
      print(await benchKnn(o), Boolean(o.json));
    });
}
