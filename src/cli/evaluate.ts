import cliProgress from 'cli-progress';
import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import { embed } from '../models/embed.js';
import { ACCURACY_METRICS, accuracy } from '../eval/retrieval.js';
import { createRandom } from '../core/random.js';

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

/** Every metric akin knows, for a model's embeddings of `ds` (query = reference, self excluded). */
export async function allMetrics(model: tf.LayersModel, ds: Dataset, seed: number, label: string): Promise<Record<string, number>> {
  const { embeddings, dim } = await embed(model, ds.features, ds.count, ds.shape);
  const bar = tileProgress(label);
  try {
    return await accuracy({
      query: embeddings, queryLabels: ds.labels, dim, metrics: [...ACCURACY_METRICS], atK: 10,
      random: createRandom(seed), onProgress: bar.onProgress,
    });
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
