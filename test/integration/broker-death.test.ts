import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import { Cluster } from "@dmabroker/testkit";
import { Code, expectReason } from "./helpers.js";

// If the broker itself dies and does not come back, no client call may hang:
// the SDK rides out a restart for up to 15 s (the lease reads suspended),
// then waiters fail with a named reason and the lease reports how it ended.

describe("the broker dies under a client", () => {
  let cluster: Cluster;
  let client: BrokerClient;

  beforeAll(async () => {
    cluster = await Cluster.start({ agents: [{ providerId: "slow", profile: "ioat", args: ["--bandwidth-bytes-per-sec", "65536"] }] });
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "broker-death", defaultTimeoutMs: 3000 });
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it("fails pending waits with TRANSPORT_FAILURE and ends the lease instead of hanging", { timeout: 60_000 }, async () => {
    const lease = await client.requestChannel({ capabilities: ["memcpy"] });
    const cookies = await lease.submit([ops.memcpy(Buffer.alloc(256 * 1024))]); // 4 s of work
    const waiting = lease.waitFor(cookies[0], { timeoutMs: 40_000 });
    const killedAt = performance.now();
    cluster.broker.kill("SIGKILL");
    await expectReason(waiting, Code.UNAVAILABLE, "TRANSPORT_FAILURE");
    expect(await lease.ended).toEqual({ state: "provider_gone", reason: "TRANSPORT_FAILURE" });
    const ms = performance.now() - killedAt;
    console.log(`broker SIGKILL -> waiter failed with TRANSPORT_FAILURE after ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(25_000);
    await expectReason(lease.submit([ops.memcpy(Buffer.alloc(8))], { timeoutMs: 2000 }), Code.UNAVAILABLE, "TRANSPORT_FAILURE");
  });
});
