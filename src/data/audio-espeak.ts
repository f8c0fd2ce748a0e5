/**
 * A spoken-word data set that needs no download: words synthesised by the `espeak-ng` speech
 * synthesiser (Debian package `espeak-ng`) across English accents, voice variants, speeds and pitches.
 * Each clip is a WAV file in a cache folder, so a second run with the same settings synthesises nothing.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { DataError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { hashString } from './tabular.js';

const run = promisify(execFile);

/** 24 short English words: digits, commands and a few longer ones, several with shared sounds. */
export const SPOKEN_WORDS: readonly string[] = [
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine',
  'yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go',
  'bird', 'house', 'happy', 'tree',
];

/** English voices (accents) of espeak-ng's standard data. */
export const ESPEAK_ENGLISH_VOICES: readonly string[] = [
  'en', 'en-us', 'en-gb-scotland', 'en-gb-x-gbclan', 'en-gb-x-rp', 'en-gb-x-gbcwmd', 'en-029', 'en-us-nyc',
];

/** Voice variants (timbres) of espeak-ng: seven male, five female and two Klatt-synthesiser ones. */
export const ESPEAK_VARIANTS: readonly string[] = [
  'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'f1', 'f2', 'f3', 'f4', 'f5', 'klatt', 'klatt2',
];

/** Options of {@link synthesizeSpokenWords}. */
export interface SpokenWordsOptions {
  /** The words (the classes). Default {@link SPOKEN_WORDS}. */
  words?: string[];
  /** espeak-ng voices (accents). Default {@link ESPEAK_ENGLISH_VOICES}. */
  voices?: string[];
  /** Voice variants; a speaker is a voice plus a variant (`en-us+f2`). Default {@link ESPEAK_VARIANTS}. */
  variants?: string[];
  /** Speaking rates (words per minute); each clip draws one. Default `[130, 165, 200]`. */
  speeds?: number[];
  /** Pitches (0-99); each clip draws one. Default `[30, 50, 70]`. */
  pitches?: number[];
  /** Clips per word and speaker, each with its own speed and pitch. Default `1`. */
  repeats?: number;
  /** Cache folder for the WAV files. Default `<os temp dir>/akin-spoken-words`. */
  dir?: string;
  /** espeak-ng processes run at once. Default `2`. */
  concurrency?: number;
  /** The synthesiser command. Default `'espeak-ng'`. */
  command?: string;
}

/** One synthesised clip. */
export interface SpokenWordClip {
  path: string;
  word: string;
  /** `voice+variant`, e.g. `en-us+f2`. */
  speaker: string;
  voice: string;
  variant: string;
  speed: number;
  pitch: number;
}

/** Zod schema of {@link SpokenWordsOptions} (strict, with the documented defaults). */
export const spokenWordsOptionsSchema = z
  .object({
    words: z.array(z.string().regex(/^[a-z][a-z' -]*$/i, 'words must be letters, spaces, hyphens or apostrophes')).min(1).default([...SPOKEN_WORDS]),
    voices: z.array(z.string().regex(/^[a-z0-9-]+$/i)).min(1).default([...ESPEAK_ENGLISH_VOICES]),
    variants: z.array(z.string().regex(/^[a-z0-9_-]+$/i)).min(1).default([...ESPEAK_VARIANTS]),
    speeds: z.array(z.number().int().min(80).max(450)).min(1).default([130, 165, 200]),
    pitches: z.array(z.number().int().min(0).max(99)).min(1).default([30, 50, 70]),
    repeats: z.number().int().min(1).default(1),
    dir: z.string().min(1).optional(),
    concurrency: z.number().int().min(1).max(64).default(2),
    command: z.string().min(1).default('espeak-ng'),
  })
  .strict();

/** Whether the espeak-ng command runs here. */
export function espeakAvailable(command = 'espeak-ng'): boolean {
  const r = spawnSync(command, ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

/**
 * Synthesises every word for every speaker (voice x variant), `repeats` times, each clip at a speed and
 * pitch chosen from the lists by a hash of (word, speaker, repeat), so the set is the same on every run.
 * Clips already in the cache folder are reused. Returns the clips in (speaker, word, repeat) order.
 *
 * ```ts
 * const clips = await akin.data.synthesizeSpokenWords({ variants: ['m1', 'f2'] });
 * ```
 *
 * @throws DataError when espeak-ng is not installed (`apt-get install espeak-ng`) or fails
 */
export async function synthesizeSpokenWords(options: SpokenWordsOptions = {}): Promise<SpokenWordClip[]> {
  const o = parseOptions('synthesizeSpokenWords', spokenWordsOptionsSchema, options);
  const dir = o.dir ?? join(tmpdir(), 'akin-spoken-words');
  const clips: SpokenWordClip[] = [];
  for (const voice of o.voices) {
    for (const variant of o.variants) {
      const speaker = `${voice}+${variant}`;
      for (const word of o.words) {
        for (let r = 0; r < o.repeats; r++) {
          const h = hashString(`${word}\u0000${speaker}\u0000${r}`);
          const speed = o.speeds[h % o.speeds.length];
          const pitch = o.pitches[Math.floor(h / o.speeds.length) % o.pitches.length];
          const file = `${word.replace(/[^a-z0-9]+/gi, '_')}__${speaker}__s${speed}_p${pitch}.wav`;
          clips.push({ path: join(dir, speaker, file), word, speaker, voice, variant, speed, pitch });
        }
      }
    }
  }
  const todo = clips.filter((c) => !existsSync(c.path));
  if (todo.length > 0 && !espeakAvailable(o.command)) {
    throw new DataError(`synthesizeSpokenWords: '${o.command}' is not installed or does not run; install it (Debian: apt-get install espeak-ng)`);
  }
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      const c = todo[next++];
      mkdirSync(join(dir, c.speaker), { recursive: true });
      const tmp = `${c.path}.${process.pid}.tmp`;
      try {
        await run(o.command, ['-v', c.speaker, '-s', String(c.speed), '-p', String(c.pitch), '-w', tmp, c.word]);
      } catch (e) {
        throw new DataError(`synthesizeSpokenWords: ${o.command} -v ${c.speaker} failed for '${c.word}': ${(e as Error).message}`);
      }
      renameSync(tmp, c.path);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, todo.length) }, worker));
  return clips;
}
