import type { DmaBrokerClient, RequestChannelResponse__Output } from "@dmabroker/proto";
import { capabilityMask } from "@dmabroker/core";
import { BenchCluster, clientMetadata, unary } from "../lib/bench-cluster.js";
import type { ScenarioContext } from "../lib/context.js";
import { closedLoop, openLoop } from "../lib/load.js";
import { entry } from "../lib/report.js";
import type { BenchEntry } from "../lib/report.js";
import { sleep, summarize } from "../lib/stats.js";
import { rawPairs } from "./lease.js";

const BASE_PROVIDERS = 10;
/** Agent processes the big population is spread over (each emulating many providers). */
const AGENT_PROCESSES = 4;
/** Leases per client id (the default per-client cap is 4096). */
const LEASES_PER_CLIENT = 1000;
/** Fixed open-loop rate of the latency probe, the same before and after. */
const PROBE_RATE = 1000;
const HOUR = 3_600_000;

/**
 * Scale: one broker, first with 10 providers (lease p99 probe), then with
 * N providers × 8 channels and M active shared leases: its RSS and the same
 * probe again. The ratio is p99(N) / p99(10).
 */
export async function scaleScenario(ctx: ScenarioContext): Promise<BenchEntry[]> {
  const { sizes, progress } = ctx;
  const n = sizes.scaleProviders;
  const m = sizes.scaleLeases;
  const cluster = await BenchCluster.start(ctx.env, ["--default-lease-ttl-ms", String(HOUR)]);
  try {
    await cluster.startAgent("base", ["--providers", String(BASE_PROVIDERS)]);
    await cluster.waitForProviders(BASE_PROVIDERS);
    const pair = rawPairs(cluster, "scale-probe");
    await closedLoop(8, sizes.warmupMs, pair);
    progress(`scale: lease latency with ${BASE_PROVIDERS} providers at ${PROBE_RATE} pairs/s`);
    let i = 0;
    const small = summarize(await openLoop(PROBE_RATE, sizes.latencyMs, () => pair(i++)));
    const rssSmall = cluster.brokerRssMiB();

    const rest = n - BASE_PROVIDERS;
    progress(`scale: starting ${rest} more providers in ${AGENT_PROCESSES} agent processes`);
    const per = Math.ceil(rest / AGENT_PROCESSES);
    await Promise.all(
      Array.from({ length: AGENT_PROCESSES }, (_, k) => Math.min(per, rest - k * per))
        .filter((count) => count > 0)
        .map((count, k) => cluster.startAgent(`scale${k}`, ["--providers", String(count)])),
    );
    await cluster.waitForProviders(n, 180_000);

    progress(`scale: ${n} providers online; leasing ${m} shared channels`);
    const stubs: DmaBrokerClient[] = [cluster.rawStub(), cluster.rawStub()];
    const mask = capabilityMask(["memcpy"]);
    let made = 0;
    await Promise.all(
      Array.from({ length: 32 }, async (_, w) => {
        for (;;) {
          const k = made++;
          if (k >= m) return;
          const md = clientMetadata(`scale-holder-${Math.floor(k / LEASES_PER_CLIENT)}`);
          await unary<RequestChannelResponse__Output>(
            (md2, o, cb) =>
              stubs[w % 2]!.RequestChannel(
                { capabilityMask: mask, selector: { labels: {}, providerId: "" }, mode: "LEASE_MODE_SHARED", ttlMs: HOUR },
                md2,
                o,
                cb,
              ),
            md,
          );
        }
      }),
    );
    await sleep(1000);
    const rssBig = cluster.brokerRssMiB();
    progress(`scale: RSS ${rssBig.toFixed(0)} MiB; lease latency at ${PROBE_RATE} pairs/s`);
    const big = summarize(await openLoop(PROBE_RATE, sizes.latencyMs, () => pair(i++)));
    const detail = { providers: n, channels: n * 8, activeLeases: m, probeRatePerSec: PROBE_RATE };
    return [
      entry({
        id: "scale.rss",
        title: `broker RSS with ${n} providers × 8 channels and ${m} active leases`,
        value: rssBig,
        unit: "MiB",
        target: { kind: "max", basis: "value", bound: 300, text: "< 300 MB" },
        baseline: rssSmall,
        baselineName: `same broker, ${BASE_PROVIDERS} providers`,
        details: detail,
      }),
      entry({
        id: "scale.lease_p99",
        title: `lease pair p99 with ${n} providers and ${m} leases vs ${BASE_PROVIDERS} providers`,
        value: big.p99,
        unit: "ms",
        target: { kind: "max", basis: "ratio", bound: 2, text: "≤ 2× the 10-provider p99" },
        baseline: small.p99,
        baselineName: `same broker, ${BASE_PROVIDERS} providers`,
        details: { ...detail, p50: big.p50, max: big.max, baseP50: small.p50 },
      }),
    ];
  } finally {
    await cluster.stop();
  }
}
