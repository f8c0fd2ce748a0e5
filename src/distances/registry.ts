import { Registry } from '../core/registry.js';
import type { BaseDistance } from './base-distance.js';

/** Every registered distance class, by class name. */
export const registry = new Registry<BaseDistance>('distance');
