import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { capabilityMask } from "@dmabroker/core";
import type { RequestChannelResponse__Output } from "@dmabroker/proto";
import { BenchCluster, clientMetadata, unary, withCpuShares } from "../lib/bench-cluster.js";
import type { CpuShares } from "../lib/bench-cluster.js";
import type { ScenarioContext } from "../lib/context.js";
import { closedLoop } from "../lib/load.js";
import { entry } from "../lib/report.js";
import type { BenchEntry } from "../lib/report.js";
import { sleep } from "../lib/stats.js";
import { rawPairs } from "./lease.js";

const CONCURRENCY = 64;
const MEMCPY = capabilityMask(["memcpy"]);

interface StoreInfo {
  sizeBytes: number;
  logBytes: number;
  revision: number;
}

const getJson = async <T>(url: string): Promise<T> => (await (await fetch(url, { signal: AbortSignal.timeout(5000) })).json()) as T;

/** Lease pairs/s of one broker (closed loop, the lease scenario's shape), with its CPU shares. */
async function pairRate(
  ctx: ScenarioContext,
  brokerArgs: string[],
  label: string,
): Promise<{ rate: number; cpu: CpuShares; store?: StoreInfo; pairs: number }> {
  const cluster = await BenchCluster.start(ctx.env, brokerArgs);
  try {
    await cluster.startAgent("durable", ["--providers", "4"]);
    await cluster.waitForProviders(4);
    const pair = rawPairs(cluster, `durable-${label}`);
    await closedLoop(CONCURRENCY, ctx.sizes.warmupMs, pair);
    ctx.progress(`durable: ${label}: ${CONCURRENCY} concurrent pairs for ${ctx.sizes.measureMs} ms`);
    const { result, cpu } = await withCpuShares(cluster, () => closedLoop(CONCURRENCY, ctx.sizes.measureMs, pair));
    const rate = (result.ops * 1000) / result.elapsedMs;
    const store = await getJson<StoreInfo>(`${cluster.adminUrl}/v1/store`);
    ctx.progress(`durable: ${label}: ${Math.round(rate)} pairs/s`);
    return { rate, cpu, store, pairs: result.ops };
  } finally {
    await cluster.stop();
  }
}

/**
 * The durable store's cost and its restart:
 * - durable.lease_pairs: the lease scenario's closed loop against a broker
 *   with --data-dir (durability always: every answer waits for its group
 *   commit's fdatasync), against the same broker without a store, same run;
 * - durable.bytes_per_lease: log bytes one granted lease costs;
 * - restart.recovery_ms / restart.reattach_ms: SIGKILL a broker holding
 *   `leases` leases on `providers` providers, spawn it on the same data dir,
 *   time /readyz green and every agent back with its epoch.
 */
