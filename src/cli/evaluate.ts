import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import { embed } from '../models/embed.js';
import { ACCURACY_METRICS, accuracyPerClass } from '../eval/retrieval.js';
import type { LabelValue } from '../eval/labels.js';
import { createRandom } from '../core/random.js';
import { loadRun, splitLabels } from '../pipeline/run.js';
import { loadRunData } from '../pipeline/data.js';

/**
 * A k-NN progress callback that draws a bar on stderr when it is a terminal (and does nothing
 * otherwise, so logs and CI stay clean). Call `done()` when the search has finished.
 */
export function tileProgress(label: string, stream: NodeJS.WriteStream = process.stderr): { onProgress?: (done: number, total: number) => void; done: () => void } {
  if (!stream.isTTY) return { done: () => undefined };
  let bar: cliProgress.SingleBar | null = null;
  return {
    onProgress: (done, total) => {
      if (!bar) {
        bar = new cliProgress.SingleBar({ stream, format: `${label} {bar} {value}/{total} tiles | eta {eta}s`, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
        bar.start(total, 0);
      }
      bar.update(done);
    },
    done: () => bar?.stop(),
  };
}

/** Labels of the metrics, for tables. */
export const METRIC_TITLES: Record<string, string> = {
  precisionAt1: 'P@1',
  rPrecision: 'R-Precision',
  mapAtR: 'MAP@R',
  meanAveragePrecision: 'MAP',
  meanReciprocalRank: 'MRR',
  recallAtK: 'Recall@10',
  knnAccuracy: 'k-NN accuracy (k=10)',
  nmi: 'NMI',
  ami: 'AMI',
};

/** Per-class results of one split: every retrieval metric averaged within each query class. */
export interface PerClassTable {
  /** The classes, in label order. */
  classes: LabelValue[];
  /** Class names where the dataset has them, aligned with `classes`. */
  names?: string[];
  /** Per metric, one value per class. */
  values: Record<string, number[]>;
}

/** What {@link evaluateSplit} returns. */
export interface SplitEvaluation {
  /** Every metric over the whole split. */
  overall: Record<string, number>;
  /** The retrieval metrics per class, when asked for. */
  perClass?: PerClassTable;
}

/**
 * Every metric akin knows for a model's embeddings of `ds` (query = reference, self excluded), and
 * with `perClass` the retrieval metrics of each class as well (they come from the same pass).
 */
export async function evaluateSplit(model: tf.LayersModel, ds: Dataset, seed: number, label: string, perClass = false): Promise<SplitEvaluation> {
  const { embeddings, dim } = await embed(model, ds.features, ds.count, ds.shape);
  const bar = tileProgress(label);
  try {
    const res = await accuracyPerClass({
      query: embeddings, queryLabels: ds.labels, dim, metrics: [...ACCURACY_METRICS], atK: 10,
      random: createRandom(seed), onProgress: bar.onProgress,
    });
    if (!perClass) return { overall: res.overall };
    const names = ds.classNames ? res.classes.map((c) => ds.classNames![c as number] ?? '') : undefined;
    return { overall: res.overall, perClass: { classes: res.classes, ...(names ? { names } : {}), values: res.perClass } };
  } finally {
    bar.done();
  }
}

/** Formats `{ split: { metric: value } }` as a table: one row per metric, one column per split. */
export function formatAllMetrics(results: Record<string, Record<string, number>>, headings: Record<string, string>): string {
  const splits = Object.keys(results);
  const rows = ACCURACY_METRICS.filter((m) => splits.some((s) => results[s][m] !== undefined));
  const w0 = Math.max(...rows.map((m) => (METRIC_TITLES[m] ?? m).length), 6) + 2;
  const ws = splits.map((s) => Math.max((headings[s] ?? s).length, 7) + 2);
  const lines = [''.padEnd(w0) + splits.map((s, i) => (headings[s] ?? s).padEnd(ws[i])).join('')];
  for (const m of rows) {
    lines.push((METRIC_TITLES[m] ?? m).padEnd(w0) + splits.map((s, i) => (results[s][m] === undefined ? '-' : results[s][m].toFixed(4)).padEnd(ws[i])).join(''));
  }
  return lines.map((l) => l.trimEnd()).join('\n');
}

/** Formats per-class results as a table: one row per class (label and name), one column per metric. */
export function formatPerClass(table: PerClassTable, heading: string): string {
  const metrics = ACCURACY_METRICS.filter((m) => table.values[m] !== undefined);
  const rowNames = table.classes.map((c, i) => `${Array.isArray(c) ? c.join(',') : String(c)}${table.names?.[i] ? ` ${table.names[i]}` : ''}`);
  const w0 = Math.max(...rowNames.map((n) => n.length), 'class'.length) + 2;
  const ws = metrics.map((m) => Math.max((METRIC_TITLES[m] ?? m).length, 6) + 2);
  const lines = [heading, 'class'.padEnd(w0) + metrics.map((m, j) => (METRIC_TITLES[m] ?? m).padEnd(ws[j])).join('')];
  rowNames.forEach((name, i) => {
    lines.push(name.padEnd(w0) + metrics.map((m, j) => table.values[m][i].toFixed(4).padEnd(ws[j])).join(''));
  });
  return lines.map((l) => l.trimEnd()).join('\n');
}

/**
 * Adds `akin evaluate --run DIR [--per-class] [--json]`: every metric on the run's seen- and
 * unseen-class test splits; `--per-class` adds each class's retrieval metrics (a table per split,
 * or a `perClass` object in the JSON).
 */
export function addEvaluateCommand(program: Command, startBackend: (opts: { backend?: string; threads?: number }) => Promise<void>): void {
  program
    .command('evaluate')
    .description("evaluate a saved run's model on its seen and unseen test sets")
    .requiredOption('--run <dir>', 'run folder')
    .option('--data <source>', "data source instead of the run's")
    .option('--per-class', 'also report the retrieval metrics of every class')
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: { run: string; data?: string; perClass?: boolean; json?: boolean }) => {
      await startBackend(program.opts());
      const run = await loadRun(opts.run);
      const data = await loadRunData(run.config, { source: opts.data, preprocessing: run.preprocessing });
      process.stderr.write(`${data.description}\n`);
      const perClass = Boolean(opts.perClass);
      const splits = {
        seen: await evaluateSplit(run.model, data.testSeen, run.config.seed, 'seen classes', perClass),
        unseen: await evaluateSplit(run.model, data.testUnseen, run.config.seed, 'unseen classes', perClass),
      };
      run.model.dispose();
      const overall = { seen: splits.seen.overall, unseen: splits.unseen.overall };
      const headings = splitLabels(run.config);
      if (opts.json) {
        const out = perClass ? { ...overall, perClass: { seen: perClassJson(splits.seen.perClass!), unseen: perClassJson(splits.unseen.perClass!) } } : overall;
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      const parts = [formatAllMetrics(overall, headings)];
      if (perClass) {
        for (const s of ['seen', 'unseen'] as const) parts.push(formatPerClass(splits[s].perClass!, `${headings[s] ?? s}, per class`));
      }
      process.stdout.write(`${parts.join('\n\n')}\n`);
    });
}

/** Per-class results as JSON: `{ classes, names?, <metric>: [per class] }`. */
function perClassJson(t: PerClassTable): Record<string, unknown> {
  return { classes: t.classes, ...(t.names ? { names: t.names } : {}), ...t.values };
}
