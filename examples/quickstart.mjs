// The seed's metric-learning loop in a few lines: build the MLP, train it with a metric loss,
// embed two images and compare them. Run from the repository with: node examples/quickstart.mjs
import * as akin from 'akin';

await akin.backend.init();                                        // tfjs-node, else threaded wasm, else cpu
const { test } = await akin.data.loadFashionMnist({ source: 'embedded' });
const data = akin.data.splitByClasses(test, [0, 1, 2, 3, 4]);     // train on classes 0-4
const model = akin.models.mlp({ inputShape: [28, 28, 1] });       // 784 -> 256 (ReLU) -> 128, unit norm
await new akin.train.Trainer().fit({
  model, data, epochs: 2, optimizer: 'adam', learningRate: 1e-3,
  loss: new akin.losses.MultiSimilarityLoss(), miner: new akin.miners.MultiSimilarityMiner(),
});
const { embeddings, dim } = await akin.models.embed(model, data.features.subarray(0, 2 * 784), 2, [28, 28, 1]);
const sim = akin.cosineSimilarity(embeddings.subarray(0, dim), embeddings.subarray(dim));
console.log(`cosine similarity of images 0 and 1 (labels ${data.labels[0]}, ${data.labels[1]}): ${sim.toFixed(3)}`);
