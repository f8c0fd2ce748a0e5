/**
 * A Keras-like face over akin's training loop, for people who think in `model.compile()` /
 * `model.fit()`: stack tfjs layers, pick a metric loss, fit on samples and integer labels, embed.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, DataError } from '../core/errors.js';
import { replaceDirAtomic, writeJsonAtomic } from '../core/fs.js';
import { formatIssues, parseOptions } from '../core/options.js';
import { toConfig, type ComponentConfig } from '../core/registry.js';
import { BaseMetricLoss } from '../losses/base-loss.js';
import { registry as lossRegistry } from '../losses/registry.js';
import { BaseMiner } from '../miners/base-miner.js';
import { registry as minerRegistry } from '../miners/registry.js';
import '../losses/index.js';
import '../miners/index.js';
import { embed } from '../models/embed.js';
import { loadModel, saveModel } from '../models/io.js';
import { L2Normalization } from '../models/l2-normalization.js';
import { accuracy, type AccuracyMetricName } from '../eval/retrieval.js';
import { Trainer } from '../train/trainer.js';
import type { Callback, EpochLogs } from '../train/callbacks.js';
import type { EarlyStoppingOptions } from '../train/early-stopping.js';
import { makeOptimizer, OPTIMIZER_NAMES, type OptimizerName } from '../train/optimizers.js';
import { toDataset, toRows, type ClassLabelsLike, type SamplesLike } from './inputs.js';

/** Options of {@link sequential}. */
export interface SequentialOptions {
  /**
   * Append an L2-normalisation layer (unless the last layer already is one), so embeddings lie on the
   * unit sphere and compare by cosine similarity. Default `true`.
   */
  normalize?: boolean;
  /** Name of the underlying tf.Sequential. Default `'akin_sequential'`. */
  name?: string;
}

/** Options of {@link SequentialEmbedder.compile}. */
export interface CompileOptions {
  /** The metric loss: a live loss, `{ className, config }`, or a class name such as `'TripletMarginLoss'`. Required. */
  loss: BaseMetricLoss | ComponentConfig | string;
  /** Optional miner, given the same ways (e.g. `'MultiSimilarityMiner'`). Default: none. */
  miner?: BaseMiner | ComponentConfig | string | null;
  /** Optimiser name or a tf.Optimizer. Default `'adam'`. Its state carries over between `fit` calls. */
  optimizer?: OptimizerName | tf.Optimizer;
  /** Learning rate of a named optimiser. Default `1e-3`. */
  learningRate?: number;
}

/** Options of {@link SequentialEmbedder.fit}. */
export interface SequentialFitOptions {
  /** Epochs to train. Default `1` (as Keras). */
  epochs?: number;
  /** Batch size. Default `32` (as Keras). */
  batchSize?: number;
  /** Samples per class in each batch; must divide `batchSize`. Default: the Trainer's choice from the class count. */
  m?: number;
  /** Held-out `[x, labels]`: retrieval metrics are logged each epoch as `val_precisionAt1`, `val_rPrecision`, `val_mapAtR`. */
  validationData?: [SamplesLike, ClassLabelsLike];
  /**
   * Early stopping: `true`, or options. The monitored value defaults to `'val_mapAtR'` with
   * `validationData`, else `'loss'`. The best epoch's weights are restored. Default: none.
   */
  earlyStopping?: boolean | EarlyStoppingOptions;
  /** Extra training callbacks (`onEpochEnd` may return `'stop'`). Default `[]`. */
  callbacks?: Callback[];
  /** Samples per epoch. Default: the number of training samples. */
  samplesPerEpoch?: number;
  /** Seed of the batch sampling. Default `0`. */
  seed?: number;
  /** Print progress per epoch. Default `true`. */
  progress?: boolean;
}

/** What {@link SequentialEmbedder.fit} returns, shaped like a Keras `History`. */
export interface History {
  /** The epochs run (0-based). */
  epoch: number[];
  /** Each logged value per epoch: `loss`, `seconds`, `val_mapAtR`, ... */
  history: Record<string, number[]>;
  /** True when early stopping (or a callback) ended training. */
  stoppedEarly: boolean;
  /** The best epoch with early stopping, else the last one. */
  bestEpoch: number;
}

