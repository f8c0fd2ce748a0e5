export { mlp } from './mlp.js';
export type { MlpOptions } from './mlp.js';
export { convnet } from './convnet.js';
export type { ConvnetOptions } from './convnet.js';
export { L2Normalization } from './l2-normalization.js';
export { saveModel, loadModel } from './io.js';
export { embed } from './embed.js';
export { adapter } from './adapter.js';
export type { AdapterOptions } from './adapter.js';
