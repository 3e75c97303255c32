import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Bystander, RawConnection, decodeMessage, encodeMessage, percentile } from "@dmabroker/testkit";
import { BenchCluster } from "../lib/bench-cluster.js";
import type { ScenarioContext } from "../lib/context.js";
import { entry } from "../lib/report.js";
import type { BenchEntry } from "../lib/report.js";
import { sleep } from "../lib/stats.js";

const BYSTANDER_BYTES = 4096;
/** The attack phase lasts the measurement time, or one full round of worst messages, but never longer than this. */
const MAX_ATTACK_MS = 45_000;

interface LoopDelay {
  maxMs: number;
  p99Ms: number;
  p50Ms: number;
  samples: number;
}

const method = (m: string): string => `/dmabroker.v1.DmaBroker/${m}`;

interface AttackReport {
  sent: number;
  attackMs: number;
  slowest: [string, number][];
}

/**
 * Runs the hostile client (hostile-attacker.ts) in its own process with this
 * process's node flags (tsx), and returns its report. Killed by pid if it
 * outlives its budget.
 */
async function runAttacker(grpcAddress: string, leaseId: string, minMs: number, maxMs: number): Promise<AttackReport> {
  const script = fileURLToPath(new URL("./hostile-attacker.ts", import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, script, grpcAddress, leaseId, String(minMs), String(maxMs)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  // The attack stops drawing messages after maxMs; its last one may take MESSAGE_TIMEOUT_MS more, plus start-up.
  const killer = setTimeout(() => child.kill("SIGKILL"), maxMs + 60_000);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (c) => resolve(c));
    });
    if (code !== 0) throw new Error(`hostile attacker exited ${code}`);
    return JSON.parse(out.trim().split("\n").pop() ?? "") as AttackReport;
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
}

async function adminPost<T>(adminUrl: string, path: string): Promise<T> {
  const res = await fetch(adminUrl + path, { method: "POST", signal: AbortSignal.timeout(60_000) });
  if (!res.ok) throw new Error(`POST ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

function decodeLease(bytes: Buffer): string | undefined {
  try {
    return decodeMessage<{ lease?: { leaseId: string } | null }>("RequestChannelResponse", bytes).lease?.leaseId;
  } catch {
    return undefined;
  }
}

const p99 = (xs: number[]): number =>
  percentile(
    [...xs].sort((a, b) => a - b),
    99,
  );

/**
 * Hostile input: the broker's event-loop delay (its own monitorEventLoopDelay,
 * read through the admin API) while one hostile client sends the worst
 * messages of the hostile-input issue one after another, and a bystander
 * client's transfer p99 during that attack against a quiet phase of the same run.
 */
export async function hostileScenario(ctx: ScenarioContext): Promise<BenchEntry[]> {
  const { sizes, progress } = ctx;
  const cluster = await BenchCluster.start(ctx.env);
  const conn = new RawConnection(cluster.grpcAddress);
  let bystander: Bystander | undefined;
  try {
    await cluster.startAgent("hostile-bystander", [], "dsa");
    bystander = await Bystander.start(cluster.grpcAddress, "hostile-bystander", { loops: 2, bytes: BYSTANDER_BYTES });
    await sleep(sizes.warmupMs);

    progress(`hostile: quiet phase ${sizes.latencyMs} ms`);
    await adminPost(cluster.adminUrl, "/v1/runtime/event-loop/reset");
    const q0 = bystander.mark;
    await sleep(sizes.latencyMs);
    const quietLoop = (await adminPost<{ window: LoopDelay }>(cluster.adminUrl, "/v1/runtime/event-loop/reset")).window;
    const quiet = bystander.report.latenciesMs.slice(q0);

    // A lease for the Submits to name (shared, on the bystander's provider: the attack aims at everyone's broker).
    const leaseRes = await conn.unary(
      method("RequestChannel"),
      encodeMessage("RequestChannelRequest", { capabilityMask: 2, mode: 2 }),
      RawConnection.metadata("bench-hostile"),
      10_000,
    );
    const leaseId = (leaseRes.ok && decodeLease(leaseRes.bytes)) || "no-lease";
    progress(`hostile: attack phase (the worst messages in turn from a separate attacker process, at least ${sizes.latencyMs} ms)`);
    const a0 = bystander.mark;
    const { sent, attackMs, slowest } = await runAttacker(cluster.grpcAddress, leaseId, sizes.latencyMs, MAX_ATTACK_MS);
    const attackLoop = (await adminPost<{ window: LoopDelay }>(cluster.adminUrl, "/v1/runtime/event-loop/reset")).window;
    const attack = bystander.report.latenciesMs.slice(a0);
    const failures = bystander.report.failures.length;
    const worst = [...slowest].sort((a, b) => b[1] - a[1])[0];
    progress(
      `hostile: loop delay max ${attackLoop.maxMs} ms (quiet ${quietLoop.maxMs} ms), bystander p99 ${p99(attack).toFixed(1)} ms vs ${p99(quiet).toFixed(1)} ms quiet, ${failures} failures; slowest answer: ${worst?.[0]} ${worst?.[1].toFixed(0)} ms`,
    );
    const common = { attackMessages: sent, attackMs, bystanderFailures: failures, slowestAnswer: worst ? `${worst[0]} (${Math.round(worst[1])} ms)` : "" };
    return [
      entry({
        id: "hostile.loop_delay_max",
        title: "Broker event-loop delay, max, while a hostile client sends the worst messages",
        value: attackLoop.maxMs,
        unit: "ms",
        target: { kind: "max", basis: "value", bound: 50, text: "≤ 50 ms" },
        details: { ...common, quietMaxMs: quietLoop.maxMs, samples: attackLoop.samples },
      }),
      entry({
        id: "hostile.loop_delay_p99",
        title: "Broker event-loop delay, p99, while a hostile client sends the worst messages",
        value: attackLoop.p99Ms,
        unit: "ms",
        target: null,
        details: { p50Ms: attackLoop.p50Ms, quietP99Ms: quietLoop.p99Ms, samples: attackLoop.samples },
      }),
      entry({
        id: "hostile.bystander_p99_ratio",
        title: `Bystander ${BYSTANDER_BYTES / 1024} KiB memcpy+crc32c p99 under that attack / quiet p99 (same run)`,
        value: quiet.length && attack.length ? p99(attack) / p99(quiet) : Number.NaN,
        unit: "×",
        target: { kind: "max", basis: "value", bound: 2, text: "≤ 2×" },
        details: {
          attackP99Ms: p99(attack),
          quietP99Ms: p99(quiet),
          attackTransfers: attack.length,
          quietTransfers: quiet.length,
          bystanderFailures: failures,
        },
      }),
    ];
  } finally {
    await bystander?.stop().catch(() => undefined);
    conn.close();
    await cluster.stop();
  }
}
