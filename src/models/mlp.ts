import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { L2Normalization } from './l2-normalization.js';

/** Options of {@link mlp}: the seed's embedding network. */
export interface MlpOptions {
  /** Length of one flat input vector. Give this or `inputShape`. */
  inputDim?: number;
  /** Shape of one input sample, e.g. `[28, 28, 1]`; a Flatten layer is added when it has rank > 1. */
  inputShape?: number[];
  /** Widths of the hidden layers. Default `[256]`. */
  hidden?: number[];
  /** Embedding size (units of the last Dense layer, no activation). Default `128`. */
  embeddingDim?: number;
  /** Activation of the hidden layers. Default `'relu'`. */
  activation?: 'relu' | 'elu' | 'selu' | 'tanh' | 'sigmoid' | 'linear' | 'swish' | 'mish' | 'gelu';
  /** Dropout rate after each hidden layer (0 = none). Default `0`. */
  dropout?: number;
  /** End with an L2-normalisation layer, so embeddings lie on the unit sphere. Default `true`. */
  normalize?: boolean;
  /**
   * Average-pool image inputs (`[height, width, channels]`) by this factor before the first Dense
   * layer, a fixed low-pass front end (e.g. `2`: 28x28 -> 14x14). Default `1` (none).
   */
  inputPool?: number;
  /** Seed of the weight initialisers; the same seed gives the same initial network. Default `0`. */
  seed?: number;
}

const schema = z
  .object({
    inputDim: z.number().int().min(1).optional(),
    inputShape: z.array(z.number().int().min(1)).min(1).optional(),
    hidden: z.array(z.number().int().min(1)).default([256]),
    embeddingDim: z.number().int().min(1).default(128),
    activation: z.enum(['relu', 'elu', 'selu', 'tanh', 'sigmoid', 'linear', 'swish', 'mish', 'gelu']).default('relu'),
    dropout: z.number().min(0).max(0.99).default(0),
    normalize: z.boolean().default(true),
    inputPool: z.number().int().min(1).default(1),
    seed: z.number().int().default(0),
  })
  .strict()
  .refine((o) => o.inputDim !== undefined || o.inputShape !== undefined, {
    message: 'give inputDim or inputShape',
    path: ['inputDim'],
  })
  .refine((o) => o.inputPool === 1 || (o.inputShape?.length === 3 && o.inputShape[0] >= o.inputPool && o.inputShape[1] >= o.inputPool), {
    message: 'needs image inputs (inputShape [height, width, channels]) at least inputPool pixels on a side',
    path: ['inputPool'],
  });

/**
 * The seed's embedding network: input (average-pooled by `inputPool`) -> Dense(hidden[i], activation)
 * ... -> Dense(embeddingDim) -> L2 normalisation. With the defaults: 784 -> 256 (ReLU) -> 128, unit-norm embeddings whose dot
 * product is their cosine similarity.
 */
export function mlp(options: MlpOptions): tf.Sequential {
  const o = parseOptions('models.mlp', schema, options);
  const inputShape = o.inputShape ?? [o.inputDim!];
  const model = tf.sequential({ name: 'akin_mlp' });
  let seed = o.seed;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  if (o.inputPool > 1) {
    model.add(tf.layers.averagePooling2d({ poolSize: o.inputPool, inputShape }));
    model.add(tf.layers.flatten());
  } else if (inputShape.length > 1) model.add(tf.layers.flatten({ inputShape }));
  o.hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        activation: o.activation,
        kernelInitializer: init(),
        ...(i === 0 && inputShape.length === 1 ? { inputShape } : {}),
      }),
    );
    if (o.dropout > 0) model.add(tf.layers.dropout({ rate: o.dropout, seed: seed++ }));
  });
  model.add(
    tf.layers.dense({
      units: o.embeddingDim,
      kernelInitializer: init(),
      ...(o.hidden.length === 0 && inputShape.length === 1 ? { inputShape } : {}),
    }),
  );
  if (o.normalize) model.add(new L2Normalization());
  return model;
}
