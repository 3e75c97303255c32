import { describe, expect, it } from "vitest";
import { BrokerCore, GrpcCode, ManualClock, capabilityMask } from "@dmabroker/core";
import type { Clock, TimerHandle } from "@dmabroker/core";
import { FakeLink, RecordingObserver, expectDmaError, memcpy, newCore, providerSpec } from "./helpers.js";

const MEMCPY = capabilityMask(["memcpy"]);

function setup(ttlMs = 1000) {
  const { core, clock } = newCore();
  const link = new FakeLink();
  const p = core.attachProvider(providerSpec("dev-a", { channels: [{ queueDepth: 8 }] }), link);
  const lease = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive", ttlMs });
  const obs = new RecordingObserver();
  core.watch("alice", lease.id, 0, obs);
  return { core, clock, link, p, lease, obs };
}

describe("lease TTL", () => {
  it("expires a lease that is not kept alive: LEASE_EXPIRED, cookies aborted, provider told, channel free", () => {
    const { core, clock, link, p, lease, obs } = setup(1000);
    const [c1, c2] = core.submit("alice", lease.id, [memcpy(5), memcpy(6)], true);
    clock.advance(999);
    expect(lease.state).toBe("active");
    clock.advance(1);
    expect(lease.state).toBe("expired");
    expect(obs.completions.map((r) => [r.cookie, r.result, r.reason, r.residue])).toEqual([
      [c1, "ABORTED", "LEASE_EXPIRED", 5],
      [c2, "ABORTED", "LEASE_EXPIRED", 6],
    ]);
    expect(obs.states.at(-1)).toMatchObject({ state: "expired", reason: "LEASE_EXPIRED" });
    expect(link.terminates).toEqual([{ epoch: p.epoch, channel: 0, workIds: link.workIds, token: expect.any(Number) }]);

    const e = expectDmaError(() => core.submit("alice", lease.id, [memcpy(1)], true), "LEASE_EXPIRED");
    expect(e.grpcCode).toBe(GrpcCode.FAILED_PRECONDITION);
    expectDmaError(() => core.keepAlive("alice", lease.id), "LEASE_EXPIRED");
    expect(core.release("alice", lease.id).released).toBe(false);
    // The only channel is free again.
    expect(core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "exclusive" }).channel).toBe(lease.channel);
  });

  it("keepAlive extends the lease by its TTL from now", () => {
    const { core, clock, lease } = setup(1000);
    clock.advance(800);
    core.keepAlive("alice", lease.id);
    clock.advance(999);
    expect(lease.state).toBe("active");
    core.keepAlive("alice", lease.id);
    clock.advance(999);
    expect(lease.state).toBe("active");
    clock.advance(1);
    expect(lease.state).toBe("expired");
  });

  it("keepAlive by another client is refused and does not extend the lease", () => {
    const { core, clock, lease } = setup(1000);
    clock.advance(900);
    const e = expectDmaError(() => core.keepAlive("mallory", lease.id), "NOT_LEASE_OWNER");
    expect(e.grpcCode).toBe(GrpcCode.PERMISSION_DENIED);
    clock.advance(100);
    expect(lease.state).toBe("expired");
  });

  it("uses the default TTL for 0 and refuses TTLs outside min..max", () => {
    const { core } = newCore({ minLeaseTtlMs: 500, defaultLeaseTtlMs: 5000, maxLeaseTtlMs: 10_000 });
    core.attachProvider(providerSpec("dev-a", { channels: Array.from({ length: 4 }, () => ({ queueDepth: 1 })) }), new FakeLink());
    expect(core.requestChannel("a", { capabilityMask: MEMCPY, mode: "exclusive", ttlMs: 0 }).ttlMs).toBe(5000);
    expect(core.requestChannel("a", { capabilityMask: MEMCPY, mode: "exclusive" }).ttlMs).toBe(5000);
    for (const ttlMs of [499, 10_001, -1]) {
      expectDmaError(() => core.requestChannel("a", { capabilityMask: MEMCPY, mode: "exclusive", ttlMs }), "INVALID_ARGUMENT");
    }
    expect(core.counts().leasesLive).toBe(2);
  });
});

