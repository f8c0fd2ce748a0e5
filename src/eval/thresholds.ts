import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../core/errors.js';
import { writeJsonAtomic } from '../core/fs.js';
import type { CalibrationPoint, CalibrationResult } from './calibration.js';

/** Thresholds as stored in a run folder's `thresholds.json`. */
export interface SavedThresholds extends Omit<CalibrationResult, 'curve'> {
  /** The split calibrated on (e.g. `validation`). */
  split: string;
  /** When the calibration was made (ISO time). */
  created: string;
  /** The curve, thinned to at most 256 points for plotting. */
  curve: CalibrationPoint[];
}

/** File name of the thresholds in a run folder. */
export const THRESHOLDS_FILE = 'thresholds.json';

/** Writes `thresholds.json` into `runDir` atomically and returns what was written. */
export function saveThresholds(runDir: string, result: CalibrationResult, split: string): SavedThresholds {
  const step = Math.max(1, Math.ceil(result.curve.length / 256));
  const curve = result.curve.filter((_, i) => i % step === 0 || i === result.curve.length - 1);
  const saved: SavedThresholds = { ...result, curve, split, created: new Date().toISOString() };
  writeJsonAtomic(join(runDir, THRESHOLDS_FILE), saved);
  return saved;
}

/** Reads a run folder's `thresholds.json`; null when the run has not been calibrated. */
export function loadThresholds(runDir: string): SavedThresholds | null {
  const path = join(runDir, THRESHOLDS_FILE);
  if (!existsSync(path)) return null;
  let value: SavedThresholds;
  try {
    value = JSON.parse(readFileSync(path, 'utf8')) as SavedThresholds;
  } catch (e) {
    throw new DataError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value?.optimal?.threshold !== 'number' || !['cosine', 'l2', 'ip'].includes(value.distance)) {
    throw new DataError(`${path} is not a thresholds file: 'optimal.threshold' or 'distance' is missing; run 'akin calibrate' again`);
  }
  return value;
}
