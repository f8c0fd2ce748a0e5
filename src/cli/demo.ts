import type { RunConfigInput } from '../pipeline/config.js';

/**
 * The demo's default run: `recipes/mlp-seed-zero-shot.json` (the seed MLP 784 -> 256 ReLU -> 128,
 * unit-norm, behind a 2x2 average-pool front end; contrastive loss through a projection head,
 * distilled towards the untrained network's neighbourhoods) on the Fashion-MNIST test split embedded
 * in the package: trained on classes 0-4 with early stopping on a validation split of those classes,
 * evaluated on held-out images of classes 0-4 (seen) and on classes 5-9 (unseen). The recipe's two
 * epochs over 30,000 images become up to 16 over the ~4,000 embedded training images (about the same
 * number of steps). A test keeps the model, loss and training terms equal to the recipe's.
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
  model: { type: 'mlp', inputPool: 2, hidden: [256], embeddingDim: 128, activation: 'relu', normalize: true },
  projectionHead: { hidden: [512] },
  loss: { className: 'ContrastiveLoss', config: { posMargin: 0, negMargin: 1 } },
  miner: null,
  optimizer: { name: 'adam', learningRate: 3e-4 },
  distill: { teacher: 'initial', weight: 3, temperature: 0.05 },
  batchSize: 256,
  m: 128,
  epochs: 16,
  earlyStopping: { monitor: 'val_mapAtR', patience: 3, minDelta: 1e-4 },
};
