/**
 * Classic TF-IDF over an explicit word vocabulary: the baseline that text embeddings are measured
 * against. Same definitions as scikit-learn's `TfidfVectorizer(sublinear_tf=True)` with its default
 * smoothed idf and L2 normalisation.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { formatIssues, parseOptions } from '../core/options.js';
import { l2NormalizeRow, tokenizeWords, wordNgrams } from './text.js';

/** Options of {@link TfidfVectorizer}. */
export interface TfidfOptions {
  /** Word n-gram lengths `[min, max]`. Default `[1, 1]`. */
  ngrams?: [number, number];
  /** Keep the `maxFeatures` terms most frequent in the training texts (ties by term order), or 0 for all. Default `10000`. */
  maxFeatures?: number;
  /** Keep terms found in at least `minDf` training texts. Default `1`. */
  minDf?: number;
  /** `1 + ln(tf)` instead of the raw count. Default `true`. */
  sublinearTf?: boolean;
}

/** The `tfidf` options schema (also the `data.tfidf` field of a text run config). */
export const tfidfOptionsSchema = z
  .object({
    ngrams: z
      .tuple([z.number().int().min(1), z.number().int().min(1)])
      .refine(([a, b]) => a <= b, { message: 'must be [min, max] with min <= max' })
      .default([1, 1]),
    maxFeatures: z.number().int().min(0).default(10000),
    minDf: z.number().int().min(1).default(1),
    sublinearTf: z.boolean().default(true),
  })
  .strict();

/**
 * Terms (word n-grams of {@link tokenizeWords}) weighted by `tf * idf` with
 * `idf = ln((1 + N) / (1 + df)) + 1` (N training texts, df of them holding the term) and each row
 * scaled to unit L2 norm, so a dot product is the cosine similarity. Terms not in the training
 * vocabulary are dropped.
 */
export class TfidfVectorizer {
  readonly options: Required<TfidfOptions>;
  private vocabulary: Map<string, number> | null = null;
  private idf: Float64Array | null = null;

  constructor(options: TfidfOptions = {}) {
    this.options = parseOptions('TfidfVectorizer', tfidfOptionsSchema, options) as Required<TfidfOptions>;
  }

  /** Rebuilds a fitted vectorizer from {@link getConfig}'s output. */
  static fromConfig(config: unknown): TfidfVectorizer {
    const r = z.object({ terms: z.array(z.string()), idf: z.array(z.number().finite()) }).loose().safeParse(config);
    if (!r.success) throw new ConfigError(formatIssues('TfidfVectorizer.fromConfig', r.error, config));
    const { terms, idf, ...options } = r.data;
    if (terms.length !== idf.length) throw new ConfigError(`TfidfVectorizer.fromConfig: ${terms.length} terms but ${idf.length} idf values`);
    const v = new TfidfVectorizer(options as TfidfOptions);
    v.vocabulary = new Map(terms.map((t, i) => [t, i]));
    v.idf = Float64Array.from(idf);
    return v;
  }

  /** Number of features (vocabulary size); 0 before fitting. */
  get dim(): number {
    return this.vocabulary?.size ?? 0;
  }

  private terms(text: string): string[] {
    return wordNgrams(tokenizeWords(text), this.options.ngrams[0], this.options.ngrams[1]);
  }

  /** Learns the vocabulary and idf from training texts; returns `this`. */
  fit(texts: string[]): this {
    const df = new Map<string, number>();
    const total = new Map<string, number>();
    for (const t of texts) {
      const terms = this.terms(t);
      for (const w of terms) total.set(w, (total.get(w) ?? 0) + 1);
      for (const w of new Set(terms)) df.set(w, (df.get(w) ?? 0) + 1);
    }
    let kept = [...df.keys()].filter((w) => df.get(w)! >= this.options.minDf).sort();
    if (this.options.maxFeatures > 0 && kept.length > this.options.maxFeatures) {
      kept = kept
        .map((w, i) => ({ w, i, c: total.get(w)! }))
        .sort((a, b) => b.c - a.c || a.i - b.i)
        .slice(0, this.options.maxFeatures)
        .map((x) => x.w)
        .sort();
    }
    if (kept.length === 0) throw new ConfigError('TfidfVectorizer: the training texts have no words');
    this.vocabulary = new Map(kept.map((w, i) => [w, i]));
    const n = texts.length;
    this.idf = Float64Array.from(kept, (w) => Math.log((1 + n) / (1 + df.get(w)!)) + 1);
    return this;
  }

  /** Encodes texts as `texts.length * dim` float32 TF-IDF rows of unit norm (a text with no known term is all zeros). */
  transform(texts: string[]): Float32Array {
    if (!this.vocabulary || !this.idf) throw new ConfigError('TfidfVectorizer: call fit(texts) before transform');
    const dim = this.dim;
    const out = new Float32Array(texts.length * dim);
    texts.forEach((t, r) => {
      const row = out.subarray(r * dim, (r + 1) * dim);
      const counts = new Map<number, number>();
      for (const w of this.terms(t)) {
        const j = this.vocabulary!.get(w);
        if (j !== undefined) counts.set(j, (counts.get(j) ?? 0) + 1);
      }
      for (const [j, c] of counts) row[j] = (this.options.sublinearTf ? 1 + Math.log(c) : c) * this.idf![j];
      l2NormalizeRow(row);
    });
    return out;
  }

  /** The fitted state as plain JSON. */
  getConfig(): Required<TfidfOptions> & { terms: string[]; idf: number[] } {
    if (!this.vocabulary || !this.idf) throw new ConfigError('TfidfVectorizer: call fit(texts) before getConfig');
    return { ...this.options, terms: [...this.vocabulary.keys()], idf: Array.from(this.idf) };
  }
}
