/**
 * Hyperparameter search over run configs: random search or successive halving (Jamieson & Talwalkar
 * 2016) over a search space of config paths, each trial scored on validation data only (optionally
 * averaged over class-disjoint folds, as in "A Metric Learning Reality Check"). Every trial is
 * appended to `trials.jsonl` as it finishes, so a killed search continues where it stopped; the best
 * config is written to `best-config.json`, ready for `akin train --config`.
 */
import { existsSync, mkdirSync, readFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, DataError } from '../core/errors.js';
import { formatIssues, parseOptions } from '../core/options.js';
import { createRandom, type Random } from '../core/random.js';
import { writeJsonAtomic } from '../core/fs.js';
import { classFoldGroups } from '../data/splits.js';
import { parseRunConfig, type RunConfig } from './config.js';
import { loadRunData } from './data.js';
import { buildModel, fitRun, splitMetrics } from './run.js';

/** How one config path is drawn. Bounds are inclusive. */
export type ParamSpec =
  | { choice: unknown[] }
  | { uniform: [number, number] }
  | { logUniform: [number, number] }
  | { int: [number, number] };

/** A search space: config path (dots between keys, e.g. `optimizer.learningRate`) -> how to draw it. */
export type SearchSpace = Record<string, ParamSpec>;

const range = z.tuple([z.number().finite(), z.number().finite()]).refine(([a, b]) => a <= b, { message: 'must be [low, high] with low <= high' });
const paramSpecSchema = z.union([
  z.object({ choice: z.array(z.unknown()).min(1) }).strict(),
  z.object({ uniform: range }).strict(),
  z.object({ logUniform: range.refine(([a]) => a > 0, { message: 'bounds must be positive' }) }).strict(),
  z.object({ int: range.refine(([a, b]) => Number.isInteger(a) && Number.isInteger(b), { message: 'bounds must be integers' }) }).strict(),
]);
export const searchSpaceSchema = z
  .record(z.string().regex(/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/, { message: 'must be a dotted config path' }), paramSpecSchema)
  .refine((s) => Object.keys(s).length > 0, { message: 'the search space is empty' });

/** Validates a search space; errors name the bad path. */
export function parseSearchSpace(input: unknown, where = 'space'): SearchSpace {
  const r = searchSpaceSchema.safeParse(input);
  if (!r.success) throw new ConfigError(formatIssues(where, r.error, input));
  return r.data as SearchSpace;
}

/** Draws one value per path of `space` (paths in sorted order, so the draws do not depend on key order). */
export function sampleParams(space: SearchSpace, random: Random): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of Object.keys(space).sort()) {
    const spec = space[path];
    const u = random.next();
    if ('choice' in spec) out[path] = structuredClone(spec.choice[Math.min(spec.choice.length - 1, Math.floor(u * spec.choice.length))]);
    else if ('uniform' in spec) out[path] = spec.uniform[0] + u * (spec.uniform[1] - spec.uniform[0]);
    else if ('logUniform' in spec) out[path] = Math.exp(Math.log(spec.logUniform[0]) + u * (Math.log(spec.logUniform[1]) - Math.log(spec.logUniform[0])));
    else out[path] = spec.int[0] + Math.min(spec.int[1] - spec.int[0], Math.floor(u * (spec.int[1] - spec.int[0] + 1)));
  }
  return out;
}

