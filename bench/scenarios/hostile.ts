import { Bystander, RawConnection, decodeMessage, encodeMessage, percentile, wire } from "@dmabroker/testkit";
import { BenchCluster } from "../lib/bench-cluster.js";
import type { ScenarioContext } from "../lib/context.js";
import { entry } from "../lib/report.js";
import type { BenchEntry } from "../lib/report.js";
import { sleep } from "../lib/stats.js";

const MiB = 1024 * 1024;
const BYSTANDER_BYTES = 4096;
/** One worst message may take this long to be answered before the attack moves on. */
const MESSAGE_TIMEOUT_MS = 30_000;
/** The attack phase lasts the measurement time, or one full round of worst messages, but never longer than this. */
const MAX_ATTACK_MS = 45_000;

interface LoopDelay {
  maxMs: number;
  p99Ms: number;
  p50Ms: number;
  samples: number;
}

async function adminPost<T>(adminUrl: string, path: string): Promise<T> {
  const res = await fetch(adminUrl + path, { method: "POST", signal: AbortSignal.timeout(60_000) });
  if (!res.ok) throw new Error(`POST ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

const ATTACH = "/dmabroker.v1.ProviderHub/Attach";
const method = (m: string): string => `/dmabroker.v1.DmaBroker/${m}`;

/**
 * The worst messages of the hostile-input issue, built once: each is sent
 * and its answer awaited (any answer: a refusal is the expected one).
 */
function worstMessages(leaseId: string): { name: string; send: (conn: RawConnection) => Promise<void> }[] {
  const { lenField, varintField, repeated, distinctEntries } = wire;
  const md = RawConnection.metadata("bench-hostile");
  const leaseField = lenField(1, Buffer.from(leaseId));
  const unary = (path: string, bytes: Buffer) => async (conn: RawConnection) => {
    await conn.unary(path, bytes, md, MESSAGE_TIMEOUT_MS);
  };
  /** An Attach stream that sends `messages` (after registering when `register` is set) and waits for the broker's first answer to the last. */
  const attach = (messages: (epoch: number) => Buffer[], register: boolean) => async (conn: RawConnection) => {
    const stream = conn.bidi(ATTACH, RawConnection.metadata(undefined), MESSAGE_TIMEOUT_MS);
    const replies: Buffer[] = [];
    let wake: (() => void) | undefined;
    stream.on("data", (b: Buffer) => {
      replies.push(b);
      wake?.();
    });
    const ended = new Promise<void>((resolve) => {
      stream.on("error", () => resolve());
      stream.on("end", () => resolve());
    });
    const nextReply = async (): Promise<Buffer | undefined> => {
      if (replies.length) return replies.shift();
      await Promise.race([ended, new Promise<void>((r) => (wake = r)), sleep(MESSAGE_TIMEOUT_MS)]);
      return replies.shift();
    };
    let epoch = 0;
    if (register) {
      stream.write(
        encodeMessage("AgentMessage", {
          register: {
            providerId: `bench-hostile-${Math.random().toString(36).slice(2, 10)}`,
            capabilityMask: 2,
            constraints: { maxTransferBytes: MiB, alignment: 1, maxXorSources: 2 },
            ordering: 1,
            channels: [{ queueDepth: 8 }],
          },
        }),
      );
      const first = await nextReply();
      epoch = first ? (decodeRegistered(first) ?? 0) : 0;
    }
    for (const m of messages(epoch)) stream.write(m);
    // A heartbeat after the big message: its answer tells that the big one has been processed.
    stream.write(encodeMessage("AgentMessage", { heartbeat: { seq: 1, epoch } }));
    await Promise.race([nextReply(), ended]);
    stream.cancel();
  };
  const registerWithLabels = (n: number): Buffer =>
    lenField(1, Buffer.concat([lenField(1, Buffer.from(`bench-hostile-l${n}`)), distinctEntries(2, n), varintField(3, 2), lenField(8, varintField(1, 8))]));
  const workDone =
    (n: number) =>
    (epoch: number): Buffer[] => [lenField(3, Buffer.concat([varintField(1, epoch), repeated(Buffer.from([0x12, 0x02, 0x08, 0x07]), n)]))];
  return [
    {
      name: "submit 3,000,000 interrupts",
      send: unary(method("Submit"), Buffer.concat([leaseField, repeated(Buffer.from([0x12, 0x02, 0x3a, 0x00]), 3_000_000)])),
    },
    {
      name: "RequestChannel with 1,000,000 selector labels",
      send: unary(method("RequestChannel"), Buffer.concat([varintField(1, 2), lenField(2, distinctEntries(1, 1_000_000)), varintField(3, 2)])),
    },
    { name: "Register with 300,000 labels", send: attach(() => [registerWithLabels(300_000)], false) },
    { name: "WorkDone with 1,000,000 results", send: attach(workDone(1_000_000), true) },
    { name: "KeepAlive with a 4,000-character lease id", send: unary(method("KeepAlive"), lenField(1, Buffer.alloc(4000, 0x4c))) },
    {
      name: "Submit beyond the transport limit (84 MiB)",
      send: unary(method("Submit"), Buffer.concat([leaseField, lenField(2, lenField(1, lenField(1, Buffer.alloc(84 * MiB, 0x5a))))])),
    },
    { name: "undecodable Submit body", send: unary(method("Submit"), Buffer.concat([leaseField, Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f])])) },
  ];
}

/** The epoch of a Registered reply (undefined for anything else). */
function decodeRegistered(bytes: Buffer): number | undefined {
  try {
    return decodeMessage<{ registered?: { epoch: number } | null }>("BrokerMessage", bytes).registered?.epoch;
  } catch {
    return undefined;
  }
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
    const messages = worstMessages(leaseId);
    progress(`hostile: attack phase (${messages.length} worst messages in turn, at least ${sizes.latencyMs} ms)`);
    const a0 = bystander.mark;
    const started = performance.now();
    const slowest = new Map<string, number>();
    let sent = 0;
    for (let i = 0; ; i++) {
      const elapsed = performance.now() - started;
      if ((elapsed >= sizes.latencyMs && i >= messages.length) || elapsed > MAX_ATTACK_MS) break;
      const m = messages[i % messages.length];
      if (!m) break;
      const t0 = performance.now();
      await m.send(conn);
      slowest.set(m.name, Math.max(slowest.get(m.name) ?? 0, performance.now() - t0));
      sent++;
    }
    const attackMs = performance.now() - started;
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
