import { describe, expect, it } from "vitest";
import { BrokerCore, COOKIE_BLOCK, EPOCH_BLOCK, ManualClock, capabilityMask, createMemoryStore } from "@dmabroker/core";
import type { BrokerStore, StoreOp } from "@dmabroker/core";
import { FakeLink, RecordingObserver, expectDmaError, memcpy, ok, providerSpec } from "./helpers.js";

const MEMCPY = capabilityMask(["memcpy"]);

// The core's one write path and its recovery (etcd lessor's Grant / Revoke /
// Recover): a second core on the same store is the broker after a restart.

/** A memory store that also keeps every batch committed (to check what the core wrote, and how). */
function recordingStore(): BrokerStore & { batches: StoreOp[][] } {
  const inner = createMemoryStore();
  const batches: StoreOp[][] = [];
  return {
    batches,
    commit(ops) {
      batches.push(ops.map((o) => ({ ...o })));
      return inner.commit(ops);
    },
    afterDurable: (fn) => inner.afterDurable(fn),
    load: () => inner.load(),
    info: () => inner.info(),
    close: () => inner.close(),
  };
}

function boot(store: BrokerStore, options = {}): { core: BrokerCore; clock: ManualClock } {
  const clock = new ManualClock();
  let n = 0;
  const core = new BrokerCore({ clock, store, options, newLeaseId: () => `lease-${store.load().revision}-${++n}` });
  core.start();
  return { core, clock };
}

