import { describe, expect, it } from "vitest";
import { GrpcCode, capabilityMask } from "@dmabroker/core";
import type { BrokerEvent, WorkReport } from "@dmabroker/core";
import { BrokerCore, ManualClock } from "@dmabroker/core";
import { FakeLink, RecordingObserver, expectDmaError, expectDmaErrorAsync, memcpy, newCore, ok, providerSpec } from "./helpers.js";

const MEMCPY = capabilityMask(["memcpy"]);

/** A provider with one exclusive lease watched by a RecordingObserver. */
function setup() {
  const { core, clock } = newCore();
  const link = new FakeLink();
  const p = core.attachProvider(providerSpec("dev-a"), link);
  const lease = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive" });
  const obs = new RecordingObserver();
  core.watch("alice", lease.id, 0, obs);
  return { core, clock, link, p, lease, obs };
}

describe("BrokerCore: submit and issue", () => {
  it("sends issued descriptors to the provider with fresh work ids, epoch and channel", () => {
    const { core, link, p, lease } = setup();
    const d1 = memcpy(10);
    const d2 = memcpy(20);
    const cookies = core.submit("alice", lease.id, [d1, d2], true);
    expect(cookies).toEqual([1, 2]);
    expect(link.work).toHaveLength(1);
    const batch = link.work[0];
    expect(batch.epoch).toBe(p.epoch);
    expect(batch.channel).toBe(lease.channel.index);
    expect(batch.items.map((i) => i.descriptor)).toEqual([d1, d2]);
    const ids = batch.items.map((i) => i.workId);
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) expect(id).toBeGreaterThan(0);
    expect(core.txStatus("alice", lease.id, cookies[0]).status).toBe("IN_PROGRESS");
  });

  it("holds submits without issue until issuePending, then sends them in one batch", () => {
    const { core, link, lease } = setup();
    const [c1] = core.submit("alice", lease.id, [memcpy(1)], false);
    const [c2] = core.submit("alice", lease.id, [memcpy(2)], false);
    expect(link.work).toHaveLength(0);
    expect(core.txStatus("alice", lease.id, c1)).toEqual({ status: "PENDING", residue: 1 });
    expect(core.issuePending("alice", lease.id)).toBe(2);
    expect(link.work).toHaveLength(1);
    expect(link.work[0].items).toHaveLength(2);
    expect(core.txStatus("alice", lease.id, c2).status).toBe("IN_PROGRESS");
    // Nothing left to issue.
    expect(core.issuePending("alice", lease.id)).toBe(0);
    expect(link.work).toHaveLength(1);
  });

  it("delivers a provider's result to the watcher and to txStatus", () => {
    const { core, link, p, lease, obs } = setup();
    const [c] = core.submit("alice", lease.id, [memcpy(3)], true);
    const out = new Uint8Array([7, 7, 7]);
    expect(core.workDone(p, p.epoch, [ok(link.workIds[0], out)])).toEqual({ accepted: 1, refused: 0 });
    expect(obs.completions).toEqual([expect.objectContaining({ cookie: c, status: "COMPLETE", result: "NOERROR", residue: 0, reason: "" })]);
    expect(obs.outputsAtDelivery.get(c)).toEqual(out);
    expect(core.txStatus("alice", lease.id, c)).toMatchObject({ status: "COMPLETE", residue: 0 });
  });
});

