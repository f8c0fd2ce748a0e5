/**
 * Images: Fashion-MNIST (the embedded test split, Debian's full set) or a folder of IDX files, as
 * `[28, 28, 1]` pixels in [0, 1]. No fitted preprocessing; the default model is the seed MLP.
 */
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { loadFashionMnist } from '../../data/fashion-mnist.js';
import type { Dataset } from '../../data/dataset.js';
import { registerModality, type Preprocessing } from '../modality.js';
import { concatRows, parseNumericInputs, readNumericInputs, rowViews } from '../inputs.js';

const schema = z
  .object({
    /** The dataset (the only one so far). */
    dataset: z.literal('fashion-mnist').default('fashion-mnist'),
  })
  .strict();

type ImageOptions = z.output<typeof schema>;

/** Fixed (unfitted) preprocessing of samples of `shape`: the pixels as they are. */
export function identityPreprocessing(shape: number[], rawName: string): Preprocessing<Float32Array> {
  const size = shape.reduce((a, b) => a * b, 1);
  return {
    input: { shape: shape.slice() },
    rawName,
    transform: (items) => concatRows(items, size),
    toJSON: () => ({ shape }),
  };
}

function savedShape(saved: unknown, what: string): number[] {
  const r = z.object({ shape: z.array(z.number().int().min(1)).min(1) }).safeParse(saved);
  if (!r.success) throw new ConfigError(`${what}: preprocessing.json must hold { "shape": [...] }`);
  return r.data.shape;
}

function items(ds: Dataset): Float32Array[] {
  return rowViews(ds.features, ds.shape.reduce((a, b) => a * b, 1));
}

registerModality<Float32Array, ImageOptions>({
  kind: 'images',
  description: 'images: Fashion-MNIST (auto, embedded, debian) or a folder of IDX files',
  schema,
  async load(_options, ctx) {
    const s = ctx.source;
    const fm = s === 'auto' || s === 'embedded' || s === 'debian' ? await loadFashionMnist({ source: s }) : await loadFashionMnist({ dir: s });
    const trainItems = fm.train ? items(fm.train) : [];
    const labels = new Int32Array(trainItems.length + fm.test.count);
    if (fm.train) labels.set(fm.train.labels);
    labels.set(fm.test.labels, trainItems.length);
    return {
      items: [...trainItems, ...items(fm.test)],
      labels,
      classNames: fm.test.classNames,
      // With a training split, the seen-class test set is the source's test split; otherwise a holdout.
      testFrom: fm.train ? trainItems.length : undefined,
      description: fm.description,
      shape: fm.test.shape,
    };
  },
  fit: (_options, _train, _labels, loaded) => identityPreprocessing(loaded.shape ?? [28, 28, 1], 'raw pixels'),
  restore: (saved) => identityPreprocessing(savedShape(saved, 'images'), 'raw pixels'),
  defaultModel: () => ({ type: 'mlp' }),
  async readInputs(path, _options, p) {
    const size = p.input.shape.reduce((a, b) => a * b, 1);
    const { features } = await readNumericInputs(path, size);
    return rowViews(features, size);
  },
  parseInputs: (values, field, _options, p) => parseNumericInputs(values, field, p.input.shape.reduce((a, b) => a * b, 1)),
});
