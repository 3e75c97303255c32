import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import { Cluster } from "@dmabroker/testkit";
import { seededBytes } from "./helpers.js";

// One agent process emulating several providers (`--providers N`, used by the
// scale benchmark): each is its own registration with its own channels, and
// killing the one process takes every one of them away.

const SEED = 42_017;

describe("an agent process with several emulated providers", () => {
  let cluster: Cluster;
  let client: BrokerClient;

  beforeAll(async () => {
    console.log(`multi-provider agent test seed ${SEED}`);
    cluster = await Cluster.start({ agents: [{ providerId: "many", profile: "ioat", args: ["--providers", "3", "--channels", "2"] }] });
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "multi" });
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it("registers each provider separately, serves leases on each, and loses them all with the process", async () => {
    // The cluster waited for the first registration; the others follow within the bound.
    const deadline = Date.now() + 10_000;
    let ids: string[] = [];
    while (Date.now() < deadline) {
      ids = (await client.listProviders()).filter((p) => p.state === "PROVIDER_STATE_ONLINE").map((p) => p.providerId);
      if (ids.length === 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(ids.sort()).toEqual(["many-0", "many-1", "many-2"]);
    const providers = await client.listProviders();
    expect(new Set(providers.map((p) => p.epoch)).size).toBe(3);
    expect(providers.map((p) => p.channels.length)).toEqual([2, 2, 2]);

    const leases = await Promise.all(ids.map((providerId) => client.requestChannel({ capabilities: ["memcpy"], providerId, mode: "exclusive" })));
    for (const [i, lease] of leases.entries()) {
      const src = seededBytes(SEED + i, 4096);
      const [cookie] = await lease.submit([ops.memcpy(src)]);
      const done = await lease.waitFor(cookie, { timeoutMs: 5000 });
      expect(done.result).toBe("NOERROR");
      expect(done.output!.equals(src)).toBe(true);
    }

    cluster.agent("many").process.kill("SIGKILL");
    const ends = await Promise.all(leases.map((l) => l.ended));
    expect(ends).toEqual(ids.map(() => ({ state: "provider_gone", reason: "PROVIDER_GONE" })));
  });
});
