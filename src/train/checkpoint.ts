import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceDirAtomic, writeFileAtomic, writeJsonAtomic } from '../core/fs.js';
import { DataError } from '../core/errors.js';

/** What a checkpoint holds besides the weights: where training was and what it had seen. */
export interface TrainState {
  /** The last completed epoch (0-based). */
  epoch: number;
  /** Per-epoch logs so far. */
  history: Record<string, number>[];
  /** Best monitored value so far and its epoch (early stopping). */
  best: number | null;
  bestEpoch: number;
  /** Epochs since the best value (early stopping). */
  wait: number;
}

type NamedTensor = { name: string; tensor: tf.Tensor };

interface TensorManifestEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

/** What a checkpoint holds besides the model and its optimiser. */
export interface CheckpointExtras {
  /** A second optimiser, for the loss's own weights (`lossLearningRate`); saved as `loss-optimizer`. */
  lossOptimizer?: tf.Optimizer | null;
  /** Trainable weights outside the model (a loss's proxies, a projection head); saved as `extra-weights`. */
  extraWeights?: tf.Variable[];
}

/**
 * Writes a checkpoint directory atomically: model weights, optimiser state (moments, step count), the
 * weights and optimiser of the loss when it has its own, and the training state. A crash while
 * writing leaves the previous checkpoint intact.
 */
export async function saveCheckpoint(
  dir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  state: TrainState,
  extras: CheckpointExtras = {},
): Promise<void> {
  const modelWeights = model.weights.map((w) => ({ name: w.originalName, tensor: w.read() }));
  const optWeights = await optimizer.getWeights();
  const optimizerState = optWeights.concat(betaPowers(optimizer));
  const lossOptWeights = extras.lossOptimizer ? (await extras.lossOptimizer.getWeights()).concat(betaPowers(extras.lossOptimizer)) : null;
  const extraWeights = (extras.extraWeights ?? []).map((v) => ({ name: v.name, tensor: v as tf.Tensor }));
  await replaceDirAtomic(dir, async (tmp) => {
    await writeTensors(join(tmp, 'model'), modelWeights);
    await writeTensors(join(tmp, 'optimizer'), optimizerState);
    if (lossOptWeights) await writeTensors(join(tmp, 'loss-optimizer'), lossOptWeights);
    if (extraWeights.length > 0) await writeTensors(join(tmp, 'extra-weights'), extraWeights);
    writeJsonAtomic(join(tmp, 'state.json'), state);
  });
}

/** True when `dir` holds a complete checkpoint. */
export function hasCheckpoint(dir: string): boolean {
  return ['model.json', 'model.bin', 'optimizer.json', 'optimizer.bin', 'state.json'].every((f) => existsSync(join(dir, f)));
}

/**
 * Restores weights and optimiser state in place (and the extras saved with them) and returns the
 * training state.
 */
export async function loadCheckpoint(
  dir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  extras: CheckpointExtras = {},
): Promise<TrainState> {
  if (!hasCheckpoint(dir)) throw new DataError(`no complete checkpoint in ${dir}`);
  const modelTensors = readTensors(join(dir, 'model'));
  if (modelTensors.length !== model.weights.length) {
    throw new DataError(`checkpoint ${dir} has ${modelTensors.length} weights but the model has ${model.weights.length}: was it made with another model config?`);
  }
  model.weights.forEach((w, i) => {
    const t = modelTensors[i].tensor;
    if (t.shape.join('x') !== w.shape.join('x')) {
      throw new DataError(`checkpoint ${dir}: weight ${i} has shape [${t.shape}] but the model expects [${w.shape}]`);
    }
  });
  model.setWeights(modelTensors.map((t) => t.tensor));
  modelTensors.forEach((t) => t.tensor.dispose());
  await restoreOptimizer(optimizer, readTensors(join(dir, 'optimizer')));
  if (extras.lossOptimizer && existsSync(join(dir, 'loss-optimizer.json'))) {
    await restoreOptimizer(extras.lossOptimizer, readTensors(join(dir, 'loss-optimizer')));
  }
  const vars = extras.extraWeights ?? [];
  if (vars.length > 0 && existsSync(join(dir, 'extra-weights.json'))) {
    const saved = readTensors(join(dir, 'extra-weights'));
    if (saved.length !== vars.length || saved.some((t, i) => t.tensor.shape.join('x') !== vars[i].shape.join('x'))) {
      saved.forEach((t) => t.tensor.dispose());
      throw new DataError(`checkpoint ${dir}: the saved weights outside the model (loss, projection head) do not match (${vars.map((v) => `[${v.shape}]`).join(', ')}): was it made with another loss or head config?`);
    }
    vars.forEach((v, i) => v.assign(saved[i].tensor));
    saved.forEach((t) => t.tensor.dispose());
  }
  return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as TrainState;
}

/** Names of the running powers of Adam's betas, saved after the optimiser's own weights. */
const BETA_POWERS = ['akin/adam/accBeta1', 'akin/adam/accBeta2'];

/** Adam-family optimisers keep beta1^t and beta2^t as running products outside `getWeights`. */
function betaPowerVariables(optimizer: tf.Optimizer): [tf.Variable, tf.Variable] | null {
  const o = optimizer as unknown as { accBeta1?: unknown; accBeta2?: unknown };
  return o.accBeta1 instanceof tf.Variable && o.accBeta2 instanceof tf.Variable ? [o.accBeta1, o.accBeta2] : null;
}

/**
 * The running products beta^t as tensors to save. tfjs's `setWeights` recomputes them as
 * `pow(beta, t + 1)`, which differs from the product in the last float32 bit, so a resumed run would
 * drift from an uninterrupted one; saving them makes resuming exact.
 */
function betaPowers(optimizer: tf.Optimizer): NamedTensor[] {
  const v = betaPowerVariables(optimizer);
  return v ? v.map((t, i) => ({ name: BETA_POWERS[i], tensor: t as tf.Tensor })) : [];
}

/** Restores an optimiser's weights, and Adam's saved beta powers when the checkpoint has them. */
async function restoreOptimizer(optimizer: tf.Optimizer, saved: NamedTensor[]): Promise<void> {
  const powers = saved.filter((t) => BETA_POWERS.includes(t.name));
  await optimizer.setWeights(saved.filter((t) => !BETA_POWERS.includes(t.name)));
  const v = betaPowerVariables(optimizer);
  if (v && powers.length === 2) BETA_POWERS.forEach((name, i) => v[i].assign(powers.find((t) => t.name === name)!.tensor));
  powers.forEach((t) => t.tensor.dispose());
}

async function writeTensors(base: string, tensors: NamedTensor[]): Promise<void> {
  const manifest: TensorManifestEntry[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const { name, tensor } of tensors) {
    const data = Float32Array.from(await tensor.data());
    manifest.push({ name, shape: tensor.shape, offset, length: data.length });
    chunks.push(data);
    offset += data.length;
  }
  const all = new Float32Array(offset);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  writeFileAtomic(`${base}.bin`, new Uint8Array(all.buffer));
  writeJsonAtomic(`${base}.json`, manifest);
}

function readTensors(base: string): NamedTensor[] {
  const manifest = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as TensorManifestEntry[];
  const bin = readFileSync(`${base}.bin`);
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  return manifest.map((m) => ({ name: m.name, tensor: tf.tensor(all.subarray(m.offset, m.offset + m.length), m.shape) }));
}
