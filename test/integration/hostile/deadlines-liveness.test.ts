import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import { Cluster } from "@dmabroker/testkit";
import { seededBytes } from "../helpers.js";
import { HostileProvider, agentMsg } from "./hostile-provider.js";

// Deadlines a peer announces are enforced, and the broker's own stall is
// never blamed on its providers.

describe("an agent that announces Draining and never says goodbye", () => {
  let cluster: Cluster;
  let client: BrokerClient;

  beforeAll(async () => {
    cluster = await Cluster.start({});
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "drain-victim" });
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it("is removed at its deadline: in-flight cookies end ABORTED / PROVIDER_GONE, the lease ends", async () => {
    const hp = HostileProvider.connect(cluster.grpcAddress);
    try {
      await hp.register({ providerId: "never-leaves" });
      hp.startHeartbeats(100);
      const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "never-leaves" });
      const [cookie] = await lease.submit([ops.memcpy(Buffer.alloc(64, 1))]);
      await hp.waitFor((m) => m.work !== undefined);
      const t0 = Date.now();
      hp.send(agentMsg.draining(500));
      // Heartbeats keep coming (it is alive), work is never answered, no goodbye: the deadline decides.
      const done = await lease.waitFor(cookie, { timeoutMs: 10_000 });
      const waited = Date.now() - t0;
      expect({ result: done.result, reason: done.reason }).toEqual({ result: "ABORTED", reason: "PROVIDER_GONE" });
      expect(waited).toBeGreaterThanOrEqual(450);
      const ended = await lease.ended;
      expect(ended.reason).toBe("PROVIDER_GONE");
      const line = await cluster.broker.waitForLine(
        (l) => l.event === "provider.state" && l.provider_id === "never-leaves" && l.to === "removed",
        5000,
        "removal",
      );
      expect(String(line.reason)).toContain("announced drain deadline");
      await hp.ended;
    } finally {
      hp.close();
    }
  });
});

describe("the broker's own stall is not charged to its providers", () => {
  let cluster: Cluster;
  let client: BrokerClient;

  beforeAll(async () => {
    cluster = await Cluster.start({ agents: [{ providerId: "dsa-1", profile: "dsa" }] });
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "stall-victim" });
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it("a broker frozen longer than the heartbeat timeout (SIGSTOP 2.2 s) keeps its healthy provider and lease", async () => {
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "dsa-1" });
    // Frozen for longer than heartbeatTimeoutMs (1.5 s): on waking, every heartbeat is "late",
    // but they are sitting unread in the socket, and the agent never stopped.
    cluster.broker.kill("SIGSTOP");
    await new Promise((r) => setTimeout(r, 2200));
    cluster.broker.kill("SIGCONT");
    await new Promise((r) => setTimeout(r, 1500));
    const lost = cluster.broker.lines.filter((l) => l.event === "provider.state" && l.provider_id === "dsa-1" && (l.to === "lost" || l.to === "suspect"));
    expect(lost).toEqual([]);
    expect(lease.state).toBe("active");
    const src = seededBytes(77, 4096);
    const [cookie] = await lease.submit([ops.memcpy(src)]);
    const done = await lease.waitFor(cookie, { timeoutMs: 10_000 });
    expect(done.output!.equals(src)).toBe(true);
    const metrics = await (await fetch(`${cluster.adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const stall = Number(/^dmabroker_loop_stall_seconds_total (\S+)$/m.exec(metrics)?.[1]);
    expect(stall).toBeGreaterThan(1.5);
  });
});
