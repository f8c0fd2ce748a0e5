/**
 * Adapting your own vectors: train a near-identity head ({@link adapter}) with a metric loss so that
 * neighbours in the adapted space share labels, and measure retrieval on held-out vectors before and
 * after.
 */
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError, ShapeError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import type { ComponentConfig } from '../core/registry.js';
import type { Dataset } from '../data/dataset.js';
import { sampleSize } from '../data/dataset.js';
import { BaseMetricLoss } from '../losses/base-loss.js';
import { registry as lossRegistry } from '../losses/registry.js';
import { BaseMiner } from '../miners/base-miner.js';
import { registry as minerRegistry } from '../miners/registry.js';
import '../losses/index.js';
import '../miners/index.js';
import { adapter, type AdapterOptions } from '../models/adapter.js';
import { embed } from '../models/embed.js';
import { accuracy, type AccuracyMetricName } from '../eval/retrieval.js';
import { Trainer, type FitResult } from '../train/trainer.js';
import type { EarlyStoppingOptions } from '../train/early-stopping.js';
import { type OptimizerName } from '../train/optimizers.js';

/** Options of {@link fitAdapter}. */
export interface FitAdapterOptions {
  /** Training vectors with their labels (shape `[dim]`). */
  train: Dataset;
  /** Held-out vectors on which retrieval is measured before and after training (shape `[dim]`). */
  test: Dataset;
  /** Validation vectors for early stopping on `val_mapAtR`. Default: none. */
  validation?: Dataset;
  /** The adapter (`dim` is taken from the data). Default `{ type: 'linear', normalize: true }`. */
  adapter?: Omit<AdapterOptions, 'dim'>;
  /** The metric loss (live, `{ className, config }` or a class name). Default `'MultiSimilarityLoss'`. */
  loss?: BaseMetricLoss | ComponentConfig | string;
  /** A miner (same forms), or null for none. Default `'MultiSimilarityMiner'`. */
  miner?: BaseMiner | ComponentConfig | string | null;
  /** Optimiser. Default `'adam'`. */
  optimizer?: OptimizerName;
  /** Learning rate. Default `1e-3`. */
  learningRate?: number;
  /** Epochs. Default `20`. */
  epochs?: number;
  /** Batch size. Default `128`. */
  batchSize?: number;
  /** Samples per class per batch. Default: the Trainer's choice from the class count. */
  m?: number;
  /** Early stopping (needs `validation` for a `val_` monitor). Default: none. */
  earlyStopping?: EarlyStoppingOptions | null;
  /** Metrics reported before and after. Default `['precisionAt1', 'rPrecision', 'mapAtR']`. */
  metrics?: AccuracyMetricName[];
  /** Seed of the adapter's initialisation and the batch sampling. Default `0`. */
  seed?: number;
  /** Print progress per epoch. Default `false`. */
  progress?: boolean;
}

/** What {@link fitAdapter} returns. */
export interface FitAdapterResult {
  /** The trained adapter. */
  model: tf.LayersModel;
  /**
   * Held-out retrieval of the vectors as they are (the identity baseline): cosine similarity when the
   * adapter normalises, squared L2 otherwise. Each held-out vector queries all the others.
   */
  before: Record<string, number>;
  /** Held-out retrieval of the adapted vectors, measured the same way. */
  after: Record<string, number>;
  /** The training run. */
  fit: FitResult;
}

