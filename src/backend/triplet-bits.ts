/**
 * Triplets held as one bit per candidate (anchor, positive, negative) instead of three index lists: a
 * semihard miner keeps ~670k of 3M candidates at batch 1024, and three fresh Int32Arrays of that length
 * cost more to allocate and fill than the mining itself. Losses read the bits directly; the index lists
 * are built only when asked for.
 *
 * Layout: anchors in order; for anchor i, its positives `pos(i)` (same label, not i itself when the
 * reference set is the batch) and negatives `neg(i)` (other label), both ascending; for each positive in
 * turn, `ceil(|neg(i)| / 32)` words whose bit k says whether (i, pos[q], neg[k]) is kept. Walking the bits
 * in this order gives PML's row-major (anchor, positive, negative) order.
 */
export interface TripletBits {
  /** The kept-candidate bits, in the layout above. */
  bits: Uint32Array;
  /** Labels of the anchors (the batch). */
  labels: Int32Array;
  /** Labels of the reference set (the batch itself when `self`). */
  refLabels: Int32Array;
  /** True when the reference set is the batch (an anchor is not its own positive). */
  self: boolean;
  /** The number of kept triplets (set bits). */
  count: number;
}

/**
 * Fills `pos` and `neg` with the positives and negatives of anchor i (ascending) and returns their counts.
 * The arrays must hold `refLabels.length` entries.
 */
export function anchorLists(t: Pick<TripletBits, 'labels' | 'refLabels' | 'self'>, i: number, pos: Int32Array, neg: Int32Array): [number, number] {
  const label = t.labels[i];
  const ref = t.refLabels;
  let nPos = 0, nNeg = 0;
  for (let j = 0; j < ref.length; j++) {
    if (ref[j] !== label) neg[nNeg++] = j;
    else if (!(t.self && i === j)) pos[nPos++] = j;
  }
  return [nPos, nNeg];
}

/** Words the layout needs for these labels. */
export function tripletBitsWords(labels: Int32Array, refLabels: Int32Array, self: boolean): number {
  const pos = new Int32Array(refLabels.length), neg = new Int32Array(refLabels.length);
  let words = 0;
  for (let i = 0; i < labels.length; i++) {
    const [nPos, nNeg] = anchorLists({ labels, refLabels, self }, i, pos, neg);
    words += nPos * ((nNeg + 31) >>> 5);
  }
  return words;
}

/** Calls `visit(a, p, n)` for every kept triplet, in order (for index lists; kernels inline the walk). */
export function forEachTriplet(t: TripletBits, visit: (a: number, p: number, n: number) => void): void {
  const m = t.refLabels.length;
  const pos = new Int32Array(m), neg = new Int32Array(m);
  let w = 0;
  for (let i = 0; i < t.labels.length; i++) {
    const [nPos, nNeg] = anchorLists(t, i, pos, neg);
    const words = (nNeg + 31) >>> 5;
    for (let q = 0; q < nPos; q++, w += words) {
      for (let k = 0; k < words; k++) {
        let word = t.bits[w + k];
        while (word !== 0) {
          const b = 31 - Math.clz32(word & -word);
          word &= word - 1;
          visit(i, pos[q], neg[(k << 5) + b]);
        }
      }
    }
  }
}

/** The kept triplets as index lists. */
export function tripletLists(t: TripletBits): { anchors: Int32Array; positives: Int32Array; negatives: Int32Array } {
  const anchors = new Int32Array(t.count), positives = new Int32Array(t.count), negatives = new Int32Array(t.count);
  let len = 0;
  forEachTriplet(t, (a, p, n) => {
    anchors[len] = a;
    positives[len] = p;
    negatives[len++] = n;
  });
  return { anchors, positives, negatives };
}

type Lists = { anchors: Int32Array; positives: Int32Array; negatives: Int32Array };
const bitsOf = new WeakMap<object, TripletBits>();

/**
 * A triplet tuple (`{ anchors, positives, negatives }`) backed by `t`: the index lists are built on first
 * access. Until then {@link tripletBitsOf} hands the bits to losses that read them directly; after it
 * (the lists may have been changed in place) or after a list is replaced, it returns undefined.
 */
export function compactTriplets(t: TripletBits): Lists {
  const out = {} as Lists;
  let lists: Lists | null = null;
  const settle = (key: keyof Lists, value?: Int32Array): void => {
    lists ??= tripletLists(t);
    bitsOf.delete(out);
    for (const k of ['anchors', 'positives', 'negatives'] as const) {
      Object.defineProperty(out, k, { value: k === key && value !== undefined ? value : lists[k], writable: true, enumerable: true, configurable: true });
    }
  };
  for (const key of ['anchors', 'positives', 'negatives'] as const) {
    Object.defineProperty(out, key, {
      get: () => {
        settle(key);
        return out[key];
      },
      set: (v: Int32Array) => settle(key, v),
      enumerable: true,
      configurable: true,
    });
  }
  bitsOf.set(out, t);
  return out;
}

/** The bits behind a tuple from {@link compactTriplets} whose lists were never read, else undefined. */
export function tripletBitsOf(tuple: object): TripletBits | undefined {
  return bitsOf.get(tuple);
}
