import { EventEmitter } from "node:events";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { DmaError, capabilityMask } from "@dmabroker/core";
import type { DmaDescriptor } from "@dmabroker/core";
import { toServiceError } from "@dmabroker/proto";
import type { Completion__Output, DmaBrokerClient, Lease__Output } from "@dmabroker/proto";
import { BrokerClient, DmaBrokerError, Lease, ops } from "@dmabroker/client";
import type { Completion, FailoverEvent } from "@dmabroker/client";

// A fake gRPC stub stands in for the broker here: a real broker never replays
// a result after the lease ended, never sends a stale second result for a
// cookie, and cannot be made to refuse every relocation on cue, so those races
// and bounds are driven through this fake. The integration test
// (test/integration/failover.test.ts) covers the same policies end to end
// with real processes.

type Callback = (err: grpc.ServiceError | null, res?: object) => void;

interface FakeLease {
  wire: Lease__Output;
  stream?: EventEmitter;
  next: number;
  submits: { descriptors: DmaDescriptor[]; issue: boolean }[];
}

class FakeBroker {
  readonly leases = new Map<string, FakeLease>();
  private count = 0;

  grant(providerId: string, mask = capabilityMask(["memcpy", "xor"])): Lease__Output {
    const wire: Lease__Output = {
      leaseId: `lease-${++this.count}`,
      providerId,
      epoch: this.count,
      channel: 0,
      mode: "LEASE_MODE_SHARED",
      ttlMs: 60_000,
      expiresAtMs: 0,
      capabilityMask: mask,
      constraints: { maxTransferBytes: 1 << 20, alignment: 1, maxXorSources: 8 },
      state: "LEASE_STATE_ACTIVE",
      endReason: "",
    };
    this.leases.set(wire.leaseId, { wire, next: 0, submits: [] });
    return wire;
  }

  readonly stub = {
    WatchLease: (req: { leaseId: string }) => {
      const stream = Object.assign(new EventEmitter(), { cancel: () => undefined });
      this.leases.get(req.leaseId)!.stream = stream;
      setImmediate(() => stream.emit("data", { event: "state", state: { state: "LEASE_STATE_ACTIVE", reason: "", atMs: 0 } }));
      return stream;
    },
    Submit: (req: { leaseId: string; descriptors: DmaDescriptor[]; issue: boolean }, _md: grpc.Metadata, _o: grpc.CallOptions, cb: Callback) => {
      const l = this.leases.get(req.leaseId)!;
      l.submits.push({ descriptors: req.descriptors, issue: req.issue });
      const cookies = req.descriptors.map(() => ++l.next);
      setImmediate(() => cb(null, { cookies }));
      return { cancel: () => undefined };
    },
    IssuePending: (_req: object, _md: grpc.Metadata, _o: grpc.CallOptions, cb: Callback) => {
      setImmediate(() => cb(null, { issued: 0 }));
      return { cancel: () => undefined };
    },
    Release: (req: { leaseId: string }, _md: grpc.Metadata, _o: grpc.CallOptions, cb: Callback) => {
      const l = this.leases.get(req.leaseId)!;
      setImmediate(() => cb(null, { released: true, lease: { ...l.wire, state: "LEASE_STATE_RELEASED", endReason: "LEASE_RELEASED" } }));
      return { cancel: () => undefined };
    },
  } as unknown as DmaBrokerClient;

  /** Sends results on a lease's watch; `output` defaults to the memcpy source of that cookie. */
  complete(leaseId: string, results: (Partial<Completion__Output> & { cookie: number })[]): void {
    const l = this.leases.get(leaseId)!;
    const all = l.submits.flatMap((s) => s.descriptors);
    const completions = results.map((r) => ({
      status: r.result === "TX_RESULT_NOERROR" || r.result === undefined ? "TX_STATUS_COMPLETE" : "TX_STATUS_ERROR",
      result: "TX_RESULT_NOERROR",
      residue: 0,
      reason: "",
      output: Buffer.from(all[r.cookie - 1]?.memcpy?.src ?? []),
      checksum: 0,
      match: false,
      mismatchOffset: 0,
      ...r,
    }));
    l.stream!.emit("data", { event: "completions", completions: { completions } });
  }

  gone(leaseId: string, cookies: number[]): void {
    this.complete(
      leaseId,
      cookies.map((cookie) => ({
        cookie,
        status: "TX_STATUS_ERROR",
        result: "TX_RESULT_ABORTED",
        reason: "PROVIDER_GONE",
        residue: 4,
        output: Buffer.alloc(0),
      })),
    );
    this.leases.get(leaseId)!.stream!.emit("data", { event: "state", state: { state: "LEASE_STATE_PROVIDER_GONE", reason: "PROVIDER_GONE", atMs: 0 } });
  }
}