/** A copy of `base` with each dotted path of `params` set (intermediate objects created as needed). */
export function applyParams(base: Record<string, unknown>, params: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(base);
  for (const [path, value] of Object.entries(params)) {
    const keys = path.split('.');
    let node: Record<string, unknown> = out;
    for (const k of keys.slice(0, -1)) {
      const next = node[k];
      if (next === undefined || next === null) node[k] = {};
      else if (typeof next !== 'object' || Array.isArray(next)) throw new ConfigError(`space: path '${path}' goes through '${k}', which is not an object in the base config`);
      node = node[k] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = structuredClone(value);
  }
  return out;
}

/** What a trial runner reports: the best validation value of each logged metric, and more. */
export interface TrialOutcome {
  /** The per-epoch logs of training (the Trainer's history). */
  history: Record<string, number>[];
  /** Training seconds. */
  seconds: number;
  /** Test metrics, when asked for (logged, never used to choose). */
  test?: Record<string, unknown>;
}

/** Runs one training of a (validated) config with the given validation classes (null: the config's own split). */
export type TrialRunner = (config: RunConfig, context: { trial: number; rung: number; fold: number | null }) => Promise<TrialOutcome>;

/** Options of {@link tune}. */
export interface TuneOptions {
  /** The base run config (JSON as in a config file); the sampled values replace its paths. */
  base: Record<string, unknown>;
  /** The search space. */
  space: SearchSpace;
  /** Number of configurations to try (rung 0 of successive halving). */
  budget: number;
  /** Seed of the sampling of configurations. Default `0`. */
  seed?: number;
  /** `'random'` (default): each configuration is trained once for the base config's epochs. `'halving'`: successive halving with epochs as the resource. */
  method?: 'random' | 'halving';
  /** Halving: keep the best 1/eta of each rung and give them eta times the epochs. Default `3`. */
  eta?: number;
  /** Halving: epochs of rung 0. Default `1`; the last rung trains for the base config's `epochs`. */
  minEpochs?: number;
  /**
   * Class-disjoint k-fold: each configuration is trained `folds` times, validating on a different group
   * of training classes (`data.validationClasses`) each time, and scored by the mean. Default `0` (off:
   * the base config's own validation split).
   */
  folds?: number;
  /** The objective: an epoch-log name; a trial scores its best epoch. Default `'val_mapAtR'` (maximised; names ending in `loss` are minimised). */
  metric?: string;
  /** Output folder: `trials.jsonl`, `best-config.json`, `best.json`. */
  outDir: string;
  /** Trains one trial. */
  runner: TrialRunner;
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
}

/** One line of `trials.jsonl`. */
export interface TrialRecord {
  trial: number;
  rung: number;
  epochs: number;
  params: Record<string, unknown>;
  /** The objective (mean over folds with k-fold), or null when a trial failed. */
  objective: number | null;
  /** The objective of each fold (k-fold only). */
  folds?: number[];
  /** Best epoch (0-based) and its logs, of the last fold with k-fold. */
  bestEpoch: number;
  metrics: Record<string, number>;
  seconds: number;
  /** Test metrics when asked for (never used to choose): one entry per fold with k-fold. */
  test?: Record<string, unknown> | Record<string, unknown>[];
  error?: string;
  config: RunConfig;
}

/** What {@link tune} returns. */
export interface TuneResult {
  trials: TrialRecord[];
  best: TrialRecord;
}

const tuneSchema = z
  .object({
    base: z.record(z.string(), z.unknown()),
    space: z.record(z.string(), z.unknown()),
    budget: z.number().int().min(1).max(100000),
    seed: z.number().int().min(0).default(0),
    method: z.enum(['random', 'halving']).default('random'),
    eta: z.number().int().min(2).default(3),
    minEpochs: z.number().int().min(1).default(1),
    folds: z.number().int().min(0).default(0),
    metric: z.string().min(1).default('val_mapAtR'),
    outDir: z.string().min(1),
    runner: z.custom<TrialRunner>((v) => typeof v === 'function', { message: 'must be a function' }),
    log: z.custom<(line: string) => void>((v) => typeof v === 'function').optional(),
  })
  .strict();

/**
 * Searches the space and returns every trial and the best one. Trials already in
 * `outDir/trials.jsonl` (same seed and space) are not run again.
 *
 * @throws ConfigError for a bad option, space or resulting config; DataError when `trials.jsonl`
 *   was written by a search with another seed or space
 */
export async function tune(options: TuneOptions): Promise<TuneResult> {
  const o = parseOptions('tune', tuneSchema, options);
  const space = parseSearchSpace(o.space);
  const log = o.log ?? ((): void => undefined);
  const maximize = !o.metric.toLowerCase().endsWith('loss');
  const baseConfig = parseRunConfig(o.base, 'base config');
  if (o.method === 'halving' && 'epochs' in space) throw new ConfigError("tune: with method 'halving' the epochs are the resource; remove 'epochs' from the space");
  if (o.folds === 1) throw new ConfigError("tune: 'folds' must be 0 (off) or at least 2");
  if (o.folds > 0 && o.folds > baseConfig.data.trainClasses.length) {
    throw new ConfigError(`tune: 'folds' (${o.folds}) is more than the ${baseConfig.data.trainClasses.length} training classes`);
  }
  mkdirSync(o.outDir, { recursive: true });
  const trialsPath = join(o.outDir, 'trials.jsonl');
  const done = readTrials(trialsPath);

  const random = createRandom(o.seed);
  const params = Array.from({ length: o.budget }, () => sampleParams(space, random));
  const configs = params.map((p, i) => {
    const input = applyParams(o.base, p);
    return { input, where: `trial ${i} (${JSON.stringify(p)})` };
  });
  const rungs = o.method === 'halving' ? halvingRungs(o.budget, o.eta, o.minEpochs, baseConfig.epochs) : [{ size: o.budget, epochs: baseConfig.epochs }];

  const records: TrialRecord[] = [];
  let alive = params.map((_, i) => i);
  for (let rung = 0; rung < rungs.length; rung++) {
    const epochs = rungs[rung].epochs;
    const rungRecords: TrialRecord[] = [];
    for (const trial of alive) {
      const key = `${trial}:${rung}`;
      const previous = done.get(key);
      if (previous) {
        if (JSON.stringify(previous.params) !== JSON.stringify(params[trial])) {
          throw new DataError(`${trialsPath}: trial ${trial} was run with other values (${JSON.stringify(previous.params)}); it belongs to a search with another seed or space: use another output folder`);
        }
        rungRecords.push(previous);
        continue;
      }
      const input = o.method === 'halving' ? { ...configs[trial].input, epochs } : configs[trial].input;
      const record = await runTrial(input, configs[trial].where, trial, rung, params[trial], o.folds, o.metric, maximize, o.runner);
      appendFileSync(trialsPath, `${JSON.stringify(record)}\n`);
      log(`trial ${trial} rung ${rung} (${record.epochs} epochs): ${o.metric} ${record.objective === null ? 'failed' : record.objective.toFixed(4)}  ${JSON.stringify(params[trial])}`);
      rungRecords.push(record);
    }
    records.push(...rungRecords);
    if (rung + 1 < rungs.length) alive = ranked(rungRecords, maximize).slice(0, rungs[rung + 1].size).map((r) => r.trial);
  }
  const last = records.filter((r) => r.rung === rungs.length - 1);
  const best = ranked(last, maximize)[0];
  if (!best || best.objective === null) throw new DataError(`tune: every trial failed; see ${trialsPath}`);
  writeJsonAtomic(join(o.outDir, 'best-config.json'), best.config);
  writeJsonAtomic(join(o.outDir, 'best.json'), { trial: best.trial, rung: best.rung, params: best.params, objective: best.objective, metric: o.metric });
  return { trials: records, best };
}

/** Options of {@link trialRunner}. */
export interface TrialRunnerOptions {
  /** Data source instead of the configs' (`auto`, `embedded`, `debian` or a folder). */
  dataSource?: string;
  /** Also compute seen/unseen test metrics of every trial (logged for analysis; never used to choose). Default `false`. */
  testMetrics?: boolean;
  /** Show training progress. Default `false`. */
  progress?: boolean;
}

/** The usual trial runner: loads the config's data, builds and trains its model (no run folder), and disposes it. */
export function trialRunner(options: TrialRunnerOptions = {}): TrialRunner {
  return async (config) => {
    const data = await loadRunData(config, { source: options.dataSource });
    const model = buildModel(config, data.preprocessing.input);
    try {
      const { fit, trainSeconds } = await fitRun(config, data, model, { progress: options.progress ?? false });
      const test = options.testMetrics ? await splitMetrics(model, data, config.seed) : undefined;
      return { history: fit.history, seconds: trainSeconds, ...(test ? { test } : {}) };
    } finally {
      model.dispose();
    }
  };
}

/** Rung sizes and epochs of successive halving: n, n/eta, ... configurations; minEpochs * eta^i epochs, the last rung at maxEpochs. */
export function halvingRungs(n: number, eta: number, minEpochs: number, maxEpochs: number): { size: number; epochs: number }[] {
  const rungs: { size: number; epochs: number }[] = [];
  let size = n;
  let epochs = Math.min(minEpochs, maxEpochs);
  for (;;) {
    rungs.push({ size, epochs });
    if (size <= 1 || epochs >= maxEpochs) break;
    size = Math.max(1, Math.floor(size / eta));
    epochs = Math.min(maxEpochs, epochs * eta);
  }
  return rungs;
}

async function runTrial(
  input: Record<string, unknown>, where: string, trial: number, rung: number, params: Record<string, unknown>,
  folds: number, metric: string, maximize: boolean, runner: TrialRunner,
): Promise<TrialRecord> {
  const config = parseRunConfig(input, where);
  const groups = folds > 0 ? classFoldGroups(config.data.trainClasses, folds) : [null];
  const objectives: number[] = [];
  let last: { bestEpoch: number; metrics: Record<string, number> } = { bestEpoch: -1, metrics: {} };
  let seconds = 0;
  const tests: Record<string, unknown>[] = [];
  try {
    for (let f = 0; f < groups.length; f++) {
      const data = (input.data ?? {}) as Record<string, unknown>;
      const foldConfig = groups[f] === null ? config : parseRunConfig({ ...input, data: { ...data, validationClasses: groups[f] } }, `${where}, fold ${f}`);
      const outcome = await runner(foldConfig, { trial, rung, fold: groups[f] === null ? null : f });
      seconds += outcome.seconds;
      if (outcome.test) tests.push(outcome.test);
      const scored = bestEpochOf(outcome.history, metric, maximize);
      if (scored === null) throw new ConfigError(`the epoch logs have no '${metric}' (logged: ${Object.keys(outcome.history[0] ?? {}).join(', ')})`);
      objectives.push(scored.value);
      last = { bestEpoch: scored.epoch, metrics: scored.logs };
    }
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    return { trial, rung, epochs: config.epochs, params, objective: null, bestEpoch: -1, metrics: {}, seconds, error: (e as Error).message, config };
  }
  const objective = objectives.reduce((a, b) => a + b, 0) / objectives.length;
  const test = tests.length === 0 ? undefined : folds > 0 ? tests : tests[0];
  return {
    trial, rung, epochs: config.epochs, params, objective, ...(folds > 0 ? { folds: objectives } : {}),
    bestEpoch: last.bestEpoch, metrics: last.metrics, seconds, ...(test ? { test } : {}), config,
  };
}

/** The epoch with the best `metric` (first of ties), or null when no epoch logged it. */
export function bestEpochOf(history: Record<string, number>[], metric: string, maximize: boolean): { epoch: number; value: number; logs: Record<string, number> } | null {
  let best: { epoch: number; value: number; logs: Record<string, number> } | null = null;
  history.forEach((logs, i) => {
    const v = logs[metric];
    if (typeof v !== 'number' || !Number.isFinite(v)) return;
    if (best === null || (maximize ? v > best.value : v < best.value)) best = { epoch: logs.epoch ?? i, value: v, logs };
  });
  return best;
}

function ranked(records: TrialRecord[], maximize: boolean): TrialRecord[] {
  return records
    .filter((r) => r.objective !== null)
    .sort((a, b) => (maximize ? b.objective! - a.objective! : a.objective! - b.objective!) || a.trial - b.trial);
}

function readTrials(path: string): Map<string, TrialRecord> {
  const out = new Map<string, TrialRecord>();
  if (!existsSync(path)) return out;
  readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let r: TrialRecord;
    try {
      r = JSON.parse(line) as TrialRecord;
    } catch {
      // A line cut short by a kill: that trial runs again.
      return;
    }
    if (typeof r.trial !== 'number' || typeof r.rung !== 'number') throw new DataError(`${path}:${i + 1}: not a trial record`);
    out.set(`${r.trial}:${r.rung}`, r);
  });
  return out;
}
