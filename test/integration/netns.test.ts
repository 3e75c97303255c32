import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import { Cluster, NetnsLink, ProcessFaultDriver, netnsSupport } from "@dmabroker/testkit";
import { seededBytes } from "./helpers.js";

// A real network partition (issue 3): the agent runs in its own network
// namespace, joined to the host by a veth pair; the broker listens on the
// host end's private address only. Setting the link down silences the path
// (no RST, no FIN): the broker must declare the provider lost by heartbeat
// timeout; link up: the agent comes back as a new incarnation.
// Skips, printing why, where namespaces are not permitted.

const SEED = 20261204;
const HEARTBEAT_TIMEOUT_MS = 1000;
const support = await netnsSupport();
if (!support.ok) console.log(`netns tests skipped: ${support.reason}`);

describe.skipIf(!support.ok)("partition by network namespace (veth link down)", () => {
  let link: NetnsLink;
  let cluster: Cluster;
  let client: BrokerClient;
  let driver: ProcessFaultDriver;

  beforeAll(async () => {
    console.log(`netns test seed ${SEED}`);
    link = await NetnsLink.create();
    cluster = await Cluster.start({
      brokerArgs: [
        "--grpc-host",
        link.hostAddress,
        "--heartbeat-interval-ms",
        "100",
        "--suspect-after-ms",
        "300",
        "--heartbeat-timeout-ms",
        String(HEARTBEAT_TIMEOUT_MS),
      ],
    });
    await cluster.startAgent({
      providerId: "caged",
      profile: "ioat",
      netns: link,
      args: ["--bandwidth-bytes-per-sec", String(1024 * 1024), "--reconnect-min-ms", "50", "--reconnect-max-ms", "200", "--seed", String(SEED)],
    });
    driver = new ProcessFaultDriver(cluster);
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "netns-test" });
  });

  afterAll(async () => {
    await driver?.close();
    client?.close();
    await cluster?.stop();
    await link?.close();
  });

  it("runs the agent inside the namespace, reaching the broker over the veth link", async () => {
    expect(cluster.grpcAddress.startsWith(`${link.hostAddress}:`)).toBe(true);
    const pid = cluster.agent("caged").process.pid;
    // The agent's own network namespace is the link's, not ours.
    const nsOf = (p: number | "self"): string =>
      execFileSync("readlink", [`/proc/${p}/ns/net`])
        .toString()
        .trim();
    const inside = execFileSync("ip", ["netns", "identify", String(pid)])
      .toString()
      .trim();
    expect(inside).toBe(link.name);
    expect(nsOf(pid)).not.toBe(nsOf("self"));
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "caged" });
    const src = seededBytes(SEED, 4096);
    const [cookie] = await lease.submit([ops.memcpy(src)]);
    expect((await lease.waitFor(cookie, { timeoutMs: 5000 })).output!.equals(src)).toBe(true);
    await lease.release();
  });

  it("link down: lost by heartbeat timeout, leases end PROVIDER_GONE; link up: a new epoch", async () => {
    const oldEpoch = cluster.agent("caged").epoch;
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "caged", mode: "exclusive" });
    const sources = Array.from({ length: 16 }, (_, i) => seededBytes(SEED + i, 64 * 1024));
    const cookies = await lease.submit(sources.map((s) => ops.memcpy(s)));
    const results = cookies.map((c) => lease.waitFor(c, { timeoutMs: 15_000 }));
    await results[0];

    const downAt = performance.now();
    await driver.partition("caged");
    const settled = await Promise.all(results);
    const goneMs = performance.now() - downAt;
    console.log(`netns link down -> every in-flight cookie PROVIDER_GONE: ${goneMs.toFixed(0)} ms (timeout ${HEARTBEAT_TIMEOUT_MS} ms)`);
    expect(await lease.ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
    expect(settled.some((c) => c.result === "ABORTED" && c.reason === "PROVIDER_GONE")).toBe(true);
    settled.filter((c) => c.result === "NOERROR").forEach((c) => expect(c.output!.equals(sources[cookies.indexOf(c.cookie)])).toBe(true));
    // Silence, not a connection error: the heartbeat sweep found it, within timeout + margin.
    expect(goneMs).toBeGreaterThanOrEqual(300);
    expect(goneMs).toBeLessThan(HEARTBEAT_TIMEOUT_MS + 1000);

    const upAt = performance.now();
    await driver.heal("caged");
    const newEpoch = await cluster.waitForRegistration("caged", oldEpoch, 10_000);
    console.log(`netns link up -> re-registered: ${(performance.now() - upAt).toFixed(0)} ms, epoch ${oldEpoch} -> ${newEpoch}`);
    expect(newEpoch).toBeGreaterThan(oldEpoch);
    const next = await client.requestChannel({ capabilities: ["memcpy"], providerId: "caged" });
    expect(next.epoch).toBe(newEpoch);
    const [c] = await next.submit([ops.memcpy(sources[3])]);
    expect((await next.waitFor(c, { timeoutMs: 5000 })).output!.equals(sources[3])).toBe(true);
    await next.release();
  });

  it("close() deletes the namespace and both veth ends", async () => {
    const probe = await NetnsLink.create();
    expect(execFileSync("ip", ["netns", "list"]).toString()).toContain(probe.name);
    await probe.close();
    await probe.close();
    expect(execFileSync("ip", ["netns", "list"]).toString()).not.toContain(probe.name);
    expect(execFileSync("ip", ["-o", "link", "show"]).toString()).not.toContain(`${probe.hostIf}@`);
    await expect(probe.down()).rejects.toMatchObject({ reason: "INVALID_ARGUMENT" });
  });
});
