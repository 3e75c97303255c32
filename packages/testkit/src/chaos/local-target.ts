import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Cluster } from "../cluster.js";
import type { AgentSpec } from "../cluster.js";
import { ProcessFaultDriver } from "../process-fault-driver.js";
import type { RunMode } from "../service-process.js";
import type { ChaosTarget } from "./chaos-runner.js";

/** Broker settings of a local chaos run (short tombstones, so records return to baseline within the run). */
const HEARTBEAT_TIMEOUT_MS = 1_500;
const LEASE_TOMBSTONE_TTL_MS = 2_000;

/** Agent settings: come back fast after a fault; drain briefly on SIGTERM; throttled so work is in flight when a fault hits. */
const AGENT_ARGS = [
  "--reconnect-min-ms",
  "50",
  "--reconnect-max-ms",
  "300",
  "--drain-timeout-ms",
  "600",
  "--bandwidth-bytes-per-sec",
  String(32 * 1024 * 1024),
];

/** Starts a broker and `providers` agents (ioat and dsa alternating) as local processes, for runChaos. */
export async function startLocalChaosTarget(options: { providers: number; mode?: RunMode }): Promise<ChaosTarget> {
  const agents: AgentSpec[] = Array.from({ length: options.providers }, (_, i) => {
    const profile = i % 2 === 0 ? "ioat" : "dsa";
    // Every agent reaches the broker through a fault proxy: partition = blackhole, reset = RST.
    return { providerId: `chaos-${profile}-${i}`, profile, args: AGENT_ARGS, viaProxy: true };
  });
  // The broker keeps its store here, so broker_restart restarts it on the same records.
  const dataDir = mkdtempSync(path.join(tmpdir(), "dmabroker-chaos-"));
  const cluster = await Cluster.start({
    agents,
    mode: options.mode,
    brokerArgs: ["--heartbeat-timeout-ms", String(HEARTBEAT_TIMEOUT_MS), "--lease-tombstone-ttl-ms", String(LEASE_TOMBSTONE_TTL_MS), "--data-dir", dataDir],
  }).catch((err: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  const driver = new ProcessFaultDriver(cluster);
  return {
    grpcAddress: cluster.grpcAddress,
    adminUrl: cluster.adminUrl,
    providerIds: agents.map((a) => a.providerId),
    driver,
    heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
    leaseTombstoneTtlMs: LEASE_TOMBSTONE_TTL_MS,
    unsupported: {},
    processes: () => [cluster.broker, ...[...cluster.agents.values()].map((a) => a.process)],
    restartBroker: async () => ({ readyMs: (await cluster.restartBroker()).readyMs }),
    reset: async (id) => {
      // RST every connection of the agent, then let it reconnect.
      const proxy = cluster.proxy(id);
      proxy.setMode("reset");
      await new Promise((r) => setTimeout(r, 50));
      proxy.setMode("pass");
    },
    duplicate: async (id) => {
      // The old incarnation's stream lingers (frozen); a second agent registers the same id: newest wins.
      const old = cluster.agent(id);
      old.process.kill("SIGSTOP");
      try {
        await cluster.startAgent(old.spec);
      } finally {
        old.process.kill("SIGKILL");
      }
    },
    stop: async () => {
      await driver.close();
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
