import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { ConfigError } from '../core/errors.js';
import { createRandom, type Random } from '../core/random.js';
import type { Dataset } from '../data/dataset.js';
import { sampleSize } from '../data/dataset.js';
import type { BaseMetricLoss } from '../losses/base-loss.js';
import type { BaseMiner } from '../miners/base-miner.js';
import { MPerClassSampler } from '../samplers/m-per-class.js';
import { BatchPrefetcher, type HostBatch } from '../samplers/prefetch.js';
import { loadModel, saveModel } from '../models/io.js';
import { ImageAugmenter, type ImageAugmentOptions } from '../data/augment.js';
import { makeOptimizer, type OptimizerName } from './optimizers.js';
import { JsonlLogger, ProgressCallback, type Callback, type EpochLogs } from './callbacks.js';
import { EarlyStoppingTracker, parseEarlyStopping, type EarlyStoppingOptions } from './early-stopping.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.js';
import { cosineMatrix, distillSchema, neighbourhoodKl, type DistillOptions } from './distill.js';
import { learningRateAt, parseLrSchedule, setLearningRate, type LrScheduleOptions } from './schedules.js';
import {
  applyDecoupledDecay, decayedVariables, l2Penalty, makeLossOptimizer, optimiserStep, weightDecaySchema, type WeightDecayMode,
} from './step.js';

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
  /** Learning rate for a named optimiser (the base rate of `lrSchedule`). Default `1e-3`. */
  learningRate?: number;
  /**
   * Learning-rate schedule, evaluated before every step: `{ type: 'constant' | 'cosine' | 'step',
   * warmupEpochs, minFactor, stepEpochs, gamma }` (see {@link LrScheduleOptions}). Default: constant.
   * The rate of the loss's own weights follows the same curve, scaled to `lossLearningRate`.
   */
  lrSchedule?: LrScheduleOptions | null;
  /** Weight decay of the model's kernels (rank >= 2 weights). Default `0`. */
  weightDecay?: number;
  /**
   * `'decoupled'` (default; AdamW: `w -= lr * weightDecay * w` after each step) or `'l2'` (the penalty
   * `weightDecay / 2 * |w|^2` added to the loss, as PyTorch's `Adam(weight_decay)`). See {@link WeightDecayMode}.
   */
  weightDecayMode?: WeightDecayMode;
  /**
   * Learning rate of the loss's own trainable weights (proxies, class weights), stepped by a separate
   * optimiser of the same kind. Default: the model's learning rate (one optimiser for both).
   */
  lossLearningRate?: number;
  /**
   * Augmentation of training batches (images `[h, w, c]` only): an {@link ImageAugmenter} or its
   * options. Validation and evaluation never see augmented images. Default: none.
   */
  augment?: ImageAugmenter | ImageAugmentOptions | null;
  /**
   * Views per sampled image (default `1`). With `2`, each image of a batch is augmented twice
   * independently and the model embeds both: the loss sees `2 x batchSize` embeddings with the class
   * labels repeated (SupCon's two-view batches), and `selfSupervised` can pair the views.
   */
  views?: number;
  /**
   * A self-supervised term (SimCLR-style) over the views: `loss` is computed with each sample's own
   * index as its label, so its views are the positives and every other image a negative, and added to
   * the supervised loss with `weight` (default `1`). Needs `views >= 2`.
   */
  selfSupervised?: { loss: BaseMetricLoss; weight?: number } | null;
  /** Weight of the supervised `loss` in the total. `0` trains on `selfSupervised` alone. Default `1`. */
  lossWeight?: number;
  /**
   * A projection head used only for training (SimCLR's `g`, Chen et al. 2020): the losses see
   * `head(model(x))`, while `model` (what is evaluated, saved and exported) stays the embedding. The
   * head is trained with the model's optimiser and saved in checkpoints, not in the model.
   */
  head?: tf.LayersModel | null;
  /**
   * Neighbourhood distillation (see {@link DistillOptions}): the student's within-batch cosine
   * similarities are pulled towards the teacher's on the clean images, by KL divergence of
   * `softmax(similarity / temperature)` rows. The teacher is the input itself (`'input'`) or a frozen
   * network. Computed on the model's output (not the projection head's), for every view.
   */
  distill?: DistillOptions | null;
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
  /** Epoch (0-based) with the best monitored value; the last epoch without early stopping or when no epoch had a finite one. */
  bestEpoch: number;
  /** The best monitored value; null when none was finite (e.g. every validation metric NaN). */
  best: number | null;
}

