import { ShapeError } from '../core/errors.js';
import type { Random } from '../core/random.js';
import { toLabelArray } from '../core/tensor.js';
import { type EmbeddingsLike, embeddingShape } from './embeddings.js';
import { kmeans } from './kmeans.js';

/** Labels accepted by the clustering scores. */
export type ClusterLabels = Int32Array | number[];

const EPS = 2.220446049250313e-16; // float64 machine epsilon (numpy's finfo('float64').eps)

/** The contingency table of two labelings, kept sparse: row/column marginals and the non-zero cells. */
interface Contingency {
  n: number;
  /** Row sums (one per distinct true label, in ascending label order). */
  a: number[];
  /** Column sums (one per distinct predicted label, in ascending label order). */
  b: number[];
  /** Non-zero cells as [row, col, count]. */
  cells: [number, number, number][];
}

function checkPair(labelsTrue: ClusterLabels, labelsPred: ClusterLabels, owner: string): [Int32Array, Int32Array] {
  const t = toLabelArray(labelsTrue, undefined, 'labelsTrue');
  const p = toLabelArray(labelsPred, undefined, 'labelsPred');
  if (t.length !== p.length) {
    throw new ShapeError(`${owner}: labelsTrue has ${t.length} entries but labelsPred has ${p.length}; they must label the same points`);
  }
  return [t, p];
}

function denseIds(labels: Int32Array): { ids: Int32Array; count: number } {
  const unique = [...new Set(labels)].sort((x, y) => x - y);
  const map = new Map<number, number>();
  unique.forEach((l, i) => map.set(l, i));
  const ids = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) ids[i] = map.get(labels[i])!;
  return { ids, count: unique.length };
}

function contingency(t: Int32Array, p: Int32Array): Contingency {
  const rows = denseIds(t);
  const cols = denseIds(p);
  const a = new Array<number>(rows.count).fill(0);
  const b = new Array<number>(cols.count).fill(0);
  const cellCounts = new Map<number, number>();
  for (let i = 0; i < t.length; i++) {
    const r = rows.ids[i], c = cols.ids[i];
    a[r]++;
    b[c]++;
    const key = r * cols.count + c;
    cellCounts.set(key, (cellCounts.get(key) ?? 0) + 1);
  }
  const cells: [number, number, number][] = [...cellCounts.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([key, v]) => [Math.floor(key / cols.count), key % cols.count, v]);
  return { n: t.length, a, b, cells };
}

/** Mutual information (nats) from a contingency table, as scikit-learn's `mutual_info_score`. */
function mutualInfoFrom(c: Contingency): number {
  if (c.a.length === 1 || c.b.length === 1) return 0; // a labelling with zero entropy carries no information
  if (c.n === 0) return 0;
  const logN = Math.log(c.n);
  let mi = 0;
  for (const [i, j, nij] of c.cells) {
    const pij = nij / c.n;
    const logOuter = -Math.log(c.a[i] * c.b[j]) + logN + logN;
    const term = pij * (Math.log(nij) - logN) + pij * logOuter;
    if (Math.abs(term) >= EPS) mi += term;
  }
  return Math.max(mi, 0);
}

/** Entropy (nats) of the label distribution given by its counts, as scikit-learn's `entropy`. */
function entropyFromCounts(counts: number[]): number {
  const pos = counts.filter((v) => v > 0);
  if (pos.length === 0) return 1; // sklearn: empty labelling
  if (pos.length === 1) return 0;
  const total = pos.reduce((s, v) => s + v, 0);
  const logTotal = Math.log(total);
  let h = 0;
  for (const v of pos) h -= (v / total) * (Math.log(v) - logTotal);
  return h;
}

/** Mutual information (natural log) between two labelings of the same points (scikit-learn's `mutual_info_score`). */
export function mutualInfo(labelsTrue: ClusterLabels, labelsPred: ClusterLabels): number {
  const [t, p] = checkPair(labelsTrue, labelsPred, 'mutualInfo');
  return mutualInfoFrom(contingency(t, p));
}

/**
 * Normalised mutual information, exactly as scikit-learn's `normalized_mutual_info_score` with the
 * default arithmetic normalisation: MI / ((H(true) + H(pred)) / 2). Two labelings that both put every
 * point in one cluster (or are both empty) score 1; otherwise zero MI scores 0. Invariant to renaming
 * labels.
 */
export function nmi(labelsTrue: ClusterLabels, labelsPred: ClusterLabels): number {
  const [t, p] = checkPair(labelsTrue, labelsPred, 'nmi');
  const c = contingency(t, p);
  if (c.a.length === c.b.length && c.a.length <= 1) return 1;
  const mi = mutualInfoFrom(c);
  if (mi === 0) return 0;
  const normalizer = (entropyFromCounts(c.a) + entropyFromCounts(c.b)) / 2;
  return mi / normalizer;
}

/**
 * Adjusted mutual information, exactly as scikit-learn's `adjusted_mutual_info_score` (arithmetic
 * normalisation): (MI - E[MI]) / (mean(H(true), H(pred)) - E[MI]), where E[MI] is the expected mutual
 * information under the hypergeometric model of random labelings with the same cluster sizes. 1 for
 * identical labelings (up to renaming), about 0 for independent ones, negative when worse than chance.
 * Both labelings with a single cluster (or both empty) score 1.
 */
