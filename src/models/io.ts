import * as tf from '@tensorflow/tfjs';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { replaceDirAtomic, writeFileAtomic, writeJsonAtomic } from '../core/fs.js';
import { DataError } from '../core/errors.js';
import './l2-normalization.js';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

/**
 * Saves a tfjs-layers model to `dir` as `model.json` (topology + weight manifest) and `weights.bin`,
 * replacing any earlier save atomically. Works on every backend (no tfjs-node needed).
 */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await replaceDirAtomic(dir, async (tmp) => {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = artifacts.weightData ? concatWeightData(artifacts.weightData) : new Uint8Array(0);
        writeFileAtomic(join(tmp, WEIGHTS_BIN), weights);
        writeJsonAtomic(join(tmp, MODEL_JSON), {
          format: 'layers-model',
          generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
          convertedBy: null,
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
        });
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
  });
}

/** Loads a model written by {@link saveModel}. Errors name the missing or broken file. */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const jsonPath = join(dir, MODEL_JSON);
  const binPath = join(dir, WEIGHTS_BIN);
  if (!existsSync(jsonPath)) throw new DataError(`no saved model at ${dir}: ${jsonPath} is missing`);
  if (!existsSync(binPath)) throw new DataError(`saved model at ${dir} is incomplete: ${binPath} is missing`);
  let parsed: { modelTopology: tf.io.ModelArtifacts['modelTopology']; weightsManifest: tf.io.WeightsManifestConfig };
  try {
    parsed = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (e) {
    throw new DataError(`cannot parse ${jsonPath}: ${(e as Error).message}`);
  }
  const bin = readFileSync(binPath);
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  const weightSpecs = parsed.weightsManifest.flatMap((g) => g.weights);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: parsed.modelTopology, weightSpecs, weightData }));
}

function concatWeightData(data: tf.io.WeightData): Uint8Array {
  const parts = Array.isArray(data) ? data : [data];
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), off);
    off += p.byteLength;
  }
  return out;
}
