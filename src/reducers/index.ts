import type { ComponentConfig } from '../core/registry.js';
import { registry } from './registry.js';

export * from './base-reducer.js';
export { registry };

/** Builds a component of this family from `{ className, config }` (or its class name). */
export function fromConfig(spec: ComponentConfig | string): ReturnType<typeof registry.fromConfig> {
  return registry.fromConfig(spec);
}

// Concrete classes (each registers itself with `registry` when imported):
export * from './mean-reducer.js';
export * from './sum-reducer.js';
export * from './threshold-reducer.js';
export * from './avg-non-zero-reducer.js';
export * from './do-nothing-reducer.js';
export * from './divisor-reducer.js';
export * from './class-weighted-reducer.js';
export * from './per-anchor-reducer.js';
export * from './multiple-reducers.js';
export { reducerLikeSchema, type ReducerLike } from './reducer-spec.js';
