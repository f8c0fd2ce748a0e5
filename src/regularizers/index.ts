import type { ComponentConfig } from '../core/registry.js';
import { registry } from './registry.js';

export * from './base-regularizer.js';
export { registry };

/** Builds a regularizer from `{ className, config }` (or its class name). */
export function fromConfig(spec: ComponentConfig | string): ReturnType<typeof registry.fromConfig> {
  return registry.fromConfig(spec);
}

// Concrete classes (each registers itself with `registry` when imported):
export * from './lp-regularizer.js';
export * from './zero-mean-regularizer.js';
export * from './center-invariant-regularizer.js';
export * from './regular-face-regularizer.js';
export * from './sparse-centers-regularizer.js';
