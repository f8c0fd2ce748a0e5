/**
 * Neighbourhood distillation: the embedding network is pulled towards a teacher's neighbourhood
 * structure within each batch. For every image i of the batch the teacher's cosine similarities to
 * the other images j give a target distribution `p_ij = softmax_j(t_ij / temperature)`; the student's
 * cosine similarities `s_ij` give `q_ij = softmax_j(s_ij / temperature)`;
 * the term is the mean over rows of `KL(p_i || q_i)`, the diagonal left out of both.
 *
 * This is similarity-preserving knowledge distillation (Tung & Mori 2019) in the form of parametric
 * t-SNE's neighbourhood matching (van der Maaten 2009). With the input itself as the teacher
 * (`teacher: 'input'`, the cosine of the raw features), it keeps the input-space neighbourhoods of
 * images the metric loss says nothing about, which is what classes never seen in training need; with
 * the network's own initial weights as the teacher it is Learning without Forgetting (Li & Hoiem 2016).
 * The teacher sees the clean images, the student the augmented ones, so the student also learns to be
 * invariant to the augmentation.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { imageAugmentSchema, type ImageAugmentOptions } from '../data/augment.js';

/** Options of the distillation term of `Trainer.fit({ distill })`. */
export interface DistillOptions {
  /** `'input'` (default): cosine similarities of the raw (unaugmented) inputs. Or a frozen network whose embeddings' cosine similarities are the targets. */
  teacher?: 'input' | tf.LayersModel;
  /** Weight of the term in the total loss. Default `1`. */
  weight?: number;
  /** Temperature of both softmaxes (similarities are cosines in [-1, 1]). Default `0.05`. */
  temperature?: number;
  /**
   * Distil on augmented copies of the batch instead (images only): teacher and student both see the
   * same augmented images, drawn separately from the training views. Broadening the inputs the
   * teacher's neighbourhoods are kept on (flips, shifts, erased patches) constrains the network on
   * inputs further from the training classes. Default: none (the student's training views against
   * the teacher on the clean images).
   */
  augment?: ImageAugmentOptions | null;
}

export const distillSchema = z
  .object({
    teacher: z.union([z.literal('input'), z.custom<tf.LayersModel>((v) => v instanceof tf.LayersModel, { message: "must be 'input' or a tf.LayersModel" })]).default('input'),
    weight: z.number().min(0).default(1),
    temperature: z.number().gt(0).max(10).default(0.05),
    augment: imageAugmentSchema.nullable().default(null),
  })
  .strict();

/** Row-normalised cosine similarity matrix of `x` (rows flattened), `[n, n]`. */
export function cosineMatrix(x: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => {
    const flat = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D;
    const unit = tf.div(flat, tf.add(tf.norm(flat, 2, 1, true), 1e-12)) as tf.Tensor2D;
    return tf.matMul(unit, unit, false, true);
  });
}

/**
 * `mean_i KL(softmax(teacher_i / t) || softmax(student_i / t))` over the rows of two `[n, n]`
 * similarity matrices, the diagonal excluded. Pass a teacher computed outside the gradient (a constant).
 */
export function neighbourhoodKl(student: tf.Tensor2D, teacher: tf.Tensor2D, temperature: number): tf.Scalar {
  const n = student.shape[0];
  if (teacher.shape[0] !== n || teacher.shape[1] !== n || student.shape[1] !== n) {
    throw new ConfigError(`distillation: similarity matrices must both be [${n}, ${n}] (got [${student.shape}] and [${teacher.shape}])`);
  }
  return tf.tidy(() => {
    const offDiag = tf.mul(tf.eye(n), -1e9);
    const p = tf.softmax(tf.add(tf.div(teacher, temperature), offDiag));
    const logQ = tf.logSoftmax(tf.add(tf.div(student, temperature), offDiag));
    const logP = tf.log(tf.maximum(p, 1e-30));
    return tf.mean(tf.sum(tf.mul(p, tf.sub(logP, logQ)), 1)) as tf.Scalar;
  });
}

/** A frozen copy of `model` (same architecture and current weights), e.g. the initial network as a teacher. */
export async function frozenCopy(model: tf.LayersModel): Promise<tf.LayersModel> {
  const topology = model.toJSON(null, false) as tf.io.ModelJSON['modelTopology'];
  const copy = await tf.models.modelFromJSON({ modelTopology: topology } as tf.io.ModelJSON);
  const weights = model.getWeights();
  copy.setWeights(weights);
  copy.trainable = false;
  return copy;
}