const compileSchema = z
  .object({
    loss: z.unknown().refine((v) => v !== undefined && v !== null, { message: "is required (a loss, { className, config } or a class name)" }),
    miner: z.unknown().optional(),
    optimizer: z.union([z.enum(OPTIMIZER_NAMES as unknown as [OptimizerName, ...OptimizerName[]]), z.custom<tf.Optimizer>((v) => v instanceof tf.Optimizer, { message: 'must be an optimizer name or a tf.Optimizer' })]).default('adam'),
    learningRate: z.number().finite().positive().default(1e-3),
  })
  .strict();

const fitSchema = z
  .object({
    epochs: z.number().int().min(1).default(1),
    batchSize: z.number().int().min(2).default(32),
    m: z.number().int().min(1).optional(),
    validationData: z.tuple([z.unknown(), z.unknown()]).optional(),
    earlyStopping: z.union([z.boolean(), z.record(z.string(), z.unknown())]).optional(),
    callbacks: z.array(z.custom<Callback>((v) => typeof v === 'object' && v !== null, { message: 'must be a callback object' })).default([]),
    samplesPerEpoch: z.number().int().min(1).optional(),
    seed: z.number().int().default(0),
    progress: z.boolean().default(true),
  })
  .strict();

const SAVED_FILE = 'akin.json';
const NEEDS_INPUT_SHAPE = 'sequential: the network needs one input of known shape; give the first layer an inputShape, e.g. tf.layers.dense({ units: 64, inputShape: [20] })';

interface Compiled {
  loss: BaseMetricLoss;
  miner: BaseMiner | null;
  optimizer: tf.Optimizer;
  /** The optimiser's name when it was given by name (saved); null for a user's instance. */
  optimizerName: OptimizerName | null;
  learningRate: number;
}

/**
 * An embedding network with a Keras-like life cycle. Build one with {@link sequential} or
 * {@link loadSequential}; training runs akin's {@link Trainer} (m-per-class batches, miner, metric loss).
 *
 * ```ts
 * const net = akin.sequential([
 *   akin.tf.layers.dense({ units: 64, activation: 'relu', inputShape: [20] }),
 *   akin.tf.layers.dense({ units: 16 }),
 * ]);
 * net.compile({ loss: 'TripletMarginLoss', miner: 'TripletMarginMiner' });
 * const history = await net.fit(x, labels, { epochs: 10, batchSize: 64, validationData: [xVal, yVal] });
 * const embeddings = await net.embed(xNew);          // Float32Array, net.outputDim values per row
 * ```
 */
export class SequentialEmbedder {
  private compiled: Compiled | null = null;

  /** Wraps a built tfjs model (its input shape must be known). */
  constructor(readonly model: tf.LayersModel) {
    const inputs = model.inputs;
    if (!inputs || inputs.length !== 1) {
      throw new ConfigError(NEEDS_INPUT_SHAPE);
    }
    if (model.outputs[0].shape.length !== 2) {
      throw new ConfigError(`sequential: the last layer must output [batch, dim] embeddings (got [${model.outputs[0].shape}]); add tf.layers.flatten() or a dense layer`);
    }
  }

  /** Shape of one input sample. */
  get inputShape(): number[] {
    return this.model.inputs[0].shape.slice(1) as number[];
  }

  /** Length of an embedding. */
  get outputDim(): number {
    return this.model.outputs[0].shape[1] as number;
  }

  /** The compiled loss, or null before {@link compile}. */
  get loss(): BaseMetricLoss | null {
    return this.compiled?.loss ?? null;
  }

  /** The compiled miner, or null. */
  get miner(): BaseMiner | null {
    return this.compiled?.miner ?? null;
  }

