import { describe, expect, it } from "vitest";
import { Backoff } from "@dmabroker/core";

describe("Backoff", () => {
  it("grows by the multiplier up to the cap, and starts over after reset", () => {
    const b = new Backoff({ initialMs: 50, multiplier: 2, maxMs: 500, jitter: 0 });
    expect(Array.from({ length: 7 }, () => b.next())).toEqual([50, 100, 200, 400, 500, 500, 500]);
    expect(b.attempts).toBe(7);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(50);
  });

  it("takes at most the jitter fraction off each delay, never adding to it", () => {
    const draws = [0, 1, 0.5];
    const b = new Backoff({ initialMs: 100, multiplier: 1, maxMs: 100, jitter: 0.5 }, () => draws.shift()!);
    expect([b.next(), b.next(), b.next()]).toEqual([100, 50, 75]);
  });

  it("refuses options that cannot make a sequence", () => {
    expect(() => new Backoff({ initialMs: 10, multiplier: 0.5, maxMs: 100, jitter: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 200, multiplier: 2, maxMs: 100, jitter: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 10, multiplier: 2, maxMs: 100, jitter: 2 })).toThrow(RangeError);
  });
});
