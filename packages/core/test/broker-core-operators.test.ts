import { describe, expect, it } from "vitest";
import { capabilityMask } from "@dmabroker/core";
import type { BrokerEvent } from "@dmabroker/core";
import { FakeLink, RecordingObserver, expectDmaError, memcpy, newCore, ok, providerSpec } from "./helpers.js";

const MEMCPY = capabilityMask(["memcpy"]);

/** One provider with two channels; alice holds channel 0 exclusively, bob shares channel 1. */
function setup() {
  const { core, clock } = newCore();
  const events: BrokerEvent[] = [];
  const link = new FakeLink();
  const p = core.attachProvider(providerSpec("dev-a"), link);
  const a = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive" });
  const b = core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "shared" });
  const obsA = new RecordingObserver();
  const obsB = new RecordingObserver();
  core.watch("alice", a.id, 0, obsA);
  core.watch("bob", b.id, 0, obsB);
  return { core, clock, link, p, a, b, obsA, obsB, events };
}

describe("operator unbind", () => {
  it("polite unbind is refused with PROVIDER_BUSY naming the leases, and changes nothing", () => {
    const { core, p, a, b } = setup();
    const e = expectDmaError(() => core.unbindProvider("dev-a", { mode: "polite" }), "PROVIDER_BUSY");
    expect(e.metadata.leases.split(",").sort()).toEqual([a.id, b.id].sort());
    expect(e.metadata.lease_count).toBe("2");
    expect(p.state).toBe("online");
    expect(a.state).toBe("active");
  });

  it("polite unbind of an idle provider removes it and the id may not register until bound", () => {
    const { core } = newCore();
    const link = new FakeLink();
    const p = core.attachProvider(providerSpec("idle"), link);
    const report = core.unbindProvider("idle", { mode: "polite" });
    expect(report).toMatchObject({ providerId: "idle", epoch: p.epoch, leases: [], dryRun: false });
    expect(p.state === "removed" || p.state === "freed").toBe(true);
    expect(link.unbinds).toEqual([expect.objectContaining({ force: false })]);
    expect(link.closes).toHaveLength(1);
    expectDmaError(() => core.attachProvider(providerSpec("idle"), new FakeLink()), "PROVIDER_UNBOUND");
    expect(core.bindProvider("idle")).toBe(true);
    expect(core.bindProvider("idle")).toBe(false);
    const again = core.attachProvider(providerSpec("idle"), new FakeLink());
    expect(again.epoch).toBeGreaterThan(p.epoch);
  });

  it("dry run reports the leases and unfinished cookies and changes nothing", () => {
    const { core, link, p, a } = setup();
    core.submit("alice", a.id, [memcpy(4), memcpy(4)], true);
    const report = core.unbindProvider("dev-a", { mode: "force", dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(report.leases).toHaveLength(2);
    expect(report.unfinishedCookies).toBe(2);
    expect(p.state).toBe("online");
    expect(link.unbinds).toHaveLength(0);
    expect(core.submit("alice", a.id, [memcpy(1)], true)).toEqual([3]);
  });

  it("force unbind ends every lease PROVIDER_GONE at once with full residue", () => {
    const { core, link, p, a, b, obsA, obsB } = setup();
    const [c1, c2] = core.submit("alice", a.id, [memcpy(8), memcpy(8)], true);
    core.submit("bob", b.id, [memcpy(4)], false);
    const report = core.unbindProvider("dev-a", { mode: "force", reason: "maintenance" });
    expect(report.unfinishedCookies).toBe(3);
    expect(link.unbinds).toEqual([expect.objectContaining({ force: true })]);
    expect(p.present).toBe(false);
    expect(a.state).toBe("provider_gone");
    expect(b.state).toBe("provider_gone");
    expect(obsA.completions.map((c) => [c.cookie, c.result, c.reason, c.residue])).toEqual([
      [c1, "ABORTED", "PROVIDER_GONE", 8],
      [c2, "ABORTED", "PROVIDER_GONE", 8],
    ]);
    expect(obsB.completions).toEqual([expect.objectContaining({ result: "ABORTED", reason: "PROVIDER_GONE", residue: 4 })]);
    // A late result of the removed incarnation is refused.
    expect(core.workDone(p, p.epoch, [ok(link.workIds[0])]).refused).toBe(1);
    expectDmaError(() => core.attachProvider(providerSpec("dev-a"), new FakeLink()), "PROVIDER_UNBOUND");
  });

  it("drain refuses new leases and submits, lets issued work finish, then removes the provider early", () => {
    const { core, link, p, a, obsA } = setup();
    const [c1] = core.submit("alice", a.id, [memcpy(8)], true);
    core.unbindProvider("dev-a", { mode: "drain", timeoutMs: 5000 });
    expect(p.state).toBe("draining");
    expect(link.unbinds).toEqual([expect.objectContaining({ force: false, deadlineMs: 5000 })]);
    expectDmaError(() => core.requestChannel("carol", { capabilityMask: MEMCPY, mode: "shared" }), "NO_CHANNEL_AVAILABLE");
    expectDmaError(() => core.submit("alice", a.id, [memcpy(1)], true), "PROVIDER_GONE");
    core.workDone(p, p.epoch, [ok(link.workIds[0], new Uint8Array(8).fill(7))]);
    expect(obsA.completions).toEqual([expect.objectContaining({ cookie: c1, result: "NOERROR" })]);
    // The last issued work finished: the provider is removed without waiting for the deadline.
    expect(p.present).toBe(false);
    expect(a.state).toBe("provider_gone");
  });

  it("drain aborts what is left when the deadline passes", () => {
    const { core, clock, p, a, obsA } = setup();
    const [c1] = core.submit("alice", a.id, [memcpy(8)], true);
    core.unbindProvider("dev-a", { mode: "drain", timeoutMs: 1000 });
    clock.advance(999);
    expect(p.state).toBe("draining");
    clock.advance(2);
    expect(p.present).toBe(false);
    expect(obsA.completions).toEqual([expect.objectContaining({ cookie: c1, result: "ABORTED", reason: "PROVIDER_GONE", residue: 8 })]);
  });

  it("drain of a provider with no issued work removes it at once", () => {
    const { core, p } = setup();
    core.unbindProvider("dev-a", { mode: "drain", timeoutMs: 1000 });
    expect(p.present).toBe(false);
  });

  it("names bad input and unknown ids", () => {
    const { core } = setup();
    expectDmaError(() => core.unbindProvider("nope", { mode: "force" }), "PROVIDER_NOT_FOUND");
    expectDmaError(() => core.unbindProvider("dev-a", { mode: "gently" as "force" }), "INVALID_ARGUMENT");
    expectDmaError(() => core.unbindProvider("dev-a", { mode: "drain", timeoutMs: -1 }), "INVALID_ARGUMENT");
    core.unbindProvider("dev-a", { mode: "force" });
    // Unbinding again answers what happened instead of failing.
    expect(core.unbindProvider("dev-a", { mode: "force" }).alreadyUnbound).toBe(true);
  });
});

describe("single-channel removal", () => {
  it("ends only that channel's leases and never leases it again", () => {
    const { core, p, a, b, obsA } = setup();
    const [c1] = core.submit("alice", a.id, [memcpy(8)], true);
    const report = core.removeChannel("dev-a", a.channel.index, { reason: "wq disabled" });
    expect(report.leases.map((l) => l.leaseId)).toEqual([a.id]);
    expect(a.state).toBe("provider_gone");
    expect(b.state).toBe("active");
    expect(p.state).toBe("online");
    expect(obsA.completions).toEqual([expect.objectContaining({ cookie: c1, result: "ABORTED", reason: "PROVIDER_GONE" })]);
    // Only channel 1 is left: an exclusive request finds nothing free (bob shares it).
    expectDmaError(() => core.requestChannel("carol", { capabilityMask: MEMCPY, mode: "exclusive" }), "NO_CHANNEL_AVAILABLE");
    const shared = core.requestChannel("carol", { capabilityMask: MEMCPY, mode: "shared" });
    expect(shared.channel.index).toBe(b.channel.index);
    expectDmaError(() => core.removeChannel("dev-a", a.channel.index), "CHANNEL_NOT_FOUND");
    expectDmaError(() => core.removeChannel("dev-a", 9), "CHANNEL_NOT_FOUND");
  });

  it("dry run changes nothing", () => {
    const { core, a } = setup();
    expect(core.removeChannel("dev-a", a.channel.index, { dryRun: true }).leases).toHaveLength(1);
    expect(a.state).toBe("active");
  });
});

describe("describeProvider", () => {
  it("keeps the epoch history of an id across incarnations", () => {
    const { core } = newCore();
    const first = core.attachProvider(providerSpec("dev-h"), new FakeLink());
    core.providerLost(first, "stream_break", "killed");
    const second = core.attachProvider(providerSpec("dev-h"), new FakeLink());
    const d = core.describeProvider("dev-h");
    expect(d.provider?.epoch).toBe(second.epoch);
    expect(d.history.map((h) => [h.epoch, h.endState])).toEqual([
      [first.epoch, "lost"],
      [second.epoch, ""],
    ]);
    expect(d.history[0].endReason).toBe("killed");
    expectDmaError(() => core.describeProvider("never"), "PROVIDER_NOT_FOUND");
  });
});
