import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { createRandom, type Random } from '../core/random.js';
import type { Dataset } from '../data/dataset.js';
import { sampleSize } from '../data/dataset.js';
import type { BaseMetricLoss } from '../losses/base-loss.js';
import type { BaseMiner } from '../miners/base-miner.js';
import { MPerClassSampler } from '../samplers/m-per-class.js';
import { loadModel, saveModel } from '../models/io.js';
import { makeOptimizer, type OptimizerName } from './optimizers.js';
import { JsonlLogger, ProgressCallback, type Callback, type EpochLogs } from './callbacks.js';
import { improves, parseEarlyStopping, type EarlyStoppingOptions } from './early-stopping.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.js';

/** Everything `Trainer.fit` takes. Only `model`, `loss` and `data` are required. */
export interface FitOptions {
  /** The embedding network (any tfjs LayersModel whose output is [batch, dim]). */
  model: tf.LayersModel;
  /** The metric loss. Its own trainable weights (proxies, class weights) are optimised too. */
  loss: BaseMetricLoss;
  /** Optional miner: its index tuples are handed to the loss each step. */
  miner?: BaseMiner | null;
  /** Training data. */
  data: Dataset;
  /** Batch size. Default `256`. */
  batchSize?: number;
  /**
   * Samples per class in each batch (m-per-class sampling); `batchSize` must be a multiple. Default:
   * `4`, or, when the data has fewer than `batchSize / 4` classes, the smallest divisor of `batchSize`
   * that fills a batch from the classes there are (e.g. 5 classes, batch 256 -> m = 64).
   */
  m?: number;
  /** Samples per epoch. Default: the size of `data` (rounded down to whole batches). */
  samplesPerEpoch?: number;
  /** Custom batches instead of m-per-class sampling: returns the epoch's batches of dataset indices. */
  batches?: (epoch: number, random: Random) => Int32Array[];
  /** Optimiser name or instance. Default `'adam'`. */
  optimizer?: OptimizerName | tf.Optimizer;
  /** Learning rate for a named optimiser. Default `1e-3`. */
  learningRate?: number;
  /** Maximum number of epochs. Default `10`. */
  epochs?: number;
  /**
   * Early stopping. Default: none. With `validation`, `{ monitor: 'val_mapAtR' }` is the usual choice;
   * without it, `{ monitor: 'loss' }` stops when the training loss plateaus.
   */
  earlyStopping?: EarlyStoppingOptions | null;
  /**
   * Validation: `evaluate(model)` returns metrics (e.g. `{ mapAtR }` from `eval.retrievalValidator`),
   * logged as `val_<name>` every `every` epochs (default 1) and on the last epoch.
   */
  validation?: { evaluate: (model: tf.LayersModel) => Promise<Record<string, number>>; every?: number } | null;
  /** With early stopping: put back the weights of the best epoch at the end. Default `true`. */
  restoreBest?: boolean;
  /** Extra callbacks. */
  callbacks?: Callback[];
  /** Run folder: `log.jsonl`, a checkpoint per epoch in `checkpoint/`, the best model in `best/`. */
  runDir?: string;
  /** Continue from `runDir/checkpoint` when it exists. Default `false`. */
  resume?: boolean;
  /** Seed for batch sampling. Default `0`. */
  seed?: number;
  /** Show progress (bar on a terminal, one line per epoch otherwise). Default `true`. */
  progress?: boolean;
}

/** What `fit` returns. */
export interface FitResult {
  history: EpochLogs[];
  epochsRun: number;
  stoppedEarly: boolean;
  /** Epoch (0-based) with the best monitored value, or the last epoch without early stopping. */
  bestEpoch: number;
  best: number | null;
}

const numbers = z
  .object({
    batchSize: z.number().int().min(2).default(256),
    m: z.number().int().min(1).optional(),
    samplesPerEpoch: z.number().int().min(1).optional(),
    learningRate: z.number().positive().default(1e-3),
    epochs: z.number().int().min(1).default(10),
    seed: z.number().int().default(0),
    restoreBest: z.boolean().default(true),
    resume: z.boolean().default(false),
    progress: z.boolean().default(true),
  })
  .passthrough();

/**
 * The training loop: samples batches (m per class), embeds them, mines, computes the metric loss and
 * steps the optimiser; logs, validates, checkpoints and stops early as configured.
 *
 * ```ts
 * const result = await new Trainer().fit({ model, loss, miner, data, epochs: 5 });
 * ```
 */
