import { z } from 'zod';
import { createRandom, type Random } from '../core/random.js';

/** Zod schema for a `random` option: anything with `next(): number` in [0, 1). */
export const randomSchema = z.custom<Random>(
  (v) => typeof v === 'object' && v !== null && typeof (v as Random).next === 'function',
  { message: 'must be a Random (an object with next(): number), e.g. createRandom(seed)' },
);

/** Zod fields shared by every miner that draws random numbers. */
export const randomFields = {
  /** Seed of the default random source. */
  seed: z.number().int().default(0),
  /** A random source to draw from (overrides `seed`). */
  random: randomSchema.optional(),
};

/** The random source of a miner: the injected one, or a generator seeded with `seed`. */
export function resolveRandom(random: Random | undefined, seed: number): Random {
  return random ?? createRandom(seed);
}

/**
 * Draws an index in [0, weights.length) with probability proportional to `weights` (non-negative, with a
 * positive sum `total`), as `torch.multinomial` does for one sample.
 */
export function weightedIndex(random: Random, weights: ArrayLike<number>, total: number): number {
  let u = random.next() * total;
  let last = -1;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (!(w > 0)) continue;
    last = i;
    if (u < w) return i;
    u -= w;
  }
  return last;
}
