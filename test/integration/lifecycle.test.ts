import * as grpc from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import type { Completion } from "@dmabroker/client";
import { CLIENT_ID_KEY, loadDmaBrokerV1 } from "@dmabroker/proto";
import type { LeaseEvent__Output } from "@dmabroker/proto";
import { Cluster } from "@dmabroker/testkit";
import { Code, expectReason, seededBytes } from "./helpers.js";

// Removal paths other than SIGKILL, on real processes: graceful SIGTERM (drain,
// goodbye), a frozen agent (SIGSTOP: suspect, then lost, then a new epoch),
// a client that stops renewing (TTL expiry), and terminate.

const SEED = 99_001;
const KiB = 1024;
// Fast heartbeats so freeze detection takes about a second, not 1.5 s + slack.
const BROKER_ARGS = ["--heartbeat-interval-ms", "100", "--suspect-after-ms", "300", "--heartbeat-timeout-ms", "1000"];
const SLOW = ["--bandwidth-bytes-per-sec", String(1024 * 1024)]; // 1 MiB/s per channel

describe("provider lifecycle on real processes", () => {
  let cluster: Cluster;
  let client: BrokerClient;
  let n = 0;
  const victim = async (args: string[] = []): Promise<string> => {
    const providerId = `victim-${++n}`;
    await cluster.startAgent({ providerId, profile: "ioat", args: [...SLOW, ...args] });
    return providerId;
  };

  beforeAll(async () => {
    console.log(`lifecycle test seed ${SEED}`);
    cluster = await Cluster.start({ brokerArgs: BROKER_ARGS, agents: [{ providerId: "plx-1", profile: "plx" }] });
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "lifecycle" });
  });

  afterEach(() => {
    for (const a of cluster.agents.values()) a.process.kill("SIGCONT");
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it("SIGTERM: the agent drains in-flight work, says goodbye, and its leases end PROVIDER_GONE", async () => {
    const providerId = await victim();
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId });
    const srcs = Array.from({ length: 8 }, (_, i) => seededBytes(SEED + i, 64 * KiB)); // 0.5 s of work
    const cookies = await lease.submit(srcs.map((s) => ops.memcpy(s)));
    const agent = cluster.agent(providerId).process;
    agent.kill("SIGTERM");
    const done = await lease.waitForAll(cookies, { timeoutMs: 10_000 });
    done.forEach((c, i) => expect(c.output!.equals(srcs[i])).toBe(true));
    expect(await lease.ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
    expect((await agent.exited).code).toBe(0);
    const p = (await client.listProviders()).find((x) => x.providerId === providerId);
    expect(p?.state).toBe("PROVIDER_STATE_REMOVED");
    await expectReason(client.requestChannel({ capabilities: ["memcpy"], providerId }), Code.UNAVAILABLE, "NO_PROVIDER");
  });

  it("SIGTERM with work past the drain deadline: the rest is aborted with full residue", async () => {
    const providerId = await victim(["--drain-timeout-ms", "300"]);
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId });
    const srcs = Array.from({ length: 32 }, (_, i) => seededBytes(SEED + 100 + i, 128 * KiB)); // 4 s of work
    const cookies = await lease.submit(srcs.map((s) => ops.memcpy(s)));
    const agent = cluster.agent(providerId).process;
    agent.kill("SIGTERM");
    const results = await lease.waitForAll(cookies, { timeoutMs: 10_000 });
    const aborted = results.filter((c) => c.result === "ABORTED");
    expect(aborted.length).toBeGreaterThan(0);
    for (const c of aborted) expect(c).toMatchObject({ reason: "PROVIDER_GONE", residue: 128 * KiB });
    for (const c of results.filter((r) => r.result === "NOERROR")) expect(c.output!.equals(srcs[cookies.indexOf(c.cookie)])).toBe(true);
    expect((await agent.exited).code).toBe(0);
  });

  it("SIGSTOP: suspect (submits get PROVIDER_SUSPECT), then lost, and after SIGCONT a new epoch", async () => {
    const providerId = await victim();
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId });
    const handle = cluster.agent(providerId);
    const oldEpoch = lease.epoch;
    expect(oldEpoch).toBe(handle.epoch);

    // Watch the lease on the raw wire too: each cookie must arrive exactly once there.
    const seen = new Map<number, number>();
    const md = new grpc.Metadata();
    md.set(CLIENT_ID_KEY, client.clientId);
    const raw = new (loadDmaBrokerV1().DmaBroker)(cluster.grpcAddress, grpc.credentials.createInsecure());
    const watch = raw.WatchLease({ leaseId: lease.id, afterCookie: 0 }, md);
    const rawEnded = new Promise<void>((resolve) => {
      watch.on("data", (e: LeaseEvent__Output) => {
        for (const c of e.completions?.completions ?? []) seen.set(c.cookie, (seen.get(c.cookie) ?? 0) + 1);
      });
      watch.on("end", resolve);
      watch.on("error", () => resolve());
    });

    const states: string[] = [];
    lease.onStateChange((s) => states.push(s));
    const srcs = Array.from({ length: 16 }, (_, i) => seededBytes(SEED + 200 + i, 128 * KiB)); // 2 s of work
    const cookies = await lease.submit(srcs.map((s) => ops.memcpy(s)));
    const results = lease.waitForAll(cookies, { timeoutMs: 10_000 });

    const frozenAt = performance.now();
    handle.process.kill("SIGSTOP");
    await expect.poll(() => lease.state, { timeout: 3000, interval: 20 }).toBe("suspended");
    const e = await expectReason(lease.submit([ops.memcpy(srcs[0])]), Code.UNAVAILABLE, "PROVIDER_SUSPECT");
    expect(Number(e.metadata.retry_after_ms)).toBeGreaterThan(0);

    expect(await lease.ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
    const detectionMs = performance.now() - frozenAt;
    console.log(`SIGSTOP -> lease PROVIDER_GONE: ${detectionMs.toFixed(0)} ms (heartbeat timeout 1000 ms)`);
    expect(detectionMs).toBeLessThan(1000 + 1000);
    expect(states).toEqual(["suspended", "provider_gone"]);
    const settled: Completion[] = await results;
    expect(settled.some((c) => c.result === "ABORTED" && c.reason === "PROVIDER_GONE")).toBe(true);

    // Thaw: the old incarnation's late results are fenced; the agent comes back with a new epoch.
    handle.process.kill("SIGCONT");
    const line = await handle.process.waitForLine((l) => l.msg === "registered" && Number(l.epoch) > oldEpoch, 10_000, "re-registration");
    const newEpoch = Number(line.epoch);
    expect(newEpoch).toBeGreaterThan(oldEpoch);
    await rawEnded;
    raw.close();
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(cookies);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);

    const again = await client.requestChannel({ capabilities: ["memcpy"], providerId });
    expect(again.epoch).toBe(newEpoch);
    const [cookie] = await again.submit([ops.memcpy(srcs[1])]);
    expect((await again.waitFor(cookie)).output!.equals(srcs[1])).toBe(true);
    await again.release();
  });

  it("a client that stops renewing loses its lease by TTL, and the exclusive channel is free again", async () => {
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "plx-1", mode: "exclusive", ttlMs: 300, keepAlive: false });
    const other = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "lifecycle-other" });
    try {
      await expectReason(
        other.requestChannel({ capabilities: ["memcpy"], providerId: "plx-1", mode: "exclusive" }),
        Code.RESOURCE_EXHAUSTED,
        "NO_CHANNEL_AVAILABLE",
      );
      expect(await lease.ended).toEqual({ state: "expired", reason: "LEASE_EXPIRED" });
      await expectReason(lease.keepAlive(), Code.FAILED_PRECONDITION, "LEASE_EXPIRED");
      const next = await other.requestChannel({ capabilities: ["memcpy"], providerId: "plx-1", mode: "exclusive" });
      await next.release();
    } finally {
      other.close();
    }
  });

  it("keep-alive holds a short lease well past its TTL", async () => {
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "plx-1", mode: "exclusive", ttlMs: 300 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(lease.state).toBe("active");
    const [cookie] = await lease.submit([ops.memcpy(Buffer.alloc(64, 7))]);
    expect((await lease.waitFor(cookie)).result).toBe("NOERROR");
    await lease.release();
  });

  it("terminate aborts unfinished cookies as TERMINATED, exactly once, and the lease keeps working", async () => {
    const providerId = await victim();
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId });
    const srcs = Array.from({ length: 16 }, (_, i) => seededBytes(SEED + 300 + i, 128 * KiB)); // 2 s of work
    const cookies = await lease.submit(srcs.map((s) => ops.memcpy(s)));
    const results = lease.waitForAll(cookies, { timeoutMs: 10_000 });
    await lease.waitFor(cookies[0]).catch(() => undefined);
    const aborted = await lease.terminate({ sync: true });
    const settled = await results;
    const terminated = settled.filter((c) => c.result === "ABORTED");
    expect(aborted).toBeGreaterThan(0);
    expect(terminated.length).toBe(aborted);
    for (const c of terminated) expect(c).toMatchObject({ reason: "TERMINATED", residue: 128 * KiB });
    const [fresh] = await lease.submit([ops.memcpy(srcs[0])]);
    expect((await lease.waitFor(fresh)).output!.equals(srcs[0])).toBe(true);
    await lease.release();
  });
});
