/**
 * Learning-rate schedules: constant, cosine annealing and step decay, each with an optional linear
 * warm-up. The Trainer evaluates the schedule before every optimiser step (per step, not per epoch),
 * so warm-up and cosine decay are smooth; a step schedule changes at epoch boundaries.
 */
import { z } from 'zod';
import type * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';

/** Options of a learning-rate schedule. */
export interface LrScheduleOptions {
  /**
   * - `'constant'` (default): the base learning rate throughout (after any warm-up).
   * - `'cosine'`: `min + (base - min) * (1 + cos(pi * t / T)) / 2`, t the step after warm-up and T the
   *   steps of the whole run after warm-up (SGDR without restarts, Loshchilov & Hutter 2017).
   * - `'step'`: `base * gamma ^ floor(epoch / stepEpochs)` (PyTorch's `StepLR`).
   */
  type?: 'constant' | 'cosine' | 'step';
  /**
   * Linear warm-up over this many epochs (fractions allowed): the rate at step s (0-based) of the
   * warm-up is `base * (s + 1) / warmupSteps`. Default `0`.
   */
  warmupEpochs?: number;
  /** Cosine: the final learning rate as a fraction of the base rate. Default `0`. */
  minFactor?: number;
  /** Step: epochs between decays. Default `1`. */
  stepEpochs?: number;
  /** Step: the factor applied at each decay. Default `0.1`. */
  gamma?: number;
}

export const lrScheduleSchema = z
  .object({
    type: z.enum(['constant', 'cosine', 'step']).default('constant'),
    warmupEpochs: z.number().min(0).default(0),
    minFactor: z.number().min(0).max(1).default(0),
    stepEpochs: z.number().int().min(1).default(1),
    gamma: z.number().gt(0).max(1).default(0.1),
  })
  .strict();

/** A parsed schedule (defaults filled in). */
export type LrScheduleConfig = z.output<typeof lrScheduleSchema>;

export function parseLrSchedule(options: LrScheduleOptions | null | undefined): LrScheduleConfig {
  return parseOptions('lrSchedule', lrScheduleSchema, options ?? {});
}

/**
 * The learning rate before optimiser step `step` (0-based, counted over the whole run) of a run of
 * `epochs` epochs with `stepsPerEpoch` steps each, for a base rate `base`.
 */
export function learningRateAt(schedule: LrScheduleConfig, base: number, step: number, stepsPerEpoch: number, epochs: number): number {
  const warmupSteps = Math.round(schedule.warmupEpochs * stepsPerEpoch);
  if (step < warmupSteps) return (base * (step + 1)) / warmupSteps;
  switch (schedule.type) {
    case 'constant':
      return base;
    case 'cosine': {
      const total = Math.max(1, epochs * stepsPerEpoch - warmupSteps);
      const t = Math.min(step - warmupSteps, total);
      const min = base * schedule.minFactor;
      return min + ((base - min) * (1 + Math.cos((Math.PI * t) / total))) / 2;
    }
    case 'step':
      return base * schedule.gamma ** Math.floor(Math.floor(step / stepsPerEpoch) / schedule.stepEpochs);
  }
}

/**
 * Sets the learning rate of a tfjs optimiser in place. SGD and momentum keep the rate in a cached
 * scalar (their `setLearningRate`); Adam, AdaMax, RMSProp, AdaGrad and AdaDelta read their
 * `learningRate` field at every step.
 */
export function setLearningRate(optimizer: tf.Optimizer, value: number): void {
  if (!(value > 0) || !Number.isFinite(value)) throw new ConfigError(`learning rate must be a positive number (got ${value})`);
  const o = optimizer as unknown as { learningRate?: number; setLearningRate?: (v: number) => void };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(value);
  else if (typeof o.learningRate === 'number') o.learningRate = value;
  else throw new ConfigError(`cannot set the learning rate of optimiser ${optimizer.getClassName()}: it has no 'learningRate'`);
}

/** The learning rate a tfjs optimiser uses now (its `learningRate` field). */
export function getLearningRate(optimizer: tf.Optimizer): number {
  const lr = (optimizer as unknown as { learningRate?: number }).learningRate;
  if (typeof lr !== 'number') throw new ConfigError(`optimiser ${optimizer.getClassName()} has no 'learningRate'`);
  return lr;
}
