import * as grpc from "@grpc/grpc-js";
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import type { Lease } from "@dmabroker/client";
import { CLIENT_ID_KEY, REASON_KEY, STATUS_DETAILS_KEY, decodeServiceError, loadDmaBrokerV1, loadPackageDefinition } from "@dmabroker/proto";
import type { DmaBrokerClient } from "@dmabroker/proto";
import { Cluster } from "@dmabroker/testkit";
import { Code, expectReason, seededBytes } from "./helpers.js";

// Bad input gets a named error (gRPC code + ErrorInfo reason) and loses nothing.

describe("bad input is answered with its named reason", () => {
  let cluster: Cluster;
  let client: BrokerClient;
  let stranger: BrokerClient;
  let raw: DmaBrokerClient;
  let plx: Lease;

  beforeAll(async () => {
    cluster = await Cluster.start({
      agents: [
        { providerId: "plx-1", profile: "plx" },
        { providerId: "dsa-1", profile: "dsa" },
      ],
    });
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "bad-input" });
    stranger = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "stranger" });
    raw = new (loadDmaBrokerV1().DmaBroker)(cluster.grpcAddress, grpc.credentials.createInsecure());
    plx = await client.requestChannel({ capabilities: ["memcpy"], providerId: "plx-1", mode: "exclusive" });
  });

  afterAll(async () => {
    raw?.close();
    client?.close();
    stranger?.close();
    await cluster?.stop();
  });

  const rawCall = (method: "TxStatus" | "Submit" | "Release", request: object, clientId?: string): Promise<grpc.ServiceError> =>
    new Promise((resolve, reject) => {
      const md = new grpc.Metadata();
      if (clientId) md.set(CLIENT_ID_KEY, clientId);
      const fn = raw[method].bind(raw) as (r: object, m: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null) => void) => void;
      fn(request, md, { deadline: Date.now() + 5000 }, (err) => (err ? resolve(err) : reject(new Error(`${method} unexpectedly succeeded`))));
    });

  it("unknown lease: NOT_FOUND / LEASE_NOT_FOUND, with ErrorInfo in grpc-status-details-bin", async () => {
    const err = await rawCall("TxStatus", { leaseId: "lease-does-not-exist", cookie: 1 }, "bad-input");
    expect(err.code).toBe(Code.NOT_FOUND);
    expect(err.metadata.get(STATUS_DETAILS_KEY)).toHaveLength(1);
    const decoded = decodeServiceError(err);
    expect(decoded.reason).toBe("LEASE_NOT_FOUND");
    expect(decoded.metadata.lease_id).toBe("lease-does-not-exist");
  });

  it("a call without a client id: UNAUTHENTICATED / CLIENT_ID_MISSING", async () => {
    const err = await rawCall("Submit", { leaseId: plx.id, descriptors: [] });
    expect(decodeServiceError(err)).toMatchObject({ code: Code.UNAUTHENTICATED, reason: "CLIENT_ID_MISSING" });
  });

  it("another client's lease: PERMISSION_DENIED / NOT_LEASE_OWNER", async () => {
    const err = await rawCall("TxStatus", { leaseId: plx.id, cookie: 1 }, "stranger");
    expect(decodeServiceError(err)).toMatchObject({ code: Code.PERMISSION_DENIED, reason: "NOT_LEASE_OWNER" });
  });

  it("a cookie never issued: NOT_FOUND / COOKIE_NOT_FOUND", async () => {
    await expectReason(plx.txStatus(424242), Code.NOT_FOUND, "COOKIE_NOT_FOUND");
    await expectReason(plx.txStatus(0), Code.NOT_FOUND, "COOKIE_NOT_FOUND");
  });

  it("an operation the channel lacks: INVALID_ARGUMENT / CAPABILITY_UNSUPPORTED", async () => {
    const e = await expectReason(plx.submit([ops.fill(Buffer.from([1]), 64)]), Code.INVALID_ARGUMENT, "CAPABILITY_UNSUPPORTED");
    expect(e.metadata.op).toBe("fill");
  });

  it("a descriptor over the provider's size limit: INVALID_ARGUMENT / INVALID_DESCRIPTOR", async () => {
    const limit = plx.constraints.maxTransferBytes;
    expect(limit).toBe(4 * 1024 * 1024);
    const e = await expectReason(plx.submit([ops.memcpy(Buffer.alloc(limit + 4))]), Code.INVALID_ARGUMENT, "INVALID_DESCRIPTOR");
    expect(e.metadata.limit).toBe(String(limit));
  });

  it("a misaligned length on an aligned provider: INVALID_DESCRIPTOR", async () => {
    await expectReason(plx.submit([ops.memcpy(Buffer.alloc(4097))]), Code.INVALID_ARGUMENT, "INVALID_DESCRIPTOR");
  });

  it("batches over the broker's byte limit: BATCH_TOO_LARGE, below and above the gRPC message limit", async () => {
    const dsa = await client.requestChannel({ capabilities: ["memcpy"], providerId: "dsa-1" });
    const MiB = 1024 * 1024;
    // 72 MiB: past maxBatchBytes (64 MiB), refused by the broker with ErrorInfo.
    const over = Array.from({ length: 9 }, () => ops.memcpy(Buffer.alloc(8 * MiB)));
    const e1 = await expectReason(dsa.submit(over), Code.INVALID_ARGUMENT, "BATCH_TOO_LARGE");
    expect(e1.metadata.limit).toBe(String(64 * MiB));
    // 88 MiB: past the gRPC message limit itself; still named, never INTERNAL.
    const huge = Array.from({ length: 11 }, () => ops.memcpy(Buffer.alloc(8 * MiB)));
    // The broker names it too (the same answer as below the limit), instead of a bare RESOURCE_EXHAUSTED.
    await expectReason(dsa.submit(huge), Code.INVALID_ARGUMENT, "BATCH_TOO_LARGE");
    const [cookie] = await dsa.submit([ops.memcpy(Buffer.from("still fine"))]);
    expect((await dsa.waitFor(cookie)).output!.toString()).toBe("still fine");
    await dsa.release();
  });

  it("an empty batch: INVALID_ARGUMENT / EMPTY_BATCH", async () => {
    await expectReason(plx.submit([]), Code.INVALID_ARGUMENT, "EMPTY_BATCH");
  });

  it("a batch with one bad descriptor is refused whole and consumes no cookie", async () => {
    const good = seededBytes(11, 1024);
    const [before] = await plx.submit([ops.memcpy(good)]);
    await plx.waitFor(before);
    const e = await expectReason(plx.submit([ops.memcpy(good), ops.memcpy(Buffer.alloc(3)), ops.memcpy(good)]), Code.INVALID_ARGUMENT, "INVALID_DESCRIPTOR");
    expect(e.metadata.index).toBe("1");
    const [after] = await plx.submit([ops.memcpy(good)]);
    expect(after).toBe(before + 1);
    expect((await plx.waitFor(after)).output!.equals(good)).toBe(true);
  });

  it("requests nothing could ever serve, or out of range: NO_PROVIDER / INVALID_ARGUMENT", async () => {
    // No provider does both xor (ioat only) and crc32c (dsa only); here no ioat runs at all.
    await expectReason(client.requestChannel({ capabilities: ["xor"] }), Code.UNAVAILABLE, "NO_PROVIDER");
    await expectReason(client.requestChannel({ capabilities: ["memcpy"], labels: { zone: "nowhere" } }), Code.UNAVAILABLE, "NO_PROVIDER");
    await expectReason(client.requestChannel({ capabilities: 0 }), Code.INVALID_ARGUMENT, "INVALID_ARGUMENT");
    await expectReason(client.requestChannel({ capabilities: ["memcpy"], ttlMs: 1 }), Code.INVALID_ARGUMENT, "INVALID_ARGUMENT");
  });

  it("a full queue: RESOURCE_EXHAUSTED / QUEUE_FULL, and the accepted work still completes", async () => {
    // plx's queue depth is 64: 64 unissued descriptors fill it.
    const src = seededBytes(12, 64);
    const cookies = await plx.submit(
      Array.from({ length: 64 }, () => ops.memcpy(src)),
      { issue: false },
    );
    const e = await expectReason(plx.submit([ops.memcpy(src)]), Code.RESOURCE_EXHAUSTED, "QUEUE_FULL");
    expect(e.metadata.queue_depth).toBe("64");
    await plx.issuePending();
    const done = await plx.waitForAll(cookies);
    expect(done.every((c) => c.result === "NOERROR" && c.output!.equals(src))).toBe(true);
  });

  it("a deadline that passes is DEADLINE_EXCEEDED, an abort is CANCELLED", async () => {
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "dsa-1" });
    const [cookie] = await lease.submit([ops.memcpy(Buffer.alloc(16))], { issue: false });
    await expectReason(lease.waitFor(cookie, { timeoutMs: 50 }), Code.DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED");
    const ac = new AbortController();
    const waiting = lease.waitFor(cookie, { signal: ac.signal });
    ac.abort();
    await expectReason(waiting, Code.CANCELLED, "CANCELLED");
    await lease.issuePending();
    expect((await lease.waitFor(cookie)).result).toBe("NOERROR");
    await lease.release();
  });

  it("a watch stream whose reader withholds HTTP/2 window is cut off with QUOTA_EXCEEDED; the lease carries on", async () => {
    // grpc-js clients keep accepting data even when the app does not read, so
    // this stalled watcher is a bare HTTP/2 client: its stream stays paused,
    // Node grants no more window, and the broker's writes back up.
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "dsa-1" });
    const def = loadPackageDefinition()["dmabroker.v1.DmaBroker"] as grpc.ServiceDefinition;
    const body = def.WatchLease.requestSerialize({ leaseId: lease.id, afterCookie: 0 });
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    const session = http2.connect(`http://${cluster.grpcAddress}`);
    const stream = session.request({
      ":method": "POST",
      ":path": "/dmabroker.v1.DmaBroker/WatchLease",
      "content-type": "application/grpc",
      te: "trailers",
      [CLIENT_ID_KEY]: client.clientId,
    });
    stream.end(frame);
    stream.pause();
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("trailers", resolve));
    try {
      const src = seededBytes(13, 256 * 1024);
      // 4 MiB of output per batch; the broker's backlog bound is 64 MiB.
      for (let batch = 0; batch < 30; batch++) {
        const cookies = await lease.submit(Array.from({ length: 16 }, () => ops.memcpy(src)));
        const done = await lease.waitForAll(cookies);
        expect(done.every((c) => c.result === "NOERROR")).toBe(true);
      }
      stream.resume(); // now read everything that was sent, up to the status
      const t = await Promise.race([
        trailers,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("the broker never cut the stalled watch off")), 10_000)),
      ]);
      expect({ status: t["grpc-status"], reason: t[REASON_KEY] }).toEqual({ status: String(Code.RESOURCE_EXHAUSTED), reason: "QUOTA_EXCEEDED" });
      const [cookie] = await lease.submit([ops.memcpy(src)]);
      expect((await lease.waitFor(cookie)).output!.equals(src)).toBe(true);
      await lease.release();
    } finally {
      stream.close();
      session.close();
    }
  });

  it("another client cannot release or watch someone else's lease", async () => {
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "dsa-1" });
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      const md = new grpc.Metadata();
      md.set(CLIENT_ID_KEY, stranger.clientId);
      const stream = raw.WatchLease({ leaseId: lease.id, afterCookie: 0 }, md);
      stream.on("error", resolve);
      stream.on("data", () => undefined);
    });
    expect(decodeServiceError(err)).toMatchObject({ code: Code.PERMISSION_DENIED, reason: "NOT_LEASE_OWNER" });
    const release = await rawCall("Release", { leaseId: lease.id }, stranger.clientId);
    expect(decodeServiceError(release)).toMatchObject({ code: Code.PERMISSION_DENIED, reason: "NOT_LEASE_OWNER" });
    // Still the owner's, still working.
    const [cookie] = await lease.submit([ops.memcpy(Buffer.from("still mine"))]);
    expect((await lease.waitFor(cookie)).output!.toString()).toBe("still mine");
    await lease.release();
  });
});
