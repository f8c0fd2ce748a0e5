import { filterClasses, holdout } from '../data/splits.js';
import type { Dataset } from '../data/dataset.js';
import { ConfigError } from '../core/errors.js';
import { createRandom } from '../core/random.js';
import { splitPairClasses } from '../data/pairs.js';
import type { RunConfig } from './config.js';
import { getModality, kindOptions, type LoadedItems, type Preprocessing } from './modality.js';

/** The data of a run, split the way metric learning is evaluated. */
export interface RunData {
  /** Training samples of the training classes. */
  train: Dataset;
  /** Validation samples of the training classes (absent when `data.validation` is 0). */
  validation?: Dataset;
  /** Held-out samples of the training classes (seen classes). */
  testSeen: Dataset;
  /** Samples of the test classes, never trained on (unseen classes). */
  testUnseen: Dataset;
  /** One line saying what was loaded. */
  description: string;
  /** The preprocessing fitted on the training samples (or the saved one that was given). */
  preprocessing: Preprocessing<unknown>;
  /** Baseline features of the two test sets (see `Preprocessing.baseline`), when the input kind has them. */
  baseline?: { testSeen: { features: Float32Array; dim: number }; testUnseen: { features: Float32Array; dim: number } };
}

/** Options of {@link loadRunData}. */
export interface LoadRunDataOptions {
  /** Data source instead of the config's `data.source`. */
  source?: string;
  /** Use this (saved) preprocessing instead of fitting it on the training samples. */
  preprocessing?: Preprocessing<unknown>;
}

/**
 * The class labels a config names (integers, or class names looked up in `classNames`); errors name
 * the config field and list the classes there are.
 */
export function resolveClasses(values: (number | string)[], classNames: string[] | undefined, field: string): number[] {
  return values.map((v) => {
    if (typeof v === 'number') return v;
    const i = classNames?.indexOf(v) ?? -1;
    if (i < 0) {
      const known = classNames ? classNames.slice(0, 20).map((c) => `'${c}'`).join(', ') + (classNames.length > 20 ? ', ...' : '') : 'none (the labels are integers)';
      throw new ConfigError(`'${field}': no class '${v}'; class names: ${known}`);
    }
    return i;
  });
}

/** A dataset whose one feature is each item's index, so the class splits below select items. */
function indexSet(indices: number[], labels: Int32Array): Dataset {
  return { features: Float32Array.from(indices), labels: Int32Array.from(indices, (i) => labels[i]), count: indices.length, shape: [1] };
}

/**
 * Loads and splits the data a run config names, through its input kind (`data.kind`). With a source
 * that has its own test split (a Fashion-MNIST folder or Debian's package), training and validation
 * come from the training split and both test sets from the test split; otherwise `seenHoldout` of
 * each training class is held out for testing. The preprocessing is fitted on the training samples
 * only (or taken from `options.preprocessing`), then applied to every split.
 */
export async function loadRunData(config: RunConfig, options: LoadRunDataOptions | string = {}): Promise<RunData> {
  const o = typeof options === 'string' ? { source: options } : options;
  const modality = getModality(config.data.kind);
  const source = o.source ?? config.data.source;
  const own = kindOptions(config.data);
  const loaded: LoadedItems<unknown> = await modality.load(own, { source, seed: config.seed });
  const { labels, classNames } = loaded;
  const random = createRandom(config.seed);
  // Synthetic classes (components of pairs) are split at random; named classes as the config says.
  const auto = loaded.splitClasses ? splitPairClasses(labels, { heldOut: loaded.splitClasses.heldOut, validation: config.data.validation, random }) : null;
  const trainClasses = auto ? [...auto.train, ...auto.validation] : resolveClasses(config.data.trainClasses, classNames, 'data.trainClasses');
  const testClasses = auto ? auto.test : resolveClasses(config.data.testClasses, classNames, 'data.testClasses');
  const validationClasses = auto ? auto.validation : resolveClasses(config.data.validationClasses, classNames, 'data.validationClasses');
  const trainSet = new Set(trainClasses);
  const testSet = new Set(testClasses);
  const n = loaded.items.length;
  const all = Array.from({ length: n }, (_, i) => i);
  const mainPart = loaded.testFrom === undefined ? all : all.slice(0, loaded.testFrom);
  const testPart = loaded.testFrom === undefined ? all : all.slice(loaded.testFrom);
  let pool: Dataset;
  let testSeen: Dataset;
  if (loaded.testFrom !== undefined) {
    pool = filterClasses(indexSet(mainPart, labels), (l) => trainSet.has(l));
    testSeen = filterClasses(indexSet(testPart, labels), (l) => trainSet.has(l));
  } else if (auto) {
    const seen = new Set(auto.seen);
    pool = filterClasses(indexSet(all, labels), (l) => trainSet.has(l));
    testSeen = filterClasses(pool, (l) => seen.has(l));
  } else {
    const split = holdout(filterClasses(indexSet(all, labels), (l) => trainSet.has(l)), { fraction: config.data.seenHoldout, random });
    pool = split.train;
    testSeen = split.test;
  }
  const testUnseen = filterClasses(indexSet(testPart, labels), (l) => testSet.has(l));
  if (config.data.maxTrain > 0 && pool.count > config.data.maxTrain) {
    pool = holdout(pool, { fraction: config.data.maxTrain / pool.count, random }).test;
  }
  let train = pool;
  let validation: Dataset | undefined;
  if (validationClasses.length > 0) {
    const held = new Set(validationClasses);
    train = filterClasses(pool, (l) => !held.has(l));
    validation = filterClasses(pool, (l) => held.has(l));
  } else if (!auto && config.data.validation > 0) {
    const split = holdout(pool, { fraction: config.data.validation, random });
    train = split.train;
    validation = split.test;
  }
  for (const [name, ds] of [['training', train], ['unseen-class test', testUnseen]] as const) {
    if (ds.count === 0) throw new ConfigError(`the ${name} set is empty: check 'data.trainClasses' / 'data.testClasses' against the classes in ${source}`);
  }
  const pick = (ds: Dataset): unknown[] => Array.from(ds.features, (i) => loaded.items[i]);
  const { items: _items, ...info } = loaded;
  const preprocessing = o.preprocessing ?? (await modality.fit(own, pick(train), train.labels, info));
  const materialise = (ds: Dataset): Dataset => ({
    features: preprocessing.transform(pick(ds)),
    labels: ds.labels,
    count: ds.count,
    shape: preprocessing.input.shape.slice(),
    ...(classNames ? { classNames } : {}),
  });
  const baseline = preprocessing.baseline
    ? { testSeen: preprocessing.baseline(pick(testSeen)), testUnseen: preprocessing.baseline(pick(testUnseen)) }
    : undefined;
  const names = (cs: (number | string)[]) => cs.join(',');
  const description =
    `${loaded.description}; training classes [${names(config.data.trainClasses)}]: ${train.count} train` +
    `${validation ? `, ${validation.count} validation${validationClasses.length ? ` (classes [${names(config.data.validationClasses)}], not trained on)` : ''}` : ''}, ${testSeen.count} seen-class test; ` +
    `unseen classes [${names(config.data.testClasses)}]: ${testUnseen.count} test`;
  return {
    train: materialise(train),
    validation: validation ? materialise(validation) : undefined,
    testSeen: materialise(testSeen),
    testUnseen: materialise(testUnseen),
    description,
    preprocessing,
    baseline,
  };
}