  /** Chooses the loss, miner and optimiser for {@link fit}; returns `this`. */
  compile(options: CompileOptions): this {
    const o = parseOptions('compile', compileSchema, options);
    const loss = lossRegistry.fromConfig(o.loss as ComponentConfig);
    if (!(loss instanceof BaseMetricLoss)) throw new ConfigError("compile: option 'loss' must be a loss, { className, config } or a loss class name");
    let miner: BaseMiner | null = null;
    if (o.miner !== undefined && o.miner !== null) {
      const m = minerRegistry.fromConfig(o.miner as ComponentConfig);
      if (!(m instanceof BaseMiner)) throw new ConfigError("compile: option 'miner' must be a miner, { className, config } or a miner class name");
      miner = m;
    }
    this.disposeOptimizer();
    const named = typeof o.optimizer === 'string' ? o.optimizer : null;
    const optimizer = named ? makeOptimizer(named, o.learningRate) : (o.optimizer as tf.Optimizer);
    this.compiled = { loss, miner, optimizer, optimizerName: named, learningRate: o.learningRate };
    return this;
  }

  /**
   * Trains on samples `x` with integer class labels. Returns the per-epoch history. Call
   * {@link compile} first.
   */
  async fit(x: SamplesLike, labels: ClassLabelsLike, options: SequentialFitOptions = {}): Promise<History> {
    const c = this.requireCompiled('fit');
    const o = parseOptions('fit', fitSchema, options);
    const data = await toDataset(x, labels, this.inputShape, 'fit');
    let validation = null;
    if (o.validationData) {
      const [vx, vy] = options.validationData!;
      const val = await toDataset(vx, vy, this.inputShape, 'fit: validationData');
      validation = {
        evaluate: async (model: tf.LayersModel): Promise<Record<string, number>> => {
          const { embeddings, dim } = await embed(model, val.features, val.count, val.shape);
          return accuracy({ query: embeddings, queryLabels: val.labels, dim });
        },
      };
    }
    let earlyStopping: EarlyStoppingOptions | null = null;
    if (options.earlyStopping) {
      const given = options.earlyStopping === true ? {} : options.earlyStopping;
      earlyStopping = { ...given, monitor: given.monitor ?? (validation ? 'val_mapAtR' : 'loss') };
    }
    const result = await new Trainer().fit({
      model: this.model,
      loss: c.loss,
      miner: c.miner,
      data,
      batchSize: o.batchSize,
      m: o.m,
      samplesPerEpoch: o.samplesPerEpoch,
      optimizer: c.optimizer,
      epochs: o.epochs,
      earlyStopping,
      validation,
      callbacks: o.callbacks,
      seed: o.seed,
      progress: o.progress,
    });
    return toHistory(result.history, result.stoppedEarly, result.bestEpoch);
  }

  /** Embeds `x` (inference mode) and returns the embeddings as row-major Float32Array rows. */
  async embed(x: SamplesLike, { batchSize = 1024 }: { batchSize?: number } = {}): Promise<Float32Array> {
    const { features, count } = await toRows(x, this.inputShape, 'embed: x');
    return (await embed(this.model, features, count, this.inputShape, { batchSize })).embeddings;
  }

  /** Embeds a tensor `[n, ...inputShape]` and returns a `[n, outputDim]` tensor (the caller disposes it). */
  embedTensor(x: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => this.model.predict(tf.reshape(x, [x.shape[0], ...this.inputShape])) as tf.Tensor2D);
  }

  /**
   * Retrieval metrics of the embeddings of `x` (each sample queries all the others):
   * by default `{ precisionAt1, rPrecision, mapAtR }`.
   */
  async evaluate(x: SamplesLike, labels: ClassLabelsLike, { metrics }: { metrics?: AccuracyMetricName[] } = {}): Promise<Record<string, number>> {
    const data = await toDataset(x, labels, this.inputShape, 'evaluate');
    const { embeddings, dim } = await embed(this.model, data.features, data.count, data.shape);
    return accuracy({ query: embeddings, queryLabels: data.labels, dim, metrics });
  }

  /**
   * Saves the network (`model/`) and the compile settings (`akin.json`: loss and miner configs,
   * optimiser name and learning rate) to `dir`, replacing an earlier save atomically. A loss's own
   * trainable weights (proxies) and the optimiser's state are not saved.
   */
  async save(dir: string): Promise<void> {
    const c = this.compiled;
    await replaceDirAtomic(dir, async (tmp) => {
      await saveModel(this.model, join(tmp, 'model'));
      writeJsonAtomic(join(tmp, SAVED_FILE), {
        format: 'akin-sequential',
        version: 1,
        compile: c
          ? {
            loss: toConfig(c.loss),
            miner: c.miner ? toConfig(c.miner) : null,
            ...(c.optimizerName ? { optimizer: c.optimizerName } : {}),
            learningRate: c.learningRate,
          }
          : null,
      });
    });
  }

  /** Prints the layer summary. */
  summary(): void {
    this.model.summary();
  }

  /** Frees the model's weights, the loss's weights and a named optimiser. */
  dispose(): void {
    this.compiled?.loss.dispose();
    this.disposeOptimizer();
    this.compiled = null;
    this.model.dispose();
  }

  private disposeOptimizer(): void {
    if (this.compiled?.optimizerName) this.compiled.optimizer.dispose();
  }

  private requireCompiled(what: string): Compiled {
    if (!this.compiled) throw new ConfigError(`${what}: call compile({ loss }) first`);
    return this.compiled;
  }
}

