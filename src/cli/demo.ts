import type { RunConfigInput } from '../pipeline/config.js';

/**
 * The demo's default run: the seed MLP (784 -> 256 ReLU -> 128, unit-norm) trained on Fashion-MNIST
 * classes 0-4 of the test split embedded in the package, evaluated on held-out images of those
 * classes (seen) and on classes 5-9 (unseen).
 */
export const DEMO_CONFIG: RunConfigInput = {
  name: 'demo',
  seed: 0,
  data: {
    dataset: 'fashion-mnist',
    source: 'embedded',
    trainClasses: [0, 1, 2, 3, 4],
    testClasses: [5, 6, 7, 8, 9],
    seenHoldout: 0.2,
    validation: 0.1,
  },
  model: { type: 'mlp', hidden: [256], embeddingDim: 128, activation: 'relu', normalize: true },
  loss: { className: 'ContrastiveLoss', config: { posMargin: 0, negMargin: 1 } },
  miner: null,
  optimizer: { name: 'adam', learningRate: 1e-3 },
  batchSize: 100,
  m: 20,
  epochs: 15,
  earlyStopping: { monitor: 'val_mapAtR', patience: 3, minDelta: 1e-4 },
};
