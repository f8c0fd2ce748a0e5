import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { parseSearchSpace, trialRunner, tune } from '../pipeline/tune.js';

type StartBackend = (opts: { backend?: string; threads?: number }) => Promise<void>;

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${what} ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

function intArg(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

/** Registers `akin tune`. */
export function addTuneCommand(program: Command, startBackend: StartBackend): void {
  program
    .command('tune')
    .description('hyperparameter search (random or successive halving) over a run config; every trial is scored on validation data and logged to trials.jsonl; resumable')
    .requiredOption('--config <file>', 'base run config (JSON)')
    .requiredOption('--space <file>', 'search space (JSON): {"optimizer.learningRate": {"logUniform": [1e-4, 1e-2]}, "model.dropout": {"uniform": [0, 0.5]}, "loss": {"choice": [...]}, "epochs": {"int": [2, 8]}}')
    .requiredOption('--budget <n>', 'number of configurations to try', intArg('--budget', 1))
    .option('--seed <n>', 'seed of the sampling of configurations', intArg('--seed', 0), 0)
    .addOption(new Option('--method <name>', 'random search, or successive halving with epochs as the resource').choices(['random', 'halving']).default('random'))
    .option('--eta <n>', 'halving: keep the best 1/eta per rung', intArg('--eta', 2), 3)
    .option('--min-epochs <n>', 'halving: epochs of the first rung', intArg('--min-epochs', 1), 1)
    .option('--folds <k>', 'class-disjoint k-fold over the training classes: score = mean validation over k trainings (0 = the config\'s own validation)', intArg('--folds', 0), 0)
    .option('--metric <name>', 'epoch-log objective; the best epoch of a trial counts', 'val_mapAtR')
    .option('--out <dir>', 'output folder (trials.jsonl, best-config.json, best.json); rerun with the same folder to resume', 'runs/tune')
    .option('--data <source>', "override the configs' data source")
    .option('--test-metrics', 'also log seen/unseen test metrics of each trial (for analysis; never used to choose)')
    .action(async (opts: {
      config: string; space: string; budget: number; seed: number; method: 'random' | 'halving'; eta: number; minEpochs: number;
      folds: number; metric: string; out: string; data?: string; testMetrics?: boolean;
    }) => {
      const base = readJson(opts.config, 'config file');
      if (base === null || typeof base !== 'object' || Array.isArray(base)) throw new ConfigError(`config file ${opts.config} must hold a JSON object`);
      const space = parseSearchSpace(readJson(opts.space, 'search space'), `search space ${opts.space}`);
      await startBackend(program.opts());
      const outDir = resolve(opts.out);
      const result = await tune({
        base: base as Record<string, unknown>,
        space,
        budget: opts.budget,
        seed: opts.seed,
        method: opts.method,
        eta: opts.eta,
        minEpochs: opts.minEpochs,
        folds: opts.folds,
        metric: opts.metric,
        outDir,
        runner: trialRunner({ dataSource: opts.data, testMetrics: Boolean(opts.testMetrics) }),
        log: (line) => process.stderr.write(`${line}\n`),
      });
      const b = result.best;
      process.stdout.write(
        `best: trial ${b.trial} (${b.epochs} epochs), ${opts.metric} ${b.objective!.toFixed(4)}\n  ${JSON.stringify(b.params)}\n` +
          `trials: ${join(outDir, 'trials.jsonl')}\nbest config: ${join(outDir, 'best-config.json')}  (npx akin train --config ${join(outDir, 'best-config.json')})\n`,
      );
    });
}