describe("release and revoke", () => {
  it("release is idempotent: true once, then false; cookies end LEASE_RELEASED; later calls say LEASE_RELEASED", () => {
    const { core, lease, obs } = setup(60_000);
    const [c] = core.submit("alice", lease.id, [memcpy(9)], false);
    const first = core.release("alice", lease.id);
    expect(first.released).toBe(true);
    expect(first.lease.state).toBe("released");
    expect(obs.completions).toEqual([expect.objectContaining({ cookie: c, result: "ABORTED", reason: "LEASE_RELEASED", residue: 9 })]);
    expect(core.release("alice", lease.id).released).toBe(false);
    expect(obs.completions).toHaveLength(1);
    expectDmaError(() => core.txStatus("alice", lease.id, c), "LEASE_RELEASED");
    expectDmaError(() => core.submit("alice", lease.id, [memcpy(1)], true), "LEASE_RELEASED");
  });

  it("only the owner may release", () => {
    const { core, lease } = setup(60_000);
    expectDmaError(() => core.release("bob", lease.id), "NOT_LEASE_OWNER");
    expect(lease.state).toBe("active");
  });

  it("revoke ends the lease LEASE_REVOKED for its owner; revoking again or an unknown id behaves", () => {
    const { core, lease, obs } = setup(60_000);
    core.revoke(lease.id, "operator said so");
    expect(lease.state).toBe("revoked");
    expect(obs.states.at(-1)).toMatchObject({ state: "revoked", reason: "LEASE_REVOKED" });
    const e = expectDmaError(() => core.keepAlive("alice", lease.id), "LEASE_REVOKED");
    expect(e.message).toContain("operator said so");
    expect(core.revoke(lease.id, "again")).toBe(lease);
    expect(obs.states.filter((s) => s.state === "revoked")).toHaveLength(1);
    expectDmaError(() => core.revoke("lease-nope", "x"), "LEASE_NOT_FOUND");
  });

  it("a watcher detached with its function gets nothing more", () => {
    const { core, lease } = setup(60_000);
    const obs = new RecordingObserver();
    const detach = core.watch("alice", lease.id, 0, obs);
    detach();
    core.submit("alice", lease.id, [memcpy(1)], true);
    core.release("alice", lease.id);
    expect(obs.completions).toEqual([]);
    expect(obs.states).toHaveLength(1); // only the initial state
  });
});

describe("lease tombstones", () => {
  it("answer with the real end reason until they age out, then LEASE_NOT_FOUND", () => {
    const { core, clock } = newCore({ leaseTombstoneTtlMs: 1000 });
    const p = core.attachProvider(providerSpec("dev-a"), new FakeLink());
    const lease = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive", ttlMs: 60_000 });
    core.start();
    core.release("alice", lease.id);
    for (let t = 0; t < 900; t += 100) {
      clock.advance(100);
      core.heartbeat(p, p.epoch);
    }
    expectDmaError(() => core.keepAlive("alice", lease.id), "LEASE_RELEASED");
    for (let t = 0; t < 200; t += 100) {
      clock.advance(100);
      core.heartbeat(p, p.epoch);
    }
    const e = expectDmaError(() => core.keepAlive("alice", lease.id), "LEASE_NOT_FOUND");
    expect(e.grpcCode).toBe(GrpcCode.NOT_FOUND);
    expectDmaError(() => core.release("alice", lease.id), "LEASE_NOT_FOUND");
    expect(core.counts().leaseTombstones).toBe(0);
    core.close();
  });
});

/**
 * A clock whose time can jump without running timers: the broker's event loop
 * frozen for `stall(ms)`, its timers firing late afterwards. A 0 ms timer
 * runs at `nextLoop()` (as Node's does: on the next loop iteration, after the
 * input waiting in sockets has been read).
 */
class StallingClock implements Clock {
  readonly manual = new ManualClock();
  private offset = 0;
  private nextIteration = new Map<number, () => void>();
  private ids = 0;
  nextLoop(): void {
    const due = [...this.nextIteration.values()];
    this.nextIteration.clear();
    for (const fn of due) fn();
  }
  now(): number {
    return this.manual.now() + this.offset;
  }
  wallNow(): number {
    return this.manual.wallNow() + this.offset;
  }
  setTimer(fn: () => void, ms: number): TimerHandle {
    if (ms > 0) return this.manual.setTimer(fn, ms);
    const id = --this.ids;
    this.nextIteration.set(id, fn);
    return { id };
  }
  clearTimer(handle: TimerHandle): void {
    if ("id" in handle && handle.id < 0) this.nextIteration.delete(handle.id);
    else this.manual.clearTimer(handle);
  }
  stall(ms: number): void {
    this.offset += ms;
  }
}

describe("lease TTL after the broker's own stall", () => {
  it("a TTL timer that fires late judges only after pending input (a KeepAlive) has been read; never defers twice", () => {
    const clock = new StallingClock();
    let n = 0;
    const core = new BrokerCore({ clock, options: {}, newLeaseId: () => `lease-${++n}` });
    core.attachProvider(providerSpec("dev-a", { channels: [{ queueDepth: 8 }] }), new FakeLink());
    const lease = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "shared", ttlMs: 1000 });
    // The loop freezes 5 s; the owner's KeepAlive waits in the socket. The timer fires late, first.
    clock.stall(5000);
    clock.manual.advance(1000);
    expect(lease.state).toBe("active");
    // The input is read: the KeepAlive arrives, then the deferred look.
    core.keepAlive("alice", lease.id);
    clock.nextLoop();
    expect(lease.state).toBe("active");
    // A lease really not kept alive still expires on time (its timer is not late).
    clock.manual.advance(1000);
    expect(lease.state).toBe("expired");

    // Late again and no KeepAlive behind it: one deferral, then it expires.
    const other = core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "shared", ttlMs: 1000 });
    clock.stall(5000);
    clock.manual.advance(1000);
    expect(other.state).toBe("active");
    clock.nextLoop();
    expect(other.state).toBe("expired");
    core.close();
  });
});
