import { isTriplets, type IndexTuple } from '../core/indices.js';

/**
 * PML `convert_to_weights`: a weight per batch element, its number of occurrences in the miner tuple
 * divided by the largest count (elements never mentioned get 0); every weight is 1 without a tuple or
 * with an empty one. With `anchorsOnly` (a reference set is in use) only the anchors are counted.
 */
export function minerWeights(indices: IndexTuple | undefined, n: number, anchorsOnly = false): Float32Array {
  const w = new Float32Array(n);
  const arrays = indices === undefined ? []
    : isTriplets(indices)
      ? (anchorsOnly ? [indices.anchors] : [indices.anchors, indices.positives, indices.negatives])
      : (anchorsOnly ? [indices.anchors1, indices.anchors2] : [indices.anchors1, indices.positives, indices.anchors2, indices.negatives]);
  const all = indices === undefined ? [] : Object.values(indices) as Int32Array[];
  if (all.every((a) => a.length === 0)) return w.fill(1);
  for (const arr of arrays) for (const i of arr) w[i] += 1;
  let max = 0;
  for (const v of w) max = Math.max(max, v);
  if (max > 0) for (let i = 0; i < n; i++) w[i] /= max;
  return w;
}
