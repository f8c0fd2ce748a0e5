import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { parseOptions } from '../core/options.js';
import { type Random, createRandom, randInt } from '../core/random.js';
import { type EmbeddingsLike, toHostMatrix } from './embeddings.js';

/** Options of {@link kmeans}. */
export interface KMeansOptions {
  /** Number of clusters (an integer >= 1, at most the number of points). */
  k: number;
  /** Row length; required when the embeddings are a Float32Array. */
  dim?: number;
  /** Restarts from fresh k-means++ seeds; the run with the lowest inertia wins. Default 3. */
  nInit?: number;
  /** Lloyd iterations per restart. Default 300 (scikit-learn's default). */
  maxIter?: number;
  /**
   * Relative tolerance: a run stops when the summed squared centroid movement falls to
   * `tol * mean per-feature variance` (scikit-learn's rule), or when no label changes. Default 1e-4.
   */
  tol?: number;
  /** Random source for seeding. Default `createRandom(0)`: the same seed always gives the same result. */
  random?: Random;
}

/** A k-means clustering. */
export interface KMeansResult {
  /** Cluster of every point, in [0, k). */
  labels: Int32Array;
  /** k centroids, row-major `k * dim`. */
  centroids: Float32Array;
  /** Sum of squared distances from every point to its centroid. */
  inertia: number;
  /** Lloyd iterations the winning run took. */
  iterations: number;
  k: number;
  dim: number;
}

const kmeansSchema = z
  .object({
    k: z.number().int().min(1),
    dim: z.number().int().min(1).optional(),
    nInit: z.number().int().min(1).default(3),
    maxIter: z.number().int().min(1).default(300),
    tol: z.number().finite().min(0).default(1e-4),
    random: z.custom<Random>((v) => typeof (v as Random | undefined)?.next === 'function').optional(),
  })
  .strict();

/**
 * k-means (Lloyd's algorithm) with greedy k-means++ seeding (2 + ln k candidate centres per step, as
 * scikit-learn), `nInit` restarts, empty clusters re-seeded with the points farthest from their
 * centroids. Runs on the host in float64 arithmetic over the float32 input; deterministic for a given
 * `random` seed. Points equally close to two centroids go to the lower-numbered one.
 *
 * ```ts
 * const { labels, inertia } = kmeans(embeddings, { k: 10, dim: 128, random: createRandom(7) });
 * ```
 */
export function kmeans(embeddings: EmbeddingsLike, options: KMeansOptions): KMeansResult {
  const o = parseOptions('kmeans', kmeansSchema, options);
  const { data, n, dim } = toHostMatrix(embeddings, o.dim, 'embeddings');
  if (o.k > n) throw new ConfigError(`kmeans: option 'k' is ${o.k} but there are only ${n} points`);
  const random = o.random ?? createRandom(0);
  const tolScaled = o.tol * meanVariance(data, n, dim);
  let best: Run | null = null;
  for (let run = 0; run < o.nInit; run++) {
    const centres = seedPlusPlus(data, n, dim, o.k, random);
    const result = lloyd(data, n, dim, o.k, centres, o.maxIter, tolScaled);
    if (best === null || result.inertia < best.inertia) best = result;
  }
  const b = best!;
  return { labels: b.labels, centroids: Float32Array.from(b.centres), inertia: b.inertia, iterations: b.iterations, k: o.k, dim };
}

interface Run {
  labels: Int32Array;
  centres: Float64Array;
  inertia: number;
  iterations: number;
}

function meanVariance(x: Float32Array, n: number, dim: number): number {
  let total = 0;
  for (let d = 0; d < dim; d++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i * dim + d];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) {
      const t = x[i * dim + d] - mean;
      v += t * t;
    }
    total += v / n;
  }
  return total / dim;
}

/** Squared distance between point i of x and row c of centres (a Float32Array or Float64Array). */
function sqDist(x: Float32Array, i: number, centres: ArrayLike<number>, c: number, dim: number): number {
  let s = 0;
  const xo = i * dim, co = c * dim;
  for (let d = 0; d < dim; d++) {
    const t = x[xo + d] - centres[co + d];
    s += t * t;
  }
  return s;
}

