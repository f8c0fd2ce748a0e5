import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import { createRandom, randNormal } from '../core/random.js';
import { L2Normalization } from './l2-normalization.js';

/** Options of {@link adapter}. */
export interface AdapterOptions {
  /** Length of the input vectors; the adapter's output has the same length. Required. */
  dim: number;
  /**
   * `'linear'` (default): `y = W x + b` with `W` the identity plus small noise and `b = 0`.
   * `'residual'`: `y = x + MLP(x)`, the MLP's last layer starting near zero.
   * Either way the untrained adapter is (almost) the identity, so training starts from the
   * similarity the vectors already have.
   */
  type?: 'linear' | 'residual';
  /** Hidden widths of the residual MLP. Default `[dim]`. Ignored for `'linear'`. */
  hidden?: number[];
  /** Activation of the residual MLP's hidden layers. Default `'relu'`. */
  activation?: 'relu' | 'elu' | 'selu' | 'tanh' | 'sigmoid' | 'swish' | 'gelu';
  /**
   * Standard deviation of the initial noise: added to the identity (`'linear'`), or of the residual
   * MLP's last kernel (`'residual'`). Default `1e-3`.
   */
  initNoise?: number;
  /** End with an L2-normalisation layer, so outputs compare by cosine similarity. Default `true`. */
  normalize?: boolean;
  /** Seed of the initial noise and weights. Default `0`. */
  seed?: number;
}

const schema = z
  .object({
    dim: z.number().int().min(1),
    type: z.enum(['linear', 'residual']).default('linear'),
    hidden: z.array(z.number().int().min(1)).min(1).optional(),
    activation: z.enum(['relu', 'elu', 'selu', 'tanh', 'sigmoid', 'swish', 'gelu']).default('relu'),
    initNoise: z.number().finite().min(0).default(1e-3),
    normalize: z.boolean().default(true),
    seed: z.number().int().default(0),
  })
  .strict();

/**
 * A small trainable head over frozen vectors (embeddings computed elsewhere), initialised near the
 * identity: before training, its outputs rank neighbours as the input vectors do (by cosine with
 * `normalize`); metric-learning training then bends that similarity towards the labels.
 *
 * ```ts
 * const model = akin.models.adapter({ dim: 384 });                        // linear: identity + noise
 * const deep = akin.models.adapter({ dim: 384, type: 'residual', hidden: [256] });
 * ```
 */
export function adapter(options: AdapterOptions): tf.LayersModel {
  const o = parseOptions('models.adapter', schema, options);
  const random = createRandom(o.seed);
  if (o.type === 'linear') {
    const model = tf.sequential({ name: 'akin_linear_adapter' });
    const dense = tf.layers.dense({ units: o.dim, inputShape: [o.dim], kernelInitializer: 'zeros', name: 'adapter_linear' });
    model.add(dense);
    if (o.normalize) model.add(new L2Normalization());
    const kernel = new Float32Array(o.dim * o.dim);
    for (let i = 0; i < kernel.length; i++) kernel[i] = o.initNoise * randNormal(random);
    for (let i = 0; i < o.dim; i++) kernel[i * o.dim + i] += 1;
    setKernel(dense, kernel, [o.dim, o.dim]);
    return model;
  }
  const input = tf.input({ shape: [o.dim], name: 'adapter_input' });
  let h: tf.SymbolicTensor = input;
  let seed = o.seed + 1;
  (o.hidden ?? [o.dim]).forEach((units, i) => {
    h = tf.layers.dense({
      units,
      activation: o.activation,
      kernelInitializer: tf.initializers.heNormal({ seed: seed++ }),
      name: `adapter_hidden_${i}`,
    }).apply(h) as tf.SymbolicTensor;
  });
  const last = tf.layers.dense({ units: o.dim, kernelInitializer: 'zeros', name: 'adapter_delta' });
  const delta = last.apply(h) as tf.SymbolicTensor;
  let out = tf.layers.add({ name: 'adapter_residual' }).apply([input, delta]) as tf.SymbolicTensor;
  if (o.normalize) out = new L2Normalization({ name: 'adapter_l2' }).apply(out) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: 'akin_residual_adapter' });
  const inUnits = (o.hidden ?? [o.dim]).at(-1)!;
  const kernel = new Float32Array(inUnits * o.dim);
  for (let i = 0; i < kernel.length; i++) kernel[i] = o.initNoise * randNormal(random);
  setKernel(last, kernel, [inUnits, o.dim]);
  return model;
}

/** Replaces a dense layer's kernel (its bias stays as initialised). */
function setKernel(layer: tf.layers.Layer, values: Float32Array, shape: [number, number]): void {
  const [, ...rest] = layer.getWeights();
  const kernel = tf.tensor2d(values, shape);
  layer.setWeights([kernel, ...rest]);
  kernel.dispose();
}
