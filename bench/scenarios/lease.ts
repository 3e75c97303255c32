import { BrokerClient } from "@dmabroker/client";
import { capabilityMask } from "@dmabroker/core";
import type { DmaBrokerClient, ReleaseResponse__Output, RequestChannelResponse__Output } from "@dmabroker/proto";
import { EtcdBaseline, findEtcd } from "../baselines/etcd-baseline.js";
import { BenchCluster, clientMetadata, unary, withCpuShares } from "../lib/bench-cluster.js";
import type { CpuShares } from "../lib/bench-cluster.js";
import type { ScenarioContext } from "../lib/context.js";
import { closedLoop, openLoop } from "../lib/load.js";
import { entry } from "../lib/report.js";
import type { BenchEntry } from "../lib/report.js";
import { summarize } from "../lib/stats.js";

/** Concurrent request + release loops in the capacity measurement. */
const CONCURRENCY = 64;
/** Client ids the raw load spreads over (each has its own call budget and lease quota). */
const CLIENT_IDS = 8;
const SDK_CONCURRENCY = 16;
const MEMCPY = capabilityMask(["memcpy"]);
/**
 * Upper bound on SDK pairs per run. (It was 900 while the SDK cancelled each
 * ended lease's watch: the broker's HTTP/2 session closed the connection after
 * ~1,000 such resets. The SDK now lets the broker end the watch.)
 */
const SDK_MAX_PAIRS = 1_000_000;

/** One RequestChannel (shared, any provider) + Release through a raw grpc-js stub. */
export async function rawLeasePair(stub: DmaBrokerClient, md: ReturnType<typeof clientMetadata>, ttlMs = 0): Promise<string> {
  const res = await unary<RequestChannelResponse__Output>(
    (m, o, cb) => stub.RequestChannel({ capabilityMask: MEMCPY, selector: { labels: {}, providerId: "" }, mode: "LEASE_MODE_SHARED", ttlMs }, m, o, cb),
    md,
  );
  const leaseId = res.lease!.leaseId;
  await unary<ReleaseResponse__Output>((m, o, cb) => stub.Release({ leaseId }, m, o, cb), md);
  return leaseId;
}

/** A function running one raw pair on worker w's stub and client id. */
export function rawPairs(cluster: BenchCluster, prefix: string): (w: number) => Promise<void> {
  const stubs = [cluster.rawStub(), cluster.rawStub()];
  const mds = Array.from({ length: CLIENT_IDS }, (_, i) => clientMetadata(`${prefix}-${i}`));
  return async (w) => {
    await rawLeasePair(stubs[w % stubs.length]!, mds[w % mds.length]!); // both non-empty
  };
}

/**
 * Lease capacity and latency: raw request + release pairs per second (closed
 * loop, 64 concurrent, 8 client ids so no one client's call budget is the
 * limit; the default budget is 50,000 calls/s per client, not raised), then
 * p50/p99 of a pair at half that rate (open loop), then the SDK's figure
 * (requestChannel opens a watch stream before returning), then etcd.
 */
