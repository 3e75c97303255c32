import { RawConnection, decodeMessage, encodeMessage, wire } from "@dmabroker/testkit";
import { sleep } from "../lib/stats.js";

// The hostile client of bench/scenarios/hostile.ts, in a process of its own:
// building and framing its 84 MiB and multi-million-item messages costs CPU,
// and that cost must not land in the bystander's latency (the bystander runs
// in the bench process). Usage (the bench spawns it with its own node flags):
//   hostile-attacker.ts <grpc address> <lease id> <min attack ms> <max attack ms>
// It prints one JSON line: { sent, attackMs, slowest: [name, ms][] }.

const MiB = 1024 * 1024;
/** One worst message may take this long to be answered before the attack moves on. */
const MESSAGE_TIMEOUT_MS = 30_000;

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

async function main(): Promise<void> {
  const [address, leaseId, minArg, maxArg] = process.argv.slice(2);
  if (!address || !leaseId || !minArg || !maxArg) throw new Error("usage: hostile-attacker.ts <grpc address> <lease id> <min attack ms> <max attack ms>");
  const minMs = Number(minArg);
  const maxMs = Number(maxArg);
  const conn = new RawConnection(address);
  const messages = worstMessages(leaseId);
  const slowest = new Map<string, number>();
  const started = performance.now();
  let sent = 0;
  try {
    for (let i = 0; ; i++) {
      const elapsed = performance.now() - started;
      if ((elapsed >= minMs && i >= messages.length) || elapsed > maxMs) break;
      const m = messages[i % messages.length];
      if (!m) break;
      const t0 = performance.now();
      await m.send(conn);
      slowest.set(m.name, Math.max(slowest.get(m.name) ?? 0, performance.now() - t0));
      sent++;
    }
  } finally {
    conn.close();
  }
  process.stdout.write(JSON.stringify({ sent, attackMs: performance.now() - started, slowest: [...slowest] }) + "\n");
}

await main();
