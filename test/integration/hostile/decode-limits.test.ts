import http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import type { Lease } from "@dmabroker/client";
import { REASON_KEY, STATUS_DETAILS_KEY, decodeServiceError } from "@dmabroker/proto";
import { Cluster } from "@dmabroker/testkit";
import { Code, seededBytes } from "../helpers.js";
import { HostileProvider, agentMsg } from "./hostile-provider.js";
import { RawGrpcClient, pb } from "./raw-grpc.js";

// Hostile messages from an independent stack (hand-built protobuf bytes): each
// is refused before it is decoded, with a named reason, while a real provider
// and client keep working (the broker does not stall long enough to lose them).

const DMA = "/dmabroker.v1.DmaBroker";

/**
 * One gRPC call over raw HTTP/2: headers, then `body` written and the
 * request left open (no end of stream); resolves with the status headers or
 * trailers (bounded: 10 s).
 */
async function rawHttp2Call(address: string, path: string, clientId: string, body: Buffer[]): Promise<http2.IncomingHttpHeaders> {
  const session = http2.connect(`http://${address}`);
  session.on("error", () => undefined);
  try {
    const req = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", "dmabroker-client-id": clientId });
    const answer = new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no status within 10 s")), 10_000);
      const done = (h: http2.IncomingHttpHeaders): void => {
        if (h["grpc-status"] === undefined) return;
        clearTimeout(timer);
        resolve(h);
      };
      req.on("response", done);
      req.on("trailers", done);
      req.on("error", (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    for (const b of body) req.write(b);
    const h = await answer;
    req.close();
    return h;
  } finally {
    session.close();
  }
}

/** Status headers as grpc-js metadata (for decodeServiceError). */
function grpcMetadataOf(h: http2.IncomingHttpHeaders): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith(":") || v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) md.add(k, k.endsWith("-bin") ? Buffer.from(one, "base64") : one);
  }
  return md;
}

