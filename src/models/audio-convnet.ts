import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { L2Normalization } from './l2-normalization.js';

/** Options of {@link audioConvnet}. */
export interface AudioConvnetOptions {
  /** Shape of one input `[frames, bins, 1]` (e.g. `AudioPreprocessor.shape`). Required. */
  inputShape: number[];
  /** Filters of each conv block (conv -> batch norm -> ReLU -> 2x2 max-pool). Default `[16, 32, 64]`. */
  filters?: number[];
  /** Kernel size of the convolutions. Default `3`. */
  kernelSize?: number;
  /**
   * How the last block's `[time, frequency, channels]` map becomes one vector:
   * `'flatten'` keeps where in time each pattern occurs (words of a fixed alignment); `'frequency'`
   * averages over frequency and flattens time x channels; `'average'` / `'max'` pool over both
   * (order-free, any length). Default `'frequency'`.
   */
  pooling?: 'flatten' | 'frequency' | 'average' | 'max';
  /** Batch normalisation after each convolution. Default `true`. */
  batchNorm?: boolean;
  /** Embedding size. Default `64`. */
  embeddingDim?: number;
  /** Dropout rate before the embedding layer. Default `0`. */
  dropout?: number;
  /** End with an L2-normalisation layer. Default `true`. */
  normalize?: boolean;
  /** Seed of the weight initialisers. Default `0`. */
  seed?: number;
}

/** Zod schema of the options besides `inputShape` and `seed` (strict, with the defaults above); run configs use it for `model`. */
export const audioConvnetSchema = z
  .object({
    filters: z.array(z.number().int().min(1)).min(1).default([16, 32, 64]),
    kernelSize: z.number().int().min(1).default(3),
    pooling: z.enum(['flatten', 'frequency', 'average', 'max']).default('frequency'),
    batchNorm: z.boolean().default(true),
    embeddingDim: z.number().int().min(1).default(64),
    dropout: z.number().min(0).max(0.99).default(0),
    normalize: z.boolean().default(true),
  })
  .strict();

const schema = audioConvnetSchema.extend({ inputShape: z.array(z.number().int().min(1)).length(3), seed: z.number().int().default(0) }).strict();

/**
 * A small conv net over spectrograms (`[time, frequency, 1]` inputs from `AudioPreprocessor`): for
 * each entry of `filters`, a same-padded conv, batch norm, ReLU and a 2x2 max pool (an axis already of
 * length 1 is not pooled); then the `pooling` reduction, optional dropout, Dense(embeddingDim) and L2
 * normalisation. Defaults: 16, 32, 64 filters, pooled over frequency, 64-d unit-norm embeddings.
 */
export function audioConvnet(options: AudioConvnetOptions): tf.Sequential {
  const o = parseOptions('models.audioConvnet', schema, options);
  const model = tf.sequential({ name: 'akin_audio_convnet' });
  let seed = o.seed;
  let [time, freq] = o.inputShape;
  o.filters.forEach((filters, i) => {
    model.add(
      tf.layers.conv2d({
        filters,
        kernelSize: o.kernelSize,
        padding: 'same',
        useBias: !o.batchNorm,
        kernelInitializer: tf.initializers.heUniform({ seed: seed++ }), // heNormal ignores seed 0 (tfjs draws a random seed for a falsy one)
        ...(i === 0 ? { inputShape: o.inputShape } : {}),
      }),
    );
    if (o.batchNorm) model.add(tf.layers.batchNormalization());
    model.add(tf.layers.reLU());
    const pool: [number, number] = [time > 1 ? 2 : 1, freq > 1 ? 2 : 1];
    if (pool[0] > 1 || pool[1] > 1) model.add(tf.layers.maxPooling2d({ poolSize: pool, strides: pool }));
    time = Math.floor(time / pool[0]);
    freq = Math.floor(freq / pool[1]);
  });
  const channels = o.filters[o.filters.length - 1];
  if (o.pooling === 'average') model.add(tf.layers.globalAveragePooling2d({}));
  else if (o.pooling === 'max') model.add(tf.layers.globalMaxPooling2d({}));
  else if (o.pooling === 'flatten') model.add(tf.layers.flatten());
  else {
    model.add(tf.layers.averagePooling2d({ poolSize: [1, freq], strides: [1, freq] }));
    model.add(tf.layers.reshape({ targetShape: [time * channels] }));
  }
  if (o.dropout > 0) model.add(tf.layers.dropout({ rate: o.dropout, seed: seed++ }));
  model.add(tf.layers.dense({ units: o.embeddingDim, kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }) }));
  if (o.normalize) model.add(new L2Normalization());
  return model;
}
