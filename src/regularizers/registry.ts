import { Registry } from '../core/registry.js';
import type { BaseRegularizer } from './base-regularizer.js';

/** Every registered regularizer class, by class name. */
export const registry = new Registry<BaseRegularizer>('regularizer');
