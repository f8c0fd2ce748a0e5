import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { L2Normalization } from '../models/l2-normalization.js';

/** Options of {@link projectionHead}. */
export interface ProjectionHeadOptions {
  /** Size of the embeddings the head takes (the embedding network's output). Required. */
  inputDim: number;
  /** Widths of the hidden layers (ReLU). Default `[]` (one linear layer). */
  hidden?: number[];
  /** Output size. Default: `inputDim`. */
  dim?: number;
  /** End with L2 normalisation. Default `true`. */
  normalize?: boolean;
  /** Seed of the weight initialisers. Default `0`. */
  seed?: number;
}

const schema = z
  .object({
    inputDim: z.number().int().min(1),
    hidden: z.array(z.number().int().min(1)).default([]),
    dim: z.number().int().min(1).optional(),
    normalize: z.boolean().default(true),
    seed: z.number().int().default(0),
  })
  .strict();

/**
 * A projection head for `Trainer.fit({ head })`: Dense(hidden[i], ReLU) ... -> Dense(dim) -> L2
 * normalisation. In SimCLR (Chen et al. 2020) the loss is applied after such a head and the
 * representation before it is the one that transfers; the head is thrown away after training.
 */
export function projectionHead(options: ProjectionHeadOptions): tf.Sequential {
  const o = parseOptions('projectionHead', schema, options);
  const head = tf.sequential({ name: 'akin_projection_head' });
  let seed = o.seed + 7919;
  const units = [...o.hidden, o.dim ?? o.inputDim];
  units.forEach((u, i) => {
    head.add(
      tf.layers.dense({
        units: u,
        activation: i < units.length - 1 ? 'relu' : 'linear',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }),
        ...(i === 0 ? { inputShape: [o.inputDim] } : {}),
      }),
    );
  });
  if (o.normalize) head.add(new L2Normalization());
  return head;
}
