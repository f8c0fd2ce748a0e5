/**
 * akin: deep metric learning for TypeScript.
 *
 * ```ts
 * import * as akin from 'akin';
 * await akin.backend.init();
 * ```
 */
import * as tf from '@tensorflow/tfjs';

/** The single TensorFlow.js instance akin computes with. */
export { tf };
export * as backend from './backend/index.js';
export * as core from './core/index.js';
export * as distances from './distances/index.js';
export * as reducers from './reducers/index.js';
export * as regularizers from './regularizers/index.js';
export * as losses from './losses/index.js';
export * as miners from './miners/index.js';
export * as samplers from './samplers/index.js';
export * as data from './data/index.js';
export * as models from './models/index.js';
export * as train from './train/index.js';
export * as eval from './eval/index.js';
export * as pipeline from './pipeline/index.js';
export * as search from './search/index.js';
export * as catalogue from './catalogue/index.js';
export { AkinError, ConfigError, DataError, ShapeError } from './core/errors.js';
export { createRandom } from './core/random.js';
export { cosineSimilarity } from './core/similarity.js';
export type { Random } from './core/random.js';
export type { TripletIndices, PairIndices, IndexTuple } from './core/indices.js';
export { sequential, loadSequential, SequentialEmbedder, fitAdapter } from './api/index.js';
export type { SequentialOptions, CompileOptions, SequentialFitOptions, History, FitAdapterOptions, FitAdapterResult } from './api/index.js';
