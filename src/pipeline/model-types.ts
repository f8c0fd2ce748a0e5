/**
 * Model types a run config can name in `model.type`: each is a zod schema of its options (with
 * defaults) and a builder. Built in: `mlp` (the seed network), `convnet` (images), `adapter` (a
 * near-identity head over your own vectors), `text-encoder` (token embeddings, conv or GRU,
 * masked pooling) and `text-expansion` (TF-IDF rows followed by a learned projection). An input
 * kind that needs another network registers it with {@link registerModelType}.
 */
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { formatIssues } from '../core/options.js';
import { mlp } from '../models/mlp.js';
import { convnet } from '../models/convnet.js';
import { adapter } from '../models/adapter.js';
import { textEncoder, textEncoderSchema } from '../models/text-encoder.js';
import { textExpansion, textExpansionSchema } from '../models/text-expansion.js';

/** What a model is built for: the shape of one input and, for token ids, the vocabulary size. */
export interface ModelInput {
  shape: number[];
  /** Number of distinct token ids (0 = padding) when the inputs are token ids. */
  vocabSize?: number;
}

/** A model as a run config names it: `{ type, ...options }`. */
export type ModelSpec = { type: string } & Record<string, unknown>;

/** One model type. */
export interface ModelType<O extends object = object> {
  readonly type: string;
  /** Zod schema of the options besides `type` (strict, with defaults). */
  readonly schema: z.ZodType<O>;
  build(options: O, input: ModelInput, seed: number): tf.LayersModel;
}

const types = new Map<string, ModelType>();

/** Registers a model type (a second registration of the same type replaces the first). */
export function registerModelType<O extends object>(t: ModelType<O>): void {
  types.set(t.type, t as unknown as ModelType);
}

/** The registered model types, sorted. */
export function modelTypes(): string[] {
  return [...types.keys()].sort();
}

function getType(type: string, where: string): ModelType {
  const t = types.get(type);
  if (!t) throw new ConfigError(`${where}: 'model.type' is '${type}'; known types: ${modelTypes().join(', ')}`);
  return t;
}

/** Validates a model spec against its type's schema; returns it with the defaults filled in. */
export function parseModelSpec(spec: ModelSpec, where: string): ModelSpec {
  const { type, ...rest } = spec;
  const r = getType(type, where).schema.safeParse(rest);
  if (!r.success) throw new ConfigError(formatIssues(`${where}: model (type '${type}')`, r.error, rest).replace(/option '/g, "option 'model."));
  return { type, ...(r.data as object) };
}

/** Builds the network a (parsed) model spec describes. */
export function buildModelFromSpec(spec: ModelSpec, input: ModelInput, seed: number): tf.LayersModel {
  const { type, ...rest } = spec;
  const t = getType(type, 'model');
  return t.build(t.schema.parse(rest) as object, input, seed);
}

const activation = z.enum(['relu', 'elu', 'selu', 'tanh', 'sigmoid', 'linear', 'swish', 'mish', 'gelu']);

registerModelType({
  type: 'mlp',
  schema: z
    .object({
      hidden: z.array(z.number().int().min(1)).default([256]),
      embeddingDim: z.number().int().min(1).default(128),
      activation: activation.default('relu'),
      dropout: z.number().min(0).max(0.99).default(0),
      normalize: z.boolean().default(true),
      /** Average-pool image inputs by this factor first (a fixed low-pass front end); 1 = none. */
      inputPool: z.number().int().min(1).default(1),
    })
    .strict(),
  build: (o, input, seed) => mlp({ ...o, inputShape: input.shape, seed }),
});

registerModelType({
  type: 'convnet',
  schema: z
    .object({
      filters: z.array(z.number().int().min(1)).min(1).default([32, 64]),
      kernelSize: z.number().int().min(1).default(3),
      embeddingDim: z.number().int().min(1).default(128),
      dropout: z.number().min(0).max(0.99).default(0),
      normalize: z.boolean().default(true),
      /** Average-pool the image by this factor before the first conv; 1 = none. */
      inputPool: z.number().int().min(1).default(1),
    })
    .strict(),
  build: (o, input, seed) => {
    if (input.shape.length !== 3) throw new ConfigError(`model type 'convnet' needs image inputs [height, width, channels]; these inputs have shape [${input.shape}]`);
    return convnet({ ...o, inputShape: input.shape, seed });
  },
});

registerModelType({
  type: 'adapter',
  schema: z
    .object({
      /** `'linear'` (identity plus noise) or `'residual'` (x + MLP(x)). */
      form: z.enum(['linear', 'residual']).default('linear'),
      hidden: z.array(z.number().int().min(1)).min(1).optional(),
      activation: z.enum(['relu', 'elu', 'selu', 'tanh', 'sigmoid', 'swish', 'gelu']).default('relu'),
      initNoise: z.number().finite().min(0).default(1e-3),
      normalize: z.boolean().default(true),
    })
    .strict(),
  build: ({ form, ...o }, input, seed) => {
    if (input.shape.length !== 1) throw new ConfigError(`model type 'adapter' needs flat vectors; these inputs have shape [${input.shape}]`);
    return adapter({ ...o, type: form, dim: input.shape[0], seed });
  },
});

registerModelType({
  type: 'text-encoder',
  schema: textEncoderSchema,
  build: (o, input, seed) => {
    if (input.vocabSize === undefined || input.shape.length !== 1) {
      throw new ConfigError("model type 'text-encoder' needs token-id inputs: use data.kind 'text' with data.features 'tokens'");
    }
    return textEncoder({ ...o, sequenceLength: input.shape[0], vocabSize: input.vocabSize, seed });
  },
});

registerModelType({
  type: 'text-expansion',
  schema: textExpansionSchema,
  build: (o, input, seed) => {
    if (input.shape.length !== 1 || input.vocabSize !== undefined) throw new ConfigError(`model type 'text-expansion' needs flat feature vectors (data.features 'tfidf'); these inputs have shape [${input.shape}]`);
    return textExpansion({ ...o, inputDim: input.shape[0], seed });
  },
});