export function ami(labelsTrue: ClusterLabels, labelsPred: ClusterLabels): number {
  const [t, p] = checkPair(labelsTrue, labelsPred, 'ami');
  const c = contingency(t, p);
  if (c.a.length === c.b.length && c.a.length <= 1) return 1;
  if (c.a.length === 1 || c.b.length === 1) return 0; // sklearn: one class or one cluster scores exactly 0
  const mi = mutualInfoFrom(c);
  const emi = expectedMutualInfo(c.a, c.b, c.n);
  const normalizer = (entropyFromCounts(c.a) + entropyFromCounts(c.b)) / 2;
  let denominator = normalizer - emi;
  // sklearn: keep the sign, but never divide by something smaller than machine epsilon.
  denominator = denominator < 0 ? Math.min(denominator, -EPS) : Math.max(denominator, EPS);
  // sklearn clamps the numerator the same way, so a perfect match whose expectation equals its MI
  // (e.g. identical labelings of all singletons: MI = E[MI] = H) scores 1, not 0 / eps = 0.
  let numerator = mi - emi;
  numerator = numerator < 0 ? Math.min(numerator, -EPS) : Math.max(numerator, EPS);
  return numerator / denominator;
}

/**
 * Expected mutual information of two random labelings with row sums `a` and column sums `b` over `n`
 * points (Vinh, Epps & Bailey 2010), summed in the same order as scikit-learn, in log space.
 */
export function expectedMutualInfo(a: readonly number[], b: readonly number[], n: number): number {
  if (a.length === 1 || b.length === 1) return 0;
  const logFact = logFactorials(n);
  const logN = Math.log(n);
  let emi = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i];
    const logA = Math.log(ai);
    for (let j = 0; j < b.length; j++) {
      const bj = b[j];
      const logB = Math.log(bj);
      // Terms that do not depend on nij: log(a! b! (N-a)! (N-b)! / N!).
      const fixed = logFact[ai] + logFact[bj] + logFact[n - ai] + logFact[n - bj] - logFact[n];
      const start = Math.max(ai + bj - n, 1);
      const end = Math.min(ai, bj);
      for (let nij = start; nij <= end; nij++) {
        const term1 = nij / n;
        const term2 = logN + Math.log(nij) - logA - logB; // log(N nij / (a b))
        const gln = fixed - logFact[nij] - logFact[ai - nij] - logFact[bj - nij] - logFact[n - ai - bj + nij];
        emi += term1 * term2 * Math.exp(gln);
      }
    }
  }
  return emi;
}

const logFactorialCache: number[] = [0];

/** log(m!) for m = 0..n (cached, each from {@link logGamma}, never accumulated). */
function logFactorials(n: number): number[] {
  for (let m = logFactorialCache.length; m <= n; m++) logFactorialCache.push(logGamma(m + 1));
  return logFactorialCache;
}

/**
 * ln Γ(x) for x > 0 in float64: exact factorials for small integers, otherwise the Stirling series
 * (terms through B14, error below 1e-16 for x >= 10) after shifting x up with Γ(x+1) = x Γ(x).
 */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`logGamma: x must be > 0 (got ${x})`);
  if (Number.isInteger(x) && x <= 23) {
    let f = 1;
    for (let i = 2; i < x; i++) f *= i; // (x-1)! is exact in float64 up to 22!
    return Math.log(f);
  }
  let shift = 1;
  let y = x;
  while (y < 10) {
    shift *= y;
    y += 1;
  }
  const inv = 1 / y;
  const inv2 = inv * inv;
  const series = inv * (1 / 12 + inv2 * (-1 / 360 + inv2 * (1 / 1260 + inv2 * (-1 / 1680 + inv2 * (1 / 1188 + inv2 * (-691 / 360360 + inv2 * (1 / 156)))))));
  const stirling = (y - 0.5) * Math.log(y) - y + 0.5 * Math.log(2 * Math.PI) + series;
  return stirling - Math.log(shift);
}

/** Options of {@link clusteringScores}. */
export interface ClusteringScoresOptions {
  /** Random source for k-means seeding. Default `createRandom(0)`. */
  random?: Random;
  /** k-means restarts. Default as {@link kmeans}. */
  nInit?: number;
  /** k-means iterations per restart. Default as {@link kmeans}. */
  maxIter?: number;
}

/**
 * Clusters `embeddings` with k-means (k = number of distinct labels, as PML's AccuracyCalculator) and
 * scores the clusters against `labels` with {@link nmi} and {@link ami}.
 */
export function clusteringScores(
  embeddings: EmbeddingsLike, labels: ClusterLabels, dim?: number, options: ClusteringScoresOptions = {},
): { nmi: number; ami: number } {
  const shape = embeddingShape(embeddings, dim, 'embeddings');
  const y = toLabelArray(labels, shape.n, 'labels');
  const k = new Set(y).size;
  const result = kmeans(embeddings, { k, dim: shape.dim, random: options.random, nInit: options.nInit, maxIter: options.maxIter });
  return { nmi: nmi(y, result.labels), ami: ami(y, result.labels) };
}
