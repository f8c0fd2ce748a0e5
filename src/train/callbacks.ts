import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import cliProgress from 'cli-progress';

/** Per-epoch numbers: `loss` (mean training loss), `seconds`, and any validation metrics (`val_mapAtR`, ...). */
export type EpochLogs = Record<string, number>;

/**
 * Hooks into the training loop. Every method is optional; async methods are awaited. Returning
 * `'stop'` from `onEpochEnd` ends training after that epoch.
 */
export interface Callback {
  onTrainBegin?(info: { epochs: number; stepsPerEpoch: number; startEpoch: number }): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  onBatchEnd?(step: number, logs: { loss: number }): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: EpochLogs): void | 'stop' | Promise<void | 'stop'>;
  onTrainEnd?(info: { epochsRun: number; stoppedEarly: boolean }): void | Promise<void>;
}

/**
 * Progress display: a progress bar per epoch on a terminal (cli-progress), plain one-line summaries
 * per epoch otherwise (logs, CI).
 */
export class ProgressCallback implements Callback {
  private bar: cliProgress.SingleBar | null = null;
  private epochs = 0;
  private steps = 0;
  private lossSum = 0;
  private lossCount = 0;
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly tty: boolean = Boolean(process.stderr.isTTY),
  ) {}

  onTrainBegin(info: { epochs: number; stepsPerEpoch: number }): void {
    this.epochs = info.epochs;
    this.steps = info.stepsPerEpoch;
  }

  onEpochBegin(epoch: number): void {
    this.lossSum = 0;
    this.lossCount = 0;
    if (!this.tty) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: `epoch ${String(epoch + 1).padStart(String(this.epochs).length)}/${this.epochs} {bar} {value}/{total} steps | loss {loss} | eta {eta}s`,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(this.steps, 0, { loss: '-' });
  }

  onBatchEnd(step: number, logs: { loss: number }): void {
    this.lossSum += logs.loss;
    this.lossCount++;
    this.bar?.update(step + 1, { loss: (this.lossSum / this.lossCount).toFixed(4) });
  }

  onEpochEnd(epoch: number, logs: EpochLogs): void {
    this.bar?.stop();
    this.bar = null;
    const extras = Object.entries(logs)
      .filter(([k]) => k !== 'loss' && k !== 'seconds' && k !== 'epoch')
      .map(([k, v]) => `${k} ${v.toFixed(4)}`);
    this.stream.write(
      `epoch ${epoch + 1}/${this.epochs}  loss ${logs.loss.toFixed(4)}  ${[...extras, `${logs.seconds.toFixed(1)}s`].join('  ')}\n`,
    );
  }
}

/** Appends one JSON object per epoch (and one at the start and end) to a JSON-lines file. */
export class JsonlLogger implements Callback {
  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }
  private write(obj: Record<string, unknown>): void {
    appendFileSync(this.path, `${JSON.stringify({ time: new Date().toISOString(), ...obj })}\n`);
  }
  onTrainBegin(info: { epochs: number; stepsPerEpoch: number; startEpoch: number }): void {
    this.write({ event: 'train_begin', ...info });
  }
  onEpochEnd(epoch: number, logs: EpochLogs): void {
    this.write({ event: 'epoch', epoch, ...logs });
  }
  onTrainEnd(info: { epochsRun: number; stoppedEarly: boolean }): void {
    this.write({ event: 'train_end', ...info });
  }
}
