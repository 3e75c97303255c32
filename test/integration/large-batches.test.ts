import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import { Cluster } from "@dmabroker/testkit";
import { seededBytes } from "./helpers.js";

// Multi-MiB batches over fresh connections, the way `dmactl copy` sends them.
// Regression: a broker that enlarged its HTTP/2 receive windows after the
// session started (a SETTINGS change racing the peer's first streams) stalled
// flow control on some connections: submits hung until their deadline and the
// agent's heartbeats queued behind its results until it was declared lost.

const SEED = 77_001;
const MiB = 1024 * 1024;

describe("large batches over fresh connections", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    console.log(`large-batches test seed ${SEED}`);
    cluster = await Cluster.start({ agents: [{ providerId: "big-dsa", profile: "dsa" }] });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it("six clients in turn each copy 4 batches of 8 × 1 MiB, two in flight, every byte intact, no stall, provider never suspect", async () => {
    const data = Array.from({ length: 8 }, (_, i) => seededBytes(SEED + i, MiB));
    for (let c = 0; c < 6; c++) {
      const client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: `big-${c}` });
      try {
        const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "big-dsa", timeoutMs: 5000 });
        // Two batches in flight, like dmactl's default --depth 2.
        await Promise.all(
          [0, 1].map(async () => {
            for (let b = 0; b < 2; b++) {
              const cookies = await lease.submit(
                data.map((d) => ops.memcpy(d)),
                { timeoutMs: 5000 },
              );
              const done = await lease.waitForAll(cookies, { timeoutMs: 5000 });
              done.forEach((r, i) => expect(r.output!.equals(data[i])).toBe(true));
            }
          }),
        );
        await lease.release();
      } finally {
        client.close();
      }
    }
    const states = cluster.broker.lines.filter((l) => l.event === "provider.state").map((l) => `${String(l.from)}→${String(l.to)}`);
    expect(states).toEqual([]);
  });
});
