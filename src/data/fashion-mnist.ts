/**
 * Fashion-MNIST (Zalando): 28x28 greyscale images of 10 kinds of clothing, 60,000 for training and
 * 10,000 for testing. akin ships the 10,000-image test split so that examples and tests run offline.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DataError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import type { Dataset } from './dataset.js';
import { readIdx, type IdxArray } from './idx.js';

/** The 10 Fashion-MNIST class names, indexed by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);

/** Where Debian's `dataset-fashion-mnist` package installs the full dataset. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Where the loaded data came from. */
export type FashionMnistSource = 'dir' | 'debian' | 'embedded';

/** Options of {@link loadFashionMnist}. */
export interface FashionMnistOptions {
  /**
   * A folder holding `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`
   * and `t10k-labels-idx1-ubyte` (each optionally with `.gz`). When given it is the only place looked at.
   */
  dir?: string;
  /** `'all'` (default): the training split too where the source has it; `'test'`: the test split only. */
  split?: 'all' | 'test';
  /**
   * Where to look when `dir` is not given. `'auto'` (default): Debian's package if installed, else the
   * embedded test split; `'debian'` or `'embedded'` force one (a missing Debian install is an error).
   */
  source?: 'auto' | 'debian' | 'embedded';
}

/** What {@link loadFashionMnist} returns. */
export interface FashionMnist {
  /** The 60,000 training images (absent for the embedded source or `split: 'test'`). */
  train?: Dataset;
  /** The 10,000 test images. */
  test: Dataset;
  source: FashionMnistSource;
  /** One line saying what was loaded and from where. */
  description: string;
}

const optionsSchema = z
  .object({
    dir: z.string().min(1).optional(),
    split: z.enum(['all', 'test']).default('all'),
    source: z.enum(['auto', 'debian', 'embedded']).default('auto'),
  })
  .strict();

/**
 * Loads Fashion-MNIST as {@link Dataset}s of `[28, 28, 1]` images scaled to [0, 1], labels 0-9 and
 * {@link FASHION_MNIST_CLASSES} as class names.
 *
 * Looks, in order, at `options.dir`; at Debian's install ({@link DEBIAN_FASHION_MNIST_DIR}, the full
 * 70,000 images); at the test split embedded in this package (`data/fashion-mnist/`, 10,000 images).
 *
 * @throws DataError naming the path of a missing or malformed file
 * @throws ConfigError for a bad option
 */
export async function loadFashionMnist(options: FashionMnistOptions = {}): Promise<FashionMnist> {
  const o = parseOptions('loadFashionMnist', optionsSchema, options);
  const wantTrain = o.split === 'all';
  let dir: string;
  let source: FashionMnistSource;
  let hasTrain: boolean;
  if (o.dir !== undefined) {
    dir = o.dir;
    source = 'dir';
    hasTrain = true;
  } else if (o.source === 'debian' || (o.source === 'auto' && debianInstalled())) {
    dir = DEBIAN_FASHION_MNIST_DIR;
    source = 'debian';
    hasTrain = true;
  } else {
    dir = embeddedDir();
    source = 'embedded';
    hasTrain = false;
  }
  const test = await loadSplit(dir, 't10k');
  const train = wantTrain && hasTrain ? await loadSplit(dir, 'train') : undefined;
  const counts = train ? `${train.count} train + ${test.count} test images` : `${test.count} test images`;
  const where = source === 'embedded' ? 'the test split embedded in akin' : source === 'debian' ? `Debian's dataset-fashion-mnist (${dir})` : dir;
  const description = `Fashion-MNIST: ${counts}, 28x28x1 in [0, 1], 10 classes, from ${where}`;
  return train ? { train, test, source, description } : { test, source, description };
}

/** True when Debian's `dataset-fashion-mnist` is installed (all four files present). */
export function debianInstalled(dir = DEBIAN_FASHION_MNIST_DIR): boolean {
  return ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'].every(
    (f) => existsSync(join(dir, f)) || existsSync(join(dir, `${f}.gz`)),
  );
}

/** The folder of the embedded test split, found from this module's location (works from `dist/` and installs). */
export function embeddedDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'data', 'fashion-mnist');
    if (existsSync(join(candidate, 't10k-images-idx3-ubyte.gz')) && existsSync(join(dir, 'package.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new DataError(
        `the embedded Fashion-MNIST test split (data/fashion-mnist/t10k-images-idx3-ubyte.gz) was not found above ${dirname(fileURLToPath(import.meta.url))}; pass { dir } instead`,
      );
    }
    dir = parent;
  }
}

async function loadSplit(dir: string, prefix: 'train' | 't10k'): Promise<Dataset> {
  const imagesPath = findFile(dir, `${prefix}-images-idx3-ubyte`);
  const labelsPath = findFile(dir, `${prefix}-labels-idx1-ubyte`);
  const images = await readIdx(imagesPath);
  const labels = await readIdx(labelsPath);
  return toDataset(images, labels, imagesPath, labelsPath);
}

function findFile(dir: string, base: string): string {
  for (const name of [`${base}.gz`, base]) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new DataError(`Fashion-MNIST file not found: ${join(dir, base)}(.gz)`);
}

/** Checks an IDX image/label pair and turns it into a Dataset of [h, w, 1] images in [0, 1]. */
export function toDataset(images: IdxArray, labels: IdxArray, imagesPath: string, labelsPath: string): Dataset {
  if (images.dtype !== 'uint8' || images.shape.length !== 3) {
    throw new DataError(`${imagesPath}: expected a rank-3 ubyte image array, got ${images.dtype} of shape [${images.shape.join(', ')}]`);
  }
  if (labels.shape.length !== 1 || (labels.dtype !== 'uint8' && labels.dtype !== 'int8')) {
    throw new DataError(`${labelsPath}: expected a rank-1 ubyte label array, got ${labels.dtype} of shape [${labels.shape.join(', ')}]`);
  }
  const [count, h, w] = images.shape;
  if (labels.shape[0] !== count) {
    throw new DataError(`${labelsPath}: ${labels.shape[0]} labels for ${count} images in ${imagesPath}`);
  }
  const lab = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = labels.data[i];
    if (v < 0 || v >= FASHION_MNIST_CLASSES.length) throw new DataError(`${labelsPath}: label ${v} at index ${i} is outside 0-9`);
    lab[i] = v;
  }
  const features = new Float32Array(images.data.length);
  const src = images.data;
  for (let i = 0; i < src.length; i++) features[i] = src[i] / 255;
  return { features, labels: lab, count, shape: [h, w, 1], classNames: FASHION_MNIST_CLASSES.slice() };
}
