/**
 * Audio: labelled WAV files (a folder of class folders, or a CSV / JSON-lines list of paths and
 * labels), or spoken words synthesised by espeak-ng (`source: 'espeak'`). Each clip becomes a
 * fixed-size log-mel (or MFCC) spectrogram through an {@link AudioPreprocessor} saved with the run;
 * the default model is `audio-convnet`. The metrics table's baseline row is the clip's mean MFCC.
 */
import { z } from 'zod';
import { ConfigError, DataError } from '../../core/errors.js';
import { listAudio, listAudioInputs } from '../../data/audio-dataset.js';
import { spokenWordsOptionsSchema, synthesizeSpokenWords } from '../../data/audio-espeak.js';
import { meanFrame } from '../../data/audio-features.js';
import { AudioPreprocessor, audioPreprocessorSchema, type AudioPreprocessorOptions } from '../../data/audio-preprocessor.js';
import { encodeLabels } from '../../data/vectors.js';
import { decodeWav, readWav, type MonoAudio } from '../../data/wav.js';
import { audioConvnet, audioConvnetSchema } from '../../models/audio-convnet.js';
import { registerModality, type Preprocessing } from '../modality.js';
import { registerModelType } from '../model-types.js';

const schema = z
  .object({
    /** The path column / field of a CSV or JSON-lines list (and of embed input lists). Default `'path'`. */
    pathField: z.string().min(1).default('path'),
    /** The label column / field of a CSV or JSON-lines list. Default `'label'`. */
    labelField: z.string().min(1).default('label'),
    /** Features: every `AudioPreprocessor` option (sample rate, window, hop, mel bands, frames, ...). */
    audio: audioPreprocessorSchema.prefault({}),
    /** With `source: 'espeak'`: which words, voices, variants, speeds and pitches to synthesise (see `synthesizeSpokenWords`). */
    espeak: spokenWordsOptionsSchema.omit({ concurrency: true, command: true }).prefault({}),
  })
  .strict();

type AudioOptions = z.output<typeof schema>;

/** One clip: its samples and where it came from (for errors). */
type Clip = MonoAudio & { name: string };

function preprocessing(prep: AudioPreprocessor): Preprocessing<Clip> {
  const c = prep.config;
  const mfccs = new AudioPreprocessor({ ...c, features: 'mfcc', normalize: 'none', nMfcc: Math.min(13, c.nMels) });
  return {
    input: { shape: prep.shape },
    rawName: 'mean MFCC',
    transform: (clips) => {
      const size = prep.shape[0] * prep.shape[1];
      const out = new Float32Array(clips.length * size);
      clips.forEach((clip, i) => out.set(prep.transform(clip), i * size));
      return out;
    },
    toJSON: () => prep.getConfig(),
    baseline: (clips) => {
      const dim = mfccs.bins;
      const features = new Float32Array(clips.length * dim);
      clips.forEach((clip, i) => features.set(meanFrame(mfccs.features(clip)), i * dim));
      return { features, dim };
    },
  };
}

function readClip(path: string, sampleRate: number): Clip {
  return { ...readWav(path, { sampleRate }), name: path };
}

registerModality<Clip, AudioOptions>({
  kind: 'audio',
  description: "audio: a folder of class folders of WAV files, a .csv / .jsonl list of WAV paths and labels, or 'espeak' (synthesised spoken words)",
  schema,
  async load(options, ctx) {
    const rate = options.audio.sampleRate;
    if (ctx.source === 'espeak') {
      const clips = await synthesizeSpokenWords(options.espeak);
      const { labels, classNames } = encodeLabels(clips.map((c) => c.word), 'espeak');
      const speakers = new Set(clips.map((c) => c.speaker)).size;
      return {
        items: clips.map((c) => readClip(c.path, rate)),
        labels,
        classNames,
        description: `${clips.length} spoken words synthesised by espeak-ng (${classNames?.length ?? 0} words, ${speakers} voices)`,
      };
    }
    if (ctx.source === 'auto') throw new ConfigError("data.source: give a folder of class folders of WAV files or a .csv / .jsonl list for data.kind 'audio', or 'espeak'");
    const items = listAudio(ctx.source, { pathField: options.pathField, labelField: options.labelField });
    const { labels, classNames } = encodeLabels(items.map((i) => i.label), ctx.source);
    return { items: items.map((i) => readClip(i.path, rate)), labels, classNames, description: `${items.length} WAV files from ${ctx.source}` };
  },
  fit: (options) => preprocessing(new AudioPreprocessor(options.audio as AudioPreprocessorOptions)),
  restore(saved) {
    if (saved === null || typeof saved !== 'object') throw new DataError('audio: preprocessing.json must hold the AudioPreprocessor settings');
    return preprocessing(AudioPreprocessor.fromConfig(saved as AudioPreprocessorOptions));
  },
  defaultModel: () => ({ type: 'audio-convnet' }),
  readInputs: (path, options) => listAudioInputs(path, { pathField: options.pathField }).map((f) => readClip(f, options.audio.sampleRate)),
  parseInputs(values, field) {
    return values.map((v, i) => {
      const where = `${field}${values.length > 1 ? `[${i}]` : ''}`;
      if (typeof v === 'string') {
        const b64 = v.replace(/^data:[^,]*;base64,/, '');
        return { ...decodeWav(new Uint8Array(Buffer.from(b64, 'base64')), where), name: where };
      }
      const o = v as { samples?: unknown; sampleRate?: unknown } | null;
      if (o === null || typeof o !== 'object' || !Array.isArray(o.samples) || typeof o.sampleRate !== 'number' || !(o.sampleRate > 0)) {
        throw new DataError(`${where} must be a base64 WAV file (a string) or { "samples": [...], "sampleRate": Hz }`);
      }
      if (o.samples.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw new DataError(`${where}.samples must be finite numbers`);
      return { samples: Float32Array.from(o.samples as number[]), sampleRate: o.sampleRate, name: where };
    });
  },
});

registerModelType({
  type: 'audio-convnet',
  schema: audioConvnetSchema,
  build: (o, input, seed) => {
    if (input.shape.length !== 3) throw new ConfigError(`model type 'audio-convnet' needs spectrogram inputs [frames, bins, 1]; these inputs have shape [${input.shape}]`);
    return audioConvnet({ ...o, inputShape: input.shape, seed });
  },
});
