/**
 * Index-tuple handling shared by the losses, following pytorch-metric-learning's
 * `loss_and_miner_utils` (`convert_to_pairs`, `convert_to_triplets`, `get_random_triplet_indices`).
 */
import * as tf from '@tensorflow/tfjs';
import { ShapeError } from '../core/errors.js';
import {
  allPairs, allTriplets, isPairs, isTriplets, tripletsToPairs,
  type IndexTuple, type PairIndices, type TripletIndices,
} from '../core/indices.js';
import { randInt, type Random } from '../core/random.js';

/**
 * Checks that every index of a miner tuple is in range: anchors index the batch (`nQuery` rows), the
 * others index the reference set (`nRef` rows; the batch itself without one).
 */
export function checkTuple(t: IndexTuple, nQuery: number, nRef: number, owner: string): void {
  const check = (arr: Int32Array, n: number, name: string, len: number): void => {
    if (arr.length !== len) throw new ShapeError(`${owner}: indices.${name} has ${arr.length} entries, expected ${len}`);
    for (let i = 0; i < arr.length; i++) {
      if (arr[i] < 0 || arr[i] >= n || !Number.isInteger(arr[i])) {
        throw new ShapeError(`${owner}: indices.${name}[${i}] = ${arr[i]} is out of range [0, ${n})`);
      }
    }
  };
  if (isTriplets(t)) {
    const n = t.anchors.length;
    check(t.anchors, nQuery, 'anchors', n);
    check(t.positives, nRef, 'positives', n);
    check(t.negatives, nRef, 'negatives', n);
  } else if (isPairs(t)) {
    check(t.anchors1, nQuery, 'anchors1', t.anchors1.length);
    check(t.positives, nRef, 'positives', t.anchors1.length);
    check(t.anchors2, nQuery, 'anchors2', t.anchors2.length);
    check(t.negatives, nRef, 'negatives', t.anchors2.length);
  } else {
    throw new ShapeError(`${owner}: indices must be triplets {anchors, positives, negatives} or pairs {anchors1, positives, anchors2, negatives}`);
  }
}

/**
 * PML `convert_to_pairs`: pairs pass through; each triplet (a, p, n) gives the positive pair (a, p) and
 * the negative pair (a, n); no tuple means every pair of the batch (against the reference set, if any).
 */
export function convertToPairs(indices: IndexTuple | undefined, labels: Int32Array, refLabels?: Int32Array): PairIndices {
  if (indices === undefined) return allPairs(labels, refLabels);
  return isTriplets(indices) ? tripletsToPairs(indices) : indices;
}

/**
 * PML `convert_to_triplets`: triplets pass through; pairs become every (a, p, n) whose positive pair
 * (a, p) and negative pair (a, n) share the anchor, ordered by positive pair then negative pair; no
 * tuple means every triplet (`'all'`) or `k` random ones per anchor.
 */
export function convertToTriplets(
  indices: IndexTuple | undefined,
  labels: Int32Array,
  refLabels: Int32Array | undefined,
  tripletsPerAnchor: 'all' | number,
  random: Random,
): TripletIndices {
  if (indices === undefined) {
    return tripletsPerAnchor === 'all'
      ? allTriplets(labels, refLabels)
      : randomTriplets(labels, refLabels, tripletsPerAnchor, random);
  }
  if (isTriplets(indices)) return indices;
  const negByAnchor = new Map<number, number[]>();
  for (let j = 0; j < indices.anchors2.length; j++) {
    const a = indices.anchors2[j];
    let list = negByAnchor.get(a);
    if (!list) negByAnchor.set(a, (list = []));
    list.push(indices.negatives[j]);
  }
  const a: number[] = [], p: number[] = [], n: number[] = [];
  for (let i = 0; i < indices.anchors1.length; i++) {
    const negs = negByAnchor.get(indices.anchors1[i]);
    if (!negs) continue;
    for (const nj of negs) { a.push(indices.anchors1[i]); p.push(indices.positives[i]); n.push(nj); }
  }
  return { anchors: Int32Array.from(a), positives: Int32Array.from(p), negatives: Int32Array.from(n) };
}

/**
 * PML `get_random_triplet_indices`: for each label (ascending) and each anchor with that label, `k`
 * triplets with a positive drawn uniformly from the other same-label items (with replacement) and a
 * negative drawn uniformly from the different-label items. Labels without a positive or a negative
 * are skipped. With a reference set, positives and negatives come from it and the anchor itself is
 * not excluded.
 */
export function randomTriplets(labels: Int32Array, refLabels: Int32Array | undefined, k: number, random: Random): TripletIndices {
  const ref = refLabels ?? labels;
  const same = refLabels === undefined;
  const a: number[] = [], p: number[] = [], n: number[] = [];
  const unique = [...new Set(labels)].sort((x, y) => x - y);
  for (const label of unique) {
    const pInds: number[] = [], nInds: number[] = [], aInds: number[] = [];
    for (let j = 0; j < ref.length; j++) (ref[j] === label ? pInds : nInds).push(j);
    for (let i = 0; i < labels.length; i++) if (labels[i] === label) aInds.push(i);
    if (pInds.length < (same ? 2 : 1) || nInds.length < 1) continue;
    for (const anchor of aInds) {
      const candidates = same ? pInds.filter((j) => j !== anchor) : pInds;
      for (let t = 0; t < k; t++) {
        a.push(anchor);
        p.push(candidates[randInt(random, candidates.length)]);
        n.push(nInds[randInt(random, nInds.length)]);
      }
    }
  }
  return { anchors: Int32Array.from(a), positives: Int32Array.from(p), negatives: Int32Array.from(n) };
}

/** True when PML's `GenericPairLoss` treats the pairs as empty: every index array has at most one entry. */
export function pairsTooFew(t: PairIndices): boolean {
  return t.anchors1.length <= 1 && t.positives.length <= 1 && t.anchors2.length <= 1 && t.negatives.length <= 1;
}

/** A [nRows, nCols] boolean mask that is true at every (rows[i], cols[i]). */
export function pairMask(rows: Int32Array, cols: Int32Array, nRows: number, nCols: number): tf.Tensor2D {
  const m = new Uint8Array(nRows * nCols);
  for (let i = 0; i < rows.length; i++) m[rows[i] * nCols + cols[i]] = 1;
  return tf.tensor2d(m, [nRows, nCols], 'bool');
}

/** A [nRows, nCols] matrix counting how often each (rows[i], cols[i]) occurs. */
export function pairCounts(rows: Int32Array, cols: Int32Array, nRows: number, nCols: number): Float32Array {
  const m = new Float32Array(nRows * nCols);
  for (let i = 0; i < rows.length; i++) m[rows[i] * nCols + cols[i]] += 1;
  return m;
}
