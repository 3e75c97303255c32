import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import type { Completion } from "@dmabroker/client";
import { Cluster } from "@dmabroker/testkit";
import { Code, expectReason, seededBytes } from "./helpers.js";

// The unplug test (issue: foundation). A client has a batch in flight on a
// provider whose agent process is SIGKILLed: every in-flight cookie must end
// ABORTED / PROVIDER_GONE within a second, the lease must end PROVIDER_GONE,
// later calls must say PROVIDER_GONE, and the client must carry on elsewhere.

const SEED = 20261124;
const CHUNK = 64 * 1024;
const BATCH = 64;

describe("hot unplug (SIGKILL of a provider agent)", () => {
  let cluster: Cluster;
  let client: BrokerClient;

  beforeAll(async () => {
    console.log(`unplug test seed ${SEED}`);
    cluster = await Cluster.start({
      agents: [
        // The victim is slow (2 MiB/s per channel) so the batch is really in flight when it dies.
        { providerId: "victim", profile: "ioat", args: ["--bandwidth-bytes-per-sec", String(2 * 1024 * 1024)] },
        { providerId: "survivor", profile: "ioat" },
      ],
    });
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "unplug-test" });
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it("aborts every in-flight cookie with PROVIDER_GONE, ends the lease, and lets the client move on", async () => {
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "victim", mode: "exclusive" });
    expect(lease.providerId).toBe("victim");

    const sources = Array.from({ length: BATCH }, (_, i) => seededBytes(SEED + i, CHUNK));
    const cookies = await lease.submit(sources.map((s) => ops.memcpy(s)));
    expect(cookies).toHaveLength(BATCH);
    const results = cookies.map((c) => lease.waitFor(c, { timeoutMs: 15_000 }));

    // Work is really running: wait for the first completion, then pull the plug.
    const first = await results[0];
    expect(first.result).toBe("NOERROR");
    const killedAt = performance.now();
    cluster.agent("victim").process.kill("SIGKILL");

    const settled: Completion[] = await Promise.all(results);
    const allEndedAt = performance.now();
    const ended = await lease.ended;
    const detectionMs = allEndedAt - killedAt;
    console.log(`SIGKILL -> every in-flight cookie PROVIDER_GONE: ${detectionMs.toFixed(1)} ms`);

    // Exactly one terminal result per cookie, in one of two shapes.
    const completed = settled.filter((c) => c.result === "NOERROR");
    const aborted = settled.filter((c) => c.result === "ABORTED");
    expect(completed.length + aborted.length).toBe(BATCH);
    expect(aborted.length).toBeGreaterThan(0);
    for (const c of aborted) {
      expect(c).toMatchObject({ status: "ERROR", reason: "PROVIDER_GONE", residue: CHUNK });
      expect(c.output).toBeUndefined();
    }
    // What completed before the kill is byte-correct.
    for (const c of completed) expect(c.output!.equals(sources[cookies.indexOf(c.cookie)])).toBe(true);
    expect(new Set(settled.map((c) => c.cookie)).size).toBe(BATCH);
    expect(detectionMs).toBeLessThan(1000);

    expect(ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
    expect(lease.state).toBe("provider_gone");

    // Every later call on the lease: FAILED_PRECONDITION / PROVIDER_GONE, never NOT_FOUND, never a hang.
    const bound = { timeoutMs: 3000 };
    await expectReason(lease.submit([ops.memcpy(sources[0])], bound), Code.FAILED_PRECONDITION, "PROVIDER_GONE");
    await expectReason(lease.keepAlive(bound), Code.FAILED_PRECONDITION, "PROVIDER_GONE");
    await expectReason(lease.txStatus(cookies[0], bound), Code.FAILED_PRECONDITION, "PROVIDER_GONE");
    await expectReason(lease.issuePending(bound), Code.FAILED_PRECONDITION, "PROVIDER_GONE");
    await expectReason(lease.terminate(bound), Code.FAILED_PRECONDITION, "PROVIDER_GONE");
    // Release stays idempotent and reports how the lease ended.
    await expect(lease.release(bound)).resolves.toEqual({ released: false, state: "provider_gone", reason: "PROVIDER_GONE" });

    // The broker kept running and agrees.
    expect(cluster.broker.running).toBe(true);
    const { leases } = await cluster.admin<{ leases: { leaseId: string; state: string; endReason: string }[] }>("/v1/leases");
    expect(leases.find((l) => l.leaseId === lease.id)).toMatchObject({ state: "provider_gone", endReason: "PROVIDER_GONE" });
    const providers = await client.listProviders(bound);
    expect(providers.find((p) => p.providerId === "victim")?.state).toBe("PROVIDER_STATE_LOST");

    // The same client leases on another provider and completes work there.
    const next = await client.requestChannel({ capabilities: ["memcpy"], mode: "exclusive" });
    expect(next.providerId).toBe("survivor");
    const retry = await next.submit(sources.slice(0, 8).map((s) => ops.memcpy(s)));
    const done = await next.waitForAll(retry, { timeoutMs: 10_000 });
    done.forEach((c, i) => {
      expect(c.result).toBe("NOERROR");
      expect(c.output!.equals(sources[i])).toBe(true);
    });
    await next.release();
  });
});
