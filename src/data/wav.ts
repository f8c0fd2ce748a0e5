/**
 * WAV files: reading RIFF/WAVE audio (16-bit PCM or 32-bit float, any number of channels, any sample
 * rate), mixing to mono, resampling to a target rate, and writing WAV files.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DataError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fs.js';
import { parseOptions } from '../core/options.js';

/** Sample encodings akin reads and writes. */
export type WavEncoding = 'pcm16' | 'float32';

/** Decoded WAV audio: one Float32Array of samples in [-1, 1] per channel. */
export interface WavAudio {
  sampleRate: number;
  /** Samples of each channel (de-interleaved), all of the same length. */
  channels: Float32Array[];
  /** How the samples were stored. */
  encoding: WavEncoding;
}

/** Mono audio at a known sample rate. */
export interface MonoAudio {
  samples: Float32Array;
  sampleRate: number;
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

const FORMAT_NAMES: Record<number, string> = { 2: 'Microsoft ADPCM', 6: 'A-law', 7: 'mu-law', 17: 'IMA ADPCM', 85: 'MP3' };

/**
 * Parses a RIFF/WAVE file held in memory. Reads 16-bit integer PCM and 32-bit float samples (plain or
 * WAVE_FORMAT_EXTENSIBLE headers), any channel count and sample rate. A data chunk that claims more
 * bytes than the file holds (a header written before streaming ended) is read up to the end of the file.
 * Errors name `name` (usually the file) and say what the file holds and what akin reads.
 */
export function parseWav(bytes: Uint8Array, name = 'WAV data'): WavAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (offset: number): string => String.fromCharCode(...bytes.subarray(offset, offset + 4));
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') {
    throw new DataError(`${name}: not a WAV file (no RIFF/WAVE header)${bytes.length >= 4 && tag(0) === 'RIFX' ? '; big-endian RIFX is not supported' : ''}`);
  }
  let fmt: { format: number; channels: number; sampleRate: number; bits: number } | null = null;
  let data: Uint8Array | null = null;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new DataError(`${name}: the 'fmt ' chunk is too short (${size} bytes)`);
      let format = view.getUint16(body, true);
      const bits = view.getUint16(body + 14, true);
      if (format === FORMAT_EXTENSIBLE) {
        if (size < 40 || body + 26 > bytes.length) throw new DataError(`${name}: a WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk must hold 40 bytes (got ${size})`);
        format = view.getUint16(body + 24, true);
      }
      fmt = {
        format,
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bits,
      };
    } else if (id === 'data') {
      data = bytes.subarray(body, Math.min(body + size, bytes.length));
      break;
    }
    offset = body + size + (size % 2);
  }
  if (fmt === null) throw new DataError(`${name}: no 'fmt ' chunk before the audio data`);
  if (data === null) throw new DataError(`${name}: no 'data' chunk`);
  const { format, channels, sampleRate, bits } = fmt;
  let encoding: WavEncoding;
  if (format === FORMAT_PCM && bits === 16) encoding = 'pcm16';
  else if (format === FORMAT_FLOAT && bits === 32) encoding = 'float32';
  else {
    const what = format === FORMAT_PCM ? `${bits}-bit PCM` : format === FORMAT_FLOAT ? `${bits}-bit float` : `${FORMAT_NAMES[format] ?? `format code ${format}`}`;
    throw new DataError(`${name}: unsupported WAV encoding ${what}; akin reads 16-bit PCM and 32-bit float WAV (convert with e.g. 'sox in.wav -b 16 out.wav')`);
  }
  if (channels < 1) throw new DataError(`${name}: the 'fmt ' chunk gives ${channels} channels`);
  if (sampleRate < 1) throw new DataError(`${name}: the 'fmt ' chunk gives sample rate ${sampleRate}`);
  const bytesPerSample = bits / 8;
  const frame = bytesPerSample * channels;
  const count = Math.floor(data.length / frame);
  const out = Array.from({ length: channels }, () => new Float32Array(count));
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < channels; c++) {
      const at = i * frame + c * bytesPerSample;
      out[c][i] = encoding === 'pcm16' ? dv.getInt16(at, true) / 32768 : dv.getFloat32(at, true);
    }
  }
  return { sampleRate, channels: out, encoding };
}

/** Mixes channels to mono by averaging them (a single channel is returned as it is). */
export function toMono(channels: Float32Array[]): Float32Array {
  if (channels.length === 0) throw new DataError('toMono: no channels');
  if (channels.length === 1) return channels[0];
  const n = channels[0].length;
  const out = new Float32Array(n);
  for (const ch of channels) for (let i = 0; i < n; i++) out[i] += ch[i];
  for (let i = 0; i < n; i++) out[i] /= channels.length;
  return out;
}

/** Options of {@link resample}. */
export interface ResampleOptions {
  /** Zero crossings of the windowed-sinc kernel on each side (longer = sharper cut-off, slower). Default `16`. */
  zeroCrossings?: number;
}

const resampleSchema = z.object({ zeroCrossings: z.number().int().min(1).max(256).default(16) }).strict();

