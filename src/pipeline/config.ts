import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';
import { formatIssues } from '../core/options.js';
import { OPTIMIZER_NAMES } from '../train/optimizers.js';
import { defaultM } from '../train/trainer.js';
import { lrScheduleSchema } from '../train/schedules.js';
import { imageAugmentSchema } from '../data/augment.js';
import { getModality, kindOptions, parseModalityOptions } from './modality.js';
import { parseModelSpec, type ModelSpec } from './model-types.js';
import './modalities/index.js';

const component = z
  .object({ className: z.string().min(1), config: z.record(z.string(), z.unknown()).default({}) })
  .strict();

const classLabel = z.union([z.number().int().min(0), z.string().min(1)]);
const classes = z.array(classLabel).min(1);

/**
 * A run configuration: everything `akin train --config FILE` (and `akin demo`) needs to reproduce a
 * run. Every field has a default; a bad value is reported with its path, e.g. `optimizer.learningRate`.
 */
export const runConfigSchema = z
  .object({
    /** Free-form name; used in the run folder's name. */
    name: z.string().min(1).default('run'),
    /** Seed for data splits, weight initialisation and batch sampling. */
    seed: z.number().int().min(0).default(0),
    /**
     * The data: `kind` picks the input kind (`images`, `text`, `tabular`, `vectors`, ...; see
     * `modality.ts`), whose own fields sit beside the common split fields below.
     */
    data: z
      .object({
        /** The input kind. Default `'images'` (Fashion-MNIST or a folder of IDX files). */
        kind: z.string().min(1).default('images'),
        /** Where the data comes from: for images `auto` (Debian's full set if installed, else the embedded test split), `embedded`, `debian` or a folder of IDX files; for other kinds a file. */
        source: z.string().min(1).default('auto'),
        /** Classes to train on (seen): integer labels or class names. */
        trainClasses: classes.default([0, 1, 2, 3, 4]),
        /** Classes held out entirely (unseen), for zero-shot retrieval. */
        testClasses: classes.default([5, 6, 7, 8, 9]),
        /** When the source has no separate test split: fraction of each seen class held out for the seen test. */
        seenHoldout: z.number().min(0.01).max(0.9).default(0.2),
        /** Fraction of each training class kept aside for validation (0 = no validation). */
        validation: z.number().min(0).max(0.5).default(0.1),
        /**
         * Class-disjoint validation: these training classes are not trained on; all their training
         * images form the validation set instead (the `validation` fraction is then ignored). Early
         * stopping on them selects for classes the network has not seen, as the unseen test set does.
         */
        validationClasses: z.array(classLabel).default([]),
        /** Cap on training images (stratified subsample), or 0 for all. */
        maxTrain: z.number().int().min(0).default(0),
      })
      .catchall(z.unknown())
      .prefault({}),
    /** The network: `{ type, ...options }` of a registered model type (`mlp`, `convnet`, `adapter`, `text-encoder`, ...). Default: the input kind's. */
    model: z.object({ type: z.string().min(1) }).catchall(z.unknown()).optional(),
    loss: component.default({ className: 'ContrastiveLoss', config: {} }),
    miner: component.nullable().default(null),
    optimizer: z
      .object({
        name: z.enum(OPTIMIZER_NAMES as unknown as [string, ...string[]]).default('adam'),
        learningRate: z.number().positive().max(10).default(1e-3),
        /** Weight decay of the model's kernels (0 = none). */
        weightDecay: z.number().min(0).max(1).default(0),
        /** `decoupled` (AdamW: `w -= lr * weightDecay * w` after each step) or `l2` (penalty added to the loss). */
        weightDecayMode: z.enum(['decoupled', 'l2']).default('decoupled'),
        /** Learning rate of the loss's own weights (proxies); default: `learningRate`. */
        lossLearningRate: z.number().positive().max(10).optional(),
        /** Learning-rate schedule: `{ type: constant | cosine | step, warmupEpochs, minFactor, stepEpochs, gamma }`. */
        schedule: lrScheduleSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    /** Augmentation of training images (`{ pad, flip, noise, erase, ... }`), or null for none. Image inputs only. */
    augment: imageAugmentSchema.nullable().default(null),
    /** Augmented views of each image per batch (2 for SupCon-style batches or `selfSupervised`). */
    views: z.number().int().min(1).max(8).default(1),
    /** Weight of `loss` in the total (0: train on `selfSupervised` alone). */
    lossWeight: z.number().min(0).default(1),
    /** A self-supervised term over the views (labels = image identity), e.g. `{ loss: { className: 'NTXentLoss' }, weight: 1 }`. */
    selfSupervised: z.object({ loss: component, weight: z.number().min(0).default(1) }).strict().nullable().default(null),
    /**
     * Neighbourhood distillation: the network's within-batch cosine similarities are pulled (KL of
     * softmax(similarity / temperature) rows) towards the teacher's on the clean images: `input` (the
     * raw inputs' cosine similarities) or `initial` (the untrained network, frozen).
     */
    distill: z
      .object({
        teacher: z.enum(['input', 'initial']).default('input'),
        weight: z.number().min(0).default(1),
        temperature: z.number().gt(0).max(10).default(0.05),
        /** Distil on augmented copies of the batch (teacher and student see the same), e.g. `{ "flip": 0.5, "pad": 3 }`. */
        augment: imageAugmentSchema.nullable().default(null),
      })
      .strict()
      .nullable()
      .default(null),
    /**
     * A projection head used only in training (the losses see head(embedding); the saved model is the
     * embedding network): Dense(hidden[i], ReLU) ... -> Dense(dim, default: the embedding size) -> L2 norm.
     */
    projectionHead: z
      .object({
        hidden: z.array(z.number().int().min(1)).default([]),
        dim: z.number().int().min(1).optional(),
        normalize: z.boolean().default(true),
      })
      .strict()
      .nullable()
      .default(null),
    batchSize: z.number().int().min(2).max(65536).default(256),
    /** Samples per class per batch (m-per-class sampling). Default: 4, or more when there are too few classes to fill a batch. */
    m: z.number().int().min(1).optional(),
    epochs: z.number().int().min(1).max(100000).default(10),
    earlyStopping: z
      .object({
        monitor: z.string().min(1).default('val_mapAtR'),
        patience: z.number().int().min(0).default(3),
        minDelta: z.number().min(0).default(1e-4),
      })
      .strict()
      .nullable()
      .default(null),
  })
  .strict();

/** A validated run config: defaults filled in, the input kind's own `data` fields checked, `model` resolved. */
export type RunConfig = Omit<z.output<typeof runConfigSchema>, 'model'> & { m: number; model: ModelSpec };
export type RunConfigInput = z.input<typeof runConfigSchema>;

/** Validates a run config (defaults filled in); errors name every bad field with its path. */
export function parseRunConfig(input: unknown, where = 'config'): RunConfig {
  const r = runConfigSchema.safeParse(input ?? {});
  if (!r.success) throw new ConfigError(formatIssues(where, r.error, input));
  const { kind, source, trainClasses, testClasses, seenHoldout, validation, validationClasses, maxTrain } = r.data.data;
  const modality = getModality(kind, where);
  const ownOptions = parseModalityOptions(modality, kindOptions(r.data.data), where);
  const model = parseModelSpec((r.data.model as ModelSpec | undefined) ?? modality.defaultModel(ownOptions), where);
  // Pairs / triplets: the classes are components of the pairs, split at random when loaded (data/pairs.ts).
  const synthetic = modality.syntheticClasses?.(ownOptions) ?? false;
  const pairClasses: Record<string, (string | number)[]> = { trainClasses: ['training pairs'], testClasses: ['held-out pairs'], validationClasses: [] };
  if (synthetic) {
    const rawData = (input as { data?: Record<string, unknown> } | null)?.data ?? {};
    const given = Object.keys(pairClasses).filter((k) => rawData[k] !== undefined && JSON.stringify(rawData[k]) !== JSON.stringify(pairClasses[k]));
    if (given.length > 0) {
      throw new ConfigError(`${where}: ${given.map((k) => `'data.${k}'`).join(', ')} cannot be given with pairs or triplets (their classes are made from the pairs); split with 'data.pairs.heldOut' and 'data.validation'`);
    }
  }
  const classLists = synthetic ? (pairClasses as { trainClasses: (string | number)[]; testClasses: (string | number)[]; validationClasses: (string | number)[] }) : { trainClasses, testClasses, validationClasses };
  const data = { kind, source, ...classLists, seenHoldout, validation, maxTrain, ...ownOptions };
  const fitClasses = trainClasses.filter((x) => !validationClasses.includes(x));
  const c = { ...r.data, data, model, m: r.data.m ?? (synthetic ? 2 : defaultM(r.data.batchSize, fitClasses.length)) };
  const strays = c.data.validationClasses.filter((x) => !c.data.trainClasses.includes(x));
  if (!synthetic && strays.length > 0) {
    throw new ConfigError(`${where}: 'data.validationClasses' must be taken from 'data.trainClasses' (${strays.join(', ')} is not)`);
  }
  if (c.data.validationClasses.length === 1 && c.earlyStopping?.monitor.startsWith('val_')) {
    throw new ConfigError(
      `${where}: early stopping monitors '${c.earlyStopping.monitor}' on 'data.validationClasses' = [${c.data.validationClasses[0]}], one class: retrieval metrics within a single class are always 1, so no epoch could beat the first; name at least 2 classes`,
    );
  }
  if (!synthetic && fitClasses.length < 2) {
    throw new ConfigError(`${where}: 'data.validationClasses' leaves ${fitClasses.length} class(es) to train on; at least 2 are needed`);
  }
  if (c.batchSize % c.m !== 0) {
    throw new ConfigError(`${where}: 'batchSize' (${c.batchSize}) must be a multiple of 'm' (${c.m})`);
  }
  if (!synthetic && c.batchSize / c.m > fitClasses.length) {
    throw new ConfigError(
      `${where}: 'batchSize' / 'm' = ${c.batchSize / c.m} classes per batch, but only ${fitClasses.length} training classes are trained on; raise 'm' or lower 'batchSize'`,
    );
  }
  if (c.augment && c.data.kind !== 'images') {
    throw new ConfigError(`${where}: 'augment' applies to image inputs only (data.kind is '${c.data.kind}')`);
  }
  if (c.selfSupervised && c.views < 2) {
    throw new ConfigError(`${where}: 'selfSupervised' needs 'views' >= 2 (it pairs the augmented views of each image)`);
  }
  if (!c.selfSupervised && !c.distill && c.lossWeight === 0) {
    throw new ConfigError(`${where}: 'lossWeight' is 0 and there is no 'selfSupervised' or 'distill' term: nothing to train`);
  }
  const overlap = c.data.trainClasses.filter((x) => c.data.testClasses.includes(x));
  if (overlap.length > 0) throw new ConfigError(`${where}: 'data.testClasses' must not contain training classes (${overlap.join(', ')})`);
  if (c.earlyStopping?.monitor.startsWith('val_') && c.data.validation === 0 && c.data.validationClasses.length === 0) {
    throw new ConfigError(`${where}: 'earlyStopping.monitor' is '${c.earlyStopping.monitor}' but 'data.validation' is 0: no validation set to monitor`);
  }
  return c;
}

/** Reads and validates a JSON run config file; errors name the file and the bad field. */
export function readRunConfig(path: string): RunConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseRunConfig(json, path);
}
