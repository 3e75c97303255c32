import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import { Cluster } from "@dmabroker/testkit";
import { Code, expectReason } from "./helpers.js";

// If the broker itself dies and does not come back, no client call may hang:
// the SDK rides out a restart for up to 15 s (the lease reads suspended),
// then each cookie in flight ends ABORTED / TRANSPORT_FAILURE and the lease reports how it ended.

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

  it("ends the cookie in flight ABORTED / TRANSPORT_FAILURE and the lease TRANSPORT_FAILURE instead of hanging", { timeout: 60_000 }, async () => {
    const lease = await client.requestChannel({ capabilities: ["memcpy"] });
    const cookies = await lease.submit([ops.memcpy(Buffer.alloc(256 * 1024))]); // 4 s of work
    const waiting = lease.waitFor(cookies[0], { timeoutMs: 40_000 });
    const killedAt = performance.now();
    cluster.broker.kill("SIGKILL");
    // A result, not a failed wait: its outcome is unknown, and the SDK says why, once.
    const result = await waiting;
    expect({ result: result.result, reason: result.reason }).toEqual({ result: "ABORTED", reason: "TRANSPORT_FAILURE" });
    expect(await lease.ended).toEqual({ state: "provider_gone", reason: "TRANSPORT_FAILURE" });
    const ms = performance.now() - killedAt;
    console.log(`broker SIGKILL -> cookie ended ABORTED / TRANSPORT_FAILURE after ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(25_000);
    await expectReason(lease.submit([ops.memcpy(Buffer.alloc(8))], { timeoutMs: 2000 }), Code.UNAVAILABLE, "TRANSPORT_FAILURE");
  });
});
