import { Registry } from '../core/registry.js';
import type { BaseMiner } from './base-miner.js';

/** Every registered miner class, by class name. */
export const registry = new Registry<BaseMiner>('miner');