const numbers = z
  .object({
    batchSize: z.number().int().min(2).default(256),
    m: z.number().int().min(1).optional(),
    samplesPerEpoch: z.number().int().min(1).optional(),
    learningRate: z.number().positive().default(1e-3),
    lossLearningRate: z.number().positive().optional(),
    ...weightDecaySchema.shape,
    views: z.number().int().min(1).max(16).default(1),
    lossWeight: z.number().min(0).default(1),
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
    const schedule = parseLrSchedule(options.lrSchedule);
    const augmenter = makeAugmenter(options.augment);
    const ssl = options.selfSupervised ?? null;
    const distill = options.distill ? parseOptions('Trainer.fit: distill', distillSchema, options.distill) : null;
    const distillAug = distill?.augment ? makeAugmenter(distill.augment) : null;
    if (ssl && o.views < 2) throw new ConfigError("Trainer.fit: 'selfSupervised' needs 'views' >= 2 (two augmented views of each image)");
    if (!ssl && !distill && o.lossWeight === 0) throw new ConfigError("Trainer.fit: 'lossWeight' is 0 and there is no 'selfSupervised' or 'distill' term: nothing to train");
    const ownOptimizer = typeof options.optimizer !== 'object';
    const optimizer = ownOptimizer ? makeOptimizer((options.optimizer as OptimizerName | undefined) ?? 'adam', o.learningRate) : (options.optimizer as tf.Optimizer);
    const baseLr = ownOptimizer ? o.learningRate : getBaseLearningRate(optimizer);
    const head = options.head ?? null;
    const lossVars = [...loss.trainableWeights, ...(ssl ? ssl.loss.trainableWeights : [])];
    const lossOptimizer = lossVars.length > 0 ? makeLossOptimizer(optimizer, options.optimizer, o.lossLearningRate) : optimizer;
    const lossBaseLr = o.lossLearningRate ?? baseLr;
    const callbacks: Callback[] = [...(options.callbacks ?? [])];
    if (o.progress) callbacks.push(new ProgressCallback());
    if (options.runDir) callbacks.push(new JsonlLogger(join(options.runDir, 'log.jsonl')));
    const checkpointDir = options.runDir ? join(options.runDir, 'checkpoint') : null;
    const bestDir = options.runDir ? join(options.runDir, 'best') : null;

    const m = o.m ?? defaultM(o.batchSize, new Set(data.labels).size);
    const samplesPerEpoch = o.samplesPerEpoch ?? data.count;
    const makeBatches = options.batches ?? ((_epoch: number, random: Random): Int32Array[] =>
      new MPerClassSampler({ labels: data.labels, m, batchSize: o.batchSize, lengthBeforeNewIter: samplesPerEpoch, random }).epoch());

    let state: TrainState = { epoch: -1, history: [], best: null, bestEpoch: -1, wait: 0 };
    let bestWeights: tf.Tensor[] | null = null;
    const variablesOf = (net: tf.LayersModel | null): tf.Variable[] => (net ? net.trainableWeights.map((w) => w.read() as tf.Variable) : []);
    const headVars = variablesOf(head);
    const extras = { lossOptimizer: lossOptimizer === optimizer ? null : lossOptimizer, extraWeights: [...lossVars, ...headVars] };
    if (o.resume && checkpointDir && hasCheckpoint(checkpointDir)) {
      state = await loadCheckpoint(checkpointDir, model, optimizer, extras);
      if (es && bestDir && existsSync(bestDir) && o.restoreBest) {
        const best = await loadModel(bestDir);
        bestWeights = best.getWeights().map((w) => w.clone());
        best.dispose();
      }
    }
    const startEpoch = state.epoch + 1;
    const modelVars = (): tf.Variable[] => [...variablesOf(model), ...headVars];
    const decayed = o.weightDecay > 0 ? decayedVariables(modelVars()) : [];

    const firstBatches = makeBatches(startEpoch, createRandom(epochSeed(o.seed, startEpoch)));
    const stepsPerEpoch = firstBatches.length;
    for (const cb of callbacks) await cb.onTrainBegin?.({ epochs: o.epochs, stepsPerEpoch, startEpoch });

    // Batches are assembled ahead (in a worker thread when there is augmentation) while steps run.
    const prefetcher = new BatchPrefetcher(data, { views: o.views, augment: augmenter, withClean: Boolean(distill) });
    const tracker = new EarlyStoppingTracker(es);
    let stoppedEarly = false;
    let epoch = startEpoch;
    for (; epoch < o.epochs; epoch++) {
      const t0 = performance.now();
      const batches = epoch === startEpoch ? firstBatches : makeBatches(epoch, createRandom(epochSeed(o.seed, epoch)));
      const stream = prefetcher.epoch(batches, epochSeed(o.seed, epoch) ^ 0x5bd1e995);
      const distillRandom = createRandom(epochSeed(o.seed, epoch) ^ 0x2545f491);
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
      let lossSum = 0;
      let lr = baseLr;
      const minerStats: Record<string, number> = {};
      for (let step = 0; step < batches.length; step++) {
        lr = learningRateAt(schedule, baseLr, epoch * stepsPerEpoch + step, stepsPerEpoch, o.epochs);
        if (schedule.type !== 'constant' || schedule.warmupEpochs > 0) {
          setLearningRate(optimizer, lr);
          if (lossOptimizer !== optimizer) setLearningRate(lossOptimizer, (lr / baseLr) * lossBaseLr);
        }
        const { x, labels, instances, clean } = toTensors((await stream.next()).value as HostBatch, data.shape);
        const distillX = clean && distillAug ? augmentTensor(clean, distillAug, distillRandom) : null;
        const teacherSim = distill ? teacherSimilarities(distill.teacher, distillX ?? clean!) : null;
        clean?.dispose();
        const cost = optimiserStep(() => {
          const out = model.apply(x, { training: true }) as tf.Tensor2D;
          const emb = head ? (head.apply(out, { training: true }) as tf.Tensor2D) : out;
          let total: tf.Scalar = tf.scalar(0);
          if (o.lossWeight > 0) {
            const tuples = miner ? miner.mine(emb, labels) : undefined;
            total = tf.mul(loss.compute(emb, labels, tuples), o.lossWeight);
          }
          if (ssl) total = tf.add(total, tf.mul(ssl.loss.compute(emb, instances), ssl.weight ?? 1));
          if (distill && teacherSim) {
            const term = distillX
              ? neighbourhoodKl(cosineMatrix(model.apply(distillX, { training: true }) as tf.Tensor2D), teacherSim, distill.temperature)
              : distillTerm(out, teacherSim, o.views, distill.temperature);
            total = tf.add(total, tf.mul(term, distill.weight));
          }
          if (o.weightDecayMode === 'l2' && decayed.length > 0) total = tf.add(total, l2Penalty(decayed, o.weightDecay));
          return total;
        }, modelVars(), lossVars, optimizer, lossOptimizer);
        x.dispose();
        distillX?.dispose();
        teacherSim?.dispose();
        if (o.weightDecayMode === 'decoupled' && decayed.length > 0) applyDecoupledDecay(decayed, lr, o.weightDecay);
        const value = (await cost.data())[0];
        cost.dispose();
        lossSum += value;
        if (miner && o.lossWeight > 0) for (const [k, v] of Object.entries(miner.records)) minerStats[k] = (minerStats[k] ?? 0) + v;
        for (const cb of callbacks) await cb.onBatchEnd?.(step, { loss: value });
      }
      const logs: EpochLogs = { loss: lossSum / Math.max(1, batches.length), lr };
      for (const [k, v] of Object.entries(minerStats)) logs[`miner_${k}`] = v / batches.length;
      const every = options.validation?.every ?? 1;
      if (options.validation && ((epoch + 1) % every === 0 || epoch === o.epochs - 1)) {
        const metrics = await options.validation.evaluate(model);
        for (const [k, val] of Object.entries(metrics)) logs[`val_${k}`] = val;
      }
      logs.seconds = (performance.now() - t0) / 1000;

      const verdict = tracker.update(epoch, logs, state);
      let stop = verdict === 'stop';
      if (verdict === 'improved' && o.restoreBest) {
        bestWeights?.forEach((w) => w.dispose());
        bestWeights = model.getWeights().map((w) => w.clone());
        if (bestDir) await saveModel(model, bestDir);
      }
      state.epoch = epoch;
      state.history.push({ epoch, ...logs });
      if (checkpointDir) await saveCheckpoint(checkpointDir, model, optimizer, state, extras);
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
    await prefetcher.close();
    if (ownOptimizer) optimizer.dispose();
    else setLearningRate(optimizer, baseLr);
    if (lossOptimizer !== optimizer) lossOptimizer.dispose();
    return {
      history: state.history,
      epochsRun,
      stoppedEarly,
      bestEpoch: es && state.bestEpoch >= 0 ? state.bestEpoch : state.epoch,
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

function makeAugmenter(spec: ImageAugmenter | ImageAugmentOptions | null | undefined): ImageAugmenter | null {
  if (!spec) return null;
  const aug = spec instanceof ImageAugmenter ? spec : new ImageAugmenter(spec);
  return aug.isIdentity ? null : aug;
}

/** An augmented copy of a batch tensor of images. */
function augmentTensor(images: tf.Tensor, augmenter: ImageAugmenter, random: Random): tf.Tensor {
  const out = augmenter.apply(images.dataSync() as Float32Array, images.shape[0], images.shape.slice(1), random);
  return tf.tensor(out, images.shape);
}

/** The teacher's cosine similarities between the clean images of a batch (a constant for the gradient). */
function teacherSimilarities(teacher: 'input' | tf.LayersModel, clean: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => cosineMatrix(teacher === 'input' ? clean : (teacher.predict(clean) as tf.Tensor)));
}

/** The distillation term averaged over the views: each view's within-view similarities against the teacher's. */
function distillTerm(out: tf.Tensor2D, teacherSim: tf.Tensor2D, views: number, temperature: number): tf.Scalar {
  const n = teacherSim.shape[0];
  let sum: tf.Scalar = tf.scalar(0);
  for (let v = 0; v < views; v++) {
    const rows = tf.slice(out, [v * n, 0], [n, -1]) as tf.Tensor2D;
    sum = tf.add(sum, neighbourhoodKl(cosineMatrix(rows), teacherSim, temperature));
  }
  return tf.div(sum, views) as tf.Scalar;
}

/** The learning rate an optimiser instance was built with (the base of a schedule). */
function getBaseLearningRate(optimizer: tf.Optimizer): number {
  const lr = (optimizer as unknown as { learningRate?: number }).learningRate;
  return typeof lr === 'number' && lr > 0 ? lr : 1e-3;
}

/** The tensors of a prefetched batch: `x`, and `clean` (the sampled rows without augmentation) when present. */
function toTensors(b: HostBatch, shape: number[]): { x: tf.Tensor; labels: Int32Array; instances: Int32Array; clean?: tf.Tensor } {
  const clean = b.clean ? tf.tensor(b.clean, [b.clean.length / sampleSize({ shape }), ...shape]) : undefined;
  return { x: tf.tensor(b.x, b.shape), labels: b.labels, instances: b.instances, ...(clean ? { clean } : {}) };
}