const ctx = (fake: FakeBroker) => ({ stub: fake.stub, metadata: () => new grpc.Metadata(), defaultTimeoutMs: 2000 });
const bytes = (i: number): Buffer => Buffer.from([i, i + 1, i + 2, i + 3]);
const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setImmediate(r));
  expect(check()).toBe(true);
};

function collect(lease: Lease): Completion[] {
  const all: Completion[] = [];
  void (async () => {
    for await (const c of lease.completions()) all.push(c);
  })();
  return all;
}

describe("relocate", () => {
  it("resubmits the aborted descriptors in order on a new lease, keeps the app's cookies, and drops replays and stale results", async () => {
    const fake = new FakeBroker();
    const regrants: string[] = [];
    const lease = await Lease.open(ctx(fake), fake.grant("a"), false, undefined, {
      failover: "relocate",
      regrant: () => {
        const w = fake.grant("b");
        regrants.push(w.leaseId);
        return Promise.resolve(w);
      },
    });
    const events: FailoverEvent[] = [];
    lease.onFailover((e) => events.push(e));
    const seen = collect(lease);
    const first = await lease.submit([ops.memcpy(bytes(1)), ops.memcpy(bytes(2))]);
    const second = await lease.submit([ops.memcpy(bytes(3))], { issue: false });
    expect([...first, ...second]).toEqual([1, 2, 3]);

    fake.complete("lease-1", [{ cookie: 1 }]);
    fake.gone("lease-1", [2, 3]);
    // A replayed result and a stale one from the dead lease (a real broker sends neither).
    fake.complete("lease-1", [{ cookie: 1 }, { cookie: 2 }]);
    await until(() => fake.leases.get("lease-2")?.submits.length === 2);

    // Resubmitted per original batch, in order, issued as they were.
    expect(fake.leases.get("lease-2")!.submits.map((s) => [s.descriptors.map((d) => d.memcpy!.src[0]), s.issue])).toEqual([
      [[2], true],
      [[3], false],
    ]);
    expect(lease.id).toBe("lease-2");
    expect(lease.providerId).toBe("b");
    expect(events).toMatchObject([{ kind: "relocated", from: { providerId: "a" }, to: { providerId: "b", leaseId: "lease-2" }, relocations: 1 }]);

    fake.complete("lease-2", [{ cookie: 1 }, { cookie: 2 }]);
    const done = await lease.waitForAll([1, 2, 3]);
    expect(done.map((c) => [c.cookie, c.result, c.ranOn.kind === "provider" ? c.ranOn.providerId : "cpu", c.output![0]])).toEqual([
      [1, "NOERROR", "a", 1],
      [2, "NOERROR", "b", 2],
      [3, "NOERROR", "b", 3],
    ]);
    // Later submits go to the new lease under the next app cookie.
    expect(await lease.submit([ops.memcpy(bytes(4))])).toEqual([4]);
    fake.complete("lease-2", [{ cookie: 3 }, { cookie: 3 }]);
    expect((await lease.waitFor(4)).ranOn).toMatchObject({ leaseId: "lease-2" });
    await until(() => seen.length >= 4);
    expect(seen.map((c) => c.cookie)).toEqual([1, 2, 3, 4]);
    expect(regrants).toEqual(["lease-2"]);
    await lease.release();
  });

  it("delivers the original PROVIDER_GONE results and ends the lease when nothing can take it", async () => {
    const fake = new FakeBroker();
    let tries = 0;
    const lease = await Lease.open(ctx(fake), fake.grant("a"), false, undefined, {
      failover: "relocate",
      relocateTimeoutMs: 200,
      regrant: () => {
        tries++;
        return Promise.reject(DmaBrokerError.from(toServiceError(new DmaError("NO_PROVIDER", "nothing matches"))));
      },
    });
    const events: FailoverEvent[] = [];
    lease.onFailover((e) => events.push(e));
    const cookies = await lease.submit([ops.memcpy(bytes(1)), ops.memcpy(bytes(2))]);
    const results = lease.waitForAll(cookies);
    fake.gone("lease-1", [1, 2]);
    const done = await results;
    expect(done.map((c) => [c.result, c.reason, c.residue, c.ranOn])).toEqual([
      ["ABORTED", "PROVIDER_GONE", 4, { kind: "provider", providerId: "a", epoch: 1, leaseId: "lease-1" }],
      ["ABORTED", "PROVIDER_GONE", 4, { kind: "provider", providerId: "a", epoch: 1, leaseId: "lease-1" }],
    ]);
    expect(await lease.ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
    expect(tries).toBeGreaterThan(1); // retried with backoff before giving up
    expect(events).toMatchObject([{ kind: "exhausted", reason: "NO_PROVIDER" }]);
    const err = await lease.submit([ops.memcpy(bytes(3))]).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "PROVIDER_GONE" });
  });

  it("passes results other than PROVIDER_GONE through unchanged, without relocating", async () => {
    const fake = new FakeBroker();
    let tries = 0;
    const lease = await Lease.open(ctx(fake), fake.grant("a"), false, undefined, {
      failover: "relocate",
      regrant: () => {
        tries++;
        return Promise.resolve(fake.grant("b"));
      },
    });
    const cookies = await lease.submit([ops.memcpy(bytes(1)), ops.memcpy(bytes(2))]);
    fake.complete("lease-1", [
      { cookie: 1, status: "TX_STATUS_ERROR", result: "TX_RESULT_READ_FAILED", reason: "DEVICE_READ_ERROR", residue: 4 },
      { cookie: 2, status: "TX_STATUS_ERROR", result: "TX_RESULT_ABORTED", reason: "TERMINATED", residue: 4 },
    ]);
    const done = await lease.waitForAll(cookies);
    expect(done.map((c) => [c.result, c.reason])).toEqual([
      ["READ_FAILED", "DEVICE_READ_ERROR"],
      ["ABORTED", "TERMINATED"],
    ]);
    expect(tries).toBe(0);
    await lease.release();
  });

  it("refuses submits beyond the retention bound with QUOTA_EXCEEDED, and takes them again once results free room", async () => {
    const fake = new FakeBroker();
    const lease = await Lease.open(ctx(fake), fake.grant("a"), false, undefined, {
      failover: "relocate",
      maxRetainedDescriptors: 2,
      regrant: () => Promise.resolve(fake.grant("b")),
    });
    const quota = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(await quota(lease.submit([1, 2, 3].map((i) => ops.memcpy(bytes(i)))))).toMatchObject({
      code: grpc.status.RESOURCE_EXHAUSTED,
      reason: "QUOTA_EXCEEDED",
    });
    expect(await lease.submit([ops.memcpy(bytes(1)), ops.memcpy(bytes(2))])).toEqual([1, 2]);
    expect(await quota(lease.submit([ops.memcpy(bytes(3))]))).toMatchObject({ reason: "QUOTA_EXCEEDED" });
    fake.complete("lease-1", [{ cookie: 1 }]);
    await lease.waitFor(1);
    expect(await lease.submit([ops.memcpy(bytes(3))])).toEqual([3]);
    await lease.release();
  });
});

