import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/fs.js';
import { DataError } from '../core/errors.js';
import { akinVersion } from '../core/version.js';
import { loadModel, saveModel } from '../models/io.js';
import { registry as lossRegistry } from '../losses/registry.js';
import { registry as minerRegistry } from '../miners/registry.js';
import '../losses/index.js';
import '../miners/index.js';
import { Trainer, type FitResult } from '../train/trainer.js';
import { projectionHead } from '../train/head.js';
import { frozenCopy } from '../train/distill.js';
import type { Callback } from '../train/callbacks.js';
import { info as backendInfo } from '../backend/backend.js';
import type { RunConfig } from './config.js';
import { parseRunConfig } from './config.js';
import { loadRunData, type RunData } from './data.js';
import { datasetMetrics, embeddingMetrics, retrievalValidator, type SplitMetrics } from './evaluate.js';
import { buildModelFromSpec, type ModelInput } from './model-types.js';
import { getModality, kindOptions, type Modality, type Preprocessing } from './modality.js';
import { formatMetricsTable, type MetricsTable } from './table.js';
import { loadThresholds, type SavedThresholds } from '../eval/thresholds.js';
import { writeRunReport } from '../report/html.js';

/** Name of the fitted preprocessing inside a run folder. */
export const PREPROCESSING_FILE = 'preprocessing.json';

/** Builds the embedding network a run config describes, for inputs of `input` (a shape, or a shape and vocabulary size). */
export function buildModel(config: RunConfig, input: number[] | ModelInput): tf.LayersModel {
  return buildModelFromSpec(config.model, Array.isArray(input) ? { shape: input } : input, config.seed);
}

/** Options of {@link runExperiment}. */
export interface RunOptions {
  /** The run folder (created). */
  runDir: string;
  /** Continue a killed run from its last checkpoint. */
  resume?: boolean;
  /** Show training progress. Default `true`. */
  progress?: boolean;
  /** Also evaluate raw pixels and the untrained network. Default `true`. */
  baselines?: boolean;
  /** Write `report.html` (curves, metrics, projection, neighbour grids). Default `true`. */
  report?: boolean;
  /** Data source instead of the config's (`auto`, `embedded`, `debian` or a folder). */
  dataSource?: string;
  /** Where progress lines go. Default: stderr. */
  log?: (line: string) => void;
}

/** What {@link runExperiment} returns (and writes to the run folder). */
export interface RunResult {
  runDir: string;
  config: RunConfig;
  description: string;
  metrics: MetricsTable;
  table: string;
  fit: FitResult;
  trainSeconds: number;
}

/**
 * Runs a whole experiment: loads and splits the data, evaluates the baselines, trains, evaluates the
 * trained network on seen and unseen classes, and saves the run folder: `config.json`, `model/`,
 * `metrics.json`, `summary.txt`, `log.jsonl`, `checkpoint/` (and `best/` with early stopping).
 */
export async function runExperiment(config: RunConfig, options: RunOptions): Promise<RunResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { runDir } = options;
  const data = await loadRunData(config, { source: options.dataSource });
  log(data.description);
  writeJsonAtomic(join(runDir, 'config.json'), config);
  writeJsonAtomic(join(runDir, PREPROCESSING_FILE), { kind: config.data.kind, preprocessing: data.preprocessing.toJSON() });

  const model = buildModel(config, data.preprocessing.input);
  const metrics: MetricsTable = {};
  if (options.baselines !== false) {
    log(`evaluating baselines (${rawRowName(data)}, untrained network)...`);
    metrics.raw = await splitMetrics(null, data, config.seed);
    metrics.untrained = await splitMetrics(model, data, config.seed);
  }
  const { fit, trainSeconds } = await fitRun(config, data, model, { runDir, resume: options.resume, progress: options.progress ?? true });
  metrics.trained = await splitMetrics(model, data, config.seed);
  await saveModel(model, join(runDir, 'model'));
  const table = formatMetricsTable(metrics, splitLabels(config), { raw: rawRowName(data) });
  writeJsonAtomic(join(runDir, 'metrics.json'), metrics);
  writeFileAtomic(join(runDir, 'summary.txt'), `${data.description}\n\n${table}\n`);
  writeJsonAtomic(join(runDir, 'run.json'), {
    akinVersion: akinVersion(),
    finished: new Date().toISOString(),
    backend: backendInfo(),
    data: data.description,
    epochsRun: fit.epochsRun,
    stoppedEarly: fit.stoppedEarly,
    bestEpoch: fit.bestEpoch,
    trainSeconds,
  });
  if (options.report !== false) {
    try {
      await writeRunReport({ runDir, config, metrics, model, data: data.testUnseen, dataName: splitLabels(config).unseen });
    } catch (e) {
      log(`warning: report.html not written: ${(e as Error).message}`);
    }
  }
  model.dispose();
  return { runDir, config, description: data.description, metrics, table, fit, trainSeconds };
}

