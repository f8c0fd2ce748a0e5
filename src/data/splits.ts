/**
 * Splitting datasets for metric learning: by class (train on some classes, evaluate on unseen ones) and
 * per-class holdouts (evaluate on held-out images of the training classes). Every split keeps the
 * original labels, class names and sample order, and draws its randomness from a seeded {@link Random}.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { createRandom, shuffleInPlace, type Random } from '../core/random.js';
import { subset, type Dataset } from './dataset.js';

/** A dataset split into a training part and a test part. */
export interface TrainTest {
  train: Dataset;
  test: Dataset;
}

/** The samples of `ds` whose label satisfies `keep`, in their original order. */
export function filterClasses(ds: Dataset, keep: (label: number) => boolean): Dataset {
  const idx: number[] = [];
  for (let i = 0; i < ds.count; i++) if (keep(ds.labels[i])) idx.push(i);
  return subset(ds, idx);
}

/**
 * Keeps only the samples of the given classes (labels unchanged, original order).
 *
 * @throws ConfigError when `classes` is empty or holds a non-integer
 */
export function splitByClasses(ds: Dataset, classes: Iterable<number>): Dataset {
  const set = classSet(classes, 'classes');
  return filterClasses(ds, (label) => set.has(label));
}

/** The samples of `ds` whose class is NOT in `classes`. */
export function excludeClasses(ds: Dataset, classes: Iterable<number>): Dataset {
  const set = classSet(classes, 'classes');
  return filterClasses(ds, (label) => !set.has(label));
}

/** The distinct labels of a dataset, ascending. */
export function classesOf(ds: Pick<Dataset, 'labels'>): number[] {
  return [...new Set(ds.labels)].sort((a, b) => a - b);
}

/** Options of {@link holdout}. */
export interface HoldoutOptions {
  /** Fraction of the samples (of each class, when stratified) that goes to `test`, in [0, 1]. Default `0.2`. */
  fraction?: number;
  /** Random source for choosing the held-out samples. Default `createRandom(0)`. */
  random?: Random;
  /** Hold out `round(fraction * n_c)` samples of each class c (default `true`) rather than of the whole set. */
  stratified?: boolean;
}

const randomSchema = z.custom<Random>((v) => typeof v === 'object' && v !== null && typeof (v as Random).next === 'function', {
  message: 'must be a Random (an object with next(): number)',
});

const holdoutSchema = z
  .object({
    fraction: z.number().min(0).max(1).default(0.2),
    random: randomSchema.optional(),
    stratified: z.boolean().default(true),
  })
  .strict();

/**
 * Splits a dataset into `{ train, test }`, holding out `round(fraction * n)` randomly chosen samples of
 * each class (or of the whole dataset with `stratified: false`). Both parts keep the original order.
 * The same `random` seed gives the same split.
 *
 * @throws ConfigError naming a bad option
 */
export function holdout(ds: Dataset, options: HoldoutOptions = {}): TrainTest {
  const o = parseOptions('holdout', holdoutSchema, options);
  const random = o.random ?? createRandom(0);
  const isTest = new Uint8Array(ds.count);
  const groups: number[][] = [];
  if (o.stratified) {
    const byClass = new Map<number, number[]>();
    for (let i = 0; i < ds.count; i++) {
      const list = byClass.get(ds.labels[i]);
      if (list) list.push(i);
      else byClass.set(ds.labels[i], [i]);
    }
    for (const c of [...byClass.keys()].sort((a, b) => a - b)) groups.push(byClass.get(c)!);
  } else {
    groups.push(Array.from({ length: ds.count }, (_, i) => i));
  }
  for (const group of groups) {
    const nTest = Math.round(o.fraction * group.length);
    shuffleInPlace(group, random);
    for (let k = 0; k < nTest; k++) isTest[group[k]] = 1;
  }
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < ds.count; i++) (isTest[i] ? test : train).push(i);
  return { train: subset(ds, train), test: subset(ds, test) };
}

/** Options of {@link openSetSplit}. */
export interface OpenSetSplitOptions extends HoldoutOptions {
  /** The classes to train on; every other class is unseen. */
  seenClasses: Iterable<number>;
}

/** What {@link openSetSplit} returns. */
export interface OpenSetSplit {
  /** Training samples of the seen classes. */
  train: Dataset;
  /** Held-out samples of the seen classes. */
  testSeen: Dataset;
  /** Every sample of the classes not in `seenClasses`. */
  testUnseen: Dataset;
}

