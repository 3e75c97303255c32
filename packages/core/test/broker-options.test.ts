import { describe, expect, it } from "vitest";
import { BrokerCore, DEFAULT_BROKER_OPTIONS, DmaError, compileBrokerOptions } from "@dmabroker/core";
import type { BrokerOptions } from "@dmabroker/core";

function reasonOf(options: BrokerOptions): string | undefined {
  try {
    compileBrokerOptions(options);
    return undefined;
  } catch (err) {
    return (err as DmaError).reason;
  }
}

describe("compileBrokerOptions", () => {
  it("fills every default and keeps the design's detection bound (heartbeat timeout ≤ 1.5 s)", () => {
    expect(compileBrokerOptions()).toEqual(DEFAULT_BROKER_OPTIONS);
    expect(DEFAULT_BROKER_OPTIONS.heartbeatTimeoutMs).toBeLessThanOrEqual(1500);
    expect(DEFAULT_BROKER_OPTIONS.heartbeatIntervalMs).toBeLessThan(DEFAULT_BROKER_OPTIONS.suspectAfterMs);
    expect(DEFAULT_BROKER_OPTIONS.suspectAfterMs).toBeLessThan(DEFAULT_BROKER_OPTIONS.heartbeatTimeoutMs);
  });

  it("applies overrides, ignores undefined and does not mutate the defaults", () => {
    const o = compileBrokerOptions({ maxLeasesPerClient: 3, heartbeatTimeoutMs: undefined });
    expect(o.maxLeasesPerClient).toBe(3);
    expect(o.heartbeatTimeoutMs).toBe(DEFAULT_BROKER_OPTIONS.heartbeatTimeoutMs);
    expect(DEFAULT_BROKER_OPTIONS.maxLeasesPerClient).not.toBe(3);
  });

  it("refuses unknown keys and non-positive, fractional or non-finite values with INVALID_ARGUMENT", () => {
    expect(reasonOf({ bogus: 1 } as BrokerOptions)).toBe("INVALID_ARGUMENT");
    for (const v of [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(reasonOf({ maxBatchDescriptors: v }), String(v)).toBe("INVALID_ARGUMENT");
    }
  });

  it("refuses timing that contradicts itself", () => {
    expect(reasonOf({ suspectAfterMs: 1500, heartbeatTimeoutMs: 1500 })).toBe("INVALID_ARGUMENT");
    expect(reasonOf({ heartbeatIntervalMs: 600, suspectAfterMs: 600 })).toBe("INVALID_ARGUMENT");
    expect(reasonOf({ minLeaseTtlMs: 5000, defaultLeaseTtlMs: 1000 })).toBe("INVALID_ARGUMENT");
    expect(reasonOf({ defaultLeaseTtlMs: 10_000, maxLeaseTtlMs: 5000 })).toBe("INVALID_ARGUMENT");
    expect(reasonOf({ heartbeatIntervalMs: 100, suspectAfterMs: 300, heartbeatTimeoutMs: 900 })).toBeUndefined();
  });

  it("is applied by BrokerCore, which refuses bad options at construction", () => {
    expect(new BrokerCore({ options: { maxWatchersPerLease: 9 } }).options.maxWatchersPerLease).toBe(9);
    expect(() => new BrokerCore({ options: { sweepIntervalMs: 0 } })).toThrow(DmaError);
  });
});