/**
 * Trains `model` on a run's training split as its config says (loss, miner, optimiser and schedule,
 * augmentation, views, self-supervised term, projection head, distillation, early stopping on the
 * validation split)
 * and returns the Trainer's result and the training time in seconds.
 */
export async function fitRun(
  config: RunConfig,
  data: Pick<RunData, 'train' | 'validation'>,
  model: tf.LayersModel,
  options: { runDir?: string; resume?: boolean; progress?: boolean; callbacks?: Callback[] } = {},
): Promise<{ fit: FitResult; trainSeconds: number }> {
  const loss = lossRegistry.fromConfig(config.loss);
  const miner = config.miner ? minerRegistry.fromConfig(config.miner) : null;
  const ssl = config.selfSupervised ? lossRegistry.fromConfig(config.selfSupervised.loss) : null;
  const outShape = model.outputs[0].shape;
  const head = config.projectionHead
    ? projectionHead({ ...config.projectionHead, inputDim: outShape[outShape.length - 1] as number, seed: config.seed })
    : null;
  const d = config.distill;
  const teacher = d?.teacher === 'initial' ? await frozenCopy(model) : null;
  const t0 = performance.now();
  try {
    const fit = await new Trainer().fit({
      model,
      loss,
      miner,
      data: data.train,
      batchSize: config.batchSize,
      m: config.m,
      optimizer: config.optimizer.name as 'adam',
      learningRate: config.optimizer.learningRate,
      lossLearningRate: config.optimizer.lossLearningRate,
      weightDecay: config.optimizer.weightDecay,
      weightDecayMode: config.optimizer.weightDecayMode,
      lrSchedule: config.optimizer.schedule,
      augment: config.augment,
      views: config.views,
      lossWeight: config.lossWeight,
      selfSupervised: ssl && config.selfSupervised ? { loss: ssl, weight: config.selfSupervised.weight } : null,
      head,
      distill: d ? { teacher: teacher ?? 'input', weight: d.weight, temperature: d.temperature, augment: d.augment } : null,
      epochs: config.epochs,
      earlyStopping: config.earlyStopping,
      validation: data.validation ? { evaluate: retrievalValidator(data.validation) } : null,
      callbacks: options.callbacks,
      runDir: options.runDir,
      resume: options.resume,
      seed: config.seed,
      progress: options.progress ?? true,
    });
    return { fit, trainSeconds: (performance.now() - t0) / 1000 };
  } finally {
    loss.dispose();
    ssl?.dispose();
    head?.dispose();
    teacher?.dispose();
  }
}

/** The name of the metrics table's baseline row for this data (`raw pixels`, `TF-IDF (words)`, ...). */
export function rawRowName(data: Pick<RunData, 'preprocessing'>): string {
  return data.preprocessing.rawName ?? 'input features';
}

/**
 * Metrics of `model` on the seen-class and unseen-class test sets; with `model` null, of the baseline
 * features (the input kind's, e.g. TF-IDF for text) or else of the model inputs themselves.
 */
