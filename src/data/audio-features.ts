/**
 * Audio features: short-time power spectra, log-mel spectrograms and MFCCs (HTK mel scale, triangular
 * filters with peak 1, orthonormal DCT-II), plus silence trimming and fixed-length framing for batching.
 * Frames are not centred: frame t covers samples `[t * hopSize, t * hopSize + windowSize)`, and only
 * whole frames are taken (a clip shorter than one window gives one zero-padded frame).
 */
import FFT from 'fft.js';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';

/** A matrix of per-frame features: `frames` rows of `dim` values, row-major. */
export interface FeatureMatrix {
  data: Float32Array;
  frames: number;
  dim: number;
}

/** Options of {@link powerSpectrogram}, {@link melFilterbank} and {@link logMelSpectrogram}. */
export interface SpectrogramOptions {
  /** Sample rate of the audio in Hz. Default `16000`. */
  sampleRate?: number;
  /** Samples per analysis window. Default `400` (25 ms at 16 kHz). */
  windowSize?: number;
  /** Samples between the starts of consecutive frames. Default `160` (10 ms at 16 kHz). */
  hopSize?: number;
  /** FFT length, a power of two >= `windowSize`; the window is zero-padded to it. Default: the smallest such power. */
  fftSize?: number;
  /** Window function (periodic). Default `'hann'`. */
  window?: 'hann' | 'hamming' | 'rectangular';
  /** Number of mel bands. Default `40`. */
  nMels?: number;
  /** Lowest frequency of the mel filters in Hz. Default `0`. */
  fMin?: number;
  /** Highest frequency of the mel filters in Hz. Default: `sampleRate / 2`. */
  fMax?: number;
  /** Added to the mel energies before the natural log, so silence stays finite. Default `1e-6`. */
  logOffset?: number;
  /** Pre-emphasis coefficient a in `y[n] = x[n] - a x[n-1]` (0 = off). Default `0`. */
  preEmphasis?: number;
}

/** Options of {@link mfcc}. */
export interface MfccOptions extends SpectrogramOptions {
  /** Number of cepstral coefficients kept (c0 included), at most `nMels`. Default `13` (or `nMels` if fewer). */
  nMfcc?: number;
}

/** Zod schema of {@link MfccOptions} (strict, with the documented defaults; cross-field checks are in {@link resolveSpectrogramOptions}). */
export const spectrogramOptionsSchema = z
  .object({
    sampleRate: z.number().int().min(1).default(16000),
    windowSize: z.number().int().min(2).default(400),
    hopSize: z.number().int().min(1).default(160),
    fftSize: z.number().int().min(4).optional(),
    window: z.enum(['hann', 'hamming', 'rectangular']).default('hann'),
    nMels: z.number().int().min(1).default(40),
    fMin: z.number().min(0).default(0),
    fMax: z.number().positive().optional(),
    logOffset: z.number().positive().default(1e-6),
    preEmphasis: z.number().min(0).max(1).default(0),
    nMfcc: z.number().int().min(1).optional(),
  })
  .strict();

/** Spectrogram options with every default filled in. */
export type ResolvedSpectrogramOptions = Required<SpectrogramOptions> & { nMfcc: number };

/**
 * Fills in the defaults of spectrogram/MFCC options and checks them (power-of-two FFT at least as long
 * as the window, `fMin < fMax <= sampleRate / 2`, `nMfcc <= nMels`). Errors name the bad option.
 */
