import { describe, expect, it } from "vitest";
import { GrpcCode, capabilityMask } from "@dmabroker/core";
import type { BrokerOptions, DmaDescriptor } from "@dmabroker/core";
import { FakeLink, RecordingObserver, expectDmaError, expectDmaErrorAsync, memcpy, newCore, ok, providerSpec } from "./helpers.js";

const MEMCPY = capabilityMask(["memcpy"]);

function setup(options: BrokerOptions = {}, queueDepth = 8) {
  const { core, clock } = newCore(options);
  const link = new FakeLink();
  const p = core.attachProvider(
    providerSpec("dev-a", {
      capabilityMask: MEMCPY,
      constraints: { maxTransferBytes: 64, alignment: 1, maxXorSources: 2 },
      channels: [{ queueDepth }, { queueDepth }],
    }),
    link,
  );
  const lease = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "exclusive", ttlMs: 60_000 });
  return { core, clock, link, p, lease };
}

/** Nothing was accepted: no cookie handed out, nothing sent, queue untouched. */
function expectNothingAccepted(s: ReturnType<typeof setup>): void {
  expect(s.lease.ledger?.lastCookie).toBe(0);
  expect(s.link.work).toEqual([]);
  expect(s.lease.channel.outstanding).toBe(0);
  expect(s.core.stats.cookiesAccepted).toBe(0);
}

describe("unknown lease and wrong owner", () => {
  it("answers LEASE_NOT_FOUND (NOT_FOUND) on every call for an unknown or empty lease id", async () => {
    const { core } = setup();
    for (const id of ["lease-nope", ""]) {
      const calls = [
        () => core.submit("alice", id, [memcpy(1)], true),
        () => core.issuePending("alice", id),
        () => core.keepAlive("alice", id),
        () => core.release("alice", id),
        () => core.txStatus("alice", id, 1),
        () => core.watch("alice", id, 0, new RecordingObserver()),
      ];
      for (const call of calls) expect(expectDmaError(call, "LEASE_NOT_FOUND").grpcCode).toBe(GrpcCode.NOT_FOUND);
      await expectDmaErrorAsync(() => core.terminate("alice", id, false), "LEASE_NOT_FOUND");
    }
  });

  it("answers NOT_LEASE_OWNER (PERMISSION_DENIED) to another client and changes nothing", async () => {
    const s = setup();
    const { core, lease } = s;
    const calls = [
      () => core.submit("bob", lease.id, [memcpy(1)], true),
      () => core.issuePending("bob", lease.id),
      () => core.keepAlive("bob", lease.id),
      () => core.release("bob", lease.id),
      () => core.txStatus("bob", lease.id, 1),
      () => core.watch("bob", lease.id, 0, new RecordingObserver()),
    ];
    for (const call of calls) expect(expectDmaError(call, "NOT_LEASE_OWNER").grpcCode).toBe(GrpcCode.PERMISSION_DENIED);
    await expectDmaErrorAsync(() => core.terminate("bob", lease.id, false), "NOT_LEASE_OWNER");
    expect(lease.state).toBe("active");
    expect(lease.observers.size).toBe(0);
    expectNothingAccepted(s);
  });
});

describe("txStatus", () => {
  it("answers COOKIE_NOT_FOUND for cookies never handed out on this lease", () => {
    const { core, lease } = setup();
    core.submit("alice", lease.id, [memcpy(1), memcpy(1)], false);
    for (const cookie of [0, -1, 1.5, 3, Number.NaN]) {
      const e = expectDmaError(() => core.txStatus("alice", lease.id, cookie), "COOKIE_NOT_FOUND");
      expect(e.grpcCode).toBe(GrpcCode.NOT_FOUND);
    }
    expect(core.txStatus("alice", lease.id, 2).status).toBe("PENDING");
  });

  it("answers COOKIE_NOT_FOUND for a result no longer retained", () => {
    const { core, link, p, lease } = setup({ maxRetainedResults: 2 });
    const cookies = core.submit("alice", lease.id, [memcpy(1), memcpy(1), memcpy(1)], true);
    core.workDone(
      p,
      p.epoch,
      link.workIds.map((w) => ok(w)),
    );
    const e = expectDmaError(() => core.txStatus("alice", lease.id, cookies[0]), "COOKIE_NOT_FOUND");
    expect(e.message).toContain("no longer retained");
    expect(core.txStatus("alice", lease.id, cookies[2]).status).toBe("COMPLETE");
  });
});

