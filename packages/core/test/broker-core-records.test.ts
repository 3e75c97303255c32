import { describe, expect, it } from "vitest";
import { BrokerCore, ManualClock, capabilityMask } from "@dmabroker/core";
import type { BrokerEvent, LeaseRecord, ProviderRecord } from "@dmabroker/core";
import { FakeLink, RecordingObserver, expectDmaError, memcpy, newCore, ok, providerSpec } from "./helpers.js";

const MEMCPY = capabilityMask(["memcpy"]);

describe("reference-counted records", () => {
  it("keeps a lost provider as a tombstone while leases pin it, then frees it when the last one ages out", () => {
    const events: BrokerEvent[] = [];
    const clock = new ManualClock();
    const core = new BrokerCore({ clock, options: { leaseTombstoneTtlMs: 1000 }, onEvent: (e) => events.push(e) });
    const p = core.attachProvider(providerSpec("dev-a"), new FakeLink());
    core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive" });
    core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "shared" });
    expect(p.refs).toBe(2);
    core.start();

    core.providerLost(p, "stream_break", "killed");
    expect(p.state).toBe("lost");
    expect(p.refs).toBe(2);
    expect(core.counts().providersPresent).toBe(0);
    expect(core.counts().providerTombstones).toBe(1);
    expect(core.listProviders().items).toEqual([expect.objectContaining({ providerId: "dev-a", state: "lost", refs: 2, endReason: "killed" })]);

    clock.advance(999);
    expect(core.counts().providerTombstones).toBe(1);
    clock.advance(100);
    expect(core.counts().leaseTombstones).toBe(0);
    expect(p.refs).toBe(0);
    expect(p.state).toBe("freed");
    expect(core.counts().providerTombstones).toBe(0);
    expect(core.listProviders().items).toEqual([]);
    expect(events).toContainEqual({ type: "provider.freed", providerId: "dev-a", epoch: p.epoch });
    core.close();
  });

  it("frees a lost provider at once when no lease refers to it", () => {
    const { core } = newCore();
    const p = core.attachProvider(providerSpec("dev-a"), new FakeLink());
    core.providerLost(p, "unbound", "unbound");
    expect(p.state).toBe("freed");
    expect(core.counts().providerTombstones).toBe(0);
  });

  it("does not free a present provider when its lease tombstones go", () => {
    const { core } = newCore();
    const p = core.attachProvider(providerSpec("dev-a"), new FakeLink());
    const l = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive" });
    core.release("alice", l.id);
    expect(p.refs).toBe(1);
    core.dropLeaseTombstones();
    expect(p.refs).toBe(0);
    expect(p.state).toBe("online");
    expect(core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive" }).provider).toBe(p);
  });

  it("bounds lease tombstones: the oldest goes first (LEASE_NOT_FOUND), the newest keep their reason", () => {
    const { core } = newCore({ maxLeaseTombstones: 3 });
    const p = core.attachProvider(providerSpec("dev-a", { channels: [{ queueDepth: 1 }] }), new FakeLink());
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const l = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive" });
      ids.push(l.id);
      core.release("alice", l.id);
    }
    expect(core.counts().leaseTombstones).toBe(3);
    expect(p.refs).toBe(3);
    expectDmaError(() => core.keepAlive("alice", ids[0]), "LEASE_NOT_FOUND");
    expectDmaError(() => core.keepAlive("alice", ids[1]), "LEASE_NOT_FOUND");
    for (const id of ids.slice(2)) expectDmaError(() => core.keepAlive("alice", id), "LEASE_RELEASED");
  });

  it("frees a gone provider when the tombstone bound evicts its last lease", () => {
    const { core } = newCore({ maxLeaseTombstones: 2 });
    const gone = core.attachProvider(providerSpec("gone"), new FakeLink());
    core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive", providerId: "gone" });
    core.providerLost(gone, "stream_break", "killed");
    expect(gone.state).toBe("lost");
    const other = core.attachProvider(providerSpec("other", { channels: [{ queueDepth: 1 }] }), new FakeLink());
    for (let i = 0; i < 2; i++) {
      const l = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive" });
      expect(l.provider).toBe(other);
      core.release("alice", l.id);
    }
    expect(gone.state).toBe("freed");
    expect(core.counts().providerTombstones).toBe(0);
  });
});

describe("churn returns to baseline", () => {
  it("after many kill / re-register cycles with leases and traffic, every record is gone and every cookie got one result", () => {
    const clock = new ManualClock();
    let n = 0;
    const core = new BrokerCore({ clock, options: { leaseTombstoneTtlMs: 500, maxLeasesPerClient: 16 }, newLeaseId: () => `l${++n}` });
    core.start();
    const incarnations: ProviderRecord[] = [];
    const leases: { lease: LeaseRecord; obs: RecordingObserver; accepted: number[] }[] = [];

    for (let cycle = 0; cycle < 60; cycle++) {
      const link = new FakeLink();
      // Half the cycles re-register over a live incarnation (fencing), half after a kill.
      const p = core.attachProvider(providerSpec("dev-a", { channels: [{ queueDepth: 8 }, { queueDepth: 8 }] }), link);
      incarnations.push(p);
      for (const [owner, mode] of [
        ["alice", "exclusive"],
        ["bob", "shared"],
        ["carol", "shared"],
      ] as const) {
        const lease = core.requestChannel(owner, { capabilityMask: MEMCPY, mode, ttlMs: 5000 });
        const obs = new RecordingObserver();
        core.watch(owner, lease.id, 0, obs);
        const accepted = core.submit(owner, lease.id, [memcpy(8), memcpy(8)], cycle % 3 !== 0);
        leases.push({ lease, obs, accepted });
      }
      // Some results come back, one lease is released, then the provider dies (or is replaced next cycle).
      if (link.workIds.length > 0) core.workDone(p, p.epoch, [ok(link.workIds[0])]);
      const mine = leases.slice(-3);
      core.release(mine[0].lease.owner, mine[0].lease.id);
      if (cycle % 2 === 0) core.providerLost(p, "stream_break", "SIGKILL");
      clock.advance(100);
    }
    const last = incarnations[incarnations.length - 1];
    if (last.present) core.providerLost(last, "unbound", "end of test");

    // Every accepted cookie reached exactly one terminal result.
    for (const { obs, accepted } of leases) {
      const d = obs.deliveries();
      expect([...d.keys()].sort((a, b) => a - b)).toEqual(accepted);
      expect([...d.values()].every((k) => k === 1)).toBe(true);
    }

    clock.advance(1000); // tombstones age out
    expect(core.counts().leasesLive).toBe(0);
    expect(core.counts().leaseTombstones).toBe(0);
    expect(core.counts().providersPresent).toBe(0);
    expect(core.counts().providerTombstones).toBe(0);
    for (const p of incarnations) {
      expect(p.state).toBe("freed");
      expect(p.refs).toBe(0);
      expect(p.work.size).toBe(0);
      expect(p.leases.size).toBe(0);
    }
    expect(core.listLeases().items).toEqual([]);
    expect(core.listProviders().items).toEqual([]);
    expect(clock.pendingTimers).toBe(1); // only the sweep
    core.close();
    expect(clock.pendingTimers).toBe(0);
  });
});