export function resolveSpectrogramOptions(owner: string, options: MfccOptions = {}): ResolvedSpectrogramOptions {
  const o = parseOptions(owner, spectrogramOptionsSchema, options);
  const fftSize = o.fftSize ?? 2 ** Math.ceil(Math.log2(o.windowSize));
  if ((fftSize & (fftSize - 1)) !== 0) throw new ConfigError(`${owner}: option 'fftSize' must be a power of two (got ${fftSize})`);
  if (fftSize < o.windowSize) throw new ConfigError(`${owner}: option 'fftSize' (${fftSize}) must be at least 'windowSize' (${o.windowSize})`);
  const nyquist = o.sampleRate / 2;
  const fMax = o.fMax ?? nyquist;
  if (fMax > nyquist) throw new ConfigError(`${owner}: option 'fMax' (${fMax}) must be at most sampleRate / 2 (${nyquist})`);
  if (o.fMin >= fMax) throw new ConfigError(`${owner}: option 'fMin' (${o.fMin}) must be below 'fMax' (${fMax})`);
  if (o.nMfcc !== undefined && o.nMfcc > o.nMels) throw new ConfigError(`${owner}: option 'nMfcc' (${o.nMfcc}) must be at most 'nMels' (${o.nMels})`);
  return { ...o, fftSize, fMax, nMfcc: o.nMfcc ?? Math.min(13, o.nMels) };
}

/** Hz to mel on the HTK scale: `2595 log10(1 + f / 700)`. */
export function hzToMel(hz: number): number {
  return 2595 * Math.log10(1 + hz / 700);
}

/** Mel to Hz on the HTK scale (inverse of {@link hzToMel}). */
export function melToHz(mel: number): number {
  return 700 * (10 ** (mel / 2595) - 1);
}

/**
 * Triangular mel filters over the `fftSize / 2 + 1` FFT bins, as a row-major `[nMels, bins]` matrix.
 * Filter m rises linearly from 0 at mel point m to 1 at point m + 1 and falls to 0 at point m + 2,
 * where the `nMels + 2` points are equally spaced in mel between `fMin` and `fMax` (HTK; librosa's
 * `htk=True, norm=None`). Bin k sits at `k * sampleRate / fftSize` Hz.
 */
export function melFilterbank(options: SpectrogramOptions = {}): FeatureMatrix {
  const o = resolveSpectrogramOptions('melFilterbank', options);
  return filterbank(o);
}

function filterbank(o: ResolvedSpectrogramOptions): FeatureMatrix {
  const bins = o.fftSize / 2 + 1;
  const lo = hzToMel(o.fMin);
  const hi = hzToMel(o.fMax);
  const edges = Array.from({ length: o.nMels + 2 }, (_, i) => melToHz(lo + ((hi - lo) * i) / (o.nMels + 1)));
  const data = new Float32Array(o.nMels * bins);
  for (let m = 0; m < o.nMels; m++) {
    const [left, centre, right] = [edges[m], edges[m + 1], edges[m + 2]];
    for (let k = 0; k < bins; k++) {
      const f = (k * o.sampleRate) / o.fftSize;
      const w = Math.min((f - left) / (centre - left), (right - f) / (right - centre));
      if (w > 0) data[m * bins + k] = w;
    }
  }
  return { data, frames: o.nMels, dim: bins };
}

/** Number of frames {@link powerSpectrogram} makes from `length` samples. */
export function frameCount(length: number, windowSize: number, hopSize: number): number {
  return length <= windowSize ? 1 : 1 + Math.floor((length - windowSize) / hopSize);
}

function windowValues(kind: 'hann' | 'hamming' | 'rectangular', n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.cos((2 * Math.PI * i) / n);
    w[i] = kind === 'hann' ? 0.5 - 0.5 * c : kind === 'hamming' ? 0.54 - 0.46 * c : 1;
  }
  return w;
}

/**
 * The short-time power spectrum `|FFT(window * frame)|^2`: `frames` rows of `fftSize / 2 + 1` bins
 * (unnormalised: a unit sine at a bin centre, Hann window of length N = fftSize, gives `(N/4)^2`).
 */
export function powerSpectrogram(samples: Float32Array, options: SpectrogramOptions = {}): FeatureMatrix {
  return power(samples, resolveSpectrogramOptions('powerSpectrogram', options));
}

