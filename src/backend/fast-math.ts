/**
 * Elementwise math for kernels written in JavaScript. `Math.exp` costs ~10 ns a call in V8, about as
 * much as the rest of a log-sum-exp pass together; {@link expShifted} costs about a third of that and is
 * accurate to a few parts in 10^9 (well below float32 resolution).
 */

const LOG2E = 1.4426950408889634;
// ln 2 split in a high part with trailing zero bits (k * LN2_HI is exact) and the rest.
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
const MIN_K = -1075;
const MAX_K = 1024;
/** 2^k for k in [MIN_K, MAX_K]. */
const POW2 = new Float64Array(MAX_K - MIN_K + 1);
for (let k = MIN_K; k <= MAX_K; k++) POW2[k - MIN_K] = Math.pow(2, k);

/**
 * `e^x` in float64 for the shifted arguments of a log-sum-exp (x <= 709): x = k ln 2 + r with
 * |r| <= ln 2 / 2, `e^r` from its degree-7 Taylor polynomial (relative error < 1e-8), times 2^k from a
 * table. Below -745.2 (where e^x is 0 in float64) and for NaN it returns 0: callers that must propagate
 * NaN check for it themselves. Kept free of other branches so that V8 inlines it into hot loops.
 */
export function expShifted(x: number): number {
  if (x > -745.2) {
    const k = Math.floor(x * LOG2E + 0.5);
    const r = x - k * LN2_HI - k * LN2_LO;
    return (1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120 + r * (1 / 720 + r * (1 / 5040)))))))) * POW2[k - MIN_K];
  }
  return 0;
}
