import type { ComponentConfig } from '../core/registry.js';
import { registry } from './registry.js';

export * from './base-miner.js';
export { registry };

/** Builds a component of this family from `{ className, config }` (or its class name). */
export function fromConfig(spec: ComponentConfig | string): ReturnType<typeof registry.fromConfig> {
  return registry.fromConfig(spec);
}

// Concrete classes (each registers itself with `registry` when imported):
export * from './triplet-margin.js';
export * from './multi-similarity.js';
export type { DistanceSpec } from './mining-utils.js';
export * from './batch-easy-hard.js';
export * from './batch-hard.js';
export * from './pair-margin.js';
export * from './angular.js';
export * from './distance-weighted.js';
export * from './hdc.js';
export * from './uniform-histogram.js';
export * from './maximum-loss.js';
export * from './embeddings-already-packaged.js';
export { randomSchema } from './random-source.js';
