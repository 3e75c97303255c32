import net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GrpcCode } from "@dmabroker/core";
import { BrokerClient, DmaBrokerError } from "@dmabroker/client";

// A real socket that accepts and never speaks HTTP/2: the channel never becomes ready.
let silent: net.Server;
const sockets = new Set<net.Socket>();
let address = "";
beforeAll(async () => {
  silent = net.createServer((s) => sockets.add(s));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  address = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

async function connectError(options: {
  timeoutMs: number;
  signal?: AbortSignal;
  onStateChange?: (c: { from: string; to: string }) => void;
}): Promise<DmaBrokerError> {
  const err = await BrokerClient.connect({ address, clientId: "deadline-test", ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DmaBrokerError);
  return err as DmaBrokerError;
}

describe("BrokerClient.connect", () => {
  it("fails DEADLINE_EXCEEDED when the broker never becomes ready within timeoutMs", async () => {
    const changes: string[] = [];
    const e = await connectError({ timeoutMs: 300, onStateChange: (c) => changes.push(`${c.from}->${c.to}`) });
    expect(changes).toEqual(["connecting->failed"]);
    expect(e.reason).toBe("DEADLINE_EXCEEDED");
    expect(e.code).toBe(GrpcCode.DEADLINE_EXCEEDED);
    expect(e.message).toContain(`connecting to ${address}`);
  });

  it("fails CANCELLED when the caller aborts first, and at once when the signal is already aborted", async () => {
    const e = await connectError({ timeoutMs: 10_000, signal: AbortSignal.timeout(100) });
    expect(e.reason).toBe("CANCELLED");
    const pre = new AbortController();
    pre.abort();
    expect((await connectError({ timeoutMs: 10_000, signal: pre.signal })).reason).toBe("CANCELLED");
  });
});

describe("DmaBrokerError.of", () => {
  it("takes the gRPC code from the reason catalogue", () => {
    expect(DmaBrokerError.of("QUEUE_FULL", "x").code).toBe(GrpcCode.RESOURCE_EXHAUSTED);
    expect(DmaBrokerError.of("INTERNAL", "x").code).toBe(GrpcCode.INTERNAL);
    expect(DmaBrokerError.of("PROVIDER_SUSPECT", "x", { provider_id: "p" })).toMatchObject({
      reason: "PROVIDER_SUSPECT",
      code: GrpcCode.UNAVAILABLE,
      metadata: { provider_id: "p" },
    });
  });
});

describe("BrokerClient states", () => {
  it("connecting -> ready on a server that speaks HTTP/2, then ready -> closed once; a closed client refuses calls", async () => {
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    try {
      const changes: string[] = [];
      const client = await BrokerClient.connect({ address: `127.0.0.1:${port}`, timeoutMs: 5000, onStateChange: (c) => changes.push(`${c.from}->${c.to}`) });
      expect(client.state.kind).toBe("ready");
      client.close();
      client.close();
      expect(client.state.kind).toBe("closed");
      expect(changes).toEqual(["connecting->ready", "ready->closed"]);
      const e = await client.requestChannel({ capabilities: ["memcpy"] }).catch((err: unknown) => err);
      expect(e).toMatchObject({ reason: "CANCELLED" });
    } finally {
      server.forceShutdown();
    }
  });
});
