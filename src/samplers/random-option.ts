import { z } from 'zod';
import type { Random } from '../core/random.js';

/** Zod schema for a sampler's `random` option. */
export const samplerRandomSchema = z.custom<Random>(
  (v) => typeof v === 'object' && v !== null && typeof (v as Random).next === 'function',
  { message: 'must be a Random (an object with next(): number)' },
);

/** `size` distinct items of `pool` in random order (partial Fisher-Yates on a copy). */
export function choiceWithoutReplacement(pool: ArrayLike<number>, size: number, random: Random): number[] {
  const copy = Array.from(pool);
  for (let k = 0; k < size; k++) {
    const j = k + Math.floor(random.next() * (copy.length - k));
    const t = copy[k]; copy[k] = copy[j]; copy[j] = t;
  }
  return copy.slice(0, size);
}

/** PML's `safe_random_choice`: without replacement when the pool is large enough, with it otherwise. */
export function safeRandomChoice(pool: ArrayLike<number>, size: number, random: Random): number[] {
  if (pool.length >= size) return choiceWithoutReplacement(pool, size, random);
  return Array.from({ length: size }, () => pool[Math.floor(random.next() * pool.length)]);
}
