import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import { FusedAdamOptimizer } from './fused-adam.js';

/** Optimisers the Trainer builds by name. */
export type OptimizerName = 'adam' | 'sgd' | 'rmsprop';
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['adam', 'sgd', 'rmsprop'];

/**
 * Builds an optimiser by name with the given learning rate (SGD without momentum, as PyTorch's default).
 * Adam is {@link FusedAdamOptimizer}: tfjs's Adam (defaults beta1 0.9, beta2 0.999, the backend's
 * epsilon) with one pass per variable on the wasm backend.
 */
export function makeOptimizer(name: OptimizerName, learningRate: number): tf.Optimizer {
  if (!(learningRate > 0) || !Number.isFinite(learningRate)) {
    throw new ConfigError(`optimizer: 'learningRate' must be a positive number (got ${learningRate})`);
  }
  switch (name) {
    case 'adam':
      return new FusedAdamOptimizer(learningRate, 0.9, 0.999);
    case 'sgd':
      return tf.train.sgd(learningRate);
    case 'rmsprop':
      return tf.train.rmsprop(learningRate);
    default:
      throw new ConfigError(`optimizer: unknown name '${String(name)}'; use one of ${OPTIMIZER_NAMES.join(', ')}`);
  }
}
