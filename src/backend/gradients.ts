import * as tf from '@tensorflow/tfjs';

/** `dy` (the gradient of a reduction over `axis`) reshaped with the reduced axes kept as 1s. */
function keptDims(dy: tf.Tensor, shape: number[], axis: number | number[]): tf.Tensor {
  const kept = shape.slice();
  for (const a of tf.util.parseAxisParam(axis, shape)) kept[a] = 1;
  return tf.reshape(dy, kept);
}

let registered = false;

/**
 * Gradients of `Sum` and `Mean` that broadcast `dy` to the input's shape (`tf.broadcastTo`, a `Tile`)
 * instead of multiplying it by `tf.ones(x.shape)`, which tfjs builds on the host, element by element,
 * and uploads on every call (for a 1024 x 1024 sum: a 4 MB array filled in JavaScript, copied, then
 * a broadcasting multiply). The values are the same: `dy * 1` is `dy` and `(dy * 1) / n` is `dy / n`.
 * Global (gradients are not per backend); idempotent.
 */
export function registerReductionGradients(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, mean] of [[tf.Sum, false], [tf.Mean, true]] as const) {
    tf.registerGradient({
      kernelName,
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs) => {
        const [x] = saved;
        const { axis } = attrs as unknown as tf.SumAttrs;
        return {
          x: () => {
            const g = keptDims(dy as tf.Tensor, x.shape, axis);
            const count = tf.util.parseAxisParam(axis, x.shape).reduce((p, a) => p * x.shape[a], 1);
            return tf.broadcastTo(mean ? tf.div(g, count) : tf.cast(g, 'float32'), x.shape);
          },
        };
      },
    });
  }
}
