import type { ComponentConfig } from '../core/registry.js';
import { registry } from './registry.js';

export * from './base-loss.js';
export { registry };

/** Builds a component of this family from `{ className, config }` (or its class name). */
export function fromConfig(spec: ComponentConfig | string): ReturnType<typeof registry.fromConfig> {
  return registry.fromConfig(spec);
}

// Concrete classes (each registers itself with `registry` when imported):
export * from './tuples.js';
export * from './generic-pair-loss.js';
export * from './contrastive.js';
export * from './triplet-margin.js';
export * from './multi-similarity.js';
export * from './temperature-pair-loss.js';
export * from './ntxent.js';
export * from './supcon.js';
export * from './parametric-loss.js';
export * from './miner-weights.js';
export * from './proxy-anchor.js';
export * from './margin-softmax-base.js';
export * from './large-margin-softmax.js';
export * from './sphereface.js';
export * from './arcface.js';
export * from './cosface.js';
export * from './subcenter-arcface.js';
export * from './normalized-softmax.js';
export * from './nca.js';
export * from './proxy-nca.js';
export * from './rows.js';
export * from './circle.js';
export * from './lifted-structure.js';
export * from './generalized-lifted-structure.js';
export * from './npairs.js';
export * from './angular.js';
export * from './margin.js';
export * from './snr-contrastive.js';
export * from './loss-wrapper.js';
export * from './multiple-losses.js';
export * from './self-supervised.js';
export * from './cross-batch-memory.js';
export * from './soft-triple.js';
export * from './tuplet-margin.js';
export * from './intra-pair-variance.js';
export * from './fast-ap.js';
export * from './histogram.js';
export * from './instance.js';
export * from './dynamic-soft-margin.js';
export * from './manifold.js';
export * from './p2sgrad.js';
export * from './pnp.js';
export * from './ranked-list.js';
export * from './threshold-consistent-margin.js';
export * from './vicreg.js';
export type { RegularizerOptions, RegularizerSpec } from './loss-regularizers.js';
