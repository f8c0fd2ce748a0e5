import { Command, CommanderError, Option, InvalidArgumentError } from 'commander';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import * as akin from '../index.js';
import { AkinError } from '../core/errors.js';
import { parseRunConfig, readRunConfig } from '../pipeline/config.js';
import { runExperiment, loadRun, splitMetrics, readRunInputs } from '../pipeline/run.js';
import { formatMetricsTable } from '../pipeline/table.js';
import { embed } from '../models/embed.js';
import { DEMO_CONFIG } from './demo.js';
import { akinVersion } from '../core/version.js';
import { writeEmbeddings } from './inputs.js';
import { addBenchCommand } from './bench.js';
import { addIndexCommand } from './index-cmd.js';
import { addSearchCommand } from './search.js';
import { addServeCommand } from './serve.js';
import { addTuneCommand } from './tune.js';
import { addEvaluateCommand } from './evaluate.js';
import { calibrateRun, formatThresholds } from './calibrate.js';

let verbose = false;

function intArg(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

function fractionArgs(name: string) {
  return (value: string, previous: number[] | undefined): number[] => {
    const n = Number(value);
    if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be a number in (0, 1]`);
    return [...(previous ?? []), n];
  };
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
}

async function startBackend(opts: { backend?: string; threads?: number }): Promise<void> {
  const info = await akin.backend.init({ backend: opts.backend as akin.backend.BackendName | undefined, threads: opts.threads });
  process.stderr.write(`backend: ${info.backend}${info.backend === 'wasm' ? ` (${info.threads} thread${info.threads === 1 ? '' : 's'})` : ''}\n`);
}

const program = new Command();
program
  .name('akin')
  .description('Deep metric learning for TypeScript: train embeddings, evaluate retrieval and clustering, embed data.')
  .version(akinVersion())
  .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(['tensorflow', 'wasm', 'cpu']))
  .option('--threads <n>', 'threads for the wasm backend (default: all cores)', intArg('--threads', 1))
  .option('--verbose', 'print stack traces on errors')
  // Usage errors (unknown option, bad value, missing argument) exit 2 like config errors, with akin's prefix.
  .exitOverride()
  .configureOutput({ outputError: (message, write) => write(`akin: ${message}`) })
  .hook('preAction', (cmd) => {
    verbose = Boolean(cmd.opts().verbose);
  });

program
  .command('demo')
  .description('train the seed MLP on Fashion-MNIST classes 0-4 and report retrieval/clustering on seen and unseen classes')
  .option('--data <source>', "data: 'embedded' (the 10,000 images shipped with akin), 'auto', 'debian' or a folder of IDX files", 'embedded')
  .option('--epochs <n>', 'maximum epochs', intArg('--epochs', 1))
  .option('--out <dir>', 'run folder (default: runs/demo-<time>)')
  .option('--seed <n>', 'random seed', intArg('--seed', 0))
  .action(async (opts: { data: string; epochs?: number; out?: string; seed?: number }) => {
    await startBackend(program.opts());
    const config = parseRunConfig({
      ...DEMO_CONFIG,
      data: { ...DEMO_CONFIG.data, source: opts.data },
      ...(opts.epochs ? { epochs: opts.epochs } : {}),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    }, 'demo');
    const runDir = resolve(opts.out ?? join('runs', `demo-${timestamp()}`));
    const t0 = performance.now();
    const result = await runExperiment(config, { runDir });
    const secs = (performance.now() - t0) / 1000;
    process.stdout.write(`\n${result.table}\n\n`);
    process.stdout.write(
      `trained ${result.fit.epochsRun} epoch(s)${result.fit.stoppedEarly ? ' (stopped early)' : ''} in ${result.trainSeconds.toFixed(1)}s; total ${secs.toFixed(1)}s\n` +
        `run saved to ${runDir}\n` +
        `next: npx akin evaluate --run ${runDir}   |   npx akin calibrate --run ${runDir}   |   npx akin embed --run ${runDir} --input FILE --output out.npy\n`,
    );
  });

program
  .command('train')
  .description('train from a JSON run config (see README for the fields)')
  .option('--config <file>', 'run config (JSON); with --resume, the run folder\'s config.json by default')
  .option('--out <dir>', 'run folder (default: runs/<name>-<time>)')
  .option('--resume <dir>', 'continue a killed run from its last checkpoint')
  .option('--data <source>', "override the config's data source")
  .option('--seed <n>', "override the config's seed (weights, batches, splits' shuffles)", intArg('--seed', 0))
  .action(async (opts: { config?: string; out?: string; resume?: string; data?: string; seed?: number }) => {
    if (opts.resume && !existsSync(opts.resume)) throw new AkinError('E_DATA', `--resume: no run folder at ${opts.resume}`);
    const configPath = opts.config ?? (opts.resume ? join(opts.resume, 'config.json') : undefined);
    if (configPath === undefined) throw new AkinError('E_CONFIG', "train needs --config FILE (or --resume DIR, which reads the run folder's config.json)");
    const read = readRunConfig(configPath);
    const config = opts.seed === undefined ? read : parseRunConfig({ ...read, seed: opts.seed }, configPath);
    await startBackend(program.opts());
    if (opts.resume && existsSync(join(opts.resume, 'run.json'))) {
      process.stderr.write(`${opts.resume} is a finished run (it has run.json): nothing left to train, evaluating it again\n`);
    }
    const runDir = resolve(opts.resume ?? opts.out ?? join('runs', `${config.name}-${timestamp()}`));
    const result = await runExperiment(config, { runDir, resume: Boolean(opts.resume), dataSource: opts.data });
    process.stdout.write(`\n${result.table}\n\nrun saved to ${runDir}\n`);
  });

addEvaluateCommand(program, startBackend);

program
  .command('calibrate')
  .description("choose match thresholds on a run's validation split (or seen-class test split) and save them to thresholds.json")
  .requiredOption('--run <dir>', 'run folder')
  .option('--target-precision <p...>', 'precision targets in (0, 1]: the loosest threshold reaching each', fractionArgs('--target-precision'))
  .option('--target-recall <r...>', 'recall targets in (0, 1]: the tightest threshold reaching each', fractionArgs('--target-recall'))
  .addOption(new Option('--metric <name>', 'what the optimal threshold maximises').choices(['f1', 'precision', 'recall']).default('f1'))
  .addOption(new Option('--distance <name>', 'distance the thresholds are measured in').choices(['cosine', 'l2', 'ip']).default('cosine'))
  .addOption(new Option('--split <name>', 'split to calibrate on').choices(['validation', 'seen']))
  .option('--data <source>', "data source instead of the run's")
  .option('--json', 'print the saved thresholds as JSON')
  .action(async (opts: { run: string; targetPrecision?: number[]; targetRecall?: number[]; metric: 'f1'; distance: 'cosine'; split?: 'validation'; data?: string; json?: boolean }) => {
    await startBackend(program.opts());
    const saved = await calibrateRun({ ...opts });
    if (opts.json) process.stdout.write(`${JSON.stringify({ ...saved, curve: undefined }, null, 2)}\n`);
    else process.stdout.write(`${formatThresholds(saved)}\nsaved to ${join(opts.run, 'thresholds.json')}\n`);
  });

program
  .command('embed')
  .description("embed raw inputs with a run's preprocessing and model (images: .npy, IDX or .jsonl; text: .txt lines, .jsonl or .csv; tabular: .csv; audio: a .wav, a folder of them or a .csv / .jsonl / .txt list of paths; vectors: .npy or .jsonl); writes .npy or .jsonl")
  .requiredOption('--run <dir>', 'run folder')
  .requiredOption('--input <file>', "inputs in the run's input kind, e.g. t10k-images-idx3-ubyte.gz, texts.txt (one text per line), rows.csv, vectors.jsonl")
  .requiredOption('--output <file>', 'output: .npy or .jsonl')
  .option('--batch-size <n>', 'inference batch size', intArg('--batch-size', 1), 1024)
  .action(async (opts: { run: string; input: string; output: string; batchSize: number }) => {
    await startBackend(program.opts());
    const run = await loadRun(opts.run);
    const rows = await readRunInputs(run, opts.input);
    const { embeddings, dim } = await embed(run.model, rows.features, rows.count, run.preprocessing.input.shape, { batchSize: opts.batchSize });
    writeEmbeddings(opts.output, embeddings, rows.count, dim);
    process.stdout.write(`wrote ${rows.count} embeddings of dim ${dim} to ${opts.output}\n`);
  });

addBenchCommand(program, startBackend);
addIndexCommand(program, startBackend);
addSearchCommand(program, startBackend);
addServeCommand(program, startBackend);
addTuneCommand(program, startBackend);

export async function main(argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has printed its message (or the help / version) already.
      const done = ['commander.helpDisplayed', 'commander.help', 'commander.version', 'commander.executeSubCommandAsync'].includes(e.code);
      process.exitCode = done ? e.exitCode : 2;
      return;
    }
    const err = e as Error & { code?: string };
    const known = err instanceof AkinError;
    process.stderr.write(`akin: error: ${err.message}\n`);
    if (verbose || !known) process.stderr.write(`${err.stack ?? ''}\n`);
    process.exitCode = known && err.code === 'E_CONFIG' ? 2 : 1;
  }
}

await main(process.argv);