const schema = z
  .object({
    train: z.custom<Dataset>(isDataset, { message: 'must be a Dataset' }),
    test: z.custom<Dataset>(isDataset, { message: 'must be a Dataset' }),
    validation: z.custom<Dataset>(isDataset, { message: 'must be a Dataset' }).optional(),
    adapter: z.record(z.string(), z.unknown()).default({}),
    loss: z.unknown().default('MultiSimilarityLoss'),
    miner: z.unknown().default('MultiSimilarityMiner'),
    optimizer: z.enum(['adam', 'sgd', 'rmsprop']).default('adam'),
    learningRate: z.number().finite().positive().default(1e-3),
    epochs: z.number().int().min(1).default(20),
    batchSize: z.number().int().min(2).default(128),
    m: z.number().int().min(1).optional(),
    earlyStopping: z.record(z.string(), z.unknown()).nullable().optional(),
    metrics: z.array(z.string()).optional(),
    seed: z.number().int().default(0),
    progress: z.boolean().default(false),
  })
  .strict();

function isDataset(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as Dataset).features instanceof Float32Array && (v as Dataset).labels instanceof Int32Array;
}

/**
 * Trains an {@link adapter} over fixed vectors with a metric loss and reports held-out retrieval
 * before (the vectors as they are) and after (adapted):
 *
 * ```ts
 * const { model, before, after } = await akin.fitAdapter({ train, test, epochs: 20 });
 * console.log(`MAP@R ${before.mapAtR.toFixed(3)} -> ${after.mapAtR.toFixed(3)}`);
 * ```
 */
export async function fitAdapter(options: FitAdapterOptions): Promise<FitAdapterResult> {
  const o = parseOptions('fitAdapter', schema, options);
  const dim = sampleSize(o.train);
  if (o.train.shape.length !== 1) throw new ShapeError(`fitAdapter: 'train' must hold flat vectors (shape [dim]); got shape [${o.train.shape}]`);
  for (const [name, ds] of [['test', o.test], ['validation', o.validation]] as const) {
    if (ds && (ds.shape.length !== 1 || ds.shape[0] !== dim)) {
      throw new ShapeError(`fitAdapter: '${name}' has vectors of shape [${ds.shape}] but 'train' has [${dim}]`);
    }
  }
  const given = o.adapter as Omit<AdapterOptions, 'dim'>;
  const adapterOptions: AdapterOptions = { ...given, dim, seed: given.seed ?? o.seed };
  const model = adapter(adapterOptions);
  const normalize = adapterOptions.normalize !== false;
  const metric = normalize ? 'cosine' : 'l2';
  const metrics = o.metrics as AccuracyMetricName[] | undefined;
  const score = (features: Float32Array, labels: Int32Array, d: number) => accuracy({ query: features, queryLabels: labels, dim: d, metric, metrics });

  const loss = lossRegistry.fromConfig(o.loss as ComponentConfig);
  if (!(loss instanceof BaseMetricLoss)) throw new ConfigError("fitAdapter: option 'loss' must be a loss, { className, config } or a loss class name");
  let miner: BaseMiner | null = null;
  if (o.miner !== null) {
    const m = minerRegistry.fromConfig(o.miner as ComponentConfig);
    if (!(m instanceof BaseMiner)) throw new ConfigError("fitAdapter: option 'miner' must be a miner, { className, config } or a miner class name");
    miner = m;
  }
  const before = await score(o.test.features, o.test.labels, dim);
  const validation = o.validation;
  const fit = await new Trainer().fit({
    model,
    loss,
    miner,
    data: o.train,
    batchSize: o.batchSize,
    m: o.m,
    optimizer: o.optimizer,
    learningRate: o.learningRate,
    epochs: o.epochs,
    earlyStopping: (o.earlyStopping as EarlyStoppingOptions | null | undefined) ?? null,
    validation: validation
      ? {
        evaluate: async (net: tf.LayersModel) => {
          const e = await embed(net, validation.features, validation.count, [dim]);
          return accuracy({ query: e.embeddings, queryLabels: validation.labels, dim: e.dim, metric });
        },
      }
      : null,
    seed: o.seed,
    progress: o.progress,
  });
  const adapted = await embed(model, o.test.features, o.test.count, [dim]);
  const after = await score(adapted.embeddings, o.test.labels, adapted.dim);
  loss.dispose();
  return { model, before, after, fit };
}
