/**
 * From audio to fixed-size network inputs: resample, trim silence, compute log-mel or MFCC features,
 * normalise each utterance and crop or pad to a fixed number of frames. The result of one clip is a
 * `[frames, bins, 1]` "image" that a conv net (see `models.audioConvnet`) embeds. The settings save
 * as JSON with the model, so raw WAV files can be embedded the same way later.
 */
import { z } from 'zod';
import { parseOptions } from '../core/options.js';
import {
  dct, fitFrames, logMelSpectrogram, meanFrame, mfcc, resolveSpectrogramOptions, spectrogramOptionsSchema, trimSilence,
  type FeatureMatrix, type MfccOptions,
} from './audio-features.js';
import { decodeWav, readWav, resample, type MonoAudio } from './wav.js';

/** Options of {@link AudioPreprocessor}; the spectrogram options are those of `logMelSpectrogram` / `mfcc`. */
export interface AudioPreprocessorOptions extends Omit<MfccOptions, 'sampleRate'> {
  /** Every clip is resampled to this rate (Hz) first. Default `16000`. */
  sampleRate?: number;
  /** Features per frame: `'logmel'` (`nMels` values) or `'mfcc'` (`nMfcc` values). Default `'logmel'`. */
  features?: 'logmel' | 'mfcc';
  /** Frames per clip after cropping or padding (100 frames = 1 s at the default 10 ms hop). Default `100`. */
  frames?: number;
  /** Where a clip is cropped or padded: keep its start, or its centre. Default `'start'`. */
  align?: 'start' | 'center';
  /**
   * Trim leading and trailing audio more than this many dB below the loudest 10 ms (see
   * `trimSilence`), or null to keep it. Default `40`.
   */
  trimDb?: number | null;
  /**
   * `'utterance'`: subtract each feature's mean over the clip's frames and divide by the clip's standard
   * deviation (removes loudness and the voice's spectral tilt; padding is then 0). `'mean'`: only
   * subtract the means (cepstral mean normalisation for MFCCs; padding 0). `'none'`: raw values, padded
   * with the features of silence. Default `'utterance'`.
   */
  normalize?: 'utterance' | 'mean' | 'none';
}

/** The saved form of an {@link AudioPreprocessor}: every option, defaults filled in. */
export type AudioPreprocessorConfig = Required<Omit<AudioPreprocessorOptions, 'trimDb'>> & { trimDb: number | null };

/** Zod schema of {@link AudioPreprocessorOptions} (strict, with the documented defaults). */
export const audioPreprocessorSchema = spectrogramOptionsSchema
  .extend({
    features: z.enum(['logmel', 'mfcc']).default('logmel'),
    frames: z.number().int().min(1).default(100),
    align: z.enum(['start', 'center']).default('start'),
    trimDb: z.number().positive().nullable().default(40),
    normalize: z.enum(['utterance', 'mean', 'none']).default('utterance'),
  })
  .strict();

/**
 * Turns mono audio (or WAV files) into fixed-size feature matrices.
 *
 * ```ts
 * const prep = new akin.data.AudioPreprocessor({ frames: 80, nMels: 40 });
 * const x = prep.transformFiles(['yes-1.wav', 'no-1.wav']);          // Float32Array, 2 * 80 * 40 values
 * writeFileSync('audio.json', JSON.stringify(prep.getConfig()));
 * ```
 */
export class AudioPreprocessor {
  readonly config: AudioPreprocessorConfig;

  constructor(options: AudioPreprocessorOptions = {}) {
    const { sampleRate, features, frames, align, trimDb, normalize, ...spectrogram } = parseOptions('AudioPreprocessor', audioPreprocessorSchema, options);
    const s = resolveSpectrogramOptions('AudioPreprocessor', { ...spectrogram, sampleRate });
    this.config = { ...s, features, frames, align, trimDb, normalize };
  }

  /** Values per frame: `nMels` for log-mel features, `nMfcc` for MFCCs. */
  get bins(): number {
    return this.config.features === 'mfcc' ? this.config.nMfcc : this.config.nMels;
  }

  /** Shape of one transformed clip: `[frames, bins, 1]`. */
  get shape(): number[] {
    return [this.config.frames, this.bins, 1];
  }

  /** The variable-length features of one clip (resampled, trimmed, normalised; not yet cropped or padded). */
  features(audio: MonoAudio): FeatureMatrix {
    const c = this.config;
    let samples = resample(audio.samples, audio.sampleRate, c.sampleRate);
    if (c.trimDb !== null) samples = trimSilence(samples, { thresholdDb: c.trimDb, frameSize: Math.max(1, Math.round(c.sampleRate / 100)) });
    const x = c.features === 'mfcc' ? mfcc(samples, this.spectrogramOptions()) : logMelSpectrogram(samples, this.spectrogramOptions());
    if (c.normalize !== 'none') normalizeUtterance(x, c.normalize === 'utterance');
    return x;
  }

  /** One clip as a flat `frames * bins` Float32Array (see {@link shape}). */
  transform(audio: MonoAudio): Float32Array {
    return fitFrames(this.features(audio), this.config.frames, { pad: this.padFrame(), align: this.config.align }).data;
  }

  /** One WAV file (or its bytes, with `name` for errors) as a flat `frames * bins` Float32Array. */
  transformWav(input: string | Uint8Array, name?: string): Float32Array {
    return this.transform(typeof input === 'string' ? readWav(input) : decodeWav(input, name));
  }

  /** WAV files as one Float32Array of `paths.length` clips, in order. */
  transformFiles(paths: string[]): Float32Array {
    const size = this.config.frames * this.bins;
    const out = new Float32Array(paths.length * size);
    paths.forEach((p, i) => out.set(this.transformWav(p), i * size));
    return out;
  }

  /** The settings as plain JSON. */
  getConfig(): AudioPreprocessorConfig {
    return { ...this.config };
  }

  /** Rebuilds a preprocessor from {@link getConfig}'s output; errors name a bad field. */
  static fromConfig(config: AudioPreprocessorOptions): AudioPreprocessor {
    return new AudioPreprocessor(config);
  }

  private spectrogramOptions(): MfccOptions {
    const { features: _f, frames: _n, align: _a, trimDb: _t, normalize: _z, ...s } = this.config;
    return s;
  }

  /** Features of silence: 0 after normalisation, else the log offset's log (and its DCT). */
  private padFrame(): number | Float32Array {
    const c = this.config;
    if (c.normalize !== 'none') return 0;
    const silent: FeatureMatrix = { data: new Float32Array(c.nMels).fill(Math.log(c.logOffset)), frames: 1, dim: c.nMels };
    return c.features === 'mfcc' ? dct(silent, c.nMfcc).data : silent.data;
  }
}

/**
 * Subtracts each column's mean over the frames and, with `scale` (default), divides by the standard
 * deviation of all the centred values (in place; a constant matrix stays at zero).
 */
export function normalizeUtterance(x: FeatureMatrix, scale = true): FeatureMatrix {
  const { data, frames, dim } = x;
  const mean = meanFrame(x);
  let ss = 0;
  for (let t = 0; t < frames; t++) {
    for (let k = 0; k < dim; k++) {
      const v = data[t * dim + k] - mean[k];
      data[t * dim + k] = v;
      ss += v * v;
    }
  }
  const std = Math.sqrt(ss / (frames * dim));
  if (scale && std > 0) for (let i = 0; i < data.length; i++) data[i] /= std;
  return x;
}
