/**
 * Token buckets per key (client id): `rate` tokens per second, up to `burst`.
 * Bounded memory: idle buckets are full, so they are dropped by `prune()`, and
 * at most `maxKeys` buckets exist (a new key beyond that is refused).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes `n` tokens for `key` at time `now` (ms); false when the bucket has too few. */
  take(key: string, n: number, now: number): boolean {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) return false;
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * this.rate) / 1000);
      b.at = now;
    }
    if (b.tokens < n) return false;
    b.tokens -= n;
    return true;
  }

  /** Drops buckets that have refilled completely (they behave like new ones). */
  prune(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) * this.rate) / 1000 >= this.burst) this.buckets.delete(key);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}
