import { BrokerClient } from "@dmabroker/client";
import type { Lease } from "@dmabroker/client";
import { DEFAULT_BROKER_OPTIONS } from "@dmabroker/core";
import type { ServiceProcess } from "@dmabroker/testkit";
import { BenchCluster } from "../lib/bench-cluster.js";
import type { ScenarioContext } from "../lib/context.js";
import { entry } from "../lib/report.js";
import type { BenchEntry } from "../lib/report.js";
import { nowMs, sleep, summarize } from "../lib/stats.js";

/** Clients per trial, each holding LEASES_PER_CLIENT exclusive leases on the victim (8 channels). */
const CLIENTS = 4;
const LEASES_PER_CLIENT = 2;
const END_TIMEOUT_MS = 10_000;

/** Leases on the victim for every client; resolves when all are granted (and watched). */
async function leaseVictim(clients: BrokerClient[], providerId: string): Promise<Lease[]> {
  const per = await Promise.all(
    clients.map((c) =>
      Promise.all(
        Array.from({ length: LEASES_PER_CLIENT }, () => c.requestChannel({ capabilities: ["memcpy"], providerId, mode: "exclusive", keepAlive: false })),
      ),
    ),
  );
  return per.flat();
}

/**
 * Signals the victim and returns the time (ms) from the signal until the last
 * of its leases has ended PROVIDER_GONE in its client.
 */
async function oneTrial(victim: ServiceProcess, leases: Lease[], signal: "SIGKILL" | "SIGSTOP"): Promise<number> {
  const endedAt = leases.map((l) => l.ended.then((e) => ({ at: nowMs(), ...e })));
  const t0 = nowMs();
  victim.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`leases did not end within ${END_TIMEOUT_MS} ms after ${signal}`)), END_TIMEOUT_MS);
  });
  try {
    const ends = await Promise.race([Promise.all(endedAt), timeout]);
    for (const e of ends) if (e.reason !== "PROVIDER_GONE") throw new Error(`a lease ended ${e.state} / ${e.reason}, not PROVIDER_GONE`);
    return Math.max(...ends.map((e) => e.at)) - t0;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Detection: SIGKILL (the socket closes) and SIGSTOP (only heartbeats tell)
 * of a provider with 8 leases held by 4 clients → time until every lease has
 * PROVIDER_GONE in its client. Default broker timing (heartbeat timeout 1.5 s).
 */
export async function detectScenario(ctx: ScenarioContext): Promise<BenchEntry[]> {
  const { sizes, progress } = ctx;
  const cluster = await BenchCluster.start(ctx.env);
  const clients: BrokerClient[] = [];
  const kill: number[] = [];
  const freeze: number[] = [];
  try {
    for (let k = 0; k < CLIENTS; k++) clients.push(await BrokerClient.connect({ address: cluster.grpcAddress, clientId: `detect-${k}` }));
    for (let t = 0; t < sizes.detectTrials; t++) {
      const providerId = `kill-${t}`;
      const victim = await cluster.startAgent(providerId);
      const leases = await leaseVictim(clients, providerId);
      const ms = await oneTrial(victim, leases, "SIGKILL");
      kill.push(ms);
      progress(`detect_kill: trial ${t + 1}/${sizes.detectTrials}: ${ms.toFixed(1)} ms`);
    }
    const victim = await cluster.startAgent("freeze");
    for (let t = 0; t < sizes.detectTrials; t++) {
      const leases = await leaseVictim(clients, "freeze");
      const epoch = leases[0]!.epoch; // LEASES_PER_CLIENT leases per client
      const ms = await oneTrial(victim, leases, "SIGSTOP");
      freeze.push(ms);
      progress(`detect_freeze: trial ${t + 1}/${sizes.detectTrials}: ${ms.toFixed(1)} ms`);
      // Thawed, the agent finds its stream ended and registers again as a new incarnation.
      victim.kill("SIGCONT");
      await victim.waitForLine((l) => l.msg === "registered" && Number(l.epoch) > epoch, 20_000, "re-registration after SIGCONT");
      await sleep(50);
    }
  } finally {
    for (const c of clients) c.close();
    await cluster.stop();
  }
  const k = summarize(kill);
  const f = summarize(freeze);
  const timeout = DEFAULT_BROKER_OPTIONS.heartbeatTimeoutMs;
  const details = (s: ReturnType<typeof summarize>): Record<string, number> => ({
    p50: s.p50,
    p99: s.p99,
    max: s.max,
    trials: s.count,
    leasesPerTrial: CLIENTS * LEASES_PER_CLIENT,
  });
  return [
    entry({
      id: "detect_kill",
      title: "SIGKILL of a provider → every affected client has PROVIDER_GONE (p99)",
      value: k.p99,
      unit: "ms",
      target: { kind: "max", basis: "value", bound: 50, text: "p99 < 50 ms" },
      details: details(k),
    }),
    entry({
      id: "detect_freeze",
      title: "SIGSTOP of a provider → every affected client has PROVIDER_GONE (p99)",
      value: f.p99,
      unit: "ms",
      target: { kind: "max", basis: "value", bound: timeout + 100, text: `≤ heartbeat timeout + 100 ms (${timeout + 100} ms)` },
      details: { ...details(f), heartbeatTimeoutMs: timeout },
    }),
  ];
}
