/**
 * Your own vectors: embeddings made elsewhere, from `.npy` (with a labels file) or JSON lines
 * (`{"vector": [...], "label": ...}`), or with pairs / triplets of vector ids instead of labels
 * (`data.pairs: { file, ... }`; see `data/pairs.ts`). No fitted preprocessing; the default model is a linear
 * adapter that starts at the identity, so the untrained network ranks as the vectors do.
 */
import { z } from 'zod';
import { DataError } from '../../core/errors.js';
import { readVectors, readVectorsById } from '../../data/vectors.js';
import { pairGraph, pairOptionsSchema, readPairRecords } from '../../data/pairs.js';
import { registerModality } from '../modality.js';
import { parseNumericInputs, readNumericInputs, rowViews } from '../inputs.js';
import { identityPreprocessing } from './images.js';

const schema = z
  .object({
    /** A separate labels file for `.npy` vectors (see `readVectors`). */
    labels: z.string().min(1).optional(),
    /** The label field of JSON-lines records. Default `'label'`. */
    labelField: z.string().min(1).default('label'),
    /** The vector field of JSON-lines records. Default: the first of `vector`, `embedding`, `features`, `x`. */
    vectorField: z.string().min(1).optional(),
    /** The id field of JSON-lines records, for `pairs` (`.npy` rows are ids `"0"`, `"1"`, ...). Default `'id'`. */
    idField: z.string().min(1).default('id'),
    /**
     * Pairs or triplets of vector ids instead of labels: `file` (JSON lines or CSV) and the options of
     * text pairs (`layout`, field names, `heldOut`), the pair fields defaulting to `'a'` and `'b'`. Only
     * the vectors named in the file are used. Default null (labels).
     */
    pairs: pairOptionsSchema.extend({ file: z.string().min(1), a: z.string().min(1).default('a'), b: z.string().min(1).default('b') }).nullable().default(null),
  })
  .strict();

type VectorOptions = z.output<typeof schema>;

const RAW_NAME = 'your vectors';

function savedDim(saved: unknown): number[] {
  const shape = (saved as { shape?: unknown } | null)?.shape;
  if (!Array.isArray(shape) || shape.length !== 1 || !Number.isInteger(shape[0])) throw new DataError('vectors: preprocessing.json must hold { "shape": [dim] }');
  return shape as number[];
}

registerModality<Float32Array, VectorOptions>({
  kind: 'vectors',
  description: 'your own vectors: .npy with a labels file, or JSON lines with a vector and a label',
  schema,
  async load(options, ctx) {
    if (ctx.source === 'auto') throw new DataError("data.source: give the vectors file (.npy or .jsonl) for data.kind 'vectors'");
    if (options.pairs) {
      const { file, ...fields } = options.pairs;
      const records = readPairRecords(file, { ...fields, values: 'id' });
      const v = readVectorsById(ctx.source, { idField: options.idField, vectorField: options.vectorField });
      const row = new Map(v.ids.map((id, i) => [id, i]));
      for (const r of records) {
        for (const id of [r.a, r.b]) if (!row.has(id)) throw new DataError(`${r.where}: no vector with id '${id}' in ${ctx.source}`);
      }
      const g = pairGraph(records);
      return {
        items: g.keys.map((id) => v.features.subarray(row.get(id)! * v.dim, (row.get(id)! + 1) * v.dim)),
        labels: g.labels,
        shape: [v.dim],
        splitClasses: { heldOut: options.pairs.heldOut },
        description: `${g.keys.length} vectors of dim ${v.dim} from ${ctx.source} in ${g.classes} classes from ${g.positives} positive and ${g.negatives} negative pairs in ${file}`,
      };
    }
    const ds = readVectors(ctx.source, { labels: options.labels, labelField: options.labelField, vectorField: options.vectorField });
    return {
      items: rowViews(ds.features, ds.shape[0]),
      labels: ds.labels,
      classNames: ds.classNames,
      shape: ds.shape,
      description: `${ds.count} vectors of dim ${ds.shape[0]} from ${ctx.source}`,
    };
  },
  fit: (_options, _train, _labels, loaded) => identityPreprocessing(loaded.shape!, RAW_NAME),
  restore: (saved) => identityPreprocessing(savedDim(saved), RAW_NAME),
  syntheticClasses: (options) => options.pairs !== null,
  defaultModel: () => ({ type: 'adapter' }),
  async readInputs(path, _options, p) {
    const { features } = await readNumericInputs(path, p.input.shape[0]);
    return rowViews(features, p.input.shape[0]);
  },
  parseInputs: (values, field, _options, p) => parseNumericInputs(values, field, p.input.shape[0]),
});
