/**
 * Index tuples: what miners hand to losses. All arrays index rows of the batch (anchors) and of the
 * reference set (positives / negatives; the batch itself when there is no separate reference set).
 */

/** Triplets (anchor, positive, negative): `anchors[i]`, `positives[i]`, `negatives[i]` form triplet i. */
export interface TripletIndices {
  anchors: Int32Array;
  positives: Int32Array;
  negatives: Int32Array;
}

/** Positive pairs (anchors1[i], positives[i]) and negative pairs (anchors2[j], negatives[j]). */
export interface PairIndices {
  anchors1: Int32Array;
  positives: Int32Array;
  anchors2: Int32Array;
  negatives: Int32Array;
}

export type IndexTuple = TripletIndices | PairIndices;

export function isTriplets(t: IndexTuple): t is TripletIndices {
  return (t as TripletIndices).anchors !== undefined;
}

export function isPairs(t: IndexTuple): t is PairIndices {
  return (t as PairIndices).anchors1 !== undefined;
}

/** Number of tuples (triplets, or positive + negative pairs). */
export function tupleCount(t: IndexTuple): number {
  return isTriplets(t) ? t.anchors.length : t.anchors1.length + t.anchors2.length;
}

/**
 * Every positive pair (i, j) with labels[i] == refLabels[j] and every negative pair with different
 * labels. When `refLabels` is omitted the reference set is the batch itself and i == j is excluded.
 */
export function allPairs(labels: Int32Array, refLabels?: Int32Array): PairIndices {
  const ref = refLabels ?? labels;
  const same = refLabels === undefined;
  // Two passes (count, then fill typed arrays): a batch of 1024 has a million pairs.
  let nPos = 0;
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < ref.length; j++) if (labels[i] === ref[j] && !(same && i === j)) nPos++;
  }
  const nNeg = labels.length * ref.length - nPos - (same ? labels.length : 0);
  const a1 = new Int32Array(nPos), p = new Int32Array(nPos), a2 = new Int32Array(nNeg), n = new Int32Array(nNeg);
  let u = 0, v = 0;
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < ref.length; j++) {
      if (labels[i] === ref[j]) {
        if (same && i === j) continue;
        a1[u] = i; p[u++] = j;
      } else {
        a2[v] = i; n[v++] = j;
      }
    }
  }
  return { anchors1: a1, positives: p, anchors2: a2, negatives: n };
}

/** Every triplet (a, p, n): p shares a's label (p != a when there is no reference set), n does not. */
export function allTriplets(labels: Int32Array, refLabels?: Int32Array): TripletIndices {
  const ref = refLabels ?? labels;
  const same = refLabels === undefined;
  const a: number[] = [], p: number[] = [], n: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const pos: number[] = [], neg: number[] = [];
    for (let j = 0; j < ref.length; j++) {
      if (labels[i] === ref[j]) { if (!(same && i === j)) pos.push(j); } else neg.push(j);
    }
    for (const pj of pos) for (const nj of neg) { a.push(i); p.push(pj); n.push(nj); }
  }
  return { anchors: Int32Array.from(a), positives: Int32Array.from(p), negatives: Int32Array.from(n) };
}

/** Converts triplets to pairs (each triplet gives one positive and one negative pair), as PML does. */
export function tripletsToPairs(t: TripletIndices): PairIndices {
  return { anchors1: t.anchors, positives: t.positives, anchors2: t.anchors, negatives: t.negatives };
}