function power(input: Float32Array, o: ResolvedSpectrogramOptions): FeatureMatrix {
  let samples = input;
  if (o.preEmphasis > 0) {
    samples = new Float32Array(input.length);
    for (let i = 0; i < input.length; i++) samples[i] = input[i] - (i > 0 ? o.preEmphasis * input[i - 1] : 0);
  }
  const n = o.fftSize;
  const bins = n / 2 + 1;
  const frames = frameCount(samples.length, o.windowSize, o.hopSize);
  const win = windowValues(o.window, o.windowSize);
  const fft = new FFT(n);
  const frame = new Float64Array(n);
  const spectrum = fft.createComplexArray() as number[];
  const out = new Float32Array(frames * bins);
  for (let t = 0; t < frames; t++) {
    const start = t * o.hopSize;
    frame.fill(0);
    for (let i = 0; i < o.windowSize && start + i < samples.length; i++) frame[i] = samples[start + i] * win[i];
    fft.realTransform(spectrum, frame);
    for (let k = 0; k < bins; k++) {
      const re = spectrum[2 * k];
      const im = spectrum[2 * k + 1];
      out[t * bins + k] = re * re + im * im;
    }
  }
  return { data: out, frames, dim: bins };
}

/**
 * Log-mel spectrogram: `ln(melFilterbank · powerSpectrum + logOffset)` per frame, `frames` rows of
 * `nMels` values.
 *
 * ```ts
 * const { data, frames, dim } = akin.data.logMelSpectrogram(samples, { sampleRate: 16000, nMels: 40 });
 * ```
 */
export function logMelSpectrogram(samples: Float32Array, options: SpectrogramOptions = {}): FeatureMatrix {
  return logMel(samples, resolveSpectrogramOptions('logMelSpectrogram', options));
}

function logMel(samples: Float32Array, o: ResolvedSpectrogramOptions): FeatureMatrix {
  const spec = power(samples, o);
  const fb = filterbank(o);
  const bins = spec.dim;
  const ranges = Array.from({ length: o.nMels }, (_, m) => {
    const row = fb.data.subarray(m * bins, (m + 1) * bins);
    const first = row.findIndex((w) => w !== 0);
    return first < 0 ? [0, 0] : [first, bins - [...row].reverse().findIndex((w) => w !== 0)];
  });
  const out = new Float32Array(spec.frames * o.nMels);
  for (let t = 0; t < spec.frames; t++) {
    for (let m = 0; m < o.nMels; m++) {
      let acc = 0;
      for (let k = ranges[m][0]; k < ranges[m][1]; k++) acc += fb.data[m * bins + k] * spec.data[t * bins + k];
      out[t * o.nMels + m] = Math.log(acc + o.logOffset);
    }
  }
  return { data: out, frames: spec.frames, dim: o.nMels };
}

/**
 * Orthonormal DCT-II of each row of `x`, keeping the first `count` coefficients:
 * `c_k = s_k * sum_m x_m cos(pi k (m + 1/2) / M)`, `s_0 = sqrt(1/M)`, `s_k = sqrt(2/M)`.
 */
export function dct(x: FeatureMatrix, count: number): FeatureMatrix {
  const M = x.dim;
  if (!Number.isInteger(count) || count < 1 || count > M) throw new ConfigError(`dct: count must be an integer in [1, ${M}] (got ${count})`);
  const basis = new Float64Array(count * M);
  for (let k = 0; k < count; k++) {
    const s = Math.sqrt((k === 0 ? 1 : 2) / M);
    for (let m = 0; m < M; m++) basis[k * M + m] = s * Math.cos((Math.PI * k * (m + 0.5)) / M);
  }
  const out = new Float32Array(x.frames * count);
  for (let t = 0; t < x.frames; t++) {
    for (let k = 0; k < count; k++) {
      let acc = 0;
      for (let m = 0; m < M; m++) acc += basis[k * M + m] * x.data[t * M + m];
      out[t * count + k] = acc;
    }
  }
  return { data: out, frames: x.frames, dim: count };
}

