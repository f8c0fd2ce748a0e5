/**
 * A small trainable text encoder over token ids (characters or hashed words, 0 = padding): token
 * embeddings, a stack of 1-D convolutions (or a GRU), pooling over the real (non-padding) positions,
 * a dense projection and L2 normalisation.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { L2Normalization } from './l2-normalization.js';

/** The options of {@link textEncoder} a run config gives (`model: { type: 'text-encoder', ... }`). */
export const textEncoderSchema = z
  .object({
    /** Size of the token embeddings. Default `64`. */
    tokenDim: z.number().int().min(1).default(64),
    /** `'conv'` (default): 1-D convolutions, ReLU, same padding. `'gru'`: one GRU returning every step. */
    layer: z.enum(['conv', 'gru']).default('conv'),
    /** Filters of each conv layer, or the GRU's units (first entry). Default `[128]`. */
    filters: z.array(z.number().int().min(1)).min(1).default([128]),
    /** Kernel size of the convolutions. Default `3`. */
    kernelSize: z.number().int().min(1).default(3),
    /** Pooling over the non-padding positions. Default `'mean'`. */
    pooling: z.enum(['mean', 'max']).default('mean'),
    /** Embedding size. Default `128`. */
    embeddingDim: z.number().int().min(1).default(128),
    /** Dropout rate before the projection. Default `0`. */
    dropout: z.number().min(0).max(0.99).default(0),
    /** End with an L2-normalisation layer. Default `true`. */
    normalize: z.boolean().default(true),
  })
  .strict();

/** Options of {@link textEncoder}. */
export interface TextEncoderOptions extends Partial<z.input<typeof textEncoderSchema>> {
  /** Token ids per input (padded with 0). Required. */
  sequenceLength: number;
  /** Number of token ids, padding (0) included. Required. */
  vocabSize: number;
  /** Seed of the weight initialisers. Default `0`. */
  seed?: number;
}

const schema = textEncoderSchema.extend({
  sequenceLength: z.number().int().min(1),
  vocabSize: z.number().int().min(2),
  seed: z.number().int().min(0).default(0),
});

/**
 * Pools `[batch, steps, channels]` features over the steps whose token id (first input,
 * `[batch, steps]`) is not 0: the mean, or the maximum. A row with no tokens pools to zeros.
 */
export class MaskedPooling extends tf.layers.Layer {
  static readonly className = 'MaskedPooling';
  readonly mode: 'mean' | 'max';

  constructor(args: { mode?: 'mean' | 'max'; name?: string } = {}) {
    super({ name: args.name });
    this.mode = args.mode ?? 'mean';
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [ids, h] = inputs as tf.Tensor[];
      const mask = tf.expandDims(tf.cast(tf.notEqual(ids, 0), 'float32'), -1); // [b, L, 1]
      const count = tf.sum(mask, 1); // [b, 1]
      if (this.mode === 'mean') return tf.div(tf.sum(tf.mul(h, mask), 1), tf.maximum(count, 1));
      const masked = tf.sub(h, tf.mul(tf.sub(1, mask), 1e4));
      return tf.mul(tf.max(masked, 1), tf.cast(tf.greater(count, 0), 'float32'));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const h = (inputShape as tf.Shape[])[1];
    return [h[0], h[2]];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode };
  }
}

tf.serialization.registerClass(MaskedPooling);

/**
 * Token ids `[batch, sequenceLength]` (as float32 or int32; 0 = padding) -> Embedding(vocabSize,
 * tokenDim) -> conv1d ReLU layers (or a GRU) -> masked mean/max pooling -> Dense(embeddingDim) ->
 * L2 normalisation. Training it on the wasm backend uses akin's `UnsortedSegmentSum` kernel (the
 * gradient of the embedding lookup).
 *
 * ```ts
 * const model = akin.models.textEncoder({ sequenceLength: 128, vocabSize: 16386, pooling: 'max' });
 * ```
 */
export function textEncoder(options: TextEncoderOptions): tf.LayersModel {
  const o = parseOptions('models.textEncoder', schema, options);
  let seed = o.seed;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const ids = tf.input({ shape: [o.sequenceLength], name: 'tokens' });
  let h = tf.layers.embedding({
    inputDim: o.vocabSize,
    outputDim: o.tokenDim,
    embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: seed++ }),
    name: 'token_embedding',
  }).apply(ids) as tf.SymbolicTensor;
  if (o.layer === 'gru') {
    h = tf.layers.gru({
      units: o.filters[0],
      returnSequences: true,
      kernelInitializer: init(),
      recurrentInitializer: tf.initializers.orthogonal({ seed: seed++ }), // a normal draw: its seed (o.seed + 2) is never 0, which tfjs would ignore
      name: 'gru',
    }).apply(h) as tf.SymbolicTensor;
  } else {
    o.filters.forEach((filters, i) => {
      h = tf.layers.conv1d({
        filters,
        kernelSize: o.kernelSize,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(),
        name: `conv_${i}`,
      }).apply(h) as tf.SymbolicTensor;
    });
  }
  let pooled = new MaskedPooling({ mode: o.pooling, name: 'pool' }).apply([ids, h]) as tf.SymbolicTensor;
  if (o.dropout > 0) pooled = tf.layers.dropout({ rate: o.dropout, seed: seed++ }).apply(pooled) as tf.SymbolicTensor;
  let out = tf.layers.dense({ units: o.embeddingDim, kernelInitializer: init(), name: 'projection' }).apply(pooled) as tf.SymbolicTensor;
  if (o.normalize) out = new L2Normalization({ name: 'l2' }).apply(out) as tf.SymbolicTensor;
  return tf.model({ inputs: ids, outputs: out, name: 'akin_text_encoder' });
}
