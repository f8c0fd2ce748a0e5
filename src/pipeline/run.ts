import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/fs.js';
import { DataError } from '../core/errors.js';
import { akinVersion } from '../core/version.js';
import { mlp } from '../models/mlp.js';
import { convnet } from '../models/convnet.js';
import { loadModel, saveModel } from '../models/io.js';
import { registry as lossRegistry } from '../losses/registry.js';
import { registry as minerRegistry } from '../miners/registry.js';
import '../losses/index.js';
import '../miners/index.js';
import { Trainer, type FitResult } from '../train/trainer.js';
import { info as backendInfo } from '../backend/backend.js';
import type { RunConfig } from './config.js';
import { parseRunConfig } from './config.js';
import { loadRunData, type RunData } from './data.js';
import { datasetMetrics, retrievalValidator } from './evaluate.js';
import { formatMetricsTable, type MetricsTable } from './table.js';
import { loadThresholds, type SavedThresholds } from '../eval/thresholds.js';
import { writeRunReport } from '../report/html.js';

/** Builds the embedding network a run config describes, for inputs of `inputShape`. */
export function buildModel(config: RunConfig, inputShape: number[]): tf.LayersModel {
  const { type, ...rest } = config.model;
  if (type === 'convnet') return convnet({ ...(rest as object), inputShape, seed: config.seed });
  return mlp({ ...(rest as object), inputShape, seed: config.seed });
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
  const data = await loadRunData(config, options.dataSource);
  log(data.description);
  writeJsonAtomic(join(runDir, 'config.json'), config);

  const model = buildModel(config, data.train.shape);
  const metrics: MetricsTable = {};
  if (options.baselines !== false) {
    log('evaluating baselines (raw pixels, untrained network)...');
    metrics.raw = await splitMetrics(null, data, config.seed);
    metrics.untrained = await splitMetrics(model, data, config.seed);
  }
  const loss = lossRegistry.fromConfig(config.loss);
  const miner = config.miner ? minerRegistry.fromConfig(config.miner) : null;
  const t0 = performance.now();
  const fit = await new Trainer().fit({
    model,
    loss,
    miner,
    data: data.train,
    batchSize: config.batchSize,
    m: config.m,
    optimizer: config.optimizer.name as 'adam',
    learningRate: config.optimizer.learningRate,
    epochs: config.epochs,
    earlyStopping: config.earlyStopping,
    validation: data.validation ? { evaluate: retrievalValidator(data.validation) } : null,
    runDir,
    resume: options.resume,
    seed: config.seed,
    progress: options.progress ?? true,
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  metrics.trained = await splitMetrics(model, data, config.seed);
  await saveModel(model, join(runDir, 'model'));
  const table = formatMetricsTable(metrics, splitLabels(config));
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
  loss.dispose();
  return { runDir, config, description: data.description, metrics, table, fit, trainSeconds };
}

/** Metrics of `model` (or raw features) on the seen-class and unseen-class test sets. */
export async function splitMetrics(model: tf.LayersModel | null, data: Pick<RunData, 'testSeen' | 'testUnseen'>, seed: number) {
  return { seen: await datasetMetrics(model, data.testSeen, seed), unseen: await datasetMetrics(model, data.testUnseen, seed) };
}

/** Column headings for the seen / unseen splits of a config. */
export function splitLabels(config: RunConfig): { seen: string; unseen: string } {
  return {
    seen: `seen classes (${config.data.trainClasses.join(',')})`,
    unseen: `unseen classes (${config.data.testClasses.join(',')})`,
  };
}

/** A saved run: its config, its trained model and its calibrated thresholds. */
export interface LoadedRun {
  dir: string;
  config: RunConfig;
  model: tf.LayersModel;
  /** Match thresholds from `akin calibrate` (`thresholds.json`), or null when not calibrated. */
  thresholds: SavedThresholds | null;
}

/** Loads a run folder written by {@link runExperiment}. Errors name the missing file. */
export async function loadRun(dir: string): Promise<LoadedRun> {
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new DataError(`${dir} is not a run folder: ${cfgPath} is missing`);
  const config = parseRunConfig(JSON.parse(readFileSync(cfgPath, 'utf8')), cfgPath);
  const thresholds = loadThresholds(dir);
  const model = await loadModel(join(dir, 'model'));
  return { dir, config, model, thresholds };
}
