/**
 * What the loss wrappers (MultipleLosses, SelfSupervisedLoss, CrossBatchMemory) share: options naming
 * inner losses and miners, and a base class that exposes the inner losses' weights and frees them.
 */
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { isComponentConfig, type ComponentConfig } from '../core/registry.js';
import { BaseMiner } from '../miners/base-miner.js';
import { registry as minerRegistry } from '../miners/index.js';
import type { LossDict } from '../reducers/base-reducer.js';
import { BaseMetricLoss } from './base-loss.js';
import { registry } from './registry.js';

/** A loss given as a live object, as `{ className, config }`, or by class name. */
export type LossSpec = BaseMetricLoss | ComponentConfig | string;

/** A miner given as a live object, as `{ className, config }`, or by class name. */
export type MinerSpec = BaseMiner | ComponentConfig | string;

/** Zod schema for a {@link LossSpec} option. */
export const lossSpecSchema = z.custom<LossSpec>(
  (v) => v instanceof BaseMetricLoss || isComponentConfig(v) || (typeof v === 'string' && v.length > 0),
  { message: 'must be a loss (e.g. new ContrastiveLoss()), its { className, config } or its class name' },
);

/** Zod schema for a {@link MinerSpec} option. */
export const minerSpecSchema = z.custom<MinerSpec>(
  (v) => v instanceof BaseMiner || isComponentConfig(v) || (typeof v === 'string' && v.length > 0),
  { message: 'must be a miner (e.g. new MultiSimilarityMiner()), its { className, config } or its class name' },
);

/** Builds the loss named by `spec` (a live one passes through). */
export function resolveLoss(spec: LossSpec): BaseMetricLoss {
  return registry.fromConfig(spec);
}

/** Builds the miner named by `spec` (a live one passes through). */
export function resolveMiner(spec: MinerSpec): BaseMiner {
  return minerRegistry.fromConfig(spec);
}

/**
 * A loss that computes its value with other losses. Each inner loss reduces its own terms, so the
 * wrapper's terms are `already_reduced` scalars and its reducer passes them through. The wrapper takes
 * no `reducer` or regularizer options (as PML's wrappers); set those on the inner losses.
 */
export abstract class LossWrapper extends BaseMetricLoss {
  protected constructor() {
    super();
    this.setReducer(undefined);
  }

  /** The wrapped losses, in order. */
  abstract innerLosses(): BaseMetricLoss[];

  /** Every inner loss's trainable weights (proxies, class weights), so that a trainer optimises them. */
  override get trainableWeights(): tf.Variable[] {
    return this.innerLosses().flatMap((loss) => loss.trainableWeights);
  }

  /** Frees the inner losses' tensors; neither the wrapper nor its losses can be used afterwards. */
  override dispose(): void {
    for (const loss of this.innerLosses()) loss.dispose();
  }
}

/** One `already_reduced` term holding a scalar loss value. */
export function reducedTerm(value: tf.Scalar): LossDict[string] {
  return { losses: value, indices: null, reductionType: 'already_reduced' };
}

/** Throws unless `loss` is one of the losses `owner` supports (PML's `check_loss_support`). */
export function checkLossSupport(owner: string, loss: BaseMetricLoss, supported: readonly string[]): void {
  if (!supported.includes(loss.className)) {
    throw new ConfigError(`${owner}: option 'loss' cannot be a ${loss.className}; supported: ${supported.join(', ')}`);
  }
}
