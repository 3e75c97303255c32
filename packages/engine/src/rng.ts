/** A source of uniform numbers in [0, 1), like `Math.random` but reproducible. */
export type Rng = () => number;

/**
 * A small seeded PRNG (mulberry32): the same seed always yields the same
 * sequence, so injected faults and out-of-order jitter can be replayed from a
 * logged seed. Not for cryptography.
 */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh random 32-bit seed, for callers that did not pick one (log it to replay a run). */
export function randomSeed(): number {
  return (Math.random() * 4294967296) >>> 0;
}
