import { describe, expect, it } from "vitest";
import { GrpcCode, capabilityMask } from "@dmabroker/core";
import { FakeLink, RecordingObserver, expectDmaError, memcpy, newCore, ok, providerSpec } from "./helpers.js";

const MEMCPY = capabilityMask(["memcpy"]);
// Defaults: heartbeat 250 ms, suspect after 600 ms, lost after 1500 ms, sweep every 50 ms.

function setup() {
  const { core, clock } = newCore();
  const link = new FakeLink();
  const p = core.attachProvider(providerSpec("dev-a", { channels: [{ queueDepth: 8 }] }), link);
  const lease = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive", ttlMs: 60_000 });
  const obs = new RecordingObserver();
  core.watch("alice", lease.id, 0, obs);
  core.start();
  return { core, clock, link, p, lease, obs };
}

describe("BrokerCore heartbeats", () => {
  it("stays online while heartbeats arrive on time", () => {
    const { core, clock, p, lease } = setup();
    for (let i = 0; i < 40; i++) {
      clock.advance(core.options.heartbeatIntervalMs);
      expect(core.heartbeat(p, p.epoch)).toBe(true);
    }
    expect(p.state).toBe("online");
    expect(lease.state).toBe("active");
    core.close();
  });

  it("marks a silent provider suspect after suspectAfterMs: leases suspended, submit answers PROVIDER_SUSPECT (UNAVAILABLE)", () => {
    const { core, clock, p, lease, obs } = setup();
    clock.advance(core.options.suspectAfterMs);
    expect(p.state).toBe("online");
    clock.advance(core.options.sweepIntervalMs);
    expect(p.state).toBe("suspect");
    expect(lease.state).toBe("suspended");
    expect(obs.states.at(-1)).toMatchObject({ state: "suspended", reason: "PROVIDER_SUSPECT" });

    const e = expectDmaError(() => core.submit("alice", lease.id, [memcpy(4)], true), "PROVIDER_SUSPECT");
    expect(e.grpcCode).toBe(GrpcCode.UNAVAILABLE);
    expect(e.metadata.retry_after_ms).toBe(String(core.options.suspectRetryAfterMs));
    expectDmaError(() => core.issuePending("alice", lease.id), "PROVIDER_SUSPECT");
    // Transient, not permanent: nothing was aborted, the lease can still be kept alive and watched.
    expect(obs.completions).toEqual([]);
    expect(core.keepAlive("alice", lease.id)).toBe(lease);
    // A suspect provider gets no new leases, but it still "could" serve: NO_CHANNEL_AVAILABLE, not NO_PROVIDER.
    expectDmaError(() => core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "shared" }), "NO_CHANNEL_AVAILABLE");
    core.close();
  });

  it("brings a suspect provider back online on its next heartbeat and resumes the lease", () => {
    const { core, clock, link, p, lease, obs } = setup();
    const [c] = core.submit("alice", lease.id, [memcpy(4)], true);
    clock.advance(1000);
    expect(p.state).toBe("suspect");
    expect(core.heartbeat(p, p.epoch)).toBe(true);
    expect(p.state).toBe("online");
    expect(lease.state).toBe("active");
    expect(obs.states.map((s) => s.state)).toEqual(["active", "suspended", "active"]);
    // Work issued before the pause still completes (same epoch).
    expect(core.workDone(p, p.epoch, [ok(link.workIds[0])]).accepted).toBe(1);
    expect(core.txStatus("alice", lease.id, c).status).toBe("COMPLETE");
    expect(core.submit("alice", lease.id, [memcpy(4)], true)).toEqual([c + 1]);
    core.close();
  });

  it("counts results as a sign of life: a provider busy streaming results is never suspect, and a suspect one comes back with its reason cleared", () => {
    const { core, clock, link, p, lease } = setup();
    core.submit("alice", lease.id, [memcpy(4), memcpy(4), memcpy(4)], true);
    const ids = link.workIds;
    // No heartbeats, but a result every 500 ms (below suspectAfterMs): never suspect.
    for (const id of ids.slice(0, 2)) {
      clock.advance(500);
      core.workDone(p, p.epoch, [ok(id)]);
      expect(p.state).toBe("online");
    }
    clock.advance(700);
    expect(p.state).toBe("suspect");
    expect(p.endReason).toMatch(/no heartbeat/);
    core.workDone(p, p.epoch, [ok(ids[2])]);
    expect(p.state).toBe("online");
    expect(p.endReason).toBe("");
    expect(lease.state).toBe("active");
    core.close();
  });

  it("declares a silent provider lost within heartbeatTimeoutMs + one sweep, ending its leases PROVIDER_GONE", () => {
    const { core, clock, link, p, lease, obs } = setup();
    const [c] = core.submit("alice", lease.id, [memcpy(12)], true);
    clock.advance(core.options.heartbeatTimeoutMs);
    expect(p.state).toBe("suspect");
    clock.advance(core.options.sweepIntervalMs);
    expect(p.state).toBe("lost");
    expect(lease.state).toBe("provider_gone");
    expect(link.closes).toHaveLength(1);
    expect(obs.completions).toEqual([expect.objectContaining({ cookie: c, result: "ABORTED", reason: "PROVIDER_GONE", residue: 12 })]);
    expect(obs.states.at(-1)).toMatchObject({ state: "provider_gone", reason: "PROVIDER_GONE" });
    // A heartbeat after the fact does not revive it.
    expect(core.heartbeat(p, p.epoch)).toBe(false);
    expect(p.state).toBe("lost");
    core.close();
  });

  it("measures silence from the last heartbeat", () => {
    const { core, clock, p } = setup();
    clock.advance(500);
    core.heartbeat(p, p.epoch);
    clock.advance(1400); // 1900 since registration, 1400 since the heartbeat
    expect(p.state).toBe("suspect");
    clock.advance(150);
    expect(p.state).toBe("lost");
    core.close();
  });

  // Regression: a suspect provider that started draining left its leases suspended.
  it("resumes suspended leases when a suspect provider that started draining heartbeats again", () => {
    const { core, clock, p, lease, obs } = setup();
    clock.advance(700);
    expect(lease.state).toBe("suspended");
    core.providerDraining(p, 5000);
    expect(core.heartbeat(p, p.epoch)).toBe(true);
    expect(p.state).toBe("draining");
    expect(lease.state).toBe("active");
    expect(obs.states.at(-1)?.state).toBe("active");
    core.close();
  });

  it("does nothing before start() and stops sweeping after close(), leaving no timers", () => {
    const { core, clock } = newCore();
    const p = core.attachProvider(providerSpec("dev-a"), new FakeLink());
    clock.advance(10_000);
    expect(p.state).toBe("online");
    core.start();
    core.start(); // idempotent: one sweep timer
    core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive" });
    expect(clock.pendingTimers).toBe(2); // sweep + lease expiry
    core.close();
    core.close();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(10_000);
    expect(p.state).toBe("online");
  });
});
