/**
 * Text: labelled texts from JSON lines or CSV (or the State of the Union passages with
 * `source: 'sotu'`), or pairs / triplets of texts with `data.pairs` (their classes are the connected
 * components of the positive pairs and every other text of a batch is a negative; see `data/pairs.ts`), encoded as a hashed character/word n-gram bag for the seed MLP
 * (`features: 'ngrams'`), as token ids for the trainable text encoder (`features: 'tokens'`), or as
 * TF-IDF rows over a vocabulary fitted on the training texts for the text-expansion model
 * (`features: 'tfidf'`). The metrics table's baseline row is word TF-IDF fitted on the training texts.
 */
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import { HashedNgramVectorizer, TokenEncoder, ngramOptionsSchema, tokenOptionsSchema } from '../../data/text.js';
import { TfidfVectorizer, tfidfOptionsSchema } from '../../data/text-tfidf.js';
import { parseTextInputs, readTexts } from '../../data/text-io.js';
import { loadSotuPassages, sotuOptionsSchema } from '../../data/text-sotu.js';
import { pairGraph, pairOptionsSchema, readPairRecords } from '../../data/pairs.js';
import { encodeLabels } from '../../data/vectors.js';
import { registerModality, type Preprocessing } from '../modality.js';

const schema = z
  .object({
    /** The text field (JSON lines) or column (CSV). Default `'text'`. */
    textField: z.string().min(1).default('text'),
    /** The label field or column. Default `'label'`. */
    labelField: z.string().min(1).default('label'),
    /** File format of `source` (and of embed inputs). Default `'auto'` (by extension). */
    format: z.enum(['auto', 'jsonl', 'csv']).default('auto'),
    /**
     * `'ngrams'` (default): hashed n-gram bag, model `mlp`. `'tokens'`: token ids, model
     * `text-encoder`. `'tfidf'`: TF-IDF rows (vocabulary and idf fitted on the training texts), model
     * `text-expansion`.
     */
    features: z.enum(['ngrams', 'tokens', 'tfidf']).default('ngrams'),
    /** Options of the n-gram bag (see `HashedNgramVectorizer`). */
    ngrams: ngramOptionsSchema.prefault({}),
    /** Options of the token ids (see `TokenEncoder`). */
    tokens: tokenOptionsSchema.prefault({}),
    /** Options of the TF-IDF features (see `TfidfVectorizer`). */
    tfidf: tfidfOptionsSchema.prefault({}),
    /** Passages of the State of the Union source (`source: 'sotu'`). */
    sotu: sotuOptionsSchema.prefault({}),
    /**
     * Pairs or triplets of texts instead of labelled texts: `{ layout: 'pairs' | 'triplets', a, b,
     * match, anchor, positive, negative, heldOut }` (field names and the held-out fraction of classes;
     * see `pairOptionsSchema`), or null (default) for a text and a label per record.
     */
    pairs: pairOptionsSchema.nullable().default(null),
    /** Terms of the TF-IDF baseline row (most frequent training words). Default `10000`. */
    baselineFeatures: z.number().int().min(1).default(10000),
  })
  .strict();

type TextOptions = z.output<typeof schema>;

type Features = TextOptions['features'];
type Encoder = HashedNgramVectorizer | TokenEncoder | TfidfVectorizer;

interface SavedText {
  features: Features;
  encoder: unknown;
}

const FEATURES: readonly Features[] = ['ngrams', 'tokens', 'tfidf'];

function fitEncoder(options: TextOptions, train: string[]): Encoder {
  if (options.features === 'tokens') return new TokenEncoder(options.tokens).fit(train);
  if (options.features === 'tfidf') return new TfidfVectorizer(options.tfidf).fit(train);
  return new HashedNgramVectorizer(options.ngrams).fit(train);
}

function restoreEncoder(s: SavedText): Encoder {
  if (s.features === 'tokens') return TokenEncoder.fromConfig(s.encoder);
  if (s.features === 'tfidf') return TfidfVectorizer.fromConfig(s.encoder);
  return HashedNgramVectorizer.fromConfig(s.encoder);
}

function preprocessing(options: TextOptions, enc: Encoder, tfidf: TfidfVectorizer | null): Preprocessing<string> {
  const base = {
    rawName: 'TF-IDF (words)',
    transform: (texts: string[]) => enc.transform(texts),
    toJSON: (): SavedText => ({ features: options.features, encoder: enc.getConfig() }),
    ...(tfidf ? { baseline: (texts: string[]) => ({ features: tfidf.transform(texts), dim: tfidf.dim }) } : {}),
  };
  if (enc instanceof TokenEncoder) return { ...base, input: { shape: [enc.options.maxLength], vocabSize: enc.vocabSize } };
  return { ...base, input: { shape: [enc.dim] } };
}

registerModality<string, TextOptions>({
  kind: 'text',
  description: "text: JSON lines or CSV with a text and a label field, or 'sotu' (State of the Union passages by speaker)",
  schema,
  async load(options, ctx) {
    if (ctx.source === 'sotu') {
      const s = loadSotuPassages(options.sotu);
      return { items: s.texts, labels: s.labels, classNames: s.speakers, description: s.description };
    }
    if (ctx.source === 'auto') throw new ConfigError("data.source: give the texts file (.jsonl or .csv) for data.kind 'text', or 'sotu'");
    if (options.pairs) {
      const format = options.format === 'auto' ? 'auto' : options.format;
      const g = pairGraph(readPairRecords(ctx.source, { ...options.pairs, format, values: 'text' }));
      return {
        items: g.keys,
        labels: g.labels,
        splitClasses: { heldOut: options.pairs.heldOut },
        description:
          `${g.keys.length} distinct texts in ${g.classes} classes from ${g.positives} positive and ${g.negatives} negative pairs in ${ctx.source}` +
          (g.conflicts > 0 ? ` (${g.conflicts} negative pairs fall inside one class)` : ''),
      };
    }
    const r = readTexts(ctx.source, { textField: options.textField, labelField: options.labelField, format: options.format });
    const { labels, classNames } = encodeLabels(r.labels!, `${ctx.source} field '${options.labelField}'`);
    return { items: r.texts, labels, classNames, description: `${r.texts.length} texts from ${ctx.source}` };
  },
  fit(options, train) {
    const enc = fitEncoder(options, train);
    const tfidf = new TfidfVectorizer({ maxFeatures: options.baselineFeatures }).fit(train);
    return preprocessing(options, enc, tfidf);
  },
  restore(saved, options) {
    const s = saved as SavedText | null;
    if (!s || !FEATURES.includes(s.features)) throw new ConfigError("text: preprocessing.json must hold { features: 'ngrams' | 'tokens' | 'tfidf', encoder }");
    return preprocessing({ ...options, features: s.features }, restoreEncoder(s), null);
  },
  syntheticClasses: (options) => options.pairs !== null,
  defaultModel: (options) =>
    options.features === 'tokens' ? { type: 'text-encoder' } : options.features === 'tfidf' ? { type: 'text-expansion' } : { type: 'mlp', hidden: [256], embeddingDim: 128 },
  readInputs: (path, options) => readTexts(path, { textField: options.textField, labelField: null, format: options.format === 'auto' ? 'auto' : options.format }).texts,
  parseInputs: (values, field, options) => parseTextInputs(values, field, options.textField),
});
