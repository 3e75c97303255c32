import { describe, expect, it } from "vitest";
import { InvariantChecker } from "@dmabroker/testkit";
import type { LogLine } from "@dmabroker/testkit";

// The checker must catch each kind of broken invariant from workload log lines
// (fed by hand here; the chaos test feeds it real processes' logs).

const line = (fields: Record<string, unknown>): LogLine => ({ raw: JSON.stringify(fields), ...fields });
const T = 1_000_000;

function leaseWithCookies(c: InvariantChecker, cookies: number[]): void {
  c.onClientLine("c1", line({ event: "lease", lkey: "0.0", lease_id: "L1", provider_id: "p1", epoch: 7, channel: 0, time: T }));
  c.onClientLine("c1", line({ event: "submitted", lkey: "0.0", cookies, time: T + 1 }));
}

describe("InvariantChecker", () => {
  it("passes a clean history: one result per cookie, a fault whose lease ended PROVIDER_GONE", () => {
    const c = new InvariantChecker();
    leaseWithCookies(c, [1, 2]);
    c.onClientLine("c1", line({ event: "result", lkey: "0.0", cookie: 1, result: "NOERROR", ok: true, epoch: 7, time: T + 5 }));
    c.recordFault({ kind: "kill", variant: "", providerId: "p1", epoch: 7, at: T + 10, expectGone: true });
    c.onClientLine("c1", line({ event: "result", lkey: "0.0", cookie: 2, result: "ABORTED", reason: "PROVIDER_GONE", ok: true, epoch: 7, time: T + 18 }));
    c.onClientLine("c1", line({ event: "lease_end", lkey: "0.0", reason: "PROVIDER_GONE", time: T + 19 }));
    const v = c.finish();
    expect(v.violations).toEqual([]);
    expect(v.cookies).toMatchObject({ submitted: 2, completed: 1, aborted: 1, lost: 0 });
    expect(v.detectionMs.kill).toEqual({ p50: 9, p99: 9, max: 9, n: 1 });
  });

  it("counts the provider faults that ended a lease apart from those that only hit a provider carrying one", () => {
    const c = new InvariantChecker();
    leaseWithCookies(c, [1]);
    c.onClientLine("c1", line({ event: "result", lkey: "0.0", cookie: 1, result: "NOERROR", ok: true, epoch: 7, time: T + 5 }));
    // Released before the fault landed: the victim carried a lease when chosen, the fault ended none.
    c.onClientLine("c1", line({ event: "lease_end", lkey: "0.0", reason: "LEASE_RELEASED", time: T + 8 }));
    c.recordFault({ kind: "kill", variant: "", providerId: "p1", epoch: 7, at: T + 10, expectGone: true, leasesHeld: 1 });
    c.onClientLine("c1", line({ event: "lease", lkey: "0.1", lease_id: "L2", provider_id: "p1", epoch: 8, channel: 0, time: T + 20 }));
    c.recordFault({ kind: "kill", variant: "", providerId: "p1", epoch: 8, at: T + 30, expectGone: true, leasesHeld: 1 });
    c.onClientLine("c1", line({ event: "lease_end", lkey: "0.1", reason: "PROVIDER_GONE", time: T + 40 }));
    // The grant reached the client only after the fault (a busy broker answers late): ended by the fault all the same.
    c.recordFault({ kind: "kill", variant: "", providerId: "p1", epoch: 9, at: T + 50, expectGone: true, leasesHeld: 1 });
    c.onClientLine("c1", line({ event: "lease", lkey: "0.2", lease_id: "L3", provider_id: "p1", epoch: 9, channel: 0, time: T + 55 }));
    c.onClientLine("c1", line({ event: "lease_end", lkey: "0.2", reason: "PROVIDER_GONE", time: T + 60 }));
    const v = c.finish();
    expect(v.violations).toEqual([]);
    expect(v.faultsHittingLeases).toEqual({ kill: 3 });
    expect(v.faultsEndingLeases).toEqual({ kill: 2 });
    expect(v.leasesEndedByFault).toEqual({ kill: 1 });
  });

  it("I1: a duplicate result and a cookie never answered", () => {
    const c = new InvariantChecker();
    leaseWithCookies(c, [1, 2]);
    c.onClientLine("c1", line({ event: "result", lkey: "0.0", cookie: 1, result: "NOERROR", ok: true, time: T + 5 }));
    c.onClientLine("c1", line({ event: "result", lkey: "0.0", cookie: 1, result: "NOERROR", ok: true, time: T + 6 }));
    const v = c.finish();
    expect(v.violations.map((x) => x.invariant)).toEqual(["I1", "I1"]);
    expect(v.cookies.lost).toBe(1);
  });

  it("a killed client's unanswered cookies are abandoned, not lost", () => {
    const c = new InvariantChecker();
    leaseWithCookies(c, [1]);
    c.clientKilled("c1");
    expect(c.finish()).toMatchObject({ violations: [], cookies: { abandoned: 1, lost: 0 } });
  });

  it("I2, I4, I5 and I6", () => {
    const c = new InvariantChecker();
    leaseWithCookies(c, [1, 2]);
    c.onClientLine("c1", line({ event: "call_error", call: "submit", reason: "INTERNAL", unnamed: true }));
    c.onClientLine("c1", line({ event: "result", lkey: "0.0", cookie: 1, result: "NOERROR", ok: false, epoch: 7, time: T + 5 }));
    c.onClientLine("c1", line({ event: "lease_end", lkey: "0.0", reason: "PROVIDER_GONE", time: T + 20 }));
    c.onClientLine("c1", line({ event: "result", lkey: "0.0", cookie: 2, result: "NOERROR", ok: true, epoch: 7, time: T + 30 }));
    c.adminProviders([{ providerId: "p1", epoch: 7, channels: [{ index: 0, leases: 2, exclusive: true }] }]);
    c.onClientLine("c1", line({ event: "lease", lkey: "0.1", lease_id: "L2", provider_id: "p2", epoch: 9, channel: 0, time: T }));
    c.recordFault({ kind: "freeze", variant: "lost", providerId: "p2", epoch: 9, at: T + 40, expectGone: true });
    const v = c.finish();
    expect(v.violations.map((x) => x.invariant).sort()).toEqual(["I2", "I4", "I4", "I5", "I6"]);
  });
});
