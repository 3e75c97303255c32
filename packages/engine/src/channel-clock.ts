import type { Clock, TimerHandle } from "@dmabroker/core";

/**
 * Time as a DmaChannel sees it: milliseconds (fractional allowed) and one-shot
 * timers. Injectable so tests can drive the modelled latency by hand.
 */
export interface ChannelClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer made by `setTimeout` (a no-op if it already ran). */
  clearTimeout(handle: unknown): void;
}

/** The real clock: `performance.now()` and Node timers. */
export const realChannelClock: ChannelClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Adapts core's `Clock` (e.g. `systemClock`, `ManualClock`) to a ChannelClock. */
export function channelClockFrom(clock: Clock): ChannelClock {
  return {
    now: () => clock.now(),
    setTimeout: (fn, ms) => clock.setTimer(fn, ms),
    clearTimeout: (handle) => clock.clearTimer(handle as TimerHandle),
  };
}
