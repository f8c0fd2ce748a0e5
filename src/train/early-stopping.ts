import { z } from 'zod';
import { parseOptions } from '../core/options.js';

/** Options of early stopping. */
export interface EarlyStoppingOptions {
  /**
   * The epoch log to watch: `'loss'` (training loss: stop on a plateau) or a validation metric such as
   * `'val_mapAtR'`. Default `'loss'`.
   */
  monitor?: string;
  /** `'min'` for losses, `'max'` for accuracy-like metrics. Default: `'min'` for names ending in loss, else `'max'`. */
  mode?: 'min' | 'max';
  /** Epochs without improvement before stopping. Default `3`. */
  patience?: number;
  /** The smallest change that counts as an improvement. Default `1e-4`. */
  minDelta?: number;
}

export const earlyStoppingSchema = z
  .object({
    monitor: z.string().min(1).default('loss'),
    mode: z.enum(['min', 'max']).optional(),
    patience: z.number().int().min(0).default(3),
    minDelta: z.number().min(0).default(1e-4),
  })
  .strict();

/** Parsed early-stopping settings with the mode resolved. */
export type EarlyStoppingConfig = Required<EarlyStoppingOptions>;

export function parseEarlyStopping(options: EarlyStoppingOptions): EarlyStoppingConfig {
  const o = parseOptions('earlyStopping', earlyStoppingSchema, options);
  return { ...o, mode: o.mode ?? (o.monitor.toLowerCase().endsWith('loss') ? 'min' : 'max') };
}

/** True when `value` improves on `best` by more than `minDelta` in the given mode. */
export function improves(value: number, best: number | null, cfg: EarlyStoppingConfig): boolean {
  if (!Number.isFinite(value)) return false;
  if (best === null) return true;
  return cfg.mode === 'min' ? value < best - cfg.minDelta : value > best + cfg.minDelta;
}
