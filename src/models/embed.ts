import * as tf from '@tensorflow/tfjs';

/**
 * Runs `model` over `count` samples stored flat in `features` (each of `shape`), in batches, and
 * returns the embeddings as one flat Float32Array (`count * dim`) plus `dim`. Inference mode
 * (dropout off); every intermediate tensor is disposed.
 */
export async function embed(
  model: tf.LayersModel,
  features: Float32Array,
  count: number,
  shape: number[],
  { batchSize = 1024 }: { batchSize?: number } = {},
): Promise<{ embeddings: Float32Array; dim: number }> {
  const size = shape.reduce((a, b) => a * b, 1);
  const outShape = model.outputs[0].shape;
  const dim = outShape[outShape.length - 1] as number;
  const out = new Float32Array(count * dim);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const y = tf.tidy(() => {
      const x = tf.tensor(features.subarray(start * size, (start + n) * size), [n, ...shape]);
      return model.predict(x) as tf.Tensor;
    });
    out.set(await y.data() as Float32Array, start * dim);
    y.dispose();
  }
  return { embeddings: out, dim };
}
