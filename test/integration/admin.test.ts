import { createRequire } from "node:module";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import { Cluster } from "@dmabroker/testkit";
import { service as healthService } from "grpc-health-check";

// The admin surface of a running broker process: bearer token from its
// configuration, Prometheus metrics fed by real gRPC calls and a real
// provider loss, the OpenAPI document, and the standard gRPC health and
// reflection services.

const TOKEN = "integration-admin-token";

describe("broker admin surface (real processes)", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({
      brokerArgs: ["--admin-token", TOKEN],
      agents: [
        { providerId: "ioat-1", profile: "ioat" },
        { providerId: "dsa-1", profile: "dsa" },
      ],
    });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const get = (p: string, token?: string): Promise<Response> =>
    fetch(cluster.adminUrl + p, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5000) });

  it("needs the configured token on /v1 and /docs, not on probes and metrics", async () => {
    expect((await get("/healthz")).status).toBe(200);
    expect((await get("/metrics")).status).toBe(200);
    const missing = await get("/v1/providers");
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ reason: "ADMIN_TOKEN_MISSING" });
    expect((await get("/v1/providers", "wrong")).status).toBe(403);
    const ok = await get("/v1/providers", TOKEN);
    expect(((await ok.json()) as { providers: { providerId: string }[] }).providers.map((p) => p.providerId).sort()).toEqual(["dsa-1", "ioat-1"]);
    const doc = (await (await get("/docs/json", TOKEN)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/v1/providers/{id}/unbind", "/v1/leases/{id}", "/v1/events"]));
  });

  it("metrics count real RPCs, leases, cookies and a provider loss with its detection latency", async () => {
    const client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "metrics" });
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "ioat-1", mode: "exclusive" });
    const cookies = await lease.submit([ops.memcpy(Buffer.alloc(4096, 7)), ops.memcpy(Buffer.alloc(16, 1))]);
    await lease.waitForAll(cookies, { timeoutMs: 5000 });
    cluster.agent("ioat-1").process.kill("SIGKILL");
    await lease.ended;
    client.close();
    const text = await (await get("/metrics")).text();
    const value = (series: string): number =>
      Number(
        text
          .split("\n")
          .find((l) => l.startsWith(series + " "))
          ?.split(" ")[1] ?? NaN,
      );
    expect(value('dmabroker_rpc_duration_seconds_count{method="RequestChannel",code="OK"}')).toBeGreaterThanOrEqual(1);
    expect(value('dmabroker_rpc_duration_seconds_count{method="Submit",code="OK"}')).toBeGreaterThanOrEqual(1);
    expect(value('dmabroker_cookies_total{result="completed"}')).toBeGreaterThanOrEqual(2);
    expect(value('dmabroker_leases{state="provider_gone"}')).toBe(1);
    expect(value('dmabroker_providers{state="online"}')).toBe(1);
    expect(value('dmabroker_provider_detection_seconds_count{cause="stream_break"}')).toBe(1);
    expect(value('dmabroker_lease_ends_total{reason="PROVIDER_GONE"}')).toBe(1);
    expect(text).toContain("dmabroker_process_resident_memory_bytes");
  });

  it("answers grpc.health.v1 Check with SERVING and lists its services through reflection", async () => {
    const Health = grpc.makeGenericClientConstructor(healthService as unknown as grpc.ServiceDefinition, "Health");
    const health = new Health(cluster.grpcAddress, grpc.credentials.createInsecure()) as unknown as {
      Check(req: { service: string }, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: { status: string }) => void): void;
      close(): void;
    };
    const check = (service: string): Promise<{ status: string }> =>
      new Promise((resolve, reject) => health.Check({ service }, { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res))));
    try {
      expect((await check("")).status).toBe("SERVING");
      expect((await check("dmabroker.v1.DmaBroker")).status).toBe("SERVING");
      await expect(check("no.such.Service")).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    } finally {
      health.close();
    }

    const require = createRequire(import.meta.url);
    const protoDir = path.join(path.dirname(require.resolve("@grpc/reflection")), "../proto");
    const def = protoLoader.loadSync("grpc/reflection/v1/reflection.proto", {
      includeDirs: [protoDir],
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } } };
    const reflection = new pkg.grpc.reflection.v1.ServerReflection(cluster.grpcAddress, grpc.credentials.createInsecure());
    try {
      type Answer = { listServicesResponse?: { service: { name: string }[] } };
      const open = (reflection as unknown as { ServerReflectionInfo(o: grpc.CallOptions): grpc.ClientDuplexStream<unknown, Answer> }).ServerReflectionInfo.bind(
        reflection,
      );
      const call = open({ deadline: Date.now() + 5000 });
      const answer = new Promise<string[]>((resolve, reject) => {
        call.on("data", (msg: Answer) => resolve((msg.listServicesResponse?.service ?? []).map((s) => s.name)));
        call.on("error", reject);
      });
      call.write({ listServices: "" });
      const names = await answer;
      call.end();
      expect(names).toEqual(expect.arrayContaining(["dmabroker.v1.DmaBroker", "dmabroker.v1.ProviderHub"]));
    } finally {
      reflection.close();
    }
  });
});