/**
 * The usual metric-learning protocol in one call: train on `seenClasses`, evaluate on held-out images
 * of those classes (`testSeen`, a stratified {@link holdout}) and on all images of the other classes
 * (`testUnseen`).
 */
export function openSetSplit(ds: Dataset, options: OpenSetSplitOptions): OpenSetSplit {
  if (options === undefined || options.seenClasses === undefined) {
    throw new ConfigError("openSetSplit: option 'seenClasses' is required (the classes to train on)");
  }
  const { seenClasses, ...rest } = options;
  const seen = classSet(seenClasses, 'seenClasses');
  const { train, test } = holdout(filterClasses(ds, (l) => seen.has(l)), rest);
  return { train, testSeen: test, testUnseen: filterClasses(ds, (l) => !seen.has(l)) };
}

function classSet(classes: Iterable<number>, option: string): Set<number> {
  if (classes === null || typeof classes !== 'object' || typeof (classes as Iterable<number>)[Symbol.iterator] !== 'function') {
    throw new ConfigError(`option '${option}' must be an array of class labels (got ${String(classes)})`);
  }
  const set = new Set<number>();
  for (const c of classes) {
    if (!Number.isInteger(c)) throw new ConfigError(`option '${option}': class labels must be integers (got ${String(c)})`);
    set.add(c);
  }
  if (set.size === 0) throw new ConfigError(`option '${option}' must name at least one class`);
  return set;
}

/** Options of {@link classKFold}. */
export interface ClassKFoldOptions {
  /** Number of folds, at least 2 and at most the number of classes. Required. */
  folds: number;
  /** Shuffle the classes before grouping them (else ascending order). Default: no shuffle. */
  random?: Random;
}

/** One fold of {@link classKFold}. */
export interface ClassFold {
  /** The fold's index, 0-based. */
  fold: number;
  /** Classes trained on in this fold. */
  trainClasses: number[];
  /** Classes held out for validation in this fold (every sample of them). */
  validationClasses: number[];
  train: Dataset;
  validation: Dataset;
}

const kFoldSchema = z.object({ folds: z.number().int().min(2), random: randomSchema.optional() }).strict();

/**
 * Groups `classes` into `folds` contiguous, near-equal groups (sizes differ by at most one; larger
 * groups first), after shuffling them when `random` is given. Group f is fold f's validation classes.
 */
export function classFoldGroups<T extends number | string>(classes: T[], folds: number, random?: Random): T[][] {
  if (!Number.isInteger(folds) || folds < 1 || folds > classes.length) {
    throw new ConfigError(`classFoldGroups: 'folds' must be an integer from 1 to the ${classes.length} classes (got ${folds})`);
  }
  const order = classes.slice().sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
  if (random) shuffleInPlace(order, random);
  const groups: T[][] = [];
  const base = Math.floor(order.length / folds);
  const extra = order.length % folds;
  let at = 0;
  for (let f = 0; f < folds; f++) {
    const n = base + (f < extra ? 1 : 0);
    groups.push(order.slice(at, at + n));
    at += n;
  }
  return groups;
}

/**
 * Class-disjoint k-fold cross-validation ("A Metric Learning Reality Check", Musgrave et al. 2020):
 * the classes of `ds` are split into `folds` groups; fold f validates on every sample of group f and
 * trains on the samples of the other groups. Hyperparameters chosen by the mean validation score over
 * the folds are chosen for classes the network was not trained on, as zero-shot retrieval demands.
 *
 * @throws ConfigError when `folds` is below 2 or above the number of classes
 */
export function classKFold(ds: Dataset, options: ClassKFoldOptions): ClassFold[] {
  const o = parseOptions('classKFold', kFoldSchema, options);
  const classes = classesOf(ds);
  if (o.folds > classes.length) {
    throw new ConfigError(`classKFold: option 'folds' (${o.folds}) is more than the ${classes.length} classes of the dataset`);
  }
  return classFoldGroups(classes, o.folds, o.random).map((held, fold) => {
    const heldSet = new Set(held);
    return {
      fold,
      trainClasses: classes.filter((c) => !heldSet.has(c)),
      validationClasses: held.slice().sort((a, b) => a - b),
      train: filterClasses(ds, (l) => !heldSet.has(l)),
      validation: filterClasses(ds, (l) => heldSet.has(l)),
    };
  });
}
