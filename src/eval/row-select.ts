import type { ScoreBlock } from './score-blocks.js';

/** Scores sampled per row to estimate a selection threshold. */
const SAMPLE = 1024;
/** Most leading bits bucketed at once (a counting array of 2^16 entries). */
const BUCKET_BITS = 16;
/** Digit width of the radix passes that finish a sort whose buckets were crowded. */
const RADIX_BITS = 11;

/**
 * Exact top-m selection on the rows of a {@link ScoreBlock}, without sorting the whole row:
 *
 * 1. a threshold is estimated from an evenly spaced sample of the row (set low enough that at least
 *    m scores reach it with overwhelming probability; if fewer do, the whole row is taken instead);
 * 2. one pass collects the columns whose score reaches the threshold;
 * 3. only those are ordered (a bucket pass on order-preserving integer keys of the float32 scores,
 *    then insertion sort), and the first m are kept.
 *
 * The order is larger score first, and the lower column on ties (`-0` and `+0` tie), the same as a
 * full sort by (score desc, column asc) gives. Work per row is one pass over the row plus a sort of
 * about m + O(sqrt(m)) scores; buffers are allocated once per selector.
 */
export class RowSelector {
  private readonly cand: Int32Array;
  private readonly keys: Uint32Array;
  private readonly cand2: Int32Array;
  private readonly keys2: Uint32Array;
  private readonly sample = new Float32Array(SAMPLE);
  private readonly counts = new Int32Array(1 << BUCKET_BITS);

  /** A selector for rows of `columns` scores. */
  constructor(readonly columns: number) {
    this.cand = new Int32Array(columns);
    this.keys = new Uint32Array(columns);
    this.cand2 = new Int32Array(columns);
    this.keys2 = new Uint32Array(columns);
  }

  /**
   * Writes the `m` best columns of block row `row` to `out[offset..offset+m)`, best first; column
   * `exclude` (or none, with -1) is skipped. With `scoreBits`, also writes each selected score's
   * float32 bit pattern there at the same positions (an Int32Array view of a Float32Array).
   * `m` must be between 1 and the number of columns left after the exclusion.
   */
  select(block: ScoreBlock, row: number, exclude: number, m: number, out: Int32Array, offset = 0, scoreBits?: Int32Array): void {
    let n = this.collect(block, row, exclude, this.threshold(block, row, exclude, m));
    if (n < m) n = this.collect(block, row, exclude, null);
    const [cand, keys] = this.sortDescending(n, m);
    for (let j = 0; j < m; j++) out[offset + j] = cand[j];
    if (scoreBits) for (let j = 0; j < m; j++) scoreBits[offset + j] = keyToBits(keys[j]);
  }

  /** A score that at least `m` columns of the row very probably reach, or null to take the whole row. */
  private threshold(block: ScoreBlock, row: number, exclude: number, m: number): number | null {
    const nr = this.columns;
    const available = nr - (exclude >= 0 && exclude < nr ? 1 : 0);
    const s = Math.min(SAMPLE, Math.floor(nr / 16));
    if (s < 64 || 4 * m >= available) return null;
    const segs = block.segments;
    let ns = 0, g = 0;
    for (let t = 0; t < s; t++) {
      const c = Math.floor(((t + 0.5) * nr) / s);
      if (c === exclude) continue;
      while (c >= segs[g].column + segs[g].width) g++;
      const seg = segs[g];
      this.sample[ns++] = seg.values[row * seg.width + c - seg.column];
    }
    // The count of sampled scores above the m-th best is about Binomial(ns, m / available): ask for
    // the sample's rank a few standard deviations further down.
    const p = m / available;
    const rank = Math.ceil(p * ns + 3 * Math.sqrt(ns * p * (1 - p)) + 2);
    if (rank >= ns) return null;
    return nthLargest(this.sample, ns, rank);
  }

  /** Collects the columns scoring >= `t` (every column when `t` is null) with their keys, in column order. */
  private collect(block: ScoreBlock, row: number, exclude: number, t: number | null): number {
    const { cand, keys } = this;
    let n = 0;
    for (const { values, bits, column, width } of block.segments) {
      const base = row * width;
      const from = n;
      if (t === null) {
        for (let j = 0; j < width; j++) cand[n++] = j;
      } else {
        // Branch-free: always write, advance only past a hit (a threshold passed by a few percent of
        // the row would mispredict a branch too often).
        for (let j = 0; j < width; j++) {
          cand[n] = j;
          n += +(values[base + j] >= t);
        }
      }
      let w = from;
      for (let i = from; i < n; i++) {
        const j = cand[i];
        if (column + j === exclude) continue;
        cand[w] = column + j;
        keys[w] = values[base + j] === values[base + j] ? orderKey(bits[base + j]) : 0; // NaN last
        w++;
      }
      n = w;
    }
    return n;
  }

