/**
 * Retry delays that grow geometrically to a cap, with jitter (the shape of
 * grpc-js `backoff-timeout.ts`: initial delay, multiplier, jitter, max). The
 * one backoff of dmabroker: the agent's reconnects, the SDK's watch reopening
 * and relocation, dmactl's event-stream reconnects.
 */
export interface BackoffOptions {
  /** The first delay. */
  initialMs: number;
  /** Each later delay is the previous one times this (1 = constant). */
  multiplier: number;
  /** No delay exceeds this. */
  maxMs: number;
  /**
   * Fraction of each delay drawn at random and taken off (0 = none, 0.5 =
   * anywhere in [d/2, d]): spreads reconnecting peers without ever exceeding maxMs.
   */
  jitter: number;
}

export class Backoff {
  private nextBase: number;
  private count = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {
    const { initialMs, multiplier, maxMs, jitter } = options;
    if (!(initialMs >= 0 && multiplier >= 1 && maxMs >= initialMs && jitter >= 0 && jitter <= 1)) {
      throw new RangeError(`backoff needs 0 <= initialMs <= maxMs, multiplier >= 1, jitter in [0, 1]: ${JSON.stringify(options)}`);
    }
    this.nextBase = initialMs;
  }

  /** Delays handed out since the last reset. */
  get attempts(): number {
    return this.count;
  }

  /** The delay before the next attempt (and advances the sequence). */
  next(): number {
    const base = this.nextBase;
    this.nextBase = Math.min(this.options.maxMs, base * this.options.multiplier);
    this.count++;
    return base * (1 - this.options.jitter * this.random());
  }

  /** Back to the first delay (after a success). */
  reset(): void {
    this.nextBase = this.options.initialMs;
    this.count = 0;
  }
}
