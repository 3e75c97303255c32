import { EventEmitter } from "node:events";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { DmaError } from "@dmabroker/core";
import { toServiceError } from "@dmabroker/proto";
import type { DmaBrokerClient, Lease__Output } from "@dmabroker/proto";
import { DmaBrokerError, Lease } from "@dmabroker/client";

// A fake gRPC stub: a real broker grants a fresh lease and then always lets its
// first watcher attach, so the "watch cannot be opened" path cannot be produced
// with real processes. The fake refuses the watch and records the Release.

const wire: Lease__Output = {
  leaseId: "lease-x",
  providerId: "p",
  epoch: 1,
  channel: 0,
  mode: "LEASE_MODE_SHARED",
  ttlMs: 1000,
  expiresAtMs: 0,
  capabilityMask: 2,
  constraints: { maxTransferBytes: 1, alignment: 1, maxXorSources: 2 },
  state: "LEASE_STATE_ACTIVE",
  endReason: "",
};

describe("opening a lease", () => {
  it("gives the lease back when its watch cannot be opened, and reports why", async () => {
    const released: string[] = [];
    const stub = {
      WatchLease: () => {
        const stream = Object.assign(new EventEmitter(), { cancel: () => undefined });
        setImmediate(() => stream.emit("error", toServiceError(new DmaError("QUOTA_EXCEEDED", "too many watchers"))));
        return stream;
      },
      Release: (req: { leaseId: string }, _md: grpc.Metadata, _opts: grpc.CallOptions, cb: (e: null, r: object) => void) => {
        released.push(req.leaseId);
        setImmediate(() => cb(null, { released: true, lease: { ...wire, state: "LEASE_STATE_RELEASED", endReason: "LEASE_RELEASED" } }));
        return {};
      },
    } as unknown as DmaBrokerClient;
    const err = await Lease.open({ stub, metadata: () => new grpc.Metadata(), defaultTimeoutMs: 1000 }, wire, true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DmaBrokerError);
    expect((err as DmaBrokerError).reason).toBe("QUOTA_EXCEEDED");
    expect(released).toEqual(["lease-x"]);
  });
});
