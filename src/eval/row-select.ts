import type { ScoreBlock } from './score-blocks.js';

/** Runs of neighbouring columns sampled per row to estimate a selection threshold, and their length. */
const SAMPLE_RUNS = 64;
const SAMPLE_RUN = 16;
/** Most buckets of the counting pass. */
const MAX_BUCKETS = 1 << 16;
/** Digit width of the radix passes that finish a sort whose buckets were crowded. */
const RADIX_BITS = 11;

/**
 * Exact top-m selection on the rows of a {@link ScoreBlock}, without sorting the whole row:
 *
 * 1. a threshold is estimated from a sample of the row (short runs of columns, evenly spaced), set
 *    low enough that at least m scores reach it with overwhelming probability (if fewer do, the
 *    whole row is taken instead);
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
  private readonly keys: Int32Array;
  private readonly vals: Float32Array;
  private readonly cand2: Int32Array;
  private readonly keys2: Int32Array;
  private readonly sample = new Float32Array(SAMPLE_RUNS * SAMPLE_RUN);
  /** First column, segment and offset in the segment of each sample run; the layout they are for. */
  private readonly runCol = new Int32Array(SAMPLE_RUNS);
  private readonly runSeg = new Int32Array(SAMPLE_RUNS);
  private readonly runOff = new Int32Array(SAMPLE_RUNS);
  private runLength = SAMPLE_RUN;
  private layout = [0, 0, 0];
  private readonly counts = new Int32Array(MAX_BUCKETS);
  /** Range of the collected scores (NaN aside), and whether a NaN was collected. */
  private lo = 0;
  private hi = 0;
  private nan = false;

  /** A selector for rows of `columns` scores. */
  constructor(readonly columns: number) {
    this.cand = new Int32Array(columns);
    this.keys = new Int32Array(columns);
    this.vals = new Float32Array(columns);
    this.cand2 = new Int32Array(columns);
    this.keys2 = new Int32Array(columns);
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
    const runs = Math.min(SAMPLE_RUNS, Math.floor(nr / (16 * SAMPLE_RUN)));
    if (runs < 8 || 4 * m >= available) return null;
    const segs = block.segments;
    if (segs.length !== this.layout[0] || segs[0].width !== this.layout[1] || runs !== this.layout[2]) this.placeSample(segs, runs);
    const { sample, runSeg, runOff, runCol, runLength } = this;
    let ns = 0;
    for (let t = 0; t < runs; t++) {
      const seg = segs[runSeg[t]];
      const from = row * seg.width + runOff[t];
      const skip = exclude - runCol[t];
      for (let i = 0; i < runLength; i++) if (i !== skip) sample[ns++] = seg.values[from + i];
    }
    // The count of sampled scores above the m-th best is about Binomial(ns, m / available) (runs of
    // neighbouring columns make it vary somewhat more: half the sample is counted): ask for the
    // sample's rank a few standard deviations further down.
    const p = m / available;
    const rank = Math.ceil(p * ns + 3 * Math.sqrt(2 * ns * p * (1 - p)) + 2);
    if (rank >= ns) return null;
    return nthLargest(sample, ns, rank);
  }

  /**
   * Places `runs` runs of neighbouring columns evenly over the row (reading a few cache lines instead
   * of one per sampled score), each within one segment, for blocks split into segments like `segs`.
   */
  private placeSample(segs: ScoreBlock['segments'], runs: number): void {
    const nr = this.columns;
    this.runLength = segs.reduce((w, s) => Math.min(w, s.width), SAMPLE_RUN);
    let g = 0;
    for (let t = 0; t < runs; t++) {
      let c = Math.floor(((t + 0.5) * nr) / runs);
      while (c >= segs[g].column + segs[g].width) g++;
      c = Math.min(c, segs[g].column + segs[g].width - this.runLength);
      this.runCol[t] = c;
      this.runSeg[t] = g;
      this.runOff[t] = c - segs[g].column;
    }
    this.layout = [segs.length, segs[0].width, runs];
  }

  /**
   * Collects the columns scoring >= `t` (every column when `t` is null) with their scores and keys,
   * in column order, and notes the scores' range.
   */
  private collect(block: ScoreBlock, row: number, exclude: number, t: number | null): number {
    const { cand, keys, vals } = this;
    let n = 0, lo = Infinity, hi = -Infinity, nan = false;
    for (const { values, bits, column, width } of block.segments) {
      const base = row * width, end = base + width;
      const from = n;
      if (t === null) {
        for (let p = base; p < end; p++) cand[n++] = p;
      } else {
        // Branch-free: always write, advance only past a hit (a threshold passed by a few percent of
        // the row would mispredict a branch too often). Positions, not columns: a plain index is faster.
        for (let p = base; p < end; p++) {
          cand[n] = p;
          n += +(values[p] >= t);
        }
      }
      let w = from;
      const shift = column - base, skip = exclude - shift;
      for (let i = from; i < n; i++) {
        const p = cand[i];
        if (p === skip) continue;
        const v = values[p];
        cand[w] = p + shift;
        vals[w] = v;
        if (v === v) {
          keys[w] = orderKey(bits[p]);
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        } else {
          keys[w] = NAN_KEY;
          nan = true;
        }
        w++;
      }
      n = w;
    }
    this.lo = lo;
    this.hi = hi;
    this.nan = nan;
    return n;
  }

  /**
   * Stable sort by key, descending (so ties keep column order), of as many of the first n candidates
   * as it takes to have the best m first. One counting pass places them in buckets of equal width
   * in score (about two per candidate; only the buckets that hold the best m are kept), insertion
   * sort then has little left to do; if it has much (scores crowded into a few buckets), an LSD
   * radix sort on the keys finishes. Returns the arrays holding the result.
   */
  private sortDescending(n: number, m: number): [Int32Array, Int32Array] {
    let sk = this.keys, si = this.cand, dk = this.keys2, di = this.cand2;
    const { vals, counts, lo, hi } = this;
    if (n < 2 || (hi === lo && !this.nan)) return [si, sk]; // all tie: column order
    if (!this.nan && hi - lo < Infinity) {
      const top = Math.min(counts.length, 2 * n) - 1;
      const scale = (top + 1) / (hi - lo);
      counts.fill(0, 0, top + 1);
      // The bucket of v is min(top, trunc((hi - v) * scale)): monotone in v, better scores first.
      for (let j = 0; j < n; j++) {
        const d = ((hi - vals[j]) * scale) | 0;
        counts[d < top ? d : top]++;
      }
      let sum = 0, cut = top + 1;
      for (let d = 0; d <= top; d++) {
        const c = counts[d];
        counts[d] = sum;
        if (sum >= m && cut > top) cut = d; // buckets from here on hold none of the best m
        sum += c;
      }
      const placed = cut > top ? n : counts[cut];
      for (let j = 0; j < n; j++) {
        let d = ((hi - vals[j]) * scale) | 0;
        if (d > top) d = top;
        if (d >= cut) continue;
        const at = counts[d]++;
        dk[at] = sk[j];
        di[at] = si[j];
      }
      if (insertionSort(dk, di, placed, 8 * placed + 64)) return [di, dk];
      // Crowded buckets: a full LSD radix sort of the (partly sorted) keys finishes.
      n = placed;
      [sk, dk] = [dk, sk];
      [si, di] = [di, si];
    }
    // Stable LSD radix sort on the keys (also when NaN was collected or the range is not finite).
    let kLo = 0x7fffffff, kHi = -0x80000000;
    for (let j = 0; j < n; j++) {
      if (sk[j] < kLo) kLo = sk[j];
      if (sk[j] > kHi) kHi = sk[j];
    }
    const size = 1 << RADIX_BITS, mask = size - 1;
    const spread = 32 - Math.clz32(kHi - kLo);
    for (let s = 0; s < spread; s += RADIX_BITS) {
      counts.fill(0, 0, size);
      for (let j = 0; j < n; j++) counts[mask - (((sk[j] - kLo) >>> s) & mask)]++;
      let sum = 0;
      for (let d = 0; d < size; d++) {
        const c = counts[d];
        counts[d] = sum;
        sum += c;
      }
      for (let j = 0; j < n; j++) {
        const at = counts[mask - (((sk[j] - kLo) >>> s) & mask)]++;
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
function insertionSort(keys: Int32Array, idx: Int32Array, n: number, budget: number): boolean {
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

/** Key of NaN: below every number's. */
const NAN_KEY = -0x80000000;

/**
 * A signed int32 key that orders float32 bit patterns as their values (larger value, larger key):
 * positive patterns keep their bits, negative ones flip all but the sign bit; -0 (key -1) is mapped to
 * +0's key 0 so that the two tie.
 */
function orderKey(b: number): number {
  const k = b ^ ((b >> 31) & 0x7fffffff);
  return k === -1 ? 0 : k;
}

/** The float32 bit pattern of a key from {@link orderKey} (NaN for the NaN key). */
function keyToBits(k: number): number {
  return k === NAN_KEY ? 0x7fc00000 : k ^ ((k >> 31) & 0x7fffffff);
}
