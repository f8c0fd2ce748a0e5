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

/** What one epoch's logs mean for early stopping ({@link EarlyStoppingTracker.update}). */
export type EpochVerdict = 'improved' | 'stop' | 'continue';

/** The warning code of a NaN validation metric or monitored value (`process.on('warning')` sees it). */
export const NAN_MONITOR_WARNING = 'AKIN_NAN_MONITOR';

/**
 * Early stopping and "keep the best checkpoint" over a training run: judges each epoch's logs against
 * the best monitored value so far (kept in the training state, so a resumed run continues the count).
 *
 * NaN is never the best. A NaN validation metric (the retrieval metrics are NaN, as in
 * pytorch-metric-learning, when every validation query is lone: its class has no other member in the
 * validation split) carries no verdict: the epoch neither improves nor counts towards `patience`. A
 * NaN in a monitored training value (`loss`: the run diverged) counts as no improvement. Each kind is
 * warned about once per run (`process.emitWarning`, code {@link NAN_MONITOR_WARNING}).
 */
export class EarlyStoppingTracker {
  private warnedValidation = false;
  private warnedMonitor = false;
  constructor(
    private readonly cfg: EarlyStoppingConfig | null,
    private readonly warn: (message: string) => void = (message) => process.emitWarning(message, { type: 'AkinWarning', code: NAN_MONITOR_WARNING }),
  ) {}

  /** Updates `state.best`, `state.bestEpoch` and `state.wait` from `epoch`'s logs and says what follows. */
  update(epoch: number, logs: Record<string, number>, state: { best: number | null; bestEpoch: number; wait: number }): EpochVerdict {
    this.warnNaN(logs);
    const cfg = this.cfg;
    const value = cfg ? logs[cfg.monitor] : undefined;
    if (!cfg || value === undefined) return 'continue';
    if (Number.isNaN(value) && cfg.monitor.startsWith('val_')) return 'continue';
    if (improves(value, state.best, cfg)) {
      state.best = value;
      state.bestEpoch = epoch;
      state.wait = 0;
      return 'improved';
    }
    return ++state.wait > cfg.patience ? 'stop' : 'continue';
  }

  private warnNaN(logs: Record<string, number>): void {
    const nanVal = Object.keys(logs).filter((k) => k.startsWith('val_') && Number.isNaN(logs[k]));
    if (nanVal.length > 0 && !this.warnedValidation) {
      this.warnedValidation = true;
      const es = this.cfg?.monitor.startsWith('val_') ? `; early stopping on '${this.cfg.monitor}' and keeping the best checkpoint skip NaN epochs` : '';
      this.warn(
        `validation metrics are NaN (${nanVal.join(', ')}): the validation split has no class with two members, so every validation query is lone ` +
        `(no other sample of its class to retrieve)${es}. Draw the validation split with at least two samples per class.`,
      );
    }
    const monitor = this.cfg?.monitor;
    if (monitor && !monitor.startsWith('val_') && Number.isNaN(logs[monitor]) && !this.warnedMonitor) {
      this.warnedMonitor = true;
      this.warn(`the monitored '${monitor}' is NaN: training has diverged (try a lower learning rate); NaN epochs never count as the best`);
    }
  }
}
