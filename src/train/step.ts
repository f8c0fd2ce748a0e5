/**
 * One optimisation step of the Trainer, split out of the loop: the gradient of the batch loss with
 * respect to the model's and the loss's trainable weights, each set stepped by its own optimiser,
 * then decoupled weight decay.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { makeOptimizer, OPTIMIZER_NAMES, type OptimizerName } from './optimizers.js';

/**
 * How weight decay is applied:
 * - `'decoupled'` (AdamW, Loshchilov & Hutter 2019; PyTorch `AdamW`): after each optimiser step,
 *   `w <- w - lr_t * weightDecay * w`, with `lr_t` the scheduled learning rate of that step. The decay
 *   does not pass through Adam's moment estimates.
 * - `'l2'` (PyTorch `Adam(weight_decay=...)`): `weightDecay / 2 * sum(w^2)` is added to the loss, so its
 *   gradient `weightDecay * w` is rescaled by the optimiser like any other gradient.
 *
 * Either way only kernels (weights of rank >= 2) decay; biases and the loss's own weights (proxies) do not.
 */
export type WeightDecayMode = 'decoupled' | 'l2';

export const weightDecaySchema = z.object({
  weightDecay: z.number().min(0).max(1).default(0),
  weightDecayMode: z.enum(['decoupled', 'l2']).default('decoupled'),
});

/** The model variables weight decay applies to: kernels, i.e. rank >= 2. */
export function decayedVariables(vars: tf.Variable[]): tf.Variable[] {
  return vars.filter((v) => v.rank >= 2);
}

/** `weightDecay / 2 * sum(w^2)` over `vars`: the L2 penalty whose gradient is `weightDecay * w`. */
export function l2Penalty(vars: tf.Variable[], weightDecay: number): tf.Scalar {
  return tf.tidy(() => {
    let sum: tf.Scalar = tf.scalar(0);
    for (const v of vars) sum = tf.add(sum, tf.sum(tf.square(v)));
    return tf.mul(sum, weightDecay / 2);
  });
}

/** Decoupled decay: `w <- w * (1 - lr * weightDecay)` for every variable in `vars`. */
export function applyDecoupledDecay(vars: tf.Variable[], learningRate: number, weightDecay: number): void {
  const factor = 1 - learningRate * weightDecay;
  if (factor === 1) return;
  tf.tidy(() => {
    for (const v of vars) v.assign(tf.mul(v, factor));
  });
}

/**
 * The optimiser for a loss's own weights: the model's optimiser when no separate rate is asked for and
 * it can be shared, else a new one of the same kind (a named one, or the same class as an instance)
 * with `learningRate`.
 */
export function makeLossOptimizer(
  modelOptimizer: tf.Optimizer,
  spec: OptimizerName | tf.Optimizer | undefined,
  learningRate: number | undefined,
): tf.Optimizer {
  if (learningRate === undefined) return modelOptimizer;
  if (typeof spec === 'string' || spec === undefined) return makeOptimizer(spec ?? 'adam', learningRate);
  const cls = spec.constructor as unknown as {
    fromConfig?: (c: unknown, config: tf.serialization.ConfigDict) => tf.Optimizer;
  };
  if (typeof cls.fromConfig !== 'function') {
    throw new ConfigError(`lossLearningRate: cannot build a second ${spec.getClassName()} optimiser; pass a named optimizer (${OPTIMIZER_NAMES.join(', ')})`);
  }
  return cls.fromConfig(cls, { ...spec.getConfig(), learningRate });
}

/**
 * Computes `f`'s value and gradients with respect to `modelVars` and `lossVars` and steps each group
 * with its optimiser (once when they share one). Returns the loss value (a scalar the caller disposes).
 */
export function optimiserStep(
  f: () => tf.Scalar,
  modelVars: tf.Variable[],
  lossVars: tf.Variable[],
  optimizer: tf.Optimizer,
  lossOptimizer: tf.Optimizer,
): tf.Scalar {
  const { value, grads } = tf.variableGrads(f, [...modelVars, ...lossVars]);
  if (lossOptimizer === optimizer || lossVars.length === 0) {
    optimizer.applyGradients(grads);
  } else {
    const pick = (vars: tf.Variable[]): tf.NamedTensorMap =>
      Object.fromEntries(vars.filter((v) => grads[v.name] != null).map((v) => [v.name, grads[v.name]]));
    optimizer.applyGradients(pick(modelVars));
    lossOptimizer.applyGradients(pick(lossVars));
  }
  tf.dispose(grads);
  return value;
}
