import http2 from "node:http2";
import protobuf from "protobufjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import { DMABROKER_PROTO_FILES, PROTO_ROOT } from "@dmabroker/proto";
import { Cluster } from "@dmabroker/testkit";
import { HostileProvider, agentMsg } from "./hostile-provider.js";

// Outgoing streams are bounded: a provider that stops reading is cut off and
// declared lost (its clients learn PROVIDER_GONE, nothing piles up), and a big
// backlog of pending work is sent in chunks a provider can take.

const MiB = 1024 * 1024;

/** gRPC length-prefixed frame. */
const frame = (msg: Buffer): Buffer => {
  const out = Buffer.alloc(5 + msg.length);
  out.writeUInt32BE(msg.length, 1);
  msg.copy(out, 5);
  return out;
};

function brokerMessageType(): protobuf.Type {
  const root = new protobuf.Root();
  root.resolvePath = (_o, target) => (target.startsWith("/") ? target : `${PROTO_ROOT}/${target}`);
  root.loadSync([...DMABROKER_PROTO_FILES], { keepCase: true });
  return root.lookupType("dmabroker.v1.BrokerMessage");
}

describe("back-pressure toward providers", () => {
  let cluster: Cluster;
  let client: BrokerClient;

  beforeAll(async () => {
    cluster = await Cluster.start({ brokerArgs: ["--max-provider-backlog-bytes", String(4 * MiB)] });
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "bp-victim" });
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it("a provider that heartbeats but never reads its stream is declared lost once its backlog passes the limit", async () => {
    // A bare HTTP/2 agent: once registered it stops reading, so Node stops granting window.
    const session = http2.connect(`http://${cluster.grpcAddress}`);
    const stream = session.request({ ":method": "POST", ":path": "/dmabroker.v1.ProviderHub/Attach", "content-type": "application/grpc", te: "trailers" });
    let heartbeat: NodeJS.Timeout | undefined;
    try {
      stream.write(frame(agentMsg.register({ providerId: "deaf", maxTransferBytes: 4 * MiB, queueDepth: 256 })));
      const epoch = await new Promise<number>((resolve, reject) => {
        let buf = Buffer.alloc(0);
        const timer = setTimeout(() => reject(new Error("no Registered")), 5000);
        const onData = (d: Buffer): void => {
          buf = Buffer.concat([buf, d]);
          if (buf.length < 5 || buf.length < 5 + buf.readUInt32BE(1)) return;
          stream.off("data", onData);
          stream.pause();
          clearTimeout(timer);
          const msg = brokerMessageType().toObject(brokerMessageType().decode(buf.subarray(5, 5 + buf.readUInt32BE(1))), { longs: Number }) as {
            registered: { epoch: number };
          };
          resolve(msg.registered.epoch);
        };
        stream.on("data", onData);
      });
      let seq = 0;
      heartbeat = setInterval(() => stream.write(frame(agentMsg.heartbeat(++seq, epoch))), 100);
      const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "deaf" });
      // 1 MiB per batch; the provider reads none of it.
      const src = Buffer.alloc(MiB, 7);
      const cookies: number[] = [];
      for (let i = 0; i < 16 && lease.state === "active"; i++) {
        const got = await lease.submit([ops.memcpy(src)]).catch(() => []);
        cookies.push(...got);
      }
      const ended = await lease.ended;
      expect(ended.reason).toBe("PROVIDER_GONE");
      for (const cookie of cookies) {
        const c = await lease.waitFor(cookie, { timeoutMs: 5000 });
        expect({ result: c.result, reason: c.reason }).toEqual({ result: "ABORTED", reason: "PROVIDER_GONE" });
      }
      const line = await cluster.broker.waitForLine(
        (l) => l.event === "provider.state" && l.provider_id === "deaf" && l.to === "lost",
        5000,
        "deaf provider lost",
      );
      expect(String(line.reason)).toContain("not reading its stream");
      const metrics = await (await fetch(`${cluster.adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      expect(metrics).toMatch(/dmabroker_protocol_violations_total\{kind="slow_reader"\} [1-9]/);
    } finally {
      clearInterval(heartbeat);
      stream.close();
      session.close();
    }
  });
});

describe("chunked work batches", () => {
  let cluster: Cluster;
  let client: BrokerClient;

  beforeAll(async () => {
    // Default limits: an 84 MiB issue is queued at once, within the default 256 MiB backlog.
    cluster = await Cluster.start({});
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "bp-big" });
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it("IssuePending of 84 MiB of pending work reaches the provider in chunks; its stream survives", async () => {
    const hp = HostileProvider.connect(cluster.grpcAddress);
    try {
      await hp.register({ providerId: "big-backlog", maxTransferBytes: 28 * MiB, queueDepth: 64 });
      hp.startHeartbeats(100);
      const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "big-backlog" });
      for (let i = 0; i < 3; i++) await lease.submit([ops.memcpy(Buffer.alloc(28 * MiB, i + 1))], { issue: false });
      for (let i = 0; i < 8; i++) await lease.submit([ops.memcpy(Buffer.alloc(1024, 9))], { issue: false });
      expect(await lease.issuePending()).toBe(11);
      await hp.waitFor(() => hp.workItems.length === 11, 30_000);
      // More than one message, none of them over the transport limit, and the provider is still present.
      const batches = hp.messages.filter((m) => m.work !== undefined);
      expect(batches.length).toBeGreaterThan(1);
      expect(lease.state).toBe("active");
      const providers = await cluster.admin<{ providers: { providerId: string; state: string }[] }>("/v1/providers");
      expect(providers.providers.find((p) => p.providerId === "big-backlog")?.state).toBe("online");
      await lease.release();
    } finally {
      hp.close();
    }
  });
});
