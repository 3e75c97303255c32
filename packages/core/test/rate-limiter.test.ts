import { describe, expect, it } from "vitest";
import type { DmaError } from "@dmabroker/core";
import { BrokerCore, ManualClock, RateLimiter } from "@dmabroker/core";

describe("RateLimiter", () => {
  it("allows a burst, then refills at the rate", () => {
    const r = new RateLimiter(10, 5);
    for (let i = 0; i < 5; i++) expect(r.take("a", 1, 0)).toBe(true);
    expect(r.take("a", 1, 0)).toBe(false);
    expect(r.take("b", 1, 0)).toBe(true); // per key
    expect(r.take("a", 1, 100)).toBe(true); // 100 ms at 10/s = 1 token
    expect(r.take("a", 1, 100)).toBe(false);
  });

  it("keeps memory bounded: full buckets are pruned, new keys beyond the cap are refused", () => {
    const r = new RateLimiter(1000, 10, 3);
    for (const k of ["a", "b", "c"]) r.take(k, 1, 0);
    expect(r.take("d", 1, 0)).toBe(false);
    r.prune(1000);
    expect(r.size).toBe(0);
    expect(r.take("d", 1, 1000)).toBe(true);
  });

  it("makes BrokerCore answer QUOTA_EXCEEDED to a client calling too fast, and only to that client", () => {
    const clock = new ManualClock();
    const core = new BrokerCore({ clock, options: { maxClientCallsPerSec: 2, maxClientCallBurst: 2 } });
    const ask = (owner: string): unknown => {
      try {
        return core.requestChannel(owner, { capabilityMask: 2, mode: "shared" });
      } catch (err) {
        return (err as DmaError).reason;
      }
    };
    // No providers: the first two calls get past the budget and fail NO_PROVIDER; the third is over budget.
    expect(ask("fast")).toBe("NO_PROVIDER");
    expect(ask("fast")).toBe("NO_PROVIDER");
    expect(ask("fast")).toBe("QUOTA_EXCEEDED");
    expect(ask("other")).toBe("NO_PROVIDER");
    clock.advance(500);
    expect(ask("fast")).toBe("NO_PROVIDER");
    core.close();
  });
});