describe("cpu-fallback", () => {
  it("computes the aborted descriptors and later submits on the CPU, checked against the lease's capabilities", async () => {
    const fake = new FakeBroker();
    const lease = await Lease.open(ctx(fake), fake.grant("a", capabilityMask(["memcpy", "xor", "fill"])), false, undefined, {
      failover: "cpu-fallback",
      regrant: () => Promise.reject(new Error("cpu-fallback never re-leases")),
    });
    const sources = [bytes(10), bytes(20)];
    const cookies = await lease.submit([ops.memcpy(bytes(1)), ops.xor(sources)]);
    fake.gone("lease-1", cookies);
    const done = await lease.waitForAll(cookies);
    expect(done.map((c) => [c.result, c.ranOn])).toEqual([
      ["NOERROR", { kind: "cpu" }],
      ["NOERROR", { kind: "cpu" }],
    ]);
    expect(done[0].output).toEqual(bytes(1));
    expect(done[1].output).toEqual(Buffer.from(sources[0].map((b, i) => b ^ sources[1][i])));
    expect(lease.ranOn).toEqual({ kind: "cpu" });

    const [later] = await lease.submit([ops.fill(Buffer.from([7]), 5)]);
    expect((await lease.waitFor(later)).output).toEqual(Buffer.alloc(5, 7));
    const err = await lease.submit([ops.crc32c(bytes(1))]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, reason: "CAPABILITY_UNSUPPORTED" });
    expect(await lease.release()).toEqual({ released: true, state: "released", reason: "LEASE_RELEASED" });
    expect(await lease.release()).toEqual({ released: false, state: "released", reason: "LEASE_RELEASED" });
  });
});

describe("failover options", () => {
  it("rejects a bad policy or bound with a named error at requestChannel time", async () => {
    // No broker is needed: the options are checked before any call.
    const client = Object.create(BrokerClient.prototype) as BrokerClient;
    for (const bad of [{ failover: "teleport" }, { maxRelocations: -1 }, { relocateTimeoutMs: 1.5 }]) {
      const err = await client.requestChannel({ capabilities: ["memcpy"], ...(bad as object) }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, reason: "INVALID_ARGUMENT" });
    }
  });
});
