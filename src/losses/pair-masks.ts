/**
 * Pairs as [nQuery, nRef] masks instead of index lists: a batch of 1024 has about a million negative
 * pairs, which cost far more to enumerate, upload and gather than to mark in one boolean matrix.
 */
import type { PairIndices } from '../core/indices.js';
import { pairMasks, type PairMasks } from '../backend/fused.js';
import { pairMask } from './tuples.js';

export type { PairMasks };

/** How many positive and negative pairs {@link allPairMasks} marks, counted per label (no enumeration). */
export function countPairs(labels: Int32Array, refLabels?: Int32Array): { numPos: number; numNeg: number } {
  const ref = refLabels ?? labels;
  const perLabel = new Map<number, number>();
  for (let j = 0; j < ref.length; j++) perLabel.set(ref[j], (perLabel.get(ref[j]) ?? 0) + 1);
  let numPos = 0;
  for (let i = 0; i < labels.length; i++) numPos += perLabel.get(labels[i]) ?? 0;
  if (refLabels === undefined) numPos -= labels.length;
  const numNeg = labels.length * ref.length - numPos - (refLabels === undefined ? labels.length : 0);
  return { numPos, numNeg };
}

/** Every pair of the batch against the reference set (the batch itself, self-pairs excluded, without one). */
export function allPairMasks(labels: Int32Array, refLabels?: Int32Array): PairMasks {
  return pairMasks(labels, refLabels);
}

/** The masks of miner pairs (a pair listed twice is marked once). */
export function masksFromPairs(pairs: PairIndices, nQuery: number, nRef: number): PairMasks {
  return {
    pos: pairMask(pairs.anchors1, pairs.positives, nQuery, nRef),
    neg: pairMask(pairs.anchors2, pairs.negatives, nQuery, nRef),
  };
}

/**
 * The positive pairs of `labels` against `refLabels` (the batch, self-pairs excluded, without one), in
 * row-major order: the `anchors1` / `positives` of `allPairs`, without enumerating the negatives.
 */
export function positivePairs(labels: Int32Array, refLabels?: Int32Array): { anchors: Int32Array; positives: Int32Array } {
  const ref = refLabels ?? labels;
  const self = refLabels === undefined;
  const members = new Map<number, number[]>();
  for (let j = 0; j < ref.length; j++) {
    let list = members.get(ref[j]);
    if (!list) members.set(ref[j], (list = []));
    list.push(j);
  }
  const { numPos } = countPairs(labels, refLabels);
  const anchors = new Int32Array(numPos);
  const positives = new Int32Array(numPos);
  let k = 0;
  for (let i = 0; i < labels.length; i++) {
    for (const j of members.get(labels[i]) ?? []) {
      if (self && j === i) continue;
      anchors[k] = i;
      positives[k++] = j;
    }
  }
  return { anchors, positives };
}
