import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, DmaBrokerError, ops } from "@dmabroker/client";
import type { Lease } from "@dmabroker/client";
import { Cluster } from "@dmabroker/testkit";
import { seededBytes } from "./helpers.js";

// A short seeded churn run: several clients keep leasing and copying while
// providers are SIGKILLed, SIGTERMed or frozen (SIGSTOP) and come back. Every accepted cookie
// must end exactly once with a reason, NOERROR bytes must be right, no call
// may hang or fail with an unnamed error, and the broker must stay up.
// (The full chaos suite with every fault kind is a later issue; this guards
// the foundation's guarantees under churn.)

const SEED = Number(process.env.DMABROKER_TEST_SEED ?? 424_242);
// DMABROKER_CHURN_MS lengthens the run for a local soak (CI keeps the short default).
const RUN_MS = Number(process.env.DMABROKER_CHURN_MS ?? 6000);
const CLIENTS = 4;
const AGENTS = ["ioat-a", "ioat-b", "dsa-a"] as const;
/** Call failures a client may legitimately see while providers churn. */
const EXPECTED_CALL_REASONS = new Set(["PROVIDER_GONE", "PROVIDER_SUSPECT", "NO_CHANNEL_AVAILABLE", "NO_PROVIDER", "QUEUE_FULL"]);

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("churn: providers die and return under load", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    console.log(`churn test seed ${SEED} (set DMABROKER_TEST_SEED to replay)`);
    cluster = await Cluster.start({
      agents: AGENTS.map((id) => ({
        providerId: id,
        profile: id.startsWith("dsa") ? ("dsa" as const) : ("ioat" as const),
        args: ["--reconnect-min-ms", "50"],
      })),
    });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it("keeps every guarantee while agents are killed and restarted", async () => {
    const random = rng(SEED);
    const stopAt = performance.now() + RUN_MS;
    const tally = { accepted: 0, completed: 0, aborted: 0, faults: 0, leases: 0 };
    const faultKinds = { SIGKILL: 0, SIGTERM: 0, SIGSTOP: 0 };
    const violations: string[] = [];
    const callReasons = new Map<string, number>();

    const clientLoop = async (index: number): Promise<void> => {
      const client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: `churn-${index}`, defaultTimeoutMs: 5000 });
      const local = rng(SEED + index);
      let lease: Lease | undefined;
      let batchNo = 0;
      try {
        while (performance.now() < stopAt) {
          try {
            if (!lease || lease.isEnded) {
              lease = await client.requestChannel({ capabilities: ["memcpy"], mode: "shared", ttlMs: 5000 });
              tally.leases++;
            }
            const n = 1 + Math.floor(local() * 16);
            const srcs = Array.from({ length: n }, (_, i) => seededBytes(SEED * 31 + index * 1_000_003 + batchNo * 101 + i, 1 + Math.floor(local() * 65536)));
            batchNo++;
            const cookies = await lease.submit(srcs.map((s) => ops.memcpy(s)));
            tally.accepted += cookies.length;
            const results = await Promise.all(
              cookies.map((c) => lease!.waitFor(c, { timeoutMs: 8000 }).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))),
            );
            results.forEach((r, i) => {
              if (r instanceof DmaBrokerError) {
                violations.push(`client ${index} cookie ${cookies[i]}: wait failed ${r.reason} (${r.message})`);
              } else if (r instanceof Error) {
                violations.push(`client ${index} cookie ${cookies[i]}: ${r.message}`);
              } else if (r.cookie !== cookies[i]) {
                violations.push(`client ${index}: asked for cookie ${cookies[i]}, got ${r.cookie}`);
              } else if (r.result === "NOERROR") {
                tally.completed++;
                if (!r.output?.equals(srcs[i])) violations.push(`client ${index} cookie ${r.cookie}: wrong bytes`);
              } else if (r.result === "ABORTED" && r.reason === "PROVIDER_GONE" && r.residue === srcs[i].length) {
                tally.aborted++;
              } else {
                violations.push(`client ${index} cookie ${r.cookie}: unexpected ${r.result} ${r.reason} residue ${r.residue}`);
              }
            });
          } catch (err) {
            const e = DmaBrokerError.from(err);
            callReasons.set(e.reason, (callReasons.get(e.reason) ?? 0) + 1);
            if (!EXPECTED_CALL_REASONS.has(e.reason)) violations.push(`client ${index}: call failed ${e.reason}: ${e.message}`);
            if (e.reason === "PROVIDER_GONE") lease = undefined;
            await sleep(20);
          }
        }
      } finally {
        await lease?.release({ timeoutMs: 3000 }).catch(() => undefined);
        client.close();
      }
    };

    const faultLoop = async (): Promise<void> => {
      while (performance.now() < stopAt - 1000) {
        await sleep(300 + Math.floor(random() * 500));
        const id = AGENTS[Math.floor(random() * AGENTS.length)];
        const handle = cluster.agent(id);
        const dice = random();
        tally.faults++;
        if (dice < 0.3) {
          // Freeze: short ones only make the provider suspect; longer ones get it
          // declared lost, and after SIGCONT it comes back with a new epoch.
          faultKinds.SIGSTOP++;
          handle.process.kill("SIGSTOP");
          await sleep(300 + Math.floor(random() * 2200));
          handle.process.kill("SIGCONT");
          continue;
        }
        const signal = dice < 0.8 ? "SIGKILL" : "SIGTERM";
        faultKinds[signal]++;
        handle.process.kill(signal);
        await handle.process.exited;
        await cluster.startAgent(handle.spec);
      }
    };

    await Promise.all([...Array.from({ length: CLIENTS }, (_, i) => clientLoop(i)), faultLoop()]);

    console.log(`churn: ${JSON.stringify(tally)} faults ${JSON.stringify(faultKinds)} call errors ${JSON.stringify(Object.fromEntries(callReasons))}`);
    expect(violations).toEqual([]);
    expect(tally.faults).toBeGreaterThan(2);
    expect(tally.completed).toBeGreaterThan(0);
    expect(tally.completed + tally.aborted).toBe(tally.accepted);
    expect(cluster.broker.running).toBe(true);
    expect(cluster.broker.lines.filter((l) => Number(l.level) >= 50)).toEqual([]);
    // Every lease was released or ended: nothing is left active on the broker.
    const { leases } = await cluster.admin<{ leases: { state: string }[] }>("/v1/leases");
    expect(leases.filter((l) => l.state === "active" || l.state === "suspended")).toEqual([]);
  });
});
