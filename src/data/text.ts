/**
 * Text features for metric learning: a tokenizer, character and word n-grams, a hashed n-gram bag
 * ({@link HashedNgramVectorizer}: feature hashing with a fixed hash, optional tf-idf or log scaling)
 * for the seed MLP, and token ids ({@link TokenEncoder}: hashed words or a fitted character
 * vocabulary) for the trainable text encoder. Every fitted state saves as plain JSON.
 *
 * The hash is fixed and documented so saved runs stay valid: 32-bit FNV-1a over the UTF-16 code
 * units of the n-gram ({@link hashString}); the feature index is `h mod dim` and, with signed
 * hashing, the sign is `-1` when bit 31 of `h` is set, else `+1`.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { formatIssues, parseOptions } from '../core/options.js';
import { hashString } from './tabular.js';

export { hashString };

/** Unicode NFKC, lower case. */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

const WORD = /[\p{L}\p{N}]+(?:['\u2019][\p{L}\p{N}]+)*/gu;

/**
 * Word tokens of a text: after {@link normalizeText}, maximal runs of letters and digits, joined
 * across an apostrophe between two of them (`don't`, `nation’s`); everything else separates words.
 * `"Don't stop, U.S.A. 2024!"` -> `["don't", "stop", "u", "s", "a", "2024"]`.
 */
export function tokenizeWords(text: string): string[] {
  return normalizeText(text).match(WORD) ?? [];
}

/**
 * Character n-grams (`min <= n <= max`) of the words of a text, read from the words joined by one
 * space with one space before and after, so n-grams see word boundaries and neighbouring words:
 * `"The cat!"` -> `" the cat "` -> 3-grams `" th", "the", "he ", "e c", " ca", "cat", "at "`.
 * An empty text has none.
 */
export function charNgrams(text: string, min: number, max: number): string[] {
  const words = tokenizeWords(text);
  if (words.length === 0) return [];
  const s = ` ${words.join(' ')} `;
  const out: string[] = [];
  for (let n = min; n <= max; n++) for (let i = 0; i + n <= s.length; i++) out.push(s.slice(i, i + n));
  return out;
}

/** Word n-grams (`min <= n <= max`) of a list of words, each the words joined by one space. */
export function wordNgrams(words: string[], min: number, max: number): string[] {
  const out: string[] = [];
  for (let n = min; n <= max; n++) for (let i = 0; i + n <= words.length; i++) out.push(words.slice(i, i + n).join(' '));
  return out;
}

const range = z
  .tuple([z.number().int().min(1), z.number().int().min(1)])
  .refine(([a, b]) => a <= b, { message: 'must be [min, max] with min <= max' });

/** Options of {@link HashedNgramVectorizer}. */
export interface NgramOptions {
  /** Character n-gram lengths `[min, max]` (see {@link charNgrams}), or null for none. Default `[2, 4]`. */
  char?: [number, number] | null;
  /** Word n-gram lengths `[min, max]`, or null for none. Default `[1, 1]`. */
  word?: [number, number] | null;
  /** Number of hashed features. Default `4096`. */
  dim?: number;
  /**
   * Per-feature value: `'count'` (the hashed count), `'log'` (`1 + ln(count)` for a count >= 1), or
   * `'tfidf'` (`log` times the smoothed idf of the feature, `ln((1 + N) / (1 + df)) + 1`, with df the
   * number of training texts having it). Default `'tfidf'`.
   */
  weighting?: 'count' | 'log' | 'tfidf';
  /** Signed feature hashing (see the module comment), so collisions cancel on average. Default `true`. */
  signed?: boolean;
  /** Scale each row to unit L2 norm. Default `true`. */
  normalize?: boolean;
}

/** The `ngrams` options schema (also the `data.ngrams` field of a text run config). */
export const ngramOptionsSchema = z
  .object({
    char: range.nullable().default([2, 4]),
    word: range.nullable().default([1, 1]),
    dim: z.number().int().min(1).max(1 << 22).default(4096),
    weighting: z.enum(['count', 'log', 'tfidf']).default('tfidf'),
    signed: z.boolean().default(true),
    normalize: z.boolean().default(true),
  })
  .strict()
  .refine((o) => o.char !== null || o.word !== null, { message: "give 'char' or 'word' n-grams (both are null)" });

/** The saved form of a fitted {@link HashedNgramVectorizer}. */
export interface NgramConfig extends Required<NgramOptions> {
  /** Per-feature idf (`'tfidf'` only; empty otherwise). */
  idf: number[];
}

/**
 * A bag of hashed character and word n-grams per text. Word n-grams are hashed with a `w\u0000`
 * prefix so that a word never shares a feature with the identical character n-gram by design.
 *
 * ```ts
 * const v = new akin.data.HashedNgramVectorizer({ char: [2, 4], dim: 4096 }).fit(trainTexts);
 * const x = v.transform(texts);            // texts.length * 4096 float32, rows of unit norm
 * ```
 */
export class HashedNgramVectorizer {
  readonly options: Required<NgramOptions>;
  private idf: Float64Array | null = null;

  constructor(options: NgramOptions = {}) {
    this.options = parseOptions('HashedNgramVectorizer', ngramOptionsSchema, options) as Required<NgramOptions>;
  }

  /** Rebuilds a fitted vectorizer from {@link getConfig}'s output. */
  static fromConfig(config: unknown): HashedNgramVectorizer {
    const schema = z.object({ idf: z.array(z.number().finite()) }).loose();
    const r = schema.safeParse(config);
    if (!r.success) throw new ConfigError(formatIssues('HashedNgramVectorizer.fromConfig', r.error, config));
    const { idf, ...options } = r.data;
    const v = new HashedNgramVectorizer(options as NgramOptions);
    if (v.options.weighting === 'tfidf') {
      if (idf.length !== v.options.dim) throw new ConfigError(`HashedNgramVectorizer.fromConfig: 'idf' has ${idf.length} values, 'dim' is ${v.options.dim}`);
      v.idf = Float64Array.from(idf);
    }
    return v;
  }

  /** Number of features. */
  get dim(): number {
    return this.options.dim;
  }

  /** The (feature index, sign) of every n-gram of `text`, in n-gram order. */
  hashed(text: string): { index: Int32Array; sign: Float32Array } {
    const o = this.options;
    const grams = o.char ? charNgrams(text, o.char[0], o.char[1]) : [];
    if (o.word) for (const g of wordNgrams(tokenizeWords(text), o.word[0], o.word[1])) grams.push(`w\u0000${g}`);
    const index = new Int32Array(grams.length);
    const sign = new Float32Array(grams.length);
    grams.forEach((g, i) => {
      const h = hashString(g);
      index[i] = h % o.dim;
      sign[i] = o.signed && h >= 0x80000000 ? -1 : 1;
    });
    return { index, sign };
  }

  /** Learns the idf from training texts (a no-op for `'count'` and `'log'`); returns `this`. */
  fit(texts: string[]): this {
    if (this.options.weighting !== 'tfidf') return this;
    const df = new Float64Array(this.options.dim);
    const seen = new Uint8Array(this.options.dim);
    for (const t of texts) {
      const { index } = this.hashed(t);
      for (const i of index) if (!seen[i]) { seen[i] = 1; df[i]++; }
      for (const i of index) seen[i] = 0;
    }
    const n = texts.length;
    this.idf = df.map((d) => Math.log((1 + n) / (1 + d)) + 1);
    return this;
  }

  /** Encodes texts as `texts.length * dim` float32 features (row-major). */
  transform(texts: string[]): Float32Array {
    const o = this.options;
    if (o.weighting === 'tfidf' && !this.idf) throw new ConfigError('HashedNgramVectorizer: call fit(texts) before transform with weighting tfidf');
    const out = new Float32Array(texts.length * o.dim);
    texts.forEach((t, r) => {
      const row = out.subarray(r * o.dim, (r + 1) * o.dim);
      const { index, sign } = this.hashed(t);
      for (let k = 0; k < index.length; k++) row[index[k]] += sign[k];
      if (o.weighting !== 'count') {
        const touched = new Set(index);
        for (const i of touched) {
          const c = row[i];
          if (c === 0) continue;
          const v = Math.sign(c) * (1 + Math.log(Math.abs(c)));
          row[i] = o.weighting === 'tfidf' ? v * this.idf![i] : v;
        }
      }
      if (o.normalize) l2NormalizeRow(row);
    });
    return out;
  }

  /** The fitted state as plain JSON. */
  getConfig(): NgramConfig {
    return { ...this.options, idf: this.idf ? Array.from(this.idf) : [] };
  }
}

/** Scales a row to unit L2 norm in place (an all-zero row stays zero). */
export function l2NormalizeRow(row: Float32Array): void {
  let ss = 0;
  for (let i = 0; i < row.length; i++) ss += row[i] * row[i];
  if (ss === 0) return;
  const inv = 1 / Math.sqrt(ss);
  for (let i = 0; i < row.length; i++) row[i] *= inv;
}

/** Options of {@link TokenEncoder}. */
export interface TokenOptions {
  /** `'words'` (default): words hashed into `buckets` ids. `'chars'`: characters, a vocabulary of the `maxChars` most frequent training characters. */
  unit?: 'words' | 'chars';
  /** Token ids per text: longer texts are cut, shorter ones padded with 0. Default `128`. */
  maxLength?: number;
  /** Word ids (`'words'`). Default `8192`. */
  buckets?: number;
  /** Vocabulary size for `'chars'`. Default `256`. */
  maxChars?: number;
}

/** The `tokens` options schema (also the `data.tokens` field of a text run config). */
export const tokenOptionsSchema = z
  .object({
    unit: z.enum(['words', 'chars']).default('words'),
    maxLength: z.number().int().min(1).max(65536).default(128),
    buckets: z.number().int().min(1).max(1 << 22).default(8192),
    maxChars: z.number().int().min(1).max(65536).default(256),
  })
  .strict();

/** The saved form of a fitted {@link TokenEncoder}. */
export interface TokenConfig extends Required<TokenOptions> {
  /** `'chars'`: the vocabulary, most frequent first (character `chars[i]` has id `i + 2`). */
  chars: string[];
}

/**
 * Texts as fixed-length rows of token ids: 0 is padding, 1 an unknown character; a word's id is
 * `2 + (FNV-1a(word) mod buckets)`, a known character's `2 + its rank` in the training vocabulary.
 * Words come from {@link tokenizeWords}; characters from the words joined by single spaces.
 */
export class TokenEncoder {
  readonly options: Required<TokenOptions>;
  private chars: Map<string, number> | null = null;

  constructor(options: TokenOptions = {}) {
    this.options = parseOptions('TokenEncoder', tokenOptionsSchema, options) as Required<TokenOptions>;
  }

  /** Rebuilds a fitted encoder from {@link getConfig}'s output. */
  static fromConfig(config: unknown): TokenEncoder {
    const r = z.object({ chars: z.array(z.string()) }).loose().safeParse(config);
    if (!r.success) throw new ConfigError(formatIssues('TokenEncoder.fromConfig', r.error, config));
    const { chars, ...options } = r.data;
    const e = new TokenEncoder(options as TokenOptions);
    if (e.options.unit === 'chars') e.chars = new Map(chars.map((c, i) => [c, i + 2]));
    return e;
  }

  /** Number of ids, padding and unknown included (the model's vocabulary size). */
  get vocabSize(): number {
    return this.options.unit === 'words' ? this.options.buckets + 2 : this.options.maxChars + 2;
  }

  /** Learns the character vocabulary (a no-op for `'words'`); returns `this`. */
  fit(texts: string[]): this {
    if (this.options.unit !== 'chars') return this;
    const counts = new Map<string, number>();
    for (const t of texts) for (const c of charsOf(t)) counts.set(c, (counts.get(c) ?? 0) + 1);
    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, this.options.maxChars);
    this.chars = new Map(ranked.map(([c], i) => [c, i + 2]));
    return this;
  }

  /** The token ids of one text, cut to `maxLength` (not padded). */
  ids(text: string): number[] {
    const o = this.options;
    if (o.unit === 'words') return tokenizeWords(text).slice(0, o.maxLength).map((w) => 2 + (hashString(w) % o.buckets));
    if (!this.chars) throw new ConfigError("TokenEncoder: call fit(texts) before encoding with unit 'chars'");
    return charsOf(text).slice(0, o.maxLength).map((c) => this.chars!.get(c) ?? 1);
  }

  /** Encodes texts as `texts.length * maxLength` ids (float32, padded with 0). */
  transform(texts: string[]): Float32Array {
    const L = this.options.maxLength;
    const out = new Float32Array(texts.length * L);
    texts.forEach((t, r) => out.set(this.ids(t), r * L));
    return out;
  }

  /** The fitted state as plain JSON. */
  getConfig(): TokenConfig {
    const chars = this.chars ? [...this.chars.entries()].sort((a, b) => a[1] - b[1]).map(([c]) => c) : [];
    return { ...this.options, chars };
  }
}

/** The characters (code points) of a text's words joined by single spaces. */
function charsOf(text: string): string[] {
  return Array.from(tokenizeWords(text).join(' '));
}
