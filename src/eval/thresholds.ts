import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AkinError, DataError } from '../core/errors.js';
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

/** Raised when no match threshold can be chosen (`E_NOT_CALIBRATED`) or the calibrated one is in another distance (`E_METRIC_MISMATCH`). */
export class ThresholdError extends AkinError {
  constructor(code: 'E_NOT_CALIBRATED' | 'E_METRIC_MISMATCH', message: string) {
    super(code, message);
  }
}

/** How the caller asks for a threshold: an explicit distance, or a calibrated target by name. */
export interface ThresholdRequest {
  /** A distance to use as is (in the index's own units); wins over everything saved. */
  threshold?: number;
  /** A calibrated target such as `precision@0.9`. Default: the saved optimal (F1-best) threshold. */
  target?: string;
}

/** The threshold chosen by {@link pickThreshold}. */
export interface PickedThreshold {
  /** Largest distance that still counts as a match (inclusive). */
  threshold: number;
  /** Where it came from: `request`, `thresholds.json optimal` or `thresholds.json <target>`. */
  source: string;
  /** The distance it is measured in (the index's metric). */
  distance: string;
}

/**
 * Chooses the match threshold the server's `POST /match` and `akin search` use: `request.threshold`
 * when given, else the named calibrated `request.target`, else the saved optimal threshold. `names`
 * says how the caller spells the two options in error messages (`body.threshold`, `--threshold`, ...).
 * Throws a {@link ThresholdError} when the run is not calibrated, the target was not calibrated, or
 * the saved thresholds are in another distance than `indexMetric`.
 */
export function pickThreshold(
  saved: SavedThresholds | null,
  request: ThresholdRequest,
  indexMetric: string,
  names: { threshold: string; target: string } = { threshold: 'threshold', target: 'target' },
): PickedThreshold {
  if (request.threshold !== undefined) return { threshold: request.threshold, source: 'request', distance: indexMetric };
  if (!saved) {
    throw new ThresholdError('E_NOT_CALIBRATED', `the run has no ${THRESHOLDS_FILE}: run 'akin calibrate --run DIR' first, or pass ${names.threshold} (a distance)`);
  }
  let picked: PickedThreshold;
  if (request.target !== undefined) {
    const p = saved.targets?.[request.target];
    if (!p) {
      throw new ThresholdError('E_NOT_CALIBRATED', `${names.target} '${request.target}' was not calibrated; known: ${Object.keys(saved.targets ?? {}).join(', ') || 'none'}`);
    }
    picked = { threshold: p.threshold, source: `${THRESHOLDS_FILE} ${request.target}`, distance: saved.distance };
  } else {
    picked = { threshold: saved.optimal.threshold, source: `${THRESHOLDS_FILE} optimal`, distance: saved.distance };
  }
  if (picked.distance !== indexMetric) {
    throw new ThresholdError('E_METRIC_MISMATCH', `${THRESHOLDS_FILE} is calibrated in '${picked.distance}' distance but the index ranks by '${indexMetric}'; rebuild the index with that metric or pass ${names.threshold}`);
  }
  return picked;
}