export async function splitMetrics(
  model: tf.LayersModel | null,
  data: Pick<RunData, 'testSeen' | 'testUnseen'> & Partial<Pick<RunData, 'baseline'>>,
  seed: number,
): Promise<{ seen: SplitMetrics; unseen: SplitMetrics }> {
  const b = model === null ? data.baseline : undefined;
  if (b) {
    return {
      seen: await embeddingMetrics(b.testSeen.features, data.testSeen.labels, b.testSeen.dim, seed),
      unseen: await embeddingMetrics(b.testUnseen.features, data.testUnseen.labels, b.testUnseen.dim, seed),
    };
  }
  return { seen: await datasetMetrics(model, data.testSeen, seed), unseen: await datasetMetrics(model, data.testUnseen, seed) };
}

/** Column headings for the seen / unseen splits of a config. */
export function splitLabels(config: RunConfig): { seen: string; unseen: string } {
  return {
    seen: `seen classes (${config.data.trainClasses.join(',')})`,
    unseen: `unseen classes (${config.data.testClasses.join(',')})`,
  };
}

/** A saved run: its config, its trained model, its preprocessing and its calibrated thresholds. */
export interface LoadedRun {
  dir: string;
  config: RunConfig;
  model: tf.LayersModel;
  /** The input kind of the run (`config.data.kind`). */
  modality: Modality;
  /** The preprocessing fitted when the run trained (`preprocessing.json`), which turns raw inputs into model inputs. */
  preprocessing: Preprocessing<unknown>;
  /** Match thresholds from `akin calibrate` (`thresholds.json`), or null when not calibrated. */
  thresholds: SavedThresholds | null;
}

/** Loads a run folder written by {@link runExperiment}. Errors name the missing file. */
export async function loadRun(dir: string): Promise<LoadedRun> {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new DataError(`${dir} is not a run folder: ${cfgPath} is missing`);
  const config = parseRunConfig(JSON.parse(readFileSync(cfgPath, 'utf8')), cfgPath);
  const thresholds = loadThresholds(dir);
  const modality = getModality(config.data.kind, cfgPath);
  const model = await loadModel(join(dir, 'model'));
  const prepPath = join(dir, PREPROCESSING_FILE);
  let preprocessing: Preprocessing<unknown>;
  if (existsSync(prepPath)) {
    const saved = JSON.parse(readFileSync(prepPath, 'utf8')) as { preprocessing?: unknown };
    preprocessing = modality.restore(saved.preprocessing, kindOptions(config.data));
  } else if (config.data.kind === 'images') {
    // Runs saved before preprocessing.json existed: images need none; the model knows the shape.
    preprocessing = modality.restore({ shape: model.inputs[0].shape.slice(1) }, kindOptions(config.data));
  } else {
    model.dispose();
    throw new DataError(`${dir} is not a complete run folder: ${prepPath} is missing`);
  }
  return { dir, config, model, modality, preprocessing, thresholds };
}

/**
 * Raw inputs (texts, CSV rows, vectors, images: whatever the run's input kind reads) from a file,
 * turned into model inputs with the run's saved preprocessing.
 */
export async function readRunInputs(run: Pick<LoadedRun, 'config' | 'modality' | 'preprocessing'>, path: string): Promise<{ features: Float32Array; count: number }> {
  const items = await run.modality.readInputs(path, kindOptions(run.config.data), run.preprocessing);
  return { features: run.preprocessing.transform(items), count: items.length };
}

/** Raw inputs sent as JSON values (a string per text, an object per row, an array per vector) as model inputs. */
export function parseRunInputs(run: Pick<LoadedRun, 'config' | 'modality' | 'preprocessing'>, values: unknown[], field: string): Float32Array {
  return run.preprocessing.transform(run.modality.parseInputs(values, field, kindOptions(run.config.data), run.preprocessing));
}