describe("submit validation (all or nothing)", () => {
  it("rejects an operation the provider cannot do with CAPABILITY_UNSUPPORTED and the index of the bad descriptor", () => {
    const s = setup();
    const fill: DmaDescriptor = { op: "fill", fill: { pattern: new Uint8Array([1]), length: 8 } };
    const e = expectDmaError(() => s.core.submit("alice", s.lease.id, [memcpy(4), fill], true), "CAPABILITY_UNSUPPORTED");
    expect(e.grpcCode).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(e.metadata.index).toBe("1");
    expectNothingAccepted(s);
  });

  it("rejects a buffer over maxTransferBytes with INVALID_DESCRIPTOR and accepts one at the limit", () => {
    const s = setup();
    const e = expectDmaError(() => s.core.submit("alice", s.lease.id, [memcpy(64), memcpy(65)], true), "INVALID_DESCRIPTOR");
    expect(e.grpcCode).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(e.metadata).toMatchObject({ index: "1", limit: "64", bytes: "65" });
    expectNothingAccepted(s);
    expect(s.core.submit("alice", s.lease.id, [memcpy(64)], true)).toEqual([1]);
  });

  it("rejects an empty batch with EMPTY_BATCH", () => {
    const s = setup();
    expect(expectDmaError(() => s.core.submit("alice", s.lease.id, [], true), "EMPTY_BATCH").grpcCode).toBe(GrpcCode.INVALID_ARGUMENT);
    expectNothingAccepted(s);
  });

  it("rejects a batch over maxBatchDescriptors or maxBatchBytes with BATCH_TOO_LARGE", () => {
    const s = setup({ maxBatchDescriptors: 3, maxBatchBytes: 100 });
    expectDmaError(() => s.core.submit("alice", s.lease.id, [memcpy(1), memcpy(1), memcpy(1), memcpy(1)], true), "BATCH_TOO_LARGE");
    expectDmaError(() => s.core.submit("alice", s.lease.id, [memcpy(50), memcpy(51)], true), "BATCH_TOO_LARGE");
    expectNothingAccepted(s);
    expect(s.core.submit("alice", s.lease.id, [memcpy(50), memcpy(50)], true)).toHaveLength(2);
  });
});

describe("back-pressure", () => {
  it("answers QUEUE_FULL (RESOURCE_EXHAUSTED) when a batch would exceed the channel's queue depth, and frees room on completion", () => {
    const s = setup({}, 4);
    const { core, link, p, lease } = s;
    core.submit("alice", lease.id, [memcpy(1), memcpy(1), memcpy(1)], true);
    const e = expectDmaError(() => core.submit("alice", lease.id, [memcpy(1), memcpy(1)], true), "QUEUE_FULL");
    expect(e.grpcCode).toBe(GrpcCode.RESOURCE_EXHAUSTED);
    expect(e.metadata).toMatchObject({ queue_depth: "4", outstanding: "3" });
    expect(lease.ledger?.lastCookie).toBe(3);
    // Exactly full is fine.
    expect(core.submit("alice", lease.id, [memcpy(1)], false)).toEqual([4]);
    expectDmaError(() => core.submit("alice", lease.id, [memcpy(1)], false), "QUEUE_FULL");
    // A completion makes room for one more; unissued (pending) cookies count too.
    core.workDone(p, p.epoch, [ok(link.workIds[0])]);
    expect(core.submit("alice", lease.id, [memcpy(1)], false)).toEqual([5]);
    expectDmaError(() => core.submit("alice", lease.id, [memcpy(1)], false), "QUEUE_FULL");
  });

  it("counts the queue per channel across shared leases", () => {
    const { core } = newCore();
    core.attachProvider(providerSpec("dev-a", { channels: [{ queueDepth: 3 }] }), new FakeLink());
    const a = core.requestChannel("alice", { capabilityMask: MEMCPY, mode: "shared" });
    const b = core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "shared" });
    expect(a.channel).toBe(b.channel);
    core.submit("alice", a.id, [memcpy(1), memcpy(1)], true);
    expectDmaError(() => core.submit("bob", b.id, [memcpy(1), memcpy(1)], true), "QUEUE_FULL");
    expect(core.submit("bob", b.id, [memcpy(1)], true)).toEqual([1]);
  });

  it("answers QUOTA_EXCEEDED when a client holds maxLeasesPerClient leases; others are unaffected; releasing frees quota", () => {
    const { core } = newCore({ maxLeasesPerClient: 2 });
    core.attachProvider(providerSpec("dev-a", { channels: Array.from({ length: 6 }, () => ({ queueDepth: 1 })) }), new FakeLink());
    const req = { capabilityMask: MEMCPY, mode: "exclusive" as const };
    const first = core.requestChannel("alice", req);
    core.requestChannel("alice", req);
    const e = expectDmaError(() => core.requestChannel("alice", req), "QUOTA_EXCEEDED");
    expect(e.grpcCode).toBe(GrpcCode.RESOURCE_EXHAUSTED);
    expect(e.metadata.limit).toBe("2");
    core.requestChannel("bob", req);
    core.release("alice", first.id);
    expect(core.requestChannel("alice", req).owner).toBe("alice");
    expect(core.counts().leasesLive).toBe(3);
  });

  it("limits watchers per lease with QUOTA_EXCEEDED; detaching frees a slot", () => {
    const { core, lease } = setup({ maxWatchersPerLease: 2 });
    core.watch("alice", lease.id, 0, new RecordingObserver());
    const detach = core.watch("alice", lease.id, 0, new RecordingObserver());
    expectDmaError(() => core.watch("alice", lease.id, 0, new RecordingObserver()), "QUOTA_EXCEEDED");
    detach();
    core.watch("alice", lease.id, 0, new RecordingObserver());
  });
});