  /**
   * Stable sort by key, descending (so ties keep column order), of as many of the first n candidates
   * as it takes to have the best m first. One counting pass on the leading bits in which the keys
   * differ (about one bucket per candidate) places the buckets that hold the best m, insertion sort
   * then has little left to do; if it has much (keys crowded into a few buckets), an LSD radix sort
   * finishes. Returns the arrays holding the result.
   */
  private sortDescending(n: number, m: number): [Int32Array, Uint32Array] {
    let sk = this.keys, si = this.cand, dk = this.keys2, di = this.cand2;
    if (n < 2) return [si, sk];
    let lo = 0xffffffff, hi = 0;
    for (let j = 0; j < n; j++) {
      const k = sk[j];
      if (k < lo) lo = k;
      if (k > hi) hi = k;
    }
    if (lo === hi) return [si, sk];
    const spread = 32 - Math.clz32(hi - lo);
    const counts = this.counts;
    const width = Math.min(spread, BUCKET_BITS, Math.max(4, 32 - Math.clz32(n)));
    const shift = spread - width, top = (1 << width) - 1;
    counts.fill(0, 0, top + 1);
    for (let j = 0; j < n; j++) counts[top - ((sk[j] - lo) >>> shift)]++;
    let sum = 0, cut = top + 1;
    for (let d = 0; d <= top; d++) {
      const c = counts[d];
      counts[d] = sum;
      if (sum >= m && cut > top) cut = d; // buckets from here on hold none of the best m
      sum += c;
    }
    const placed = cut > top ? n : counts[cut];
    for (let j = 0; j < n; j++) {
      const d = top - ((sk[j] - lo) >>> shift);
      if (d >= cut) continue;
      const at = counts[d]++;
      dk[at] = sk[j];
      di[at] = si[j];
    }
    n = placed;
    if (shift === 0 || insertionSort(dk, di, n, 8 * n + 64)) return [di, dk];
    // Crowded buckets: a full LSD radix sort of the (partly sorted) keys; stable, so ties keep their order.
    [sk, dk] = [dk, sk];
    [si, di] = [di, si];
    const size = 1 << RADIX_BITS, mask = size - 1;
    for (let s = 0; s < spread; s += RADIX_BITS) {
      counts.fill(0, 0, size);
      for (let j = 0; j < n; j++) counts[mask - (((sk[j] - lo) >>> s) & mask)]++;
      sum = 0;
      for (let d = 0; d < size; d++) {
        const c = counts[d];
        counts[d] = sum;
        sum += c;
      }
      for (let j = 0; j < n; j++) {
        const at = counts[mask - (((sk[j] - lo) >>> s) & mask)]++;
        dk[at] = sk[j];
        di[at] = si[j];
      }
      [sk, dk] = [dk, sk];
      [si, di] = [di, si];
    }
    return [si, sk];
  }
}

/**
 * Stable insertion sort of `keys[0..n)` descending, moving `idx` along; gives up (returning false,
 * the arrays still a stable permutation of the input) once it has moved more than `budget` entries.
 */
function insertionSort(keys: Uint32Array, idx: Int32Array, n: number, budget: number): boolean {
  let moved = 0;
  for (let j = 1; j < n; j++) {
    const k = keys[j];
    if (keys[j - 1] >= k) continue;
    const c = idx[j];
    let i = j - 1;
    while (i >= 0 && keys[i] < k) {
      keys[i + 1] = keys[i];
      idx[i + 1] = idx[i];
      i--;
    }
    keys[i + 1] = k;
    idx[i + 1] = c;
    moved += j - 1 - i;
    if (moved > budget) return false;
  }
  return true;
}

/**
 * The value of rank `rank` (0 = largest) among `a[0..n)`, by quickselect (reorders `a`). NaN compares
 * false with everything and only makes the result smaller, never larger than the true value.
 */
function nthLargest(a: Float32Array, n: number, rank: number): number {
  let lo = 0, hi = n - 1;
  while (hi > lo) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (rank <= j) hi = j;
    else if (rank >= i) lo = i;
    else break;
  }
  return a[rank];
}

/**
 * An unsigned key that orders float32 bit patterns as their values (larger value, larger key), with
 * -0 mapped to +0's key so that the two tie.
 */
function orderKey(b: number): number {
  const k = (b ^ ((b >> 31) | 0x80000000)) >>> 0;
  return k === 0x7fffffff ? 0x80000000 : k;
}

/** The float32 bit pattern of a key from {@link orderKey}. */
function keyToBits(k: number): number {
  return k >= 0x80000000 ? (k ^ 0x80000000) | 0 : ~k;
}