/**
 * Builds an embedding network from a list of tfjs layers, Keras style (the first layer needs an
 * `inputShape`); by default an L2-normalisation layer is appended.
 */
export function sequential(layers: tf.layers.Layer[], options: SequentialOptions = {}): SequentialEmbedder {
  const o = parseOptions('sequential', z.object({ normalize: z.boolean().default(true), name: z.string().min(1).default('akin_sequential') }).strict(), options);
  if (!Array.isArray(layers) || layers.length === 0) throw new ConfigError('sequential: give a non-empty array of layers');
  layers.forEach((l, i) => {
    if (!(l instanceof tf.layers.Layer)) throw new ConfigError(`sequential: layers[${i}] is not a tfjs layer`);
  });
  const model = tf.sequential({ name: o.name });
  try {
    for (const layer of layers) model.add(layer);
    if (o.normalize && !(layers[layers.length - 1] instanceof L2Normalization)) model.add(new L2Normalization());
  } catch (e) {
    model.dispose();
    const msg = (e as Error).message;
    if (/inputShape/.test(msg)) throw new ConfigError(NEEDS_INPUT_SHAPE);
    throw new ConfigError(`sequential: cannot stack the layers: ${msg}`);
  }
  return new SequentialEmbedder(model);
}

const savedSchema = z
  .object({
    format: z.literal('akin-sequential'),
    version: z.literal(1),
    compile: z
      .object({
        loss: z.object({ className: z.string(), config: z.record(z.string(), z.unknown()).optional() }),
        miner: z.object({ className: z.string(), config: z.record(z.string(), z.unknown()).optional() }).nullable(),
        optimizer: z.enum(OPTIMIZER_NAMES as unknown as [OptimizerName, ...OptimizerName[]]).optional(),
        learningRate: z.number().positive(),
      })
      .nullable(),
  })
  .passthrough();

/** Loads a network saved by {@link SequentialEmbedder.save}, compiled as it was when saved. */
export async function loadSequential(dir: string): Promise<SequentialEmbedder> {
  const path = join(dir, SAVED_FILE);
  if (!existsSync(path)) throw new DataError(`no saved sequential model at ${dir}: ${path} is missing`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DataError(`cannot parse ${path}: ${(e as Error).message}`);
  }
  const r = savedSchema.safeParse(json);
  if (!r.success) throw new DataError(formatIssues(path, r.error, json));
  const net = new SequentialEmbedder(await loadModel(join(dir, 'model')));
  const c = r.data.compile;
  if (c) net.compile({ loss: c.loss, miner: c.miner, optimizer: c.optimizer ?? 'adam', learningRate: c.learningRate });
  return net;
}

function toHistory(logs: (EpochLogs & { epoch?: number })[], stoppedEarly: boolean, bestEpoch: number): History {
  const history: Record<string, number[]> = {};
  const epoch: number[] = [];
  for (const entry of logs) {
    epoch.push(entry.epoch ?? epoch.length);
    for (const [k, v] of Object.entries(entry)) {
      if (k === 'epoch') continue;
      (history[k] ??= []).push(v);
    }
  }
  return { epoch, history, stoppedEarly, bestEpoch };
}
