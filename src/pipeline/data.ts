import { loadFashionMnist } from '../data/fashion-mnist.js';
import { filterClasses, holdout } from '../data/splits.js';
import type { Dataset } from '../data/dataset.js';
import { createRandom } from '../core/random.js';
import type { RunConfig } from './config.js';

/** The data of a run, split the way metric learning is evaluated. */
export interface RunData {
  /** Training images of the training classes. */
  train: Dataset;
  /** Validation images of the training classes (absent when `data.validation` is 0). */
  validation?: Dataset;
  /** Held-out images of the training classes (seen classes). */
  testSeen: Dataset;
  /** Images of the test classes, never trained on (unseen classes). */
  testUnseen: Dataset;
  /** One line saying what was loaded. */
  description: string;
}

/**
 * Loads and splits the data a run config names. With a source that has a training split (a folder or
 * Debian's package), training and validation come from it and both test sets from the test split;
 * with the embedded test split alone, `seenHoldout` of each training class is held out for testing.
 */
export async function loadRunData(config: RunConfig, override?: string): Promise<RunData> {
  const source = override ?? config.data.source;
  const fm = source === 'auto' || source === 'embedded' || source === 'debian'
    ? await loadFashionMnist({ source })
    : await loadFashionMnist({ dir: source });
  const random = createRandom(config.seed);
  const trainSet = new Set(config.data.trainClasses);
  const testSet = new Set(config.data.testClasses);
  let pool: Dataset;
  let testSeen: Dataset;
  if (fm.train) {
    pool = filterClasses(fm.train, (l) => trainSet.has(l));
    testSeen = filterClasses(fm.test, (l) => trainSet.has(l));
  } else {
    const split = holdout(filterClasses(fm.test, (l) => trainSet.has(l)), { fraction: config.data.seenHoldout, random });
    pool = split.train;
    testSeen = split.test;
  }
  const testUnseen = filterClasses(fm.test, (l) => testSet.has(l));
  if (config.data.maxTrain > 0 && pool.count > config.data.maxTrain) {
    pool = holdout(pool, { fraction: config.data.maxTrain / pool.count, random }).test;
  }
  let train = pool;
  let validation: Dataset | undefined;
  if (config.data.validationClasses.length > 0) {
    const held = new Set(config.data.validationClasses);
    train = filterClasses(pool, (l) => !held.has(l));
    validation = filterClasses(pool, (l) => held.has(l));
  } else if (config.data.validation > 0) {
    const split = holdout(pool, { fraction: config.data.validation, random });
    train = split.train;
    validation = split.test;
  }
  const description =
    `${fm.description}; training classes [${config.data.trainClasses.join(',')}]: ${train.count} train` +
    `${validation ? `, ${validation.count} validation${config.data.validationClasses.length ? ` (classes [${config.data.validationClasses.join(',')}], not trained on)` : ''}` : ''}, ${testSeen.count} seen-class test; ` +
    `unseen classes [${config.data.testClasses.join(',')}]: ${testUnseen.count} test`;
  return { train, validation, testSeen, testUnseen, description };
}
