import { randomBytes } from "node:crypto";
import { BrokerClient, ops } from "@dmabroker/client";
import type { Lease } from "@dmabroker/client";
import { RelayBaseline } from "../baselines/relay-baseline.js";
import { BenchCluster, withCpuShares } from "../lib/bench-cluster.js";
import type { CpuShares } from "../lib/bench-cluster.js";
import type { ScenarioContext } from "../lib/context.js";
import { closedLoop } from "../lib/load.js";
import { entry } from "../lib/report.js";
import type { BenchEntry, Target } from "../lib/report.js";

const MiB = 1024 * 1024;
const RELAY = "bare grpc-js relay";
const CPU_SHARES = ["brokerCpu", "agentCpu", "clientCpu"] as const satisfies readonly (keyof CpuShares)[];

/** One shape of transfer load: item size, batch size and batches in flight (same for broker and relay). */
interface Shape {
  id: string;
  title: string;
  itemBytes: number;
  batch: number;
  window: number;
  unit: "items/s" | "MiB/s";
  target: Target | null;
}

export const SMALL_SHAPES: readonly Shape[] = [
  {
    id: "small.batch1",
    title: "64 B memcpy completions/s end to end, batches of 1",
    itemBytes: 64,
    batch: 1,
    window: 32,
    unit: "items/s",
    target: { kind: "min", basis: "ratio", bound: 0.5, text: "≥ 50% of relay" },
  },
  { id: "small.batch16", title: "64 B memcpy completions/s end to end, batches of 16", itemBytes: 64, batch: 16, window: 16, unit: "items/s", target: null },
  {
    id: "small.batch256",
    title: "64 B memcpy completions/s end to end, batches of 256",
    itemBytes: 64,
    batch: 256,
    window: 4,
    unit: "items/s",
    target: { kind: "min", basis: "ratio", bound: 0.6, text: "≥ 60% of relay" },
  },
];

export const LARGE_SHAPE: Shape = {
  id: "large",
  title: "1 MiB memcpy bytes/s end to end",
  itemBytes: MiB,
  batch: 1,
  window: 4,
  unit: "MiB/s",
  target: { kind: "min", basis: "ratio", bound: 0.75, text: "≥ 75% of relay" },
};

/** Items (or bytes) per second through the broker: SDK submit + waitForAll, `window` batches in flight, outputs checked. */
async function measureBroker(lease: Lease, shape: Shape, ms: number): Promise<{ units: number; elapsedMs: number }> {
  const items = Array.from({ length: shape.batch }, () => randomBytes(shape.itemBytes));
  const descriptors = items.map((b) => ops.memcpy(b));
  const r = await closedLoop(shape.window, ms, async () => {
    const cookies = await lease.submit(descriptors);
    const done = await lease.waitForAll(cookies, { timeoutMs: 30_000 });
    for (const c of done) if (c.result !== "NOERROR") throw new Error(`cookie ${c.cookie}: ${c.result} ${c.reason}`);
    const last = done.length - 1;
    if (!done[last]?.output?.equals(items[last]!)) throw new Error("memcpy output differs from its source");
    return shape.batch;
  });
  return { units: r.units, elapsedMs: r.elapsedMs };
}

async function measureRelay(relay: RelayBaseline, shape: Shape, ms: number): Promise<{ units: number; elapsedMs: number }> {
  const items = Array.from({ length: shape.batch }, () => randomBytes(shape.itemBytes));
  const r = await closedLoop(shape.window, ms, () => relay.roundTrip(items));
  return { units: r.units, elapsedMs: r.elapsedMs };
}

/** Measurement slices: broker and relay alternate, so a machine slowing down mid-run hits both alike. */
const SLICE_MS = 500;

/**
 * Memcpy throughput through the broker (client → broker → agent → broker →
 * client) next to the bare relay (client → relay → echo → relay → client),
 * same item size, batching and batches in flight, measured in the same run.
 */
export async function transferScenario(ctx: ScenarioContext, shapes: readonly Shape[]): Promise<BenchEntry[]> {
  const { sizes, progress } = ctx;
  const cluster = await BenchCluster.start(ctx.env);
  let relay: RelayBaseline | undefined;
  let client: BrokerClient | undefined;
  const out: BenchEntry[] = [];
  try {
    // Deep queue so the batches in flight never hit QUEUE_FULL; the profile's speed model stays.
    await cluster.startAgent("xfer", ["--queue-depth", "4096"]);
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "bench-transfer" });
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "xfer", mode: "exclusive" });
    relay = await RelayBaseline.start();
    for (const shape of shapes) {
      const scale = shape.unit === "MiB/s" ? shape.itemBytes / MiB : 1;
      progress(
        `${shape.id}: ${shape.window} batches of ${shape.batch} × ${shape.itemBytes} B in flight; broker and relay alternate for ${sizes.measureMs} ms each`,
      );
      await measureBroker(lease, shape, sizes.warmupMs);
      await measureRelay(relay, shape, sizes.warmupMs);
      const slices = Math.max(1, Math.round(sizes.measureMs / SLICE_MS));
      const b = { units: 0, elapsedMs: 0 };
      const r = { units: 0, elapsedMs: 0 };
      const cpu: CpuShares = { brokerCpu: 0, agentCpu: 0, clientCpu: 0 };
      for (let k = 0; k < slices; k++) {
        const m = await withCpuShares(cluster, () => measureBroker(lease, shape, sizes.measureMs / slices));
        b.units += m.result.units;
        b.elapsedMs += m.result.elapsedMs;
        for (const key of CPU_SHARES) cpu[key] += (m.cpu[key] * m.result.elapsedMs) / sizes.measureMs;
        const x = await measureRelay(relay, shape, sizes.measureMs / slices);
        r.units += x.units;
        r.elapsedMs += x.elapsedMs;
      }
      const value = ((b.units * 1000) / b.elapsedMs) * scale;
      const baseline = ((r.units * 1000) / r.elapsedMs) * scale;
      progress(`${shape.id}: ${Math.round(value)} vs relay ${Math.round(baseline)} ${shape.unit}`);
      out.push(
        entry({
          id: shape.id,
          title: shape.title,
          value,
          unit: shape.unit,
          target: shape.target,
          baseline,
          baselineName: RELAY,
          details: {
            itemBytes: shape.itemBytes,
            batch: shape.batch,
            batchesInFlight: shape.window,
            ...cpu,
            brokerCpuUsPerItem: (cpu.brokerCpu * 1e6) / (value / scale),
          },
        }),
      );
    }
    await lease.release();
  } finally {
    client?.close();
    await relay?.stop();
    await cluster.stop();
  }
  return out;
}