describe("BrokerCore: provider lost (hot unplug)", () => {
  it("ends every unfinished cookie ABORTED / PROVIDER_GONE with full residue, exactly once, without waiting", () => {
    const { core, link, p, lease, obs } = setup();
    const [c1, c2] = core.submit("alice", lease.id, [memcpy(10), memcpy(20)], true);
    const [c3] = core.submit("alice", lease.id, [memcpy(30)], false);
    core.workDone(p, p.epoch, [ok(link.workIds[0])]);

    core.providerLost(p, "stream_break", "stream broke");

    const byCookie = new Map(obs.completions.map((r) => [r.cookie, r]));
    expect(byCookie.get(c1)).toMatchObject({ status: "COMPLETE", result: "NOERROR" });
    expect(byCookie.get(c2)).toMatchObject({ status: "ERROR", result: "ABORTED", reason: "PROVIDER_GONE", residue: 20 });
    expect(byCookie.get(c3)).toMatchObject({ status: "ERROR", result: "ABORTED", reason: "PROVIDER_GONE", residue: 30 });
    expect([...obs.deliveries().values()].every((n) => n === 1)).toBe(true);
    expect(obs.completions).toHaveLength(3);

    // Completions come before the terminal state change, and the watcher is detached after it.
    expect(obs.states.at(-1)).toMatchObject({ state: "provider_gone", reason: "PROVIDER_GONE" });
    expect(lease.state).toBe("provider_gone");
    expect(p.state).toBe("lost");
    expect(link.closes).toEqual(["stream broke"]);
    // A gone provider gets no terminate order.
    expect(link.terminates).toEqual([]);

    // Losing it again changes nothing and delivers nothing twice.
    core.providerLost(p, "stream_break", "again");
    expect(obs.completions).toHaveLength(3);
    expect(link.closes).toHaveLength(1);
  });

  it("answers every later call on the lease with PROVIDER_GONE (FAILED_PRECONDITION) and release with released:false", async () => {
    const { core, p, lease } = setup();
    core.submit("alice", lease.id, [memcpy(4)], true);
    core.providerLost(p, "stream_break", "stream broke");

    const calls: [string, () => unknown][] = [
      ["submit", () => core.submit("alice", lease.id, [memcpy(4)], true)],
      ["issuePending", () => core.issuePending("alice", lease.id)],
      ["keepAlive", () => core.keepAlive("alice", lease.id)],
      ["txStatus", () => core.txStatus("alice", lease.id, 1)],
      ["watch", () => core.watch("alice", lease.id, 0, new RecordingObserver())],
    ];
    for (const [name, call] of calls) {
      const e = expectDmaError(call, "PROVIDER_GONE");
      expect(e.grpcCode, name).toBe(GrpcCode.FAILED_PRECONDITION);
      expect(e.metadata).toMatchObject({ lease_id: lease.id, provider_id: "dev-a", epoch: String(p.epoch), state: "provider_gone" });
    }
    const t = await expectDmaErrorAsync(() => core.terminate("alice", lease.id, true), "PROVIDER_GONE");
    expect(t.grpcCode).toBe(GrpcCode.FAILED_PRECONDITION);

    const r = core.release("alice", lease.id);
    expect(r.released).toBe(false);
    expect(r.lease.state).toBe("provider_gone");
    // Another client still learns nothing about it but "not yours".
    expectDmaError(() => core.release("bob", lease.id), "NOT_LEASE_OWNER");
  });

  it("refuses results that arrive after the loss; they never reach a watcher", () => {
    const events: BrokerEvent[] = [];
    const clock = new ManualClock();
    const core = new BrokerCore({ clock, onEvent: (e) => events.push(e) });
    const link = new FakeLink();
    const p = core.attachProvider(providerSpec("dev-a"), link);
    const lease = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive" });
    const obs = new RecordingObserver();
    core.watch("alice", lease.id, 0, obs);
    core.submit("alice", lease.id, [memcpy(4), memcpy(4)], true);
    core.providerLost(p, "stream_break", "stream broke");
    const delivered = obs.completions.length;

    expect(
      core.workDone(
        p,
        p.epoch,
        link.workIds.map((id) => ok(id)),
      ),
    ).toEqual({ accepted: 0, refused: 2 });
    expect(obs.completions).toHaveLength(delivered);
    expect(core.stats.staleResultsRefused).toBe(2);
    expect(events).toContainEqual({ type: "provider.stale_results", providerId: "dev-a", epoch: p.epoch, count: 2 });
    expect(core.heartbeat(p, p.epoch)).toBe(false);
  });

  it("frees the channel: new requests see NO_PROVIDER once nothing is registered", () => {
    const { core, p } = setup();
    core.providerLost(p, "unbound", "unbound");
    expect(p.state).toBe("removed");
    const e = expectDmaError(() => core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "exclusive" }), "NO_PROVIDER");
    expect(e.grpcCode).toBe(GrpcCode.UNAVAILABLE);
  });

  it("ends every lease of the provider, shared and exclusive, across owners", () => {
    const { core } = newCore();
    const link = new FakeLink();
    const p = core.attachProvider(providerSpec("dev-a", { channels: [{ queueDepth: 8 }, { queueDepth: 8 }, { queueDepth: 8 }] }), link);
    const other = core.attachProvider(providerSpec("dev-b", { channels: [{ queueDepth: 8 }] }), new FakeLink());
    const leases = [
      core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive", providerId: "dev-a" }),
      core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "shared", providerId: "dev-a" }),
      core.requestChannel("carol", { capabilityMask: MEMCPY, mode: "shared", providerId: "dev-a" }),
    ];
    const survivor = core.requestChannel("dave", { capabilityMask: MEMCPY, mode: "exclusive", providerId: "dev-b" });
    core.providerLost(p, "stream_break", "killed");
    for (const l of leases) expect(l.state).toBe("provider_gone");
    expect(survivor.state).toBe("active");
    expect(other.state).toBe("online");
    expect(
      core
        .listLeases()
        .items.filter((s) => s.providerId === "dev-a")
        .map((s) => s.endReason),
    ).toEqual(["PROVIDER_GONE", "PROVIDER_GONE", "PROVIDER_GONE"]);
  });
});