/**
 * Band-limited resampling by windowed-sinc interpolation (Hann window). When downsampling, the kernel
 * is widened so that it also low-passes at the new Nyquist frequency, which keeps aliases out. The
 * kernel is tabulated at 512 points per zero crossing and interpolated linearly. Output length is
 * `round(samples.length * toRate / fromRate)`; equal rates return the input.
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number, options: ResampleOptions = {}): Float32Array {
  const o = parseOptions('resample', resampleSchema, options);
  if (!(fromRate > 0) || !(toRate > 0)) throw new DataError(`resample: sample rates must be positive (got ${fromRate} -> ${toRate})`);
  if (fromRate === toRate) return samples;
  const ratio = toRate / fromRate;
  const n = Math.round(samples.length * ratio);
  const cutoff = Math.min(1, ratio);
  const zc = o.zeroCrossings;
  const table = sincTable(zc);
  const half = zc / cutoff;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / ratio;
    const lo = Math.max(0, Math.ceil(t - half));
    const hi = Math.min(samples.length - 1, Math.floor(t + half));
    let acc = 0;
    for (let k = lo; k <= hi; k++) {
      const u = Math.abs(t - k) * cutoff * SINC_STEPS;
      const j = Math.floor(u);
      if (j >= table.length - 1) continue;
      const f = u - j;
      acc += samples[k] * (table[j] + f * (table[j + 1] - table[j]));
    }
    out[i] = acc * cutoff;
  }
  return out;
}

const SINC_STEPS = 512;

/** `sinc(u) * hann(u / zc)` for u = 0, 1/512, ..., zc (and a trailing 0). */
function sincTable(zc: number): Float64Array {
  const t = new Float64Array(zc * SINC_STEPS + 2);
  for (let j = 0; j <= zc * SINC_STEPS; j++) {
    const u = j / SINC_STEPS;
    t[j] = (u === 0 ? 1 : Math.sin(Math.PI * u) / (Math.PI * u)) * (0.5 + 0.5 * Math.cos((Math.PI * u) / zc));
  }
  return t;
}

/** Options of {@link readWav} and {@link decodeWav}. */
export interface ReadWavOptions {
  /** Resample to this rate in Hz. Default: keep the file's rate. */
  sampleRate?: number;
}

const readSchema = z.object({ sampleRate: z.number().int().min(1).optional() }).strict();

/** Decodes WAV bytes to mono (channels averaged), resampled to `sampleRate` when given. */
export function decodeWav(bytes: Uint8Array, name = 'WAV data', options: ReadWavOptions = {}): MonoAudio {
  const o = parseOptions('readWav', readSchema, options);
  const wav = parseWav(bytes, name);
  const mono = toMono(wav.channels);
  const rate = o.sampleRate ?? wav.sampleRate;
  return { samples: resample(mono, wav.sampleRate, rate), sampleRate: rate };
}

/**
 * Reads a WAV file as mono audio, resampled to `sampleRate` when given.
 *
 * ```ts
 * const { samples, sampleRate } = akin.data.readWav('yes.wav', { sampleRate: 16000 });
 * ```
 */
export function readWav(path: string, options: ReadWavOptions = {}): MonoAudio {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DataError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeWav(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path, options);
}

/**
 * Encodes audio as a WAV file: channels (each a Float32Array of samples in [-1, 1], all the same
 * length) interleaved as 16-bit PCM (clipped and rounded) or 32-bit float.
 */
export function encodeWav(channels: Float32Array | Float32Array[], sampleRate: number, encoding: WavEncoding = 'pcm16'): Uint8Array {
  const chans = Array.isArray(channels) ? channels : [channels];
  if (chans.length === 0 || chans.some((c) => c.length !== chans[0].length)) {
    throw new DataError('encodeWav: give one or more channels of equal length');
  }
  if (!Number.isInteger(sampleRate) || sampleRate < 1) throw new DataError(`encodeWav: sample rate must be a positive integer (got ${sampleRate})`);
  const bytesPerSample = encoding === 'pcm16' ? 2 : 4;
  const n = chans[0].length;
  const dataSize = n * chans.length * bytesPerSample;
  const out = new Uint8Array(44 + dataSize);
  const v = new DataView(out.buffer);
  const put = (offset: number, s: string): void => {
    for (let i = 0; i < 4; i++) out[offset + i] = s.charCodeAt(i);
  };
  put(0, 'RIFF');
  v.setUint32(4, 36 + dataSize, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, encoding === 'pcm16' ? FORMAT_PCM : FORMAT_FLOAT, true);
  v.setUint16(22, chans.length, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * chans.length * bytesPerSample, true);
  v.setUint16(32, chans.length * bytesPerSample, true);
  v.setUint16(34, bytesPerSample * 8, true);
  put(36, 'data');
  v.setUint32(40, dataSize, true);
  let at = 44;
  for (let i = 0; i < n; i++) {
    for (const ch of chans) {
      if (encoding === 'pcm16') v.setInt16(at, Math.max(-32768, Math.min(32767, Math.round(ch[i] * 32768))), true);
      else v.setFloat32(at, ch[i], true);
      at += bytesPerSample;
    }
  }
  return out;
}

/** Writes a WAV file atomically (see {@link encodeWav}). */
export function writeWav(path: string, channels: Float32Array | Float32Array[], sampleRate: number, encoding: WavEncoding = 'pcm16'): void {
  writeFileAtomic(path, encodeWav(channels, sampleRate, encoding));
}