describe("requestChannel arguments and shutdown", () => {
  it("answers INVALID_ARGUMENT for an empty or unknown capability mask, a bad mode, too many labels", () => {
    const { core } = setup();
    expectDmaError(() => core.requestChannel("bob", { capabilityMask: 0, mode: "shared" }), "INVALID_ARGUMENT");
    expectDmaError(() => core.requestChannel("bob", { capabilityMask: 1 << 30, mode: "shared" }), "INVALID_ARGUMENT");
    expectDmaError(() => core.requestChannel("bob", { capabilityMask: MEMCPY | 1, mode: "shared" }), "INVALID_ARGUMENT");
    expectDmaError(() => core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "both" as "shared" }), "INVALID_ARGUMENT");
    const labels = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"]));
    expectDmaError(() => core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "shared", labels }), "INVALID_ARGUMENT");
    expect(core.leaseCountOf("bob")).toBe(0);
  });

  it("distinguishes NO_PROVIDER (nothing could ever match) from NO_CHANNEL_AVAILABLE (matches, all busy)", () => {
    const { core } = setup(); // dev-a: memcpy only, 2 channels, one taken by alice
    const fill = capabilityMask(["fill"]);
    expect(expectDmaError(() => core.requestChannel("bob", { capabilityMask: fill, mode: "exclusive" }), "NO_PROVIDER").grpcCode).toBe(GrpcCode.UNAVAILABLE);
    expectDmaError(() => core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "exclusive", labels: { zone: "mars" } }), "NO_PROVIDER");
    expectDmaError(() => core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "exclusive", providerId: "dev-z" }), "NO_PROVIDER");
    core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "exclusive" });
    const e = expectDmaError(() => core.requestChannel("carol", { capabilityMask: MEMCPY, mode: "exclusive" }), "NO_CHANNEL_AVAILABLE");
    expect(e.grpcCode).toBe(GrpcCode.RESOURCE_EXHAUSTED);
  });

  it("shared leases go only to public providers (a private one is NO_PROVIDER for shared)", () => {
    const { core } = newCore();
    core.attachProvider(providerSpec("private", { public: false }), new FakeLink());
    expectDmaError(() => core.requestChannel("a", { capabilityMask: MEMCPY, mode: "shared" }), "NO_PROVIDER");
    expect(core.requestChannel("a", { capabilityMask: MEMCPY, mode: "exclusive" }).provider.id).toBe("private");
  });

  it("answers SHUTTING_DOWN to new leases and submits after close()", () => {
    const { core, lease } = setup();
    core.close();
    expect(expectDmaError(() => core.requestChannel("bob", { capabilityMask: MEMCPY, mode: "exclusive" }), "SHUTTING_DOWN").grpcCode).toBe(
      GrpcCode.UNAVAILABLE,
    );
    expectDmaError(() => core.submit("alice", lease.id, [memcpy(1)], true), "SHUTTING_DOWN");
  });
});
