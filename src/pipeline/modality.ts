/**
 * Input kinds ("modalities") of a run: images, text, tabular rows, your own vectors, ... Each kind is
 * one {@link Modality} object registered under the name a run config gives as `data.kind`. The run
 * pipeline (`loadRunData`, `runExperiment`, `loadRun`) and the faces (`akin train/evaluate/embed/search`,
 * the server's `/embed` and `/search`) only talk to this interface, so a new kind plugs in without
 * touching them.
 *
 * ## Adding an input kind (the extension point)
 *
 * Write one module, e.g. `src/pipeline/modalities/audio.ts`, that calls {@link registerModality} with
 * an object implementing {@link Modality}, and import it from `src/pipeline/modalities/index.ts`:
 *
 * ```ts
 * registerModality<AudioClip, AudioOptions>({
 *   kind: 'audio',
 *   schema: audioOptionsSchema,                  // zod, strict, every field defaulted; becomes `data.*`
 *   async load(options, ctx) { ... },            // labelled raw items from `ctx.source` (a file or folder)
 *   async fit(options, train) { ... },           // fits preprocessing on the training items only
 *   restore(saved, options) { ... },             // the same preprocessing from its saved JSON
 *   defaultModel(options) { return { type: 'convnet' }; },   // used when the config has no `model`
 *   readInputs(path, options) { ... },           // raw items from a file, for `akin embed` / `akin search`
 *   parseInputs(values, field, options) { ... }, // raw items from JSON values, for the server
 * });
 * ```
 *
 * The pipeline splits the loaded items by class (train / validation / seen test / unseen test) with
 * the config's common `data` fields, calls `fit` on the training items, turns every split into a
 * {@link Dataset} with `transform`, saves `toJSON()` as `preprocessing.json` in the run folder, and
 * at embed time rebuilds it with `restore` and feeds `readInputs` / `parseInputs` items through
 * `transform`. A kind that needs its own network registers a model type with `registerModelType`
 * (`model-types.ts`) in the same module.
 */
import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { formatIssues } from '../core/options.js';
import type { ModelInput, ModelSpec } from './model-types.js';

/** Raw labelled items as a modality loads them, before preprocessing. */
export interface LoadedItems<R> {
  /** One raw item per sample (an image's pixels, a text, a CSV row, a vector, ...). */
  items: R[];
  /** Class of each item (integers from 0). */
  labels: Int32Array;
  /** Name of each class (index = label), when the labels were names. */
  classNames?: string[];
  /**
   * When the source has its own test split: items from this index on are that split (used for the
   * seen-class test set instead of a holdout). Default: no separate test split.
   */
  testFrom?: number;
  /** One line saying what was loaded and from where. */
  description: string;
  /** Shape of one item, when the source fixes it (images `[28, 28, 1]`); handed to `fit`. */
  shape?: number[];
  /**
   * When the classes are synthetic (the components of pairs, see `data/pairs.ts`): the config's class
   * lists are not used; the pipeline splits the classes at random instead, `heldOut` of them for the
   * unseen test set and `data.validation` of them for validation (see `splitPairClasses`). The seen
   * column then measures retrieval among a sample of the training classes.
   */
  splitClasses?: { heldOut: number };
}

/** What a modality's `load` gets besides its options. */
export interface LoadContext {
  /** `data.source` of the config, or the `--data` override: a file, folder or named source. */
  source: string;
  /** The run's seed (for any subsampling). */
  seed: number;
}

/**
 * Fitted preprocessing: turns raw items into model inputs (flat float32 rows of `shape`). It is saved
 * in the run folder as JSON and rebuilt by the modality's `restore`, so a saved run embeds raw input.
 */
