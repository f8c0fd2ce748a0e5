/**
 * Seeded random numbers. Everything in akin that draws random numbers takes a {@link Random} so that
 * runs are reproducible: the same seed gives the same batches, the same initial weights and the same
 * k-means restarts.
 */
export interface Random {
  /** A float uniformly drawn from [0, 1). */
  next(): number;
}

/** mulberry32: a small, fast 32-bit generator; good enough for sampling and shuffling. */
export function createRandom(seed = 0): Random {
  let a = (seed >>> 0) ^ 0x9e3779b9;
  return {
    next(): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** An integer uniformly drawn from [0, n). */
export function randInt(random: Random, n: number): number {
  return Math.floor(random.next() * n);
}

/** Shuffles `array` in place (Fisher-Yates) and returns it. */
export function shuffleInPlace<T extends { length: number; [i: number]: unknown }>(array: T, random: Random): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = randInt(random, i + 1);
    const tmp = array[i];
    array[i] = array[j];
    array[j] = tmp;
  }
  return array;
}

/** A standard normal draw (Box-Muller). */
export function randNormal(random: Random): number {
  let u = 0;
  while (u === 0) u = random.next();
  const v = random.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
