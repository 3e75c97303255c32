import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import { Cluster } from "@dmabroker/testkit";

// Graceful broker shutdown (SIGTERM) with an agent and a client attached, and
// the minimal admin endpoints while it runs.

describe("broker admin endpoints and graceful shutdown", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ agents: [{ providerId: "ioat-1", profile: "ioat", args: ["--reconnect-min-ms", "50"] }] });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it("answers /healthz, /readyz, /v1/providers and /v1/leases with JSON", async () => {
    const client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "admin-check" });
    const lease = await client.requestChannel({ capabilities: ["memcpy"], mode: "exclusive" });
    expect(await cluster.admin("/healthz")).toEqual({ status: "ok" });
    expect(await cluster.admin("/readyz")).toEqual({ status: "ready", providers: 1 });
    const { providers } = await cluster.admin<{ providers: { providerId: string; state: string; profile: string; channels: unknown[] }[] }>("/v1/providers");
    expect(providers).toEqual([expect.objectContaining({ providerId: "ioat-1", state: "online", profile: "ioat" })]);
    expect(providers[0].channels).toHaveLength(8);
    const { leases } = await cluster.admin<{ leases: { leaseId: string; clientId: string; state: string; mode: string }[] }>("/v1/leases");
    expect(leases).toContainEqual(expect.objectContaining({ leaseId: lease.id, clientId: "admin-check", state: "active", mode: "exclusive" }));
    const res = await fetch(cluster.adminUrl + "/v1/nothing-here", { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(404);
    await lease.release();
    client.close();
  });

  it("SIGTERM: the broker exits 0 promptly and agents keep retrying instead of crashing", async () => {
    const client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "shutdown", defaultTimeoutMs: 3000 });
    const lease = await client.requestChannel({ capabilities: ["memcpy"] });
    const [cookie] = await lease.submit([ops.memcpy(Buffer.from("before shutdown"))]);
    expect((await lease.waitFor(cookie)).output!.toString()).toBe("before shutdown");
    const t0 = performance.now();
    cluster.broker.kill("SIGTERM");
    const exit = await cluster.broker.exited;
    expect(exit.code).toBe(0);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(cluster.broker.lines.some((l) => l.msg === "broker stopped")).toBe(true);
    // The agent lost its broker and reconnects with backoff; it does not exit.
    const agent = cluster.agent("ioat-1").process;
    await agent.waitForLine((l) => l.msg === "reconnecting", 5000, "a reconnect attempt");
    expect(agent.running).toBe(true);
    // The client's lease ends with a named reason rather than hanging.
    const ended = await lease.ended;
    expect(["TRANSPORT_FAILURE", "LEASE_NOT_FOUND"]).toContain(ended.reason);
    client.close();
  });
});
