import { Registry } from '../core/registry.js';
import type { BaseReducer } from './base-reducer.js';

/** Every registered reducer class, by class name. */
export const registry = new Registry<BaseReducer>('reducer');
