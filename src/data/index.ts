// data: public exports
export * from './dataset.js';
export * from './idx.js';
export * from './fashion-mnist.js';
export * from './splits.js';
export { MPerClassSampler } from '../samplers/m-per-class.js';
export type { MPerClassSamplerOptions } from '../samplers/m-per-class.js';
export * from './npy.js';
export * from './csv.js';
export * from './tabular.js';
export * from './vectors.js';
export * from './wav.js';
export * from './audio-features.js';
export * from './audio-dtw.js';
export * from './audio-preprocessor.js';
export * from './audio-dataset.js';
export * from './audio-espeak.js';
export * from './augment.js';