/** MFCCs: the orthonormal DCT-II of the log-mel spectrogram, first `nMfcc` coefficients (c0 included). */
export function mfcc(samples: Float32Array, options: MfccOptions = {}): FeatureMatrix {
  const o = resolveSpectrogramOptions('mfcc', options);
  return dct(logMel(samples, o), o.nMfcc);
}

/** The mean of the frames (rows) of `x`: `dim` values. */
export function meanFrame(x: FeatureMatrix): Float32Array {
  const acc = new Float64Array(x.dim);
  for (let t = 0; t < x.frames; t++) for (let k = 0; k < x.dim; k++) acc[k] += x.data[t * x.dim + k];
  return Float32Array.from(acc, (v) => v / Math.max(1, x.frames));
}

/** Options of {@link trimSilence}. */
export interface TrimSilenceOptions {
  /** Frames quieter than the loudest frame by more than this many dB are silence. Default `40`. */
  thresholdDb?: number;
  /** Length of the energy frames in samples. Default `160`. */
  frameSize?: number;
}

const trimSchema = z.object({ thresholdDb: z.number().positive().default(40), frameSize: z.number().int().min(1).default(160) }).strict();

/**
 * Drops leading and trailing silence: the frames (of `frameSize` samples) at either end whose energy is
 * more than `thresholdDb` below the loudest frame's. Returns a view of the kept samples (all of them
 * when the clip is silent).
 */
export function trimSilence(samples: Float32Array, options: TrimSilenceOptions = {}): Float32Array {
  const o = parseOptions('trimSilence', trimSchema, options);
  const frames = Math.ceil(samples.length / o.frameSize);
  const energy = new Float64Array(frames);
  let max = 0;
  for (let f = 0; f < frames; f++) {
    let e = 0;
    const end = Math.min(samples.length, (f + 1) * o.frameSize);
    for (let i = f * o.frameSize; i < end; i++) e += samples[i] * samples[i];
    energy[f] = e / (end - f * o.frameSize);
    if (energy[f] > max) max = energy[f];
  }
  if (max === 0) return samples;
  const floor = max * 10 ** (-o.thresholdDb / 10);
  let first = 0;
  while (energy[first] < floor) first++;
  let last = frames - 1;
  while (energy[last] < floor) last--;
  return samples.subarray(first * o.frameSize, Math.min(samples.length, (last + 1) * o.frameSize));
}

/**
 * Fixes the number of frames for batching: longer matrices are cropped, shorter ones padded with
 * `pad` (a number for every value, or one frame of `dim` values, e.g. the features of silence).
 * `align: 'start'` keeps the first frames and pads at the end; `'center'` crops or pads equally at
 * both ends (the odd frame at the end).
 */
export function fitFrames(
  x: FeatureMatrix,
  frames: number,
  { pad = 0, align = 'start' }: { pad?: number | ArrayLike<number>; align?: 'start' | 'center' } = {},
): FeatureMatrix {
  if (!Number.isInteger(frames) || frames < 1) throw new ConfigError(`fitFrames: frames must be a positive integer (got ${frames})`);
  if (typeof pad !== 'number' && pad.length !== x.dim) throw new ConfigError(`fitFrames: the pad frame has ${pad.length} values, frames have ${x.dim}`);
  const out = new Float32Array(frames * x.dim);
  const offset = align === 'center' ? Math.floor((x.frames - frames) / 2) : 0;
  for (let t = 0; t < frames; t++) {
    const src = t + offset;
    if (src >= 0 && src < x.frames) out.set(x.data.subarray(src * x.dim, (src + 1) * x.dim), t * x.dim);
    else if (typeof pad === 'number') out.fill(pad, t * x.dim, (t + 1) * x.dim);
    else out.set(pad, t * x.dim);
  }
  return { data: out, frames, dim: x.dim };
}