export async function leaseScenario(ctx: ScenarioContext): Promise<BenchEntry[]> {
  const { sizes, progress } = ctx;
  const cluster = await BenchCluster.start(ctx.env);
  const out: BenchEntry[] = [];
  let rate: number;
  let lat: ReturnType<typeof summarize>;
  let sdkRate: number;
  let sdkPairs = 0;
  let capCpu: Partial<CpuShares> = {};
  try {
    await cluster.startAgent("lease", ["--providers", "4"]);
    await cluster.waitForProviders(4);
    const pair = rawPairs(cluster, "lease-bench");
    await closedLoop(CONCURRENCY, sizes.warmupMs, pair);
    progress(`lease: broker capacity, ${CONCURRENCY} concurrent pairs for ${sizes.measureMs} ms`);
    const { result: cap, cpu } = await withCpuShares(cluster, () => closedLoop(CONCURRENCY, sizes.measureMs, pair));
    capCpu = cpu;
    rate = (cap.ops * 1000) / cap.elapsedMs;
    progress(`lease: ${Math.round(rate)} pairs/s; latency at ${Math.round(rate / 2)} pairs/s for ${sizes.latencyMs} ms`);
    let i = 0;
    lat = summarize(await openLoop(rate / 2, sizes.latencyMs, () => pair(i++)));

    progress(`lease: SDK requestChannel + release, ${SDK_CONCURRENCY} concurrent`);
    const clients = await Promise.all(Array.from({ length: 4 }, (_, k) => BrokerClient.connect({ address: cluster.grpcAddress, clientId: `lease-sdk-${k}` })));
    try {
      const sdkPair = async (w: number): Promise<void> => {
        const lease = await clients[w % clients.length]!.requestChannel({ capabilities: ["memcpy"], mode: "shared", keepAlive: false });
        await lease.release();
      };
      const warm = await closedLoop(SDK_CONCURRENCY, sizes.warmupMs, sdkPair, 100);
      const r = await closedLoop(SDK_CONCURRENCY, sizes.measureMs, sdkPair, SDK_MAX_PAIRS - warm.ops - SDK_CONCURRENCY);
      sdkRate = (r.ops * 1000) / r.elapsedMs;
      sdkPairs = r.ops;
    } finally {
      for (const c of clients) c.close();
    }
  } finally {
    await cluster.stop();
  }

  // etcd on this machine, same load shape.
  let etcdRate: number | null = null;
  let etcdLat: ReturnType<typeof summarize> | null = null;
  let skipped: string | undefined;
  const binary = findEtcd();
  if (!binary) skipped = "no etcd binary (apt-get install etcd-server)";
  else {
    progress(`lease: etcd lease grant + revoke (${binary}), ${CONCURRENCY} concurrent`);
    const etcd = await EtcdBaseline.start(binary);
    try {
      const pair = (w: number): Promise<void> => etcd.pair(w);
      await closedLoop(CONCURRENCY, sizes.warmupMs, pair);
      const cap = await closedLoop(CONCURRENCY, sizes.measureMs, pair);
      etcdRate = (cap.ops * 1000) / cap.elapsedMs;
      let i = 0;
      etcdLat = summarize(await openLoop(etcdRate / 2, sizes.latencyMs, () => etcd.pair(i++)));
    } finally {
      await etcd.stop();
    }
  }
  const etcdName = "etcd lease grant + revoke";
  out.push(
    entry({
      id: "lease.pairs",
      title: "lease request + release pairs/s (raw grpc-js, 64 concurrent, 8 client ids)",
      value: rate,
      unit: "pairs/s",
      target: { kind: "min", basis: "value", bound: 10_000, text: "≥ 10,000 pairs/s" },
      baseline: etcdRate,
      baselineName: etcdName,
      baselineSkipped: skipped,
      details: { concurrency: CONCURRENCY, clientIds: CLIENT_IDS, ...capCpu, brokerCpuUsPerPair: ((capCpu.brokerCpu ?? Number.NaN) * 1e6) / rate },
    }),
    entry({
      id: "lease.p99",
      title: "lease request + release pair latency p99 at half the measured rate",
      value: lat.p99,
      unit: "ms",
      target: { kind: "max", basis: "value", bound: 5, text: "p99 < 5 ms" },
      baseline: etcdLat?.p99 ?? null,
      baselineName: `${etcdName} at half its rate`,
      baselineSkipped: skipped,
      details: { p50: lat.p50, p99: lat.p99, max: lat.max, ratePerSec: rate / 2, samples: lat.count, ...(etcdLat ? { etcdP50: etcdLat.p50 } : {}) },
    }),
    entry({
      id: "lease.sdk_pairs",
      title: "SDK requestChannel + release pairs/s (opens a watch per lease), 16 concurrent",
      value: sdkRate,
      unit: "pairs/s",
      target: null,
      baseline: etcdRate,
      baselineName: etcdName,
      baselineSkipped: skipped,
      details: { concurrency: SDK_CONCURRENCY, pairs: sdkPairs, maxPairs: SDK_MAX_PAIRS },
    }),
  );
  return out;
}
