import { ConfigError } from '../core/errors.js';
import { embed } from '../models/embed.js';
import { loadRun } from '../pipeline/run.js';
import { loadRunData } from '../pipeline/data.js';
import { type CalibrationMetric, type CalibrationPoint, calibrate } from '../eval/calibration.js';
import { type SavedThresholds, saveThresholds } from '../eval/thresholds.js';
import type { KnnMetric } from '../eval/knn.js';

/** Options of {@link calibrateRun}. */
export interface CalibrateRunOptions {
  /** The run folder. */
  run: string;
  /** Precision targets (each in (0, 1]). */
  targetPrecision?: number[];
  /** Recall targets (each in (0, 1]). */
  targetRecall?: number[];
  /** What the optimal cutpoint maximises. Default `'f1'`. */
  metric?: CalibrationMetric;
  /** Distance the thresholds are measured in. Default `'cosine'`. */
  distance?: KnnMetric;
  /** Split to calibrate on: `'validation'` (default; the seen-class test split when the run has none) or `'seen'`. */
  split?: 'validation' | 'seen';
  /** Data source instead of the run's. */
  data?: string;
  /** Where progress lines go. Default: stderr. */
  log?: (line: string) => void;
}

/**
 * Calibrates a saved run's match thresholds on its validation split (or its seen-class test split)
 * and writes them to the run folder's `thresholds.json`, where `loadRun` finds them.
 */
export async function calibrateRun(options: CalibrateRunOptions): Promise<SavedThresholds> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const run = await loadRun(options.run);
  try {
    // The run's saved preprocessing (fitted vocabulary, idf, standardisation, audio settings), never a re-fit on this data.
    const data = await loadRunData(run.config, { source: options.data, preprocessing: run.preprocessing });
    let split: 'validation' | 'seen' = options.split ?? 'validation';
    let ds = split === 'validation' ? data.validation : data.testSeen;
    if (!ds) {
      if (options.split === 'validation') throw new ConfigError(`--split validation: run ${options.run} has no validation split (data.validation is 0)`);
      split = 'seen';
      ds = data.testSeen;
    }
    log(`calibrating on the ${split === 'seen' ? 'seen-class test' : 'validation'} split: ${ds.count} samples`);
    const { embeddings, dim } = await embed(run.model, ds.features, ds.count, ds.shape);
    const result = await calibrate({
      embeddings, labels: ds.labels, dim,
      targets: { precision: options.targetPrecision ?? [], recall: options.targetRecall ?? [] },
      metric: options.metric ?? 'f1',
      distance: options.distance ?? 'cosine',
    });
    return saveThresholds(run.dir, result, split);
  } finally {
    run.model.dispose();
  }
}

/** A short table of the cutpoints of a calibration. */
export function formatThresholds(t: Pick<SavedThresholds, 'optimal' | 'targets' | 'metric' | 'distance' | 'count' | 'positives'>): string {
  const row = (name: string, p: CalibrationPoint | null): string =>
    name.padEnd(18) + (p
      ? [p.threshold.toFixed(4), p.precision.toFixed(4), p.recall.toFixed(4), p.f1.toFixed(4), p.matchRate.toFixed(4)].map((s) => s.padEnd(11)).join('')
      : 'not reachable');
  const lines = [
    `${t.count} queries, ${t.positives} with a same-label nearest neighbour; ${t.distance} distance, match when distance <= threshold`,
    ''.padEnd(18) + ['threshold', 'precision', 'recall', 'F1', 'matched'].map((s) => s.padEnd(11)).join(''),
    row(`optimal (${t.metric})`, t.optimal),
    ...Object.entries(t.targets).map(([name, p]) => row(name, p)),
  ];
  return lines.map((l) => l.trimEnd()).join('\n');
}
