import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { spawnOwned } from "../lib/children.js";
import type { OwnedChild } from "../lib/children.js";

const PROTO = path.join(path.dirname(fileURLToPath(import.meta.url)), "etcd-lease.proto");

/** The etcd binary on PATH, or undefined (the baseline is then reported as skipped). */
export function findEtcd(): string | undefined {
  try {
    return execFileSync("sh", ["-c", "command -v etcd"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** A free TCP port on 127.0.0.1 (etcd needs explicit ports; a tiny race is accepted). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface LeaseStub extends grpc.Client {
  LeaseGrant(req: { TTL: number }, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { ID: string }) => void): void;
  LeaseRevoke(req: { ID: string }, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null) => void): void;
}

/**
 * A single-member etcd on free ports with a temporary data directory, and a
 * grant + revoke pair over its native gRPC API (the lease baseline).
 */
export class EtcdBaseline {
  private constructor(
    private readonly proc: OwnedChild,
    private readonly dataDir: string,
    private readonly stubs: LeaseStub[],
  ) {}

  static async start(binary: string, connections = 4): Promise<EtcdBaseline> {
    const [client, peer] = [await freePort(), await freePort()];
    const dataDir = mkdtempSync(path.join(tmpdir(), "dmabroker-bench-etcd-"));
    const proc = spawnOwned(
      binary,
      [
        "--name",
        "bench",
        "--data-dir",
        dataDir,
        "--listen-client-urls",
        `http://127.0.0.1:${client}`,
        "--advertise-client-urls",
        `http://127.0.0.1:${client}`,
        "--listen-peer-urls",
        `http://127.0.0.1:${peer}`,
        "--initial-advertise-peer-urls",
        `http://127.0.0.1:${peer}`,
        "--initial-cluster",
        `bench=http://127.0.0.1:${peer}`,
        "--log-level",
        "warn",
      ],
      { name: "etcd", env: process.arch === "x64" ? {} : { ETCD_UNSUPPORTED_ARCH: process.arch } },
    );
    const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, defaults: true });
    const Lease = (
      grpc.loadPackageDefinition(def) as unknown as {
        etcdserverpb: { Lease: new (a: string, c: grpc.ChannelCredentials, o?: grpc.ChannelOptions) => LeaseStub };
      }
    ).etcdserverpb.Lease;
    const stubs = Array.from({ length: connections }, (_, i) => new Lease(`127.0.0.1:${client}`, grpc.credentials.createInsecure(), { "grpc.bench_stub": i }));
    const etcd = new EtcdBaseline(proc, dataDir, stubs);
    // Ready when a grant succeeds (bounded).
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await etcd.pair(0);
        return etcd;
      } catch (err) {
        if (Date.now() > deadline || proc.child.exitCode !== null) {
          await etcd.stop();
          throw new Error(`etcd did not become ready: ${(err as Error).message}\n${proc.tail()}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** One lease grant (TTL 60 s) then its revoke, on connection `worker % n`. */
  pair(worker: number): Promise<void> {
    const stub = this.stubs[worker % this.stubs.length]!; // stubs is never empty
    return new Promise<void>((resolve, reject) => {
      stub.LeaseGrant({ TTL: 60 }, { deadline: Date.now() + 5000 }, (err, res) => {
        if (err) return reject(err);
        stub.LeaseRevoke({ ID: res!.ID }, { deadline: Date.now() + 5000 }, (err2) => (err2 ? reject(err2) : resolve()));
      });
    });
  }

  async stop(): Promise<void> {
    for (const s of this.stubs) s.close();
    await this.proc.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