export async function durableScenario(ctx: ScenarioContext): Promise<BenchEntry[]> {
  const full = ctx.sizes.scaleLeases >= 10_000;
  const leases = full ? 10_000 : Math.min(1000, ctx.sizes.scaleLeases);
  const providers = full ? 100 : 20;
  const dirs: string[] = [];
  const dataDir = (): string => {
    const d = mkdtempSync(path.join(tmpdir(), "dmabroker-bench-store-"));
    dirs.push(d);
    return d;
  };
  try {
    const off = await pairRate(ctx, [], "no store");
    const always = await pairRate(ctx, ["--data-dir", dataDir(), "--durability", "always"], "durability always");
    const interval = await pairRate(ctx, ["--data-dir", dataDir(), "--durability", "interval"], "durability interval");
    const restart = await restartTimes(ctx, dataDir(), leases, providers);
    return [
      entry({
        id: "durable.lease_pairs",
        title: "lease request + release pairs/s with the store on disk (durability always), vs no store, same run",
        value: always.rate,
        unit: "pairs/s",
        target: { kind: "min", basis: "ratio", bound: 0.8, text: "≥ 0.8× the broker without a store" },
        baseline: off.rate,
        baselineName: "the same broker without a store",
        details: {
          concurrency: CONCURRENCY,
          intervalPairsPerSec: interval.rate,
          intervalRatio: interval.rate / off.rate,
          brokerCpuAlways: always.cpu.brokerCpu,
          brokerCpuNoStore: off.cpu.brokerCpu,
          storeRevision: always.store?.revision ?? 0,
        },
      }),
      entry({
        id: "durable.bytes_per_lease",
        title: "store log bytes per granted lease (grant record; its release deletes it)",
        value: restart.bytesPerLease,
        unit: "bytes",
        target: null,
        details: { leases, logBytes: restart.logBytes, diskBytesAfterRecovery: restart.diskBytes },
      }),
      entry({
        id: "restart.recovery_ms",
        title: `SIGKILL with ${leases} leases and ${providers} providers, spawn on the same data dir: /readyz green`,
        value: restart.readyMs,
        unit: "ms",
        target: { kind: "max", basis: "value", bound: 1000, text: "< 1 s" },
        details: { leases, providers, fromKillMs: restart.readyFromKillMs },
      }),
      entry({
        id: "restart.reattach_ms",
        title: `after that restart: every one of ${providers} agents re-attached with its epoch`,
        value: restart.reattachMs,
        unit: "ms",
        target: { kind: "max", basis: "value", bound: 2000, text: "< 2 s" },
        details: { leases, providers, leasesRecovered: restart.leasesRecovered },
      }),
    ];
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

async function restartTimes(
  ctx: ScenarioContext,
  dir: string,
  leases: number,
  providers: number,
): Promise<{
  readyMs: number;
  readyFromKillMs: number;
  reattachMs: number;
  bytesPerLease: number;
  logBytes: number;
  diskBytes: number;
  leasesRecovered: number;
}> {
  const cluster = await BenchCluster.start(ctx.env, ["--data-dir", dir]);
  try {
    await cluster.startAgent("restart", ["--providers", String(providers), "--reconnect-min-ms", "20"]);
    await cluster.waitForProviders(providers);
    const before = new Map(
      (await getJson<{ providers: { providerId: string; epoch: number }[] }>(`${cluster.adminUrl}/v1/providers`)).providers.map((p) => [p.providerId, p.epoch]),
    );
    const store0 = await getJson<StoreInfo>(`${cluster.adminUrl}/v1/store`);
    ctx.progress(`durable: granting ${leases} leases on ${providers} providers`);
    const stubs = [cluster.rawStub(), cluster.rawStub()] as const;
    const mds = Array.from({ length: 16 }, (_, i) => clientMetadata(`restart-bench-${i}`));
    let granted = 0;
    await closedLoop(
      CONCURRENCY,
      600_000,
      async (w) => {
        const md = mds[w % mds.length]!;
        await unary<RequestChannelResponse__Output>(
          (m, o, cb) =>
            stubs[w % 2 === 0 ? 0 : 1].RequestChannel(
              { capabilityMask: MEMCPY, selector: { labels: {}, providerId: "" }, mode: "LEASE_MODE_SHARED", ttlMs: 3_600_000 },
              m,
              o,
              cb,
            ),
          md,
        );
        granted++;
      },
      leases,
    );
    const store1 = await getJson<StoreInfo>(`${cluster.adminUrl}/v1/store`);
    ctx.progress(`durable: ${granted} leases held; SIGKILL the broker and spawn it on ${dir}`);
    const { killedAt, spawnedAt } = await cluster.killAndRespawnBroker();
    let readyAt = 0;
    while (readyAt === 0 && performance.now() - spawnedAt < 60_000) {
      const ok = await fetch(`${cluster.adminUrl}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) readyAt = performance.now();
      else await sleep(5);
    }
    let reattachAt = 0;
    while (reattachAt === 0 && performance.now() - spawnedAt < 60_000) {
      const now = await getJson<{ providers: { providerId: string; epoch: number; state: string }[] }>(`${cluster.adminUrl}/v1/providers`).catch(() => ({
        providers: [],
      }));
      const back = now.providers.filter((p) => p.state === "online" && before.get(p.providerId) === p.epoch).length;
      if (back === before.size) reattachAt = performance.now();
      else await sleep(10);
    }
    if (readyAt === 0 || reattachAt === 0) throw new Error(`restart: not ${readyAt === 0 ? "ready" : "re-attached"} within 60 s`);
    // Every page: the listing answers 1,000 by default (the full run recovers 10,000).
    let leasesRecovered = 0;
    for (let token: string | undefined = ""; token !== undefined;) {
      const page: { leases: unknown[]; nextPageToken?: string } = await getJson(
        `${cluster.adminUrl}/v1/leases?limit=10000${token ? `&pageToken=${token}` : ""}`,
      );
      leasesRecovered += page.leases.length;
      token = page.nextPageToken;
    }
    const store2 = await getJson<StoreInfo>(`${cluster.adminUrl}/v1/store`);
    return {
      readyMs: readyAt - spawnedAt,
      readyFromKillMs: readyAt - killedAt,
      reattachMs: reattachAt - spawnedAt,
      bytesPerLease: (store1.sizeBytes - store0.sizeBytes) / granted,
      logBytes: store1.logBytes,
      diskBytes: store2.sizeBytes,
      leasesRecovered,
    };
  } finally {
    await cluster.stop();
  }
}
