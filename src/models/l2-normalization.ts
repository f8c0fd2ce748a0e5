import * as tf from '@tensorflow/tfjs';
import { l2NormalizeRows } from '../backend/fused.js';

/**
 * A Keras-style layer that scales each row to unit L2 norm, so that dot products between embeddings are
 * cosine similarities. Serialisable: saved models that contain it load again with `loadModel`.
 */
export class L2Normalization extends tf.layers.Layer {
  static readonly className = 'L2Normalization';
  /** Floor on the norm, so that an all-zero row maps to zero instead of NaN. */
  readonly epsilon: number;

  constructor(args: { epsilon?: number; name?: string } = {}) {
    super({ name: args.name });
    this.epsilon = args.epsilon ?? 1e-12;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return l2NormalizeRows(Array.isArray(inputs) ? inputs[0] : inputs, this.epsilon);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

tf.serialization.registerClass(L2Normalization);