/** Greedy k-means++ (scikit-learn's `_kmeans_plusplus`): each new centre is the best of several D²-sampled candidates. */
function seedPlusPlus(x: Float32Array, n: number, dim: number, k: number, random: Random): Float64Array {
  const centres = new Float64Array(k * dim);
  const trials = 2 + Math.floor(Math.log(k));
  const first = randInt(random, n);
  for (let d = 0; d < dim; d++) centres[d] = x[first * dim + d];
  const closest = new Float64Array(n);
  for (let i = 0; i < n; i++) closest[i] = sqDist(x, i, x, first, dim);
  const cumulative = new Float64Array(n);
  const candDist = new Float64Array(n);
  const bestDist = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += closest[i];
      cumulative[i] = acc;
    }
    let bestPot = Infinity;
    let bestCand = -1;
    for (let t = 0; t < trials; t++) {
      const cand = searchSorted(cumulative, random.next() * acc);
      let candPot = 0;
      for (let i = 0; i < n; i++) {
        candDist[i] = Math.min(closest[i], sqDist(x, i, x, cand, dim));
        candPot += candDist[i];
      }
      if (candPot < bestPot) {
        bestPot = candPot;
        bestCand = cand;
        bestDist.set(candDist);
      }
    }
    for (let d = 0; d < dim; d++) centres[c * dim + d] = x[bestCand * dim + d];
    closest.set(bestDist);
  }
  return centres;
}

/** First index whose cumulative value is >= v (numpy's searchsorted, side='left'), clipped to the last index. */
function searchSorted(cumulative: Float64Array, v: number): number {
  let lo = 0, hi = cumulative.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, cumulative.length - 1);
}

/** Assigns every point to its nearest centre; returns the inertia. */
function assign(x: Float32Array, n: number, dim: number, k: number, centres: Float64Array, labels: Int32Array, dist: Float64Array): number {
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    let bestC = 0;
    let bestD = sqDist(x, i, centres, 0, dim);
    for (let c = 1; c < k; c++) {
      const dd = sqDist(x, i, centres, c, dim);
      if (dd < bestD) {
        bestD = dd;
        bestC = c;
      }
    }
    labels[i] = bestC;
    dist[i] = bestD;
    inertia += bestD;
  }
  return inertia;
}

function lloyd(x: Float32Array, n: number, dim: number, k: number, centres: Float64Array, maxIter: number, tolScaled: number): Run {
  const labels = new Int32Array(n).fill(-1);
  const prev = new Int32Array(n);
  const dist = new Float64Array(n);
  const sums = new Float64Array(k * dim);
  const counts = new Int32Array(k);
  let iterations = 0;
  let strict = false;
  for (let it = 0; it < maxIter; it++) {
    prev.set(labels);
    assign(x, n, dim, k, centres, labels, dist);
    iterations = it + 1;
    if (it > 0 && labels.every((l, i) => l === prev[i])) {
      strict = true;
      break;
    }
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      counts[c]++;
      const xo = i * dim, so = c * dim;
      for (let d = 0; d < dim; d++) sums[so + d] += x[xo + d];
    }
    relocateEmpty(x, n, dim, k, labels, dist, sums, counts);
    let shift = 0;
    for (let c = 0; c < k; c++) {
      for (let d = 0; d < dim; d++) {
        const v = sums[c * dim + d] / counts[c];
        const t = v - centres[c * dim + d];
        shift += t * t;
        centres[c * dim + d] = v;
      }
    }
    if (shift <= tolScaled) break;
  }
  // Final assignment so that labels agree with the returned centres.
  const inertia = strict ? dist.reduce((s, v) => s + v, 0) : assign(x, n, dim, k, centres, labels, dist);
  return { labels, centres, inertia, iterations };
}

/** Gives every empty cluster the point farthest from its current centre (taken from a cluster of 2+ points). */
function relocateEmpty(
  x: Float32Array, n: number, dim: number, k: number, labels: Int32Array, dist: Float64Array, sums: Float64Array, counts: Int32Array,
): void {
  let empty = 0;
  for (let c = 0; c < k; c++) if (counts[c] === 0) empty++;
  if (empty === 0) return;
  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => dist[q] - dist[p] || p - q);
  let next = 0;
  for (let c = 0; c < k; c++) {
    if (counts[c] !== 0) continue;
    while (next < n && counts[labels[order[next]]] < 2) next++;
    if (next >= n) break;
    const i = order[next++];
    const old = labels[i];
    counts[old]--;
    for (let d = 0; d < dim; d++) {
      sums[old * dim + d] -= x[i * dim + d];
      sums[c * dim + d] = x[i * dim + d];
    }
    counts[c] = 1;
    labels[i] = c;
    dist[i] = 0;
  }
}
