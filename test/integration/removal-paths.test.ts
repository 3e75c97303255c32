import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import type { Completion } from "@dmabroker/client";
import { AdminApi, Cluster } from "@dmabroker/testkit";
import { Code, expectReason, seededBytes } from "./helpers.js";

// Removal paths beyond SIGKILL and SIGTERM (issue: hot-unplug done right), on
// real processes: a freeze that ends before the timeout (nothing lost), operator
// unbind (force, drain, polite refusal) and bind, single-channel removal,
// duplicate registration (newest wins; the replaced agent stops), flapping, and
// the synchronous terminate contract.

const SEED = 31_337;
const KiB = 1024;
const BROKER_ARGS = ["--heartbeat-interval-ms", "100", "--suspect-after-ms", "300", "--heartbeat-timeout-ms", "1500"];
const SLOW = ["--bandwidth-bytes-per-sec", String(1024 * 1024)]; // 1 MiB/s per channel: 128 KiB takes 125 ms
const FAST_BACK = ["--reconnect-min-ms", "50", "--reconnect-max-ms", "200"];

describe("removal paths on real processes", () => {
  let cluster: Cluster;
  let client: BrokerClient;
  let admin: AdminApi;
  let n = 0;
  const victim = async (args: string[] = []): Promise<string> => {
    const providerId = `rp-${++n}`;
    await cluster.startAgent({ providerId, profile: "ioat", args: [...SLOW, ...FAST_BACK, ...args] });
    return providerId;
  };
  const srcs = (base: number, count: number, size = 128 * KiB): Buffer[] => Array.from({ length: count }, (_, i) => seededBytes(SEED + base + i, size));

  beforeAll(async () => {
    console.log(`removal-paths test seed ${SEED}`);
    cluster = await Cluster.start({ brokerArgs: BROKER_ARGS });
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "removal-paths" });
    admin = new AdminApi(cluster.adminUrl);
  });

  afterEach(() => {
    for (const a of cluster.agents.values()) a.process.kill("SIGCONT");
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it("a freeze shorter than the heartbeat timeout: suspended, then everything resumes with nothing lost", async () => {
    const providerId = await victim();
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId });
    const data = srcs(0, 8);
    const cookies = await lease.submit(data.map((s) => ops.memcpy(s)));
    const results = lease.waitForAll(cookies, { timeoutMs: 10_000 });
    const states: string[] = [];
    lease.onStateChange((s) => states.push(s));
    const proc = cluster.agent(providerId).process;
    proc.kill("SIGSTOP");
    await expect.poll(() => lease.state, { timeout: 1400, interval: 10 }).toBe("suspended");
    const e = await expectReason(lease.submit([ops.memcpy(data[0])]), Code.UNAVAILABLE, "PROVIDER_SUSPECT");
    expect(Number(e.metadata.retry_after_ms)).toBeGreaterThan(0);
    proc.kill("SIGCONT");
    await expect.poll(() => lease.state, { timeout: 3000, interval: 10 }).toBe("active");
    const settled = await results;
    settled.forEach((c, i) => {
      expect(c.result).toBe("NOERROR");
      expect(c.output!.equals(data[i])).toBe(true);
    });
    expect(states).toEqual(["suspended", "active"]);
    expect((await admin.present(providerId))?.epoch).toBe(lease.epoch);
    const [again] = await lease.submit([ops.memcpy(data[1])]);
    expect((await lease.waitFor(again)).output!.equals(data[1])).toBe(true);
    await lease.release();
  });

  it("force unbind ends the leases at once; the id stays out until bound, then returns as a new epoch", async () => {
    const providerId = await victim();
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId });
    const cookies = await lease.submit(srcs(100, 16).map((s) => ops.memcpy(s))); // 2 s of work
    const results = lease.waitForAll(cookies, { timeoutMs: 10_000 });
    const before = Date.now();
    const report = await admin.unbind(providerId, { mode: "force", reason: "replace the card" });
    expect(report.leases.map((l) => l.leaseId)).toEqual([lease.id]);
    expect(await lease.ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
    console.log(`force unbind -> lease PROVIDER_GONE: ${Date.now() - before} ms`);
    const settled = await results;
    expect(settled.filter((c) => c.result === "ABORTED").every((c) => c.reason === "PROVIDER_GONE" && c.residue === 128 * KiB)).toBe(true);
    expect(settled.filter((c) => c.result === "ABORTED").length).toBeGreaterThan(0);
    const leases = await admin.leases();
    expect(leases.find((l) => l.leaseId === lease.id)?.state).toBe("provider_gone");
    // The agent keeps knocking; it is refused until an operator binds the id again.
    const proc = cluster.agent(providerId).process;
    await proc.waitForLine((l) => l.reason === "PROVIDER_UNBOUND", 5000, "PROVIDER_UNBOUND refusal");
    expect(await admin.present(providerId)).toBeUndefined();
    await admin.bind(providerId);
    await expect.poll(async () => (await admin.present(providerId))?.epoch ?? 0, { timeout: 5000, interval: 50 }).toBeGreaterThan(lease.epoch);
  });

  it("polite unbind is refused with 409 PROVIDER_BUSY listing the leases", async () => {
    const providerId = await victim();
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId });
    const res = await fetch(`${cluster.adminUrl}/v1/providers/${providerId}/unbind`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mode: "polite" }),
      signal: AbortSignal.timeout(5000),
    });
    expect(res.status).toBe(409);
    const body = JSON.stringify(await res.json());
    expect(body).toContain("PROVIDER_BUSY");
    expect(body).toContain(lease.id);
    expect(lease.state).toBe("active");
    await lease.release();
    await admin.unbind(providerId, { mode: "polite" });
    await admin.bind(providerId);
  });

  it("drain lets issued work finish within the deadline and aborts the rest with full residue", async () => {
    const providerId = await victim();
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId });
    // 24 × 128 KiB at 1 MiB/s ≈ 3 s of work; the drain deadline is 1 s.
    const data = srcs(200, 24);
    const cookies = await lease.submit(data.map((s) => ops.memcpy(s)));
    const results = lease.waitForAll(cookies, { timeoutMs: 10_000 });
    await admin.unbind(providerId, { mode: "drain", timeoutMs: 1000 });
    await expectReason(lease.submit([ops.memcpy(data[0])]), Code.FAILED_PRECONDITION, "PROVIDER_GONE");
    await expectReason(client.requestChannel({ capabilities: ["memcpy"], providerId }), Code.RESOURCE_EXHAUSTED, "NO_CHANNEL_AVAILABLE");
    const settled: Completion[] = await results;
    const done = settled.filter((c) => c.result === "NOERROR");
    const aborted = settled.filter((c) => c.result === "ABORTED");
    expect(done.length).toBeGreaterThan(0);
    expect(aborted.length).toBeGreaterThan(0);
    for (const c of done) expect(c.output!.equals(data[cookies.indexOf(c.cookie)])).toBe(true);
    for (const c of aborted) expect(c).toMatchObject({ reason: "PROVIDER_GONE", residue: 128 * KiB });
    expect(await lease.ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
    await admin.bind(providerId);
  });

  it("removing one channel ends only that channel's leases", async () => {
    const providerId = await victim();
    const a = await client.requestChannel({ capabilities: ["memcpy"], providerId, mode: "exclusive" });
    const b = await client.requestChannel({ capabilities: ["memcpy"], providerId, mode: "exclusive" });
    expect(a.channel).not.toBe(b.channel);
    const [ca] = await a.submit([ops.memcpy(srcs(300, 1)[0])]);
    const result = a.waitFor(ca);
    await admin.removeChannel(providerId, a.channel, { reason: "work queue disabled" });
    expect(await result).toMatchObject({ result: "ABORTED", reason: "PROVIDER_GONE" });
    expect(await a.ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
    const data = srcs(301, 1)[0];
    const [cb] = await b.submit([ops.memcpy(data)]);
    expect((await b.waitFor(cb)).output!.equals(data)).toBe(true);
    expect(b.state).toBe("active");
    const p = await admin.present(providerId);
    expect(p?.epoch).toBe(a.epoch);
    await b.release();
  });

  it("duplicate registration: the newest agent wins, the old incarnation is fenced, and the replaced agent stops", async () => {
    const providerId = await victim();
    const old = cluster.agent(providerId);
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId });
    const cookies = await lease.submit(srcs(400, 8).map((s) => ops.memcpy(s)));
    const results = lease.waitForAll(cookies, { timeoutMs: 10_000 });
    old.process.kill("SIGSTOP"); // its stream lingers, silent
    const fresh = await cluster.startAgent({ providerId, profile: "ioat", args: FAST_BACK });
    expect(fresh.epoch).toBeGreaterThan(lease.epoch);
    expect(await lease.ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
    expect((await results).every((c) => c.result === "NOERROR" || c.reason === "PROVIDER_GONE")).toBe(true);
    // Thawed, the old agent learns it was replaced and exits instead of fencing the new one.
    old.process.kill("SIGCONT");
    expect(await old.process.exited).toMatchObject({ code: 3 });
    expect((await admin.present(providerId))?.epoch).toBe(fresh.epoch);
    const next = await client.requestChannel({ capabilities: ["memcpy"], providerId });
    expect(next.epoch).toBe(fresh.epoch);
    const data = srcs(410, 1)[0];
    const [c] = await next.submit([ops.memcpy(data)]);
    expect((await next.waitFor(c)).output!.equals(data)).toBe(true);
    await next.release();
  });

  it("flapping: every incarnation is a new epoch, each lease ends PROVIDER_GONE once, and nothing leaks", async () => {
    const providerId = await victim();
    const epochs: number[] = [];
    for (let i = 0; i < 6; i++) {
      const handle = cluster.agent(providerId);
      const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId });
      epochs.push(lease.epoch);
      const [c] = await lease.submit([ops.memcpy(srcs(500 + i, 1)[0])]);
      const result = lease.waitFor(c);
      handle.process.kill("SIGKILL");
      await handle.process.exited;
      expect(await result).toMatchObject({ result: "ABORTED", reason: "PROVIDER_GONE" });
      expect(await lease.ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
      await cluster.startAgent(handle.spec);
    }
    for (let i = 1; i < epochs.length; i++) expect(epochs[i]).toBeGreaterThan(epochs[i - 1]);
    const mine = (await admin.providers()).filter((p) => p.providerId === providerId);
    // One present incarnation; the dead ones are tombstones pinned only by the lease tombstones.
    expect(mine.filter((p) => p.state === "online")).toHaveLength(1);
    expect(mine.filter((p) => p.state === "lost").length).toBeLessThanOrEqual(6);
  });

  it("after a synchronous terminate returns, no earlier cookie ever completes", async () => {
    const providerId = await victim();
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId });
    const data = srcs(600, 16);
    const cookies = await lease.submit(data.map((s) => ops.memcpy(s)));
    const arrivals: { cookie: number; result: string; after: boolean }[] = [];
    let returned = false;
    const seen = (async () => {
      for await (const c of lease.completions()) {
        arrivals.push({ cookie: c.cookie, result: c.result, after: returned });
        if (arrivals.length === cookies.length) break;
      }
    })();
    await lease.waitFor(cookies[1]);
    const aborted = await lease.terminate({ sync: true });
    returned = true;
    expect(aborted).toBeGreaterThan(0);
    await seen;
    // Give a late completion every chance to show up (the provider was mid-transfer).
    await new Promise((r) => setTimeout(r, 400));
    expect(arrivals.filter((a) => a.after && a.result === "NOERROR")).toEqual([]);
    expect(new Set(arrivals.map((a) => a.cookie)).size).toBe(cookies.length);
    await lease.release();
  });
});
