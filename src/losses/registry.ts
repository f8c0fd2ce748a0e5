import { Registry } from '../core/registry.js';
import type { BaseMetricLoss } from './base-loss.js';

/** Every registered loss class, by class name. */
export const registry = new Registry<BaseMetricLoss>('loss');
