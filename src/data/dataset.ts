/**
 * An in-memory labelled dataset: `count` samples, each a flat run of `size(shape)` float32 features in
 * `features`, and one integer label each. Images use shape `[height, width, channels]` with values
 * scaled to [0, 1]; plain vectors use `[dim]`.
 */
export interface Dataset {
  features: Float32Array;
  labels: Int32Array;
  count: number;
  /** Shape of one sample, e.g. `[28, 28, 1]` or `[784]`. */
  shape: number[];
  /** Optional names of the label values (index = label). */
  classNames?: string[];
}

/** Number of features per sample. */
export function sampleSize(ds: Pick<Dataset, 'shape'>): number {
  return ds.shape.reduce((a, b) => a * b, 1);
}

/** A new dataset holding the samples at `indices`, in that order. */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const size = sampleSize(ds);
  const features = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i];
    features.set(ds.features.subarray(src * size, (src + 1) * size), i * size);
    labels[i] = ds.labels[src];
  }
  return { features, labels, count: indices.length, shape: ds.shape.slice(), classNames: ds.classNames };
}
