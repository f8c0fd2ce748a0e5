/**
 * An input-preserving embedding for sparse lexical features (TF-IDF rows): the input vector itself,
 * followed by a learned low-rank projection of it, the whole scaled to unit norm. The cosine
 * similarity of two embeddings is then
 *
 *     (x . x' + (P x) . (P x')) / (|[x; P x]| |[x'; P x']|)
 *
 * the input's own similarity (the TF-IDF baseline's, for TF-IDF rows) plus a learned one. With `P`
 * started small the untrained model ranks neighbours as the input does, and metric-learning training
 * adds what exact word overlap misses (words used alike by one author) without losing the overlap
 * that a dense projection alone throws away.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { L2Normalization } from './l2-normalization.js';

/** The options of {@link textExpansion} a run config gives (`model: { type: 'text-expansion', ... }`). */
export const textExpansionSchema = z
  .object({
    /** Size of the learned projection appended to the input. Default `128`. */
    projectionDim: z.number().int().min(1).default(128),
    /** Standard deviation of the projection's initial (normal) weights. Default `0.01`. */
    initStd: z.number().finite().min(0).default(0.01),
    /** End with an L2-normalisation layer, so embeddings compare by cosine similarity. Default `true`. */
    normalize: z.boolean().default(true),
  })
  .strict();

/** Options of {@link textExpansion}. */
export interface TextExpansionOptions extends Partial<z.input<typeof textExpansionSchema>> {
  /** Length of the input vectors (e.g. the TF-IDF vocabulary size). Required. */
  inputDim: number;
  /** Seed of the projection's initial weights. Default `0`. */
  seed?: number;
}

const schema = textExpansionSchema.extend({
  inputDim: z.number().int().min(1),
  seed: z.number().int().min(0).default(0),
});

/**
 * `x -> L2([x; P x])` with `P` a trainable `projectionDim x inputDim` matrix (no bias): the
 * embedding has `inputDim + projectionDim` values.
 *
 * ```ts
 * const tfidf = new akin.data.TfidfVectorizer().fit(trainTexts);
 * const model = akin.models.textExpansion({ inputDim: tfidf.dim, projectionDim: 128 });
 * ```
 */
export function textExpansion(options: TextExpansionOptions): tf.LayersModel {
  const o = parseOptions('models.textExpansion', schema, options);
  const input = tf.input({ shape: [o.inputDim], name: 'expansion_input' });
  const projection = tf.layers
    .dense({
      units: o.projectionDim,
      useBias: false,
      // tfjs's normal draws ignore a falsy seed (seed 0 would be unseeded): offset it by one.
      kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: o.initStd, seed: o.seed + 1 }),
      name: 'expansion_projection',
    })
    .apply(input) as tf.SymbolicTensor;
  let out = tf.layers.concatenate({ axis: -1, name: 'expansion_concat' }).apply([input, projection]) as tf.SymbolicTensor;
  if (o.normalize) out = new L2Normalization({ name: 'expansion_l2' }).apply(out) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'akin_text_expansion' });
}
