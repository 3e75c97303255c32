import { describe, expect, it } from "vitest";
import { leaseLifeLeft } from "@dmabroker/testkit";

// The chaos runner weights fault victims by the life their leases have left:
// a load client chaos-client-N releases its lease after 25 batches of 4, 8 or 12 cookies.

describe("leaseLifeLeft", () => {
  it("is the share of the client's 25 batches still ahead of the lease", () => {
    expect(leaseLifeLeft({ clientId: "chaos-client-0", lastCookie: 0 })).toBe(1); // batch 4: 100 cookies a lease
    expect(leaseLifeLeft({ clientId: "chaos-client-0", lastCookie: 50 })).toBe(0.5);
    expect(leaseLifeLeft({ clientId: "chaos-client-1", lastCookie: 150 })).toBe(0.25); // batch 8: 200
    expect(leaseLifeLeft({ clientId: "chaos-client-5", lastCookie: 300 })).toBe(0); // batch 12: 300
    expect(leaseLifeLeft({ clientId: "chaos-client-5", lastCookie: 400 })).toBe(0);
  });

  it("is 0 for a client that is not one of the run's", () => {
    expect(leaseLifeLeft({ clientId: "compose-workload", lastCookie: 0 })).toBe(0);
    expect(leaseLifeLeft({ clientId: "chaos-client-x", lastCookie: 0 })).toBe(0);
  });
});