export interface Preprocessing<R> {
  /** The model input: shape of one sample (e.g. `[28, 28, 1]`, `[4096]`, `[128]` token ids) and, for token ids, the vocabulary size. */
  readonly input: ModelInput;
  /** Encodes items as `items.length * size(input.shape)` float32 values, row-major. */
  transform(items: R[]): Float32Array;
  /** The fitted state as plain JSON (what `restore` reads). */
  toJSON(): unknown;
  /**
   * The "raw" baseline row of the metrics table: features whose cosine similarity is the baseline
   * (e.g. TF-IDF for text). Default: the model inputs themselves, under the name `rawName`.
   */
  baseline?(items: R[]): { features: Float32Array; dim: number };
  /** Name of the baseline row (`'raw pixels'`, `'TF-IDF (words)'`, `'input features'`). */
  readonly rawName?: string;
}

/** One input kind. See the module comment for how to add one. */
export interface Modality<R = unknown, O extends object = object> {
  /** The value of `data.kind` that selects this modality. */
  readonly kind: string;
  /** One line for `--help` and errors. */
  readonly description: string;
  /** Zod schema of this kind's own `data` fields (strict, with defaults). The common split fields are not in it. */
  readonly schema: z.ZodType<O>;
  /** Loads the labelled raw items named by `ctx.source`. */
  load(options: O, ctx: LoadContext): Promise<LoadedItems<R>>;
  /** Fits the preprocessing on the training items (their labels are given for supervised encoders). */
  fit(options: O, train: R[], labels: Int32Array, loaded: Omit<LoadedItems<R>, 'items'>): Promise<Preprocessing<R>> | Preprocessing<R>;
  /** Rebuilds fitted preprocessing from its `toJSON()`; errors name the bad field. */
  restore(saved: unknown, options: O): Preprocessing<R>;
  /**
   * True when these options make `load` return synthetic classes (pairs or triplets instead of
   * labels; see {@link LoadedItems.splitClasses}): the config then names no classes and `m` defaults to 2.
   */
  syntheticClasses?(options: O): boolean;
  /** The model a config without `model` gets, e.g. `{ type: 'mlp' }`. */
  defaultModel(options: O): ModelSpec;
  /** Reads raw items to embed or search for from a file (`akin embed --input`, `akin search --query`). */
  readInputs(path: string, options: O, preprocessing: Preprocessing<R>): Promise<R[]> | R[];
  /** Raw items from JSON values sent to the server (`/embed` `inputs`, `/search` `input`); `field` names the request field in errors. */
  parseInputs(values: unknown[], field: string, options: O, preprocessing: Preprocessing<R>): R[];
}

const modalities = new Map<string, Modality>();

/** Registers an input kind under `modality.kind` (a second registration of the same kind replaces the first). */
export function registerModality<R, O extends object>(modality: Modality<R, O>): void {
  modalities.set(modality.kind, modality as unknown as Modality);
}

/** The registered kinds, sorted. */
export function modalityKinds(): string[] {
  return [...modalities.keys()].sort();
}

/** The modality of `kind`; a {@link ConfigError} naming the known kinds otherwise. */
export function getModality(kind: string, where = 'config'): Modality {
  const m = modalities.get(kind);
  if (!m) throw new ConfigError(`${where}: 'data.kind' is '${kind}'; known kinds: ${modalityKinds().join(', ')}`);
  return m;
}

/** The `data` fields every input kind shares (the class splits); the rest belong to the kind. */
export const COMMON_DATA_FIELDS = ['kind', 'source', 'trainClasses', 'testClasses', 'seenHoldout', 'validation', 'validationClasses', 'maxTrain'] as const;

/** A config's `data` section without the common fields: the options of its input kind (already validated by `parseRunConfig`). */
export function kindOptions(data: Record<string, unknown>): object {
  const own: Record<string, unknown> = { ...data };
  for (const k of COMMON_DATA_FIELDS) delete own[k];
  return own;
}

/** Validates a modality's own `data` fields; errors read `where: data (kind 'text'): option 'x' ...`. */
export function parseModalityOptions(modality: Modality, fields: object, where: string): object {
  const r = modality.schema.safeParse(fields);
  if (!r.success) throw new ConfigError(formatIssues(`${where}: data (kind '${modality.kind}')`, r.error, fields).replace(/option '/g, "option 'data."));
  return r.data;
}