describe("BrokerCore: graceful drain", () => {
  it("takes no new leases or work while draining, still accepts results of issued work, then ends leases on removal", () => {
    const { core, link, p, lease, obs } = setup();
    const [c1] = core.submit("alice", lease.id, [memcpy(4)], true);
    core.providerDraining(p, 5000);
    expect(p.state).toBe("draining");

    const e = expectDmaError(() => core.submit("alice", lease.id, [memcpy(4)], true), "PROVIDER_GONE");
    expect(e.metadata.state).toBe("draining");
    expectDmaError(() => core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "exclusive" }), "NO_CHANNEL_AVAILABLE");
    expect(core.workDone(p, p.epoch, [ok(link.workIds[0])]).accepted).toBe(1);
    expect(obs.completions).toEqual([expect.objectContaining({ cookie: c1, result: "NOERROR" })]);
    expect(lease.state).toBe("active");

    core.providerLost(p, "unbound", "drained");
    expect(p.state).toBe("removed");
    expect(lease.state).toBe("provider_gone");
    expect(obs.states.at(-1)).toMatchObject({ state: "provider_gone", reason: "PROVIDER_GONE" });
    expect(link.closes).toEqual(["drained"]);
  });
});

describe("BrokerCore: re-registration fences the old incarnation", () => {
  it("gives a higher epoch, closes the old link and ends its leases PROVIDER_GONE", () => {
    const events: BrokerEvent[] = [];
    const core = new BrokerCore({ clock: new ManualClock(), onEvent: (e) => events.push(e) });
    const link1 = new FakeLink();
    const p1 = core.attachProvider(providerSpec("dev-a"), link1);
    const lease = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive" });
    const obs = new RecordingObserver();
    core.watch("alice", lease.id, 0, obs);
    const [c] = core.submit("alice", lease.id, [memcpy(16)], true);

    const link2 = new FakeLink();
    const p2 = core.attachProvider(providerSpec("dev-a"), link2);

    expect(p2.epoch).toBeGreaterThan(p1.epoch);
    expect(p1.state).toBe("lost");
    expect(p2.state).toBe("online");
    expect(link1.closes).toHaveLength(1);
    expect(link2.closes).toHaveLength(0);
    expect(lease.state).toBe("provider_gone");
    expect(obs.completions).toEqual([expect.objectContaining({ cookie: c, result: "ABORTED", reason: "PROVIDER_GONE", residue: 16 })]);
    expect(events).toContainEqual({ type: "provider.fenced", providerId: "dev-a", epoch: p1.epoch });
    expect(core.providerSnapshot("dev-a")?.epoch).toBe(p2.epoch);
  });

  it("never accepts a result or heartbeat of the old epoch, even when its work id collides with new work", () => {
    const { core } = newCore();
    const link1 = new FakeLink();
    const p1 = core.attachProvider(providerSpec("dev-a"), link1);
    const old = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive" });
    core.submit("alice", old.id, [memcpy(4)], true);
    const staleWorkId = link1.workIds[0];

    const link2 = new FakeLink();
    const p2 = core.attachProvider(providerSpec("dev-a"), link2);
    const fresh = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive" });
    expect(fresh.provider).toBe(p2);
    const obs = new RecordingObserver();
    core.watch("alice", fresh.id, 0, obs);
    const [c] = core.submit("alice", fresh.id, [memcpy(4)], true);
    // Work ids are per incarnation, so the new one reuses the old number.
    expect(link2.workIds[0]).toBe(staleWorkId);

    const bogus: WorkReport = { workId: staleWorkId, result: "READ_FAILED", residue: 4, reason: "DEVICE_READ_ERROR" };
    expect(core.workDone(p1, p1.epoch, [bogus])).toEqual({ accepted: 0, refused: 1 });
    expect(core.workDone(p2, p1.epoch, [bogus])).toEqual({ accepted: 0, refused: 1 });
    expect(obs.completions).toEqual([]);
    expect(core.txStatus("alice", fresh.id, c).status).toBe("IN_PROGRESS");

    expect(core.heartbeat(p1, p1.epoch)).toBe(false);
    expect(core.heartbeat(p2, p1.epoch)).toBe(false);
    expect(core.heartbeat(p2, p2.epoch)).toBe(true);

    // The genuine result of the new epoch is accepted.
    expect(core.workDone(p2, p2.epoch, [ok(link2.workIds[0])])).toEqual({ accepted: 1, refused: 0 });
    expect(obs.completions).toEqual([expect.objectContaining({ cookie: c, result: "NOERROR" })]);
  });

  it("keeps epochs increasing over many registrations, never reusing one", () => {
    const { core } = newCore();
    const epochs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const p = core.attachProvider(providerSpec(i % 3 === 0 ? "x" : `y${i}`), new FakeLink());
      epochs.push(p.epoch);
      if (i % 4 === 1) core.providerLost(p, "stream_break", "bye");
    }
    for (let i = 1; i < epochs.length; i++) expect(epochs[i]).toBeGreaterThan(epochs[i - 1]);
  });

  it("refuses a malformed registration without fencing the present incarnation", () => {
    const { core } = newCore();
    const link = new FakeLink();
    const p = core.attachProvider(providerSpec("dev-a"), link);
    for (const bad of [
      providerSpec("dev-a", { channels: [] }),
      providerSpec("dev-a", { channels: [{ queueDepth: 0 }] }),
      providerSpec("dev-a", { capabilityMask: 0 }),
      providerSpec("dev-a", { capabilityMask: 1 << 20 }),
      providerSpec("dev-a", { constraints: { maxTransferBytes: 0, alignment: 1, maxXorSources: 2 } }),
      providerSpec("bad id!"),
      providerSpec(""),
    ]) {
      const e = expectDmaError(() => core.attachProvider(bad, new FakeLink()), "INVALID_REGISTRATION");
      expect(e.grpcCode).toBe(GrpcCode.INVALID_ARGUMENT);
    }
    expect(p.state).toBe("online");
    expect(link.closes).toEqual([]);
    expect(core.providerSnapshot("dev-a")?.epoch).toBe(p.epoch);
  });
});
