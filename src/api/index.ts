// api: the Keras-like face (sequential networks) and one-call adapters over your own vectors
export { sequential, loadSequential, SequentialEmbedder } from './sequential.js';
export type { SequentialOptions, CompileOptions, SequentialFitOptions, History } from './sequential.js';
export { fitAdapter } from './adapter.js';
export type { FitAdapterOptions, FitAdapterResult } from './adapter.js';
export type { SamplesLike, ClassLabelsLike } from './inputs.js';
