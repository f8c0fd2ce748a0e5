import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { ThresholdReducer } from './threshold-reducer.js';
import { registry } from './registry.js';

/** AvgNonZeroReducer takes no options. */
export type AvgNonZeroReducerOptions = Record<string, never>;

/**
 * The mean of the losses greater than 0 (PML `AvgNonZeroReducer`, i.e. `ThresholdReducer({ low: 0 })`):
 * easy tuples that already satisfy the margin do not dilute the loss. Zero with a gradient path when
 * every loss is 0.
 */
export class AvgNonZeroReducer extends ThresholdReducer {
  override readonly className: string = 'AvgNonZeroReducer';

  constructor(options: AvgNonZeroReducerOptions = {}) {
    parseOptions('AvgNonZeroReducer', z.object({}).strict(), options);
    super({ low: 0 }, 'AvgNonZeroReducer');
  }

  override getConfig(): Record<string, unknown> {
    return {};
  }
}

registry.register('AvgNonZeroReducer', (c) => new AvgNonZeroReducer(c as AvgNonZeroReducerOptions));