export class Trainer {
  async fit(options: FitOptions): Promise<FitResult> {
    const o = parseOptions('Trainer.fit', numbers, options) as z.output<typeof numbers> & FitOptions;
    const { model, loss, data } = options;
    const miner = options.miner ?? null;
    const es = options.earlyStopping ? parseEarlyStopping(options.earlyStopping) : null;
    const optimizer = typeof options.optimizer === 'object' ? options.optimizer : makeOptimizer(options.optimizer ?? 'adam', o.learningRate);
    const callbacks: Callback[] = [...(options.callbacks ?? [])];
    if (o.progress) callbacks.push(new ProgressCallback());
    if (options.runDir) callbacks.push(new JsonlLogger(join(options.runDir, 'log.jsonl')));
    const checkpointDir = options.runDir ? join(options.runDir, 'checkpoint') : null;
    const bestDir = options.runDir ? join(options.runDir, 'best') : null;

    const size = sampleSize(data);
    const m = o.m ?? defaultM(o.batchSize, new Set(data.labels).size);
    const samplesPerEpoch = o.samplesPerEpoch ?? data.count;
    const makeBatches = options.batches ?? ((_epoch: number, random: Random): Int32Array[] =>
      new MPerClassSampler({ labels: data.labels, m, batchSize: o.batchSize, lengthBeforeNewIter: samplesPerEpoch, random }).epoch());

    let state: TrainState = { epoch: -1, history: [], best: null, bestEpoch: -1, wait: 0 };
    let bestWeights: tf.Tensor[] | null = null;
    if (o.resume && checkpointDir && hasCheckpoint(checkpointDir)) {
      state = await loadCheckpoint(checkpointDir, model, optimizer);
      if (es && bestDir && existsSync(bestDir) && o.restoreBest) {
        const best = await loadModel(bestDir);
        bestWeights = best.getWeights().map((w) => w.clone());
        best.dispose();
      }
    }
    const startEpoch = state.epoch + 1;
    const vars = (): tf.Variable[] => [
      ...model.trainableWeights.map((w) => w.read() as tf.Variable),
      ...loss.trainableWeights,
    ];

    const firstBatches = makeBatches(startEpoch, createRandom(epochSeed(o.seed, startEpoch)));
    for (const cb of callbacks) await cb.onTrainBegin?.({ epochs: o.epochs, stepsPerEpoch: firstBatches.length, startEpoch });

    let stoppedEarly = false;
    let epoch = startEpoch;
    for (; epoch < o.epochs; epoch++) {
      const t0 = performance.now();
      const batches = epoch === startEpoch ? firstBatches : makeBatches(epoch, createRandom(epochSeed(o.seed, epoch)));
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
      let lossSum = 0;
      const minerStats: Record<string, number> = {};
      for (let step = 0; step < batches.length; step++) {
        const idx = batches[step];
        const { x, labels } = makeBatch(data, idx, size);
        const cost = optimizer.minimize(() => {
          const emb = model.apply(x, { training: true }) as tf.Tensor2D;
          const tuples = miner ? miner.mine(emb, labels) : undefined;
          return loss.compute(emb, labels, tuples);
        }, true, vars());
        x.dispose();
        const value = (await cost!.data())[0];
        cost!.dispose();
        lossSum += value;
        if (miner) for (const [k, v] of Object.entries(miner.records)) minerStats[k] = (minerStats[k] ?? 0) + v;
        for (const cb of callbacks) await cb.onBatchEnd?.(step, { loss: value });
      }
      const logs: EpochLogs = { loss: lossSum / Math.max(1, batches.length) };
      for (const [k, v] of Object.entries(minerStats)) logs[`miner_${k}`] = v / batches.length;
      const every = options.validation?.every ?? 1;
      if (options.validation && ((epoch + 1) % every === 0 || epoch === o.epochs - 1)) {
        const metrics = await options.validation.evaluate(model);
        for (const [k, val] of Object.entries(metrics)) logs[`val_${k}`] = val;
      }
      logs.seconds = (performance.now() - t0) / 1000;

      let stop = false;
      if (es && logs[es.monitor] !== undefined) {
        if (improves(logs[es.monitor], state.best, es)) {
          state.best = logs[es.monitor];
          state.bestEpoch = epoch;
          state.wait = 0;
          if (o.restoreBest) {
            bestWeights?.forEach((w) => w.dispose());
            bestWeights = model.getWeights().map((w) => w.clone());
            if (bestDir) await saveModel(model, bestDir);
          }
        } else if (++state.wait > es.patience) {
          stop = true;
        }
      }
      state.epoch = epoch;
      state.history.push({ epoch, ...logs });
      if (checkpointDir) await saveCheckpoint(checkpointDir, model, optimizer, state);
      for (const cb of callbacks) if ((await cb.onEpochEnd?.(epoch, logs)) === 'stop') stop = true;
      if (stop) {
        stoppedEarly = true;
        epoch++;
        break;
      }
    }
    if (es && o.restoreBest && bestWeights) {
      model.setWeights(bestWeights);
    }
    bestWeights?.forEach((w) => w.dispose());
    const epochsRun = epoch - startEpoch;
    for (const cb of callbacks) await cb.onTrainEnd?.({ epochsRun, stoppedEarly });
    if (typeof options.optimizer !== 'object') optimizer.dispose();
    return {
      history: state.history,
      epochsRun,
      stoppedEarly,
      bestEpoch: es ? state.bestEpoch : state.epoch,
      best: state.best,
    };
  }
}

/** m = 4 when there are enough classes, else the smallest divisor of batchSize with batchSize / m <= classes. */
export function defaultM(batchSize: number, classes: number): number {
  if (batchSize / 4 <= classes && batchSize % 4 === 0) return 4;
  for (let m = Math.max(1, Math.ceil(batchSize / Math.max(classes, 1))); m <= batchSize; m++) {
    if (batchSize % m === 0) return m;
  }
  return batchSize;
}

function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed, 1000003) + epoch * 7919 + 17) >>> 0;
}

function makeBatch(data: Dataset, idx: Int32Array, size: number): { x: tf.Tensor; labels: Int32Array } {
  const buf = new Float32Array(idx.length * size);
  const labels = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    buf.set(data.features.subarray(idx[i] * size, (idx[i] + 1) * size), i * size);
    labels[i] = data.labels[idx[i]];
  }
  return { x: tf.tensor(buf, [idx.length, ...data.shape]), labels };
}