describe("the store seam", () => {
  it("writes each change as one batch: a provider's removal deletes it and its leases together", () => {
    const store = recordingStore();
    const { core } = boot(store);
    const p = core.attachProvider(providerSpec("p1"), new FakeLink());
    const a = core.requestChannel("c1", { capabilityMask: MEMCPY, mode: "exclusive" });
    const b = core.requestChannel("c2", { capabilityMask: MEMCPY, mode: "shared" });
    const before = store.batches.length;
    core.providerLost(p, "stream_break", "stream closed");
    expect(store.batches.length).toBe(before + 1);
    expect(
      store.batches
        .at(-1)!
        .map((o) => `${o.table}/${o.key}/${o.value === undefined ? "delete" : "put"}`)
        .sort(),
    ).toEqual([`lease/${a.id}/delete`, `lease/${b.id}/delete`, "provider/p1/delete"].sort());
    expect(store.load().tables.lease.size).toBe(0);
    expect(store.load().tables.provider.size).toBe(0);
  });

  it("recovers providers suspect and leases suspended; an agent that re-attaches with its epoch keeps both", () => {
    const store = createMemoryStore();
    const first = boot(store);
    const link = new FakeLink();
    const p = first.core.attachProvider(providerSpec("p1"), link);
    const lease = first.core.requestChannel("c1", { capabilityMask: MEMCPY, mode: "exclusive", ttlMs: 5000 });
    const cookies = first.core.submit("c1", lease.id, [memcpy(8), memcpy(8)], true);
    first.core.workDone(p, p.epoch, [ok(link.workIds[0])]);
    first.core.close(); // the process dies: nothing more is written

    const second = boot(store);
    expect(second.core.recovered).toMatchObject({ providers: 1, leases: 1, dropped: 0 });
    const back = second.core.providerSnapshot("p1")!;
    expect({ epoch: back.epoch, state: back.state }).toEqual({ epoch: p.epoch, state: "suspect" });
    const again = second.core.leaseSnapshot(lease.id)!;
    expect({ state: again.state, channel: again.channel, mode: again.mode, ttl: again.ttlMs }).toEqual({
      state: "suspended",
      channel: 0,
      mode: "exclusive",
      ttl: 5000,
    });
    // Both cookies' fates died with the first process (the completed one's result was never persisted).
    for (const c of cookies) expect(second.core.txStatus("c1", lease.id, c).record).toMatchObject({ result: "ABORTED", reason: "BROKER_RESTARTED" });
    expectDmaError(() => second.core.submit("c1", lease.id, [memcpy(8)], true), "PROVIDER_SUSPECT");

    const observer = new RecordingObserver();
    second.core.watch("c1", lease.id, 0, observer);
    const newLink = new FakeLink();
    const resumed = second.core.attachProvider(providerSpec("p1"), newLink, p.epoch);
    // The recovered incarnation resumes (same epoch, its lease with it), not a new one.
    expect({ epoch: resumed.epoch, state: resumed.state }).toEqual({ epoch: back.epoch, state: "online" });
    expect(second.core.listProviders().items.map((s) => [s.providerId, s.epoch])).toEqual([["p1", p.epoch]]);
    expect(observer.states.map((s) => s.state)).toEqual(["suspended", "active"]);
    const [next] = second.core.submit("c1", lease.id, [memcpy(8)], true);
    expect(next).toBe(COOKIE_BLOCK + 1);
    expect(newLink.work[0].epoch).toBe(p.epoch);
    // A new lease's exclusive channel is still taken by the recovered one.
    const other = second.core.requestChannel("c2", { capabilityMask: MEMCPY, mode: "exclusive" });
    expect(other.channel.index).toBe(1);
  });

  it("a recovered provider whose agent does not return within the grace window ends as lost", () => {
    const store = createMemoryStore();
    const first = boot(store);
    first.core.attachProvider(providerSpec("p1"), new FakeLink());
    const lease = first.core.requestChannel("c1", { capabilityMask: MEMCPY, mode: "shared" });
    first.core.close();
    const second = boot(store, { restartGraceMs: 3000 });
    second.clock.advance(2900);
    expect(second.core.providerSnapshot("p1")!.state).toBe("suspect");
    second.clock.advance(200);
    expect(second.core.leaseSnapshot(lease.id)!.endReason).toBe("PROVIDER_GONE");
    expect(store.load().tables.lease.size).toBe(0);
    expect(store.load().tables.provider.size).toBe(0);
  });

  it("a recovered lease's fresh TTL starts after the grace window (etcd's Promote): a client as slow as an agent keeps it", () => {
    const store = createMemoryStore();
    const first = boot(store);
    first.core.attachProvider(providerSpec("p1"), new FakeLink());
    const lease = first.core.requestChannel("c1", { capabilityMask: MEMCPY, mode: "shared", ttlMs: 2000 });
    first.core.close();
    const second = boot(store, { restartGraceMs: 3000 });
    const link = new FakeLink();
    second.clock.advance(2500);
    const p = second.core.attachProvider(providerSpec("p1"), link, lease.provider.epoch);
    const tick = (ms: number): void => {
      for (let t = 0; t < ms; t += 100) {
        second.core.heartbeat(p, p.epoch);
        second.clock.advance(100);
      }
    };
    tick(2400); // 4.9 s after the restart: past the 2 s TTL, inside grace + TTL
    expect(second.core.leaseSnapshot(lease.id)!.state).toBe("active");
    second.core.keepAlive("c1", lease.id);
    tick(1900);
    expect(second.core.leaseSnapshot(lease.id)!.state).toBe("active");
    tick(200);
    expect(second.core.leaseSnapshot(lease.id)!.endReason).toBe("LEASE_EXPIRED");
  });

  it("the grace window runs from start() (when the broker serves), not from reading the store", () => {
    const store = createMemoryStore();
    const first = boot(store);
    first.core.attachProvider(providerSpec("p1"), new FakeLink());
    const lease = first.core.requestChannel("c1", { capabilityMask: MEMCPY, mode: "shared", ttlMs: 2000 });
    first.core.close();
    const clock = new ManualClock();
    const core = new BrokerCore({ clock, store, options: { restartGraceMs: 3000 } });
    clock.advance(10_000); // a slow start: ports open long after recovery
    core.start();
    clock.advance(2900);
    expect(core.providerSnapshot("p1")!.state).toBe("suspect");
    expect(core.leaseSnapshot(lease.id)!.state).toBe("suspended");
    clock.advance(200);
    expect(core.leaseSnapshot(lease.id)!.endReason).toBe("PROVIDER_GONE");
  });

  it("an agent that comes back without its epoch (or another shape) is a new incarnation; the recovered one is fenced", () => {
    const store = createMemoryStore();
    const first = boot(store);
    const p = first.core.attachProvider(providerSpec("p1"), new FakeLink());
    const lease = first.core.requestChannel("c1", { capabilityMask: MEMCPY, mode: "shared" });
    first.core.close();
    const second = boot(store);
    const fresh = second.core.attachProvider(providerSpec("p1", { channels: [{ queueDepth: 4 }] }), new FakeLink(), p.epoch);
    expect(fresh.epoch).toBeGreaterThan(p.epoch);
    expect(second.core.leaseSnapshot(lease.id)!.endReason).toBe("PROVIDER_GONE");
  });

  it("never hands out an epoch twice across restarts (reserved in blocks)", () => {
    const store = createMemoryStore();
    const seen = new Set<number>();
    for (let restart = 0; restart < 5; restart++) {
      const { core } = boot(store);
      for (let i = 0; i < 3; i++) {
        const p = core.attachProvider(providerSpec(`p${restart}-${i}`), new FakeLink());
        expect(seen.has(p.epoch)).toBe(false);
        seen.add(p.epoch);
      }
      core.close();
    }
    expect(Math.max(...seen)).toBeGreaterThan(4 * EPOCH_BLOCK);
  });

  it("keeps unbound ids and removed channels across a restart", () => {
    const store = createMemoryStore();
    const first = boot(store);
    first.core.attachProvider(providerSpec("gone"), new FakeLink());
    first.core.unbindProvider("gone", { mode: "force", reason: "bad card" });
    const p = first.core.attachProvider(providerSpec("half"), new FakeLink());
    first.core.removeChannel("half", 0);
    first.core.close();
    const second = boot(store);
    expectDmaError(() => second.core.attachProvider(providerSpec("gone"), new FakeLink()), "PROVIDER_UNBOUND");
    const half = second.core.attachProvider(providerSpec("half"), new FakeLink(), p.epoch);
    expect(half.epoch).toBe(p.epoch);
    expect(half.channels[0].removed).toBe(true);
    expect(second.core.bindProvider("gone")).toBe(true);
    second.core.close();
    const third = boot(store);
    expect(third.core.attachProvider(providerSpec("gone"), new FakeLink()).state).toBe("online");
  });

  it("reserves a new cookie block before a submit passes the reserved one", () => {
    const store = recordingStore();
    const { core } = boot(store, { maxBatchDescriptors: 4096 });
    const link = new FakeLink();
    core.attachProvider(providerSpec("p1", { channels: [{ queueDepth: 65536 }] }), link);
    const lease = core.requestChannel("c1", { capabilityMask: MEMCPY, mode: "exclusive" });
    const leaseWrites = (): number => store.batches.flat().filter((o) => o.table === "lease" && o.key === lease.id).length;
    expect(leaseWrites()).toBe(1);
    let last = 0;
    while (last <= COOKIE_BLOCK) {
      last = core
        .submit(
          "c1",
          lease.id,
          Array.from({ length: 4096 }, () => memcpy(1)),
          false,
        )
        .at(-1)!;
      void core.terminate("c1", lease.id, false); // frees the queue (aborted at once)
    }
    expect(leaseWrites()).toBe(2);
    expect((store.load().tables.lease.get(lease.id) as { cookiesUpTo: number }).cookiesUpTo).toBeGreaterThanOrEqual(last);
  });
});