describe("messages too big to decode are refused with a named reason, before decoding", () => {
  let cluster: Cluster;
  let raw: RawGrpcClient;
  let bystander: BrokerClient;
  let lease: Lease;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    cluster = await Cluster.start({
      agents: [{ providerId: "dsa-1", profile: "dsa" }],
      // Tens of MB take seconds over grpc-js on a loaded 2-core machine, and a stream's heartbeats queue
      // behind the message in transit: a wide heartbeat timeout keeps this about decoding, not liveness.
      brokerArgs: ["--request-timeout-ms", "800", "--register-timeout-ms", "800", "--suspect-after-ms", "8000", "--heartbeat-timeout-ms", "10000"],
    });
    raw = new RawGrpcClient(cluster.grpcAddress);
    bystander = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "bystander" });
    lease = await bystander.requestChannel({ capabilities: ["memcpy"], providerId: "dsa-1" });
  });

  afterAll(async () => {
    console.log("time to refuse (ms, client side, including transfer over loopback):", JSON.stringify(timings));
    const refusals = cluster?.broker.lines.filter((l) => typeof l.msg === "string" && l.msg.endsWith("refused before decoding"));
    console.log(
      "broker-side checks before refusing:",
      JSON.stringify(refusals?.map((l) => ({ reason: l.reason, bytes: l.bytes, check_us: Math.round(Number(l.check_us)) }))),
    );
    raw?.close();
    bystander?.close();
    await cluster?.stop();
  });

  /** The bystander's transfer is byte-correct and its lease and provider are untouched. */
  async function bystanderStillWorks(seed: number): Promise<void> {
    const src = seededBytes(seed, 64 * 1024);
    const [cookie] = await lease.submit([ops.memcpy(src)]);
    const done = await lease.waitFor(cookie, { timeoutMs: 10_000 });
    expect(done.result).toBe("NOERROR");
    expect(done.output!.equals(src)).toBe(true);
    expect(lease.state).toBe("active");
    expect(cluster.broker.lines.some((l) => l.event === "provider.state" && l.provider_id === "dsa-1" && (l.to === "lost" || l.to === "suspect"))).toBe(false);
  }

  function expectNamed(result: Awaited<ReturnType<RawGrpcClient["unary"]>>, code: number, reason: string): Record<string, string> {
    expect(result.ok, "the hostile call succeeded").toBe(false);
    if (result.ok) return {};
    const decoded = decodeServiceError(result.error);
    expect({ code: result.error.code, reason: decoded.reason }).toEqual({ code, reason });
    // The reason is in the server's metadata, not guessed by our decoder from a bare status.
    expect(result.error.metadata.get(REASON_KEY)).toEqual([reason]);
    expect(result.error.metadata.get(STATUS_DETAILS_KEY)).toHaveLength(1);
    return decoded.metadata;
  }

  it("Submit with 3,000,000 interrupt descriptors (12 MB): BATCH_TOO_LARGE", async () => {
    const descriptor = pb.bytes(2, pb.bytes(7, Buffer.alloc(0)));
    const msg = pb.concat(pb.bytes(1, lease.id), pb.repeat(descriptor, 3_000_000));
    const r = await raw.unary(`${DMA}/Submit`, msg, { clientId: "bystander" });
    timings.submit_3M_interrupts = Math.round(r.ms);
    const md = expectNamed(r, Code.INVALID_ARGUMENT, "BATCH_TOO_LARGE");
    expect(md.limit).toBe("4096");
    await bystanderStillWorks(1);
  });

  it("Submit with an XOR of 100,000 empty sources: INVALID_DESCRIPTOR", async () => {
    const xor = pb.bytes(3, pb.repeat(pb.bytes(1, Buffer.alloc(0)), 100_000));
    const r = await raw.unary(`${DMA}/Submit`, pb.concat(pb.bytes(1, lease.id), pb.bytes(2, xor)), { clientId: "bystander" });
    timings.submit_xor_100k_sources = Math.round(r.ms);
    expectNamed(r, Code.INVALID_ARGUMENT, "INVALID_DESCRIPTOR");
  });

  it("RequestChannel with 1,000,000 selector labels: MESSAGE_TOO_LARGE; 33 labels: INVALID_ARGUMENT", async () => {
    const labels = pb.concat(...Array.from({ length: 1000 }, (_, i) => pb.mapEntry(1, `k${i}`, "v")));
    const huge = pb.concat(pb.uint(1, 2), pb.bytes(2, pb.repeat(labels, 1000)), pb.uint(3, 2));
    const r = await raw.unary(`${DMA}/RequestChannel`, huge, { clientId: "attacker" });
    timings.request_channel_1M_labels = Math.round(r.ms);
    expectNamed(r, Code.RESOURCE_EXHAUSTED, "MESSAGE_TOO_LARGE");

    const few = pb.concat(pb.uint(1, 2), pb.bytes(2, pb.concat(...Array.from({ length: 33 }, (_, i) => pb.mapEntry(1, `k${i}`, "v")))), pb.uint(3, 2));
    const md = expectNamed(await raw.unary(`${DMA}/RequestChannel`, few, { clientId: "attacker" }), Code.INVALID_ARGUMENT, "INVALID_ARGUMENT");
    expect(md.limit).toBe("32");
    const longValue = pb.concat(pb.uint(1, 2), pb.bytes(2, pb.mapEntry(1, "zone", "x".repeat(10_000))), pb.uint(3, 2));
    expectNamed(await raw.unary(`${DMA}/RequestChannel`, longValue, { clientId: "attacker" }), Code.INVALID_ARGUMENT, "INVALID_ARGUMENT");
    await bystanderStillWorks(2);
  });

  it("undecodable bodies: MALFORMED_MESSAGE, never INTERNAL", async () => {
    // A length running past the end; a group wire type; a truncated varint.
    for (const body of [Buffer.from([0x0a, 0x7f, 0x01]), Buffer.from([0x0b, 0x0c]), Buffer.from([0x08, 0xff, 0xff])]) {
      expectNamed(await raw.unary(`${DMA}/KeepAlive`, body, { clientId: "attacker" }), Code.INVALID_ARGUMENT, "MALFORMED_MESSAGE");
    }
    // Valid framing, wrong type for the field (a varint where a sub-message belongs) also must not be INTERNAL.
    const r = await raw.unary(`${DMA}/Submit`, pb.concat(pb.bytes(1, lease.id), pb.uint(2, 5)), { clientId: "bystander" });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(decodeServiceError(r.error).reason).not.toBe("INTERNAL");
  });

  it("a message over the transport limit (81 MiB to KeepAlive): MESSAGE_TOO_LARGE, named by the server", async () => {
    const r = await raw.unary(`${DMA}/KeepAlive`, pb.bytes(1, Buffer.alloc(81 * 1024 * 1024)), { clientId: "attacker" });
    timings.keepalive_81MiB = Math.round(r.ms);
    expectNamed(r, Code.RESOURCE_EXHAUSTED, "MESSAGE_TOO_LARGE");
    await bystanderStillWorks(3);
  });

  it("a 4,000-character lease id is not echoed in full: the error stays readable by a standard client", async () => {
    const id = "L".repeat(4000);
    const md = expectNamed(await raw.unary(`${DMA}/KeepAlive`, pb.bytes(1, id), { clientId: "attacker" }), Code.INVALID_ARGUMENT, "INVALID_ARGUMENT");
    expect(md.field).toBe("lease_id");
    // Within the method's bytes but still hostile: every echo is cut.
    const r = await raw.unary(`${DMA}/KeepAlive`, pb.bytes(1, "x".repeat(120)), { clientId: "c".repeat(128) });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      const d = decodeServiceError(r.error);
      expect(d.reason).toBe("LEASE_NOT_FOUND");
      for (const v of Object.values(d.metadata)) expect(v.length).toBeLessThanOrEqual(300);
      expect(d.message.length).toBeLessThanOrEqual(1100);
    }
  });

  it("Register with 300,000 labels: INVALID_REGISTRATION on the stream's status, and nothing registers", async () => {
    const labels = pb.repeat(pb.mapEntry(2, "k", "v"), 300_000);
    const register = pb.bytes(1, pb.concat(pb.bytes(1, "hostile-labels"), labels, pb.uint(3, 2), pb.bytes(8, pb.uint(1, 1))));
    const hp = HostileProvider.connect(cluster.grpcAddress);
    const t0 = performance.now();
    hp.send(register);
    const status = await hp.ended;
    timings.register_300k_labels = Math.round(performance.now() - t0);
    hp.close();
    expect(status.reason).toBe("INVALID_REGISTRATION");
    expect(status.code).toBe(Code.INVALID_ARGUMENT);
    const providers = await cluster.admin<{ providers: { providerId: string }[] }>("/v1/providers");
    expect(providers.providers.map((p) => p.providerId)).not.toContain("hostile-labels");
    await bystanderStillWorks(4);
  });

  it("WorkDone with 12,000,000 empty results: the provider is fenced (PROVIDER_PROTOCOL_ERROR), the broker lives", async () => {
    const hp = HostileProvider.connect(cluster.grpcAddress);
    const epoch = await hp.register({ providerId: "hostile-12m" });
    hp.startHeartbeats();
    const t0 = performance.now();
    hp.send(agentMsg.done(epoch, pb.repeat(pb.bytes(2, Buffer.alloc(0)), 12_000_000)));
    const status = await hp.ended;
    timings.workdone_12M_empty = Math.round(performance.now() - t0);
    hp.close();
    expect(status.reason).toBe("PROVIDER_PROTOCOL_ERROR");
    expect(hp.messages.some((m) => m.rejected?.reason === "PROVIDER_PROTOCOL_ERROR")).toBe(true);
    await cluster.broker.waitForLine((l) => l.event === "provider.state" && l.provider_id === "hostile-12m" && l.to === "lost", 5000, "hostile provider lost");
    await bystanderStillWorks(5);
  });

  it("WorkDone with 1,000,000 results (6.7 MB): refused by count, fast", async () => {
    const hp = HostileProvider.connect(cluster.grpcAddress);
    const epoch = await hp.register({ providerId: "hostile-1m" });
    hp.startHeartbeats();
    const result = pb.bytes(2, pb.concat(pb.uint(1, 123456), pb.uint(2, 1), pb.uint(3, 0)));
    const t0 = performance.now();
    hp.send(agentMsg.done(epoch, pb.repeat(result, 1_000_000)));
    const status = await hp.ended;
    timings.workdone_1M = Math.round(performance.now() - t0);
    hp.close();
    expect(status.reason).toBe("PROVIDER_PROTOCOL_ERROR");
    await bystanderStillWorks(6);
  });

  it("an Attach that never registers ends HANDSHAKE_TIMEOUT; so does a call whose request never arrives", async () => {
    const hp = HostileProvider.connect(cluster.grpcAddress);
    const status = await hp.ended;
    hp.close();
    expect({ code: status.code, reason: status.reason }).toEqual({ code: Code.DEADLINE_EXCEEDED, reason: "HANDSHAKE_TIMEOUT" });

    // Raw HTTP/2: headers of a unary call, then nothing.
    const trailers = await rawHttp2Call(cluster.grpcAddress, `${DMA}/KeepAlive`, "staller", []);
    expect(trailers["grpc-status"]).toBe(String(Code.DEADLINE_EXCEEDED));
    expect(trailers[REASON_KEY]).toBe("HANDSHAKE_TIMEOUT");
  });

  it("a message over its method's limit is refused at its length prefix, before its body arrives", async () => {
    // A gRPC frame prefix announcing 75 MiB (over Submit's limit, under the 80 MiB transport limit), then 16 KiB of
    // the body, and the stream left open: the refusal must come without the other 75 MiB.
    const prefix = (n: number): Buffer => {
      const b = Buffer.alloc(5);
      b.writeUInt32BE(n, 1);
      return b;
    };
    const submit = await rawHttp2Call(cluster.grpcAddress, `${DMA}/Submit`, "bystander", [prefix(75 * 1024 * 1024), Buffer.alloc(16 * 1024, 0x5a)]);
    expect({ status: submit["grpc-status"], reason: submit[REASON_KEY] }).toEqual({ status: String(Code.INVALID_ARGUMENT), reason: "BATCH_TOO_LARGE" });
    const info = decodeServiceError(Object.assign(new Error("x"), { code: Code.INVALID_ARGUMENT, details: "", metadata: grpcMetadataOf(submit) }));
    expect(info.metadata).toMatchObject({ limit: String(64 * 1024 * 1024), bytes: String(75 * 1024 * 1024) });
    // A small method: KeepAlive's 4 KiB.
    const keepAlive = await rawHttp2Call(cluster.grpcAddress, `${DMA}/KeepAlive`, "attacker", [prefix(5000), Buffer.alloc(100)]);
    expect({ status: keepAlive["grpc-status"], reason: keepAlive[REASON_KEY] }).toEqual({
      status: String(Code.RESOURCE_EXHAUSTED),
      reason: "MESSAGE_TOO_LARGE",
    });
    await bystanderStillWorks(7);
  });

  it("a method the broker does not serve: ROUTE_NOT_FOUND, not a bare UNIMPLEMENTED", async () => {
    for (const path of [`${DMA}/NoSuchMethod`, "/no.such.Service/Call", `/${"x".repeat(2000)}/y`]) {
      const r = await raw.unary(path, Buffer.alloc(0), { clientId: "attacker" });
      const md = expectNamed(r, Code.UNIMPLEMENTED, "ROUTE_NOT_FOUND");
      expect(md.path!.length).toBeLessThanOrEqual(300);
    }
  });

  it("admin: headers over the server's limit get 431 problem+json with a reason, not a bare close", async () => {
    const url = new URL(cluster.adminUrl);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname, () => socket.write(`GET /v1/providers?x=${"a".repeat(80_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
      let text = "";
      socket.setTimeout(5000, () => reject(new Error("no answer within 5 s")));
      socket.on("data", (d: Buffer) => (text += d.toString()));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(answer).toContain("application/problem+json");
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toMatchObject({ status: 431, reason: "INVALID_ARGUMENT" });
  });

  it("counts every refusal by kind in /metrics", async () => {
    const text = await (await fetch(`${cluster.adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const count = (kind: string): number => Number(new RegExp(`dmabroker_protocol_violations_total\\{kind="${kind}"\\} (\\d+)`).exec(text)?.[1] ?? "NaN");
    expect(count("over_limit")).toBeGreaterThanOrEqual(5);
    expect(count("oversize")).toBeGreaterThanOrEqual(2);
    expect(count("malformed")).toBeGreaterThanOrEqual(3);
    expect(count("handshake_timeout")).toBeGreaterThanOrEqual(2);
    expect(count("unknown_work_id")).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/dmabroker_protocol_violations_total\{kind="invalid_result"\} \d+/);
  });
});
