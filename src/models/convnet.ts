import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { L2Normalization } from './l2-normalization.js';

/** Options of {@link convnet}. */
export interface ConvnetOptions {
  /** Shape of one input image `[height, width, channels]`. Default `[28, 28, 1]`. */
  inputShape?: number[];
  /** Filters of each 3x3 conv block (conv -> ReLU -> 2x2 max-pool). Default `[32, 64]`. */
  filters?: number[];
  /** Kernel size of the convolutions. Default `3`. */
  kernelSize?: number;
  /** Embedding size. Default `128`. */
  embeddingDim?: number;
  /** Dropout rate before the embedding layer. Default `0`. */
  dropout?: number;
  /** End with an L2-normalisation layer. Default `true`. */
  normalize?: boolean;
  /** Average-pool the image by this factor before the first conv (a fixed low-pass front end); 1 = none. Default `1`. */
  inputPool?: number;
  /** Seed of the weight initialisers. Default `0`. */
  seed?: number;
}

const schema = z
  .object({
    inputShape: z.array(z.number().int().min(1)).length(3).default([28, 28, 1]),
    filters: z.array(z.number().int().min(1)).min(1).default([32, 64]),
    kernelSize: z.number().int().min(1).default(3),
    embeddingDim: z.number().int().min(1).default(128),
    dropout: z.number().min(0).max(0.99).default(0),
    normalize: z.boolean().default(true),
    inputPool: z.number().int().min(1).default(1),
    seed: z.number().int().default(0),
  })
  .strict()
  .refine((o) => o.inputPool === 1 || (o.inputShape[0] >= o.inputPool && o.inputShape[1] >= o.inputPool), {
    message: 'must not exceed the image height or width',
    path: ['inputPool'],
  });

/**
 * A small conv net for images: an optional `inputPool` average pool, then for each entry of `filters`
 * a same-padded conv (ReLU) and a 2x2 max pool; then Flatten -> Dense(embeddingDim) -> L2
 * normalisation. Defaults: conv 3x3x32, pool, conv 3x3x64, pool, dense 128.
 */
export function convnet(options: ConvnetOptions = {}): tf.Sequential {
  const o = parseOptions('models.convnet', schema, options);
  const model = tf.sequential({ name: 'akin_convnet' });
  let seed = o.seed;
  if (o.inputPool > 1) model.add(tf.layers.averagePooling2d({ poolSize: o.inputPool, inputShape: o.inputShape }));
  o.filters.forEach((filters, i) => {
    model.add(
      tf.layers.conv2d({
        filters,
        kernelSize: o.kernelSize,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }),
        ...(i === 0 && o.inputPool === 1 ? { inputShape: o.inputShape } : {}),
      }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  });
  model.add(tf.layers.flatten());
  if (o.dropout > 0) model.add(tf.layers.dropout({ rate: o.dropout, seed: seed++ }));
  model.add(tf.layers.dense({ units: o.embeddingDim, kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }) }));
  if (o.normalize) model.add(new L2Normalization());
  return model;
}
