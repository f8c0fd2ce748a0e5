import type { ComponentConfig } from '../core/registry.js';
import { registry } from './registry.js';

export * from './base-distance.js';
export { registry };

/** Builds a component of this family from `{ className, config }` (or its class name). */
export function fromConfig(spec: ComponentConfig | string): ReturnType<typeof registry.fromConfig> {
  return registry.fromConfig(spec);
}

// Concrete classes (each registers itself with `registry` when imported):
export * from './lp-distance.js';
export * from './dot-product-similarity.js';
export * from './cosine-similarity.js';
export * from './snr-distance.js';
export * from './batched-distance.js';
