import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, ops } from "@dmabroker/client";
import { Cluster, ServiceProcess } from "@dmabroker/testkit";

// A broker restart loses nothing: SIGKILL the broker, start it on the same
// data dir, and the agent resumes its epoch, the lease survives (suspended
// meanwhile), the cookie whose outcome died with the old process ends once
// with BROKER_RESTARTED, and new work runs on the same lease.

interface AdminProvider {
  providerId: string;
  epoch: number;
  state: string;
}

describe("a broker restart on the same data dir", () => {
  let cluster: Cluster;
  let client: BrokerClient;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "dmabroker-restart-"));
    cluster = await Cluster.start({
      brokerArgs: ["--data-dir", dataDir],
      agents: [{ providerId: "slow", profile: "ioat", args: ["--bandwidth-bytes-per-sec", "65536"] }],
    });
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "restart-test", defaultTimeoutMs: 3000 });
  });

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps the agent's epoch and the client's lease; the cookie in flight ends BROKER_RESTARTED", async () => {
    const epoch = cluster.agent("slow").epoch;
    const lease = await client.requestChannel({ capabilities: ["memcpy"], ttlMs: 20_000 });
    const states: string[] = [];
    lease.onStateChange((state, reason) => states.push(`${state}:${reason}`));
    const done = await lease.submit([ops.memcpy(Buffer.alloc(64))]);
    expect((await lease.waitFor(done[0], { timeoutMs: 5000 })).result).toBe("NOERROR");
    const [slow] = await lease.submit([ops.memcpy(Buffer.alloc(256 * 1024))]); // 4 s of work
    const waiting = lease.waitFor(slow, { timeoutMs: 20_000 });

    const agentLog = cluster.agent("slow").process;
    const resumed = agentLog.waitForLine((l) => l.msg === "resumed the epoch after a broker restart", 15_000, "the agent resuming its epoch");
    const { readyMs, ready } = await cluster.restartBroker();
    const line = await resumed;
    console.log(`broker restart: ready ${readyMs.toFixed(0)} ms after spawn; agent resumed epoch ${String(line.epoch)}`);
    expect(Number(line.epoch)).toBe(epoch);
    expect(ready.grpc).toBe(cluster.grpcAddress);

    const result = await waiting;
    expect({ result: result.result, reason: result.reason }).toEqual({ result: "ABORTED", reason: "BROKER_RESTARTED" });

    // The same lease takes new work once its provider is back.
    let next: number[] = [];
    for (let i = 0; i < 50 && next.length === 0; i++) {
      next = await lease.submit([ops.memcpy(Buffer.from("after the restart"))]).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return [];
      });
    }
    expect(next[0]).toBeGreaterThan(slow);
    const after = await lease.waitFor(next[0], { timeoutMs: 5000 });
    expect(after.result).toBe("NOERROR");
    expect(Buffer.from(after.output ?? []).toString()).toBe("after the restart");
    expect(lease.state).toBe("active");
    expect(states.some((s) => s.startsWith("suspended"))).toBe(true);

    const providers = await cluster.admin<{ providers: AdminProvider[] }>("/v1/providers");
    expect(providers.providers.map((p) => ({ id: p.providerId, epoch: p.epoch, state: p.state }))).toEqual([{ id: "slow", epoch, state: "online" }]);
    expect((await lease.release()).released).toBe(true);
  });

  it("shows the store to operators: admin API, dmactl and /metrics", async () => {
    const info = await cluster.admin<{ kind: string; path: string; durability: string; revision: number; sizeBytes: number }>("/v1/store");
    expect(info).toMatchObject({ kind: "file", path: dataDir, durability: "always" });
    expect(info.revision).toBeGreaterThan(0);
    expect(info.sizeBytes).toBeGreaterThan(0);
    const p = ServiceProcess.start("dmactl", ["--json", "store"], { env: { DMABROKER_ADMIN_URL: cluster.adminUrl }, name: "dmactl store" });
    const timer = setTimeout(() => p.kill("SIGKILL"), 10_000);
    const exit = await p.exited;
    clearTimeout(timer);
    expect(exit.code).toBe(0);
    const shown = JSON.parse(p.lines.map((l) => l.raw).join("")) as { path: string; revision: number };
    expect(shown.path).toBe(dataDir);
    const metrics = await (await fetch(`${cluster.adminUrl}/metrics`)).text();
    for (const name of [
      "dmabroker_store_fsync_seconds_count",
      "dmabroker_store_commit_batches_count",
      "dmabroker_store_log_bytes",
      "dmabroker_store_size_bytes",
    ]) {
      expect(metrics).toMatch(new RegExp(`^${name} \\d+`, "m"));
    }
    expect(Number(/^dmabroker_store_fsync_seconds_count (\d+)/m.exec(metrics)![1])).toBeGreaterThan(0);
  });

  it("never hands out an epoch again after a restart; a graceful restart (SIGTERM) keeps epochs too", async () => {
    const before = cluster.agent("slow").epoch;
    const other = await cluster.startAgent({ providerId: "fresh", profile: "dsa" });
    expect(other.epoch).toBeGreaterThan(before);
    const resumed = cluster.agent("fresh").process.waitForLine((l) => l.msg === "resumed the epoch after a broker restart", 20_000, "fresh resuming its epoch");
    await cluster.restartBroker("SIGTERM");
    expect(Number((await resumed).epoch)).toBe(other.epoch);
    const third = await cluster.startAgent({ providerId: "third", profile: "dsa" });
    expect(third.epoch).toBeGreaterThan(other.epoch);
  });
});

describe("a damaged data dir", () => {
  it("refuses to start with STORE_CORRUPT in its last line, rather than run on half a state", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmabroker-corrupt-"));
    try {
      writeFileSync(join(dir, "snapshot-0000000000000007.snap"), "DMABROKER-SNAPSHOT-1\nnot a frame");
      const broker = ServiceProcess.start("broker", ["--data-dir", dir, "--grpc-port", "0", "--admin-port", "0"], { name: "broker on a corrupt dir" });
      const timer = setTimeout(() => broker.kill("SIGKILL"), 15_000);
      const exit = await broker.exited;
      clearTimeout(timer);
      expect(exit.code).toBe(1);
      const fatal = broker.lines.find((l) => l.msg === "broker could not start");
      expect(fatal?.reason).toBe("STORE_CORRUPT");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("two brokers on one data dir", () => {
  it("the second refuses to start with STORE_LOCKED; a lock left by a dead broker is taken over", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmabroker-locked-"));
    const args = ["--data-dir", dir, "--grpc-port", "0", "--admin-port", "0"];
    const first = ServiceProcess.start("broker", args, { name: "first broker" });
    try {
      await first.waitForLine((l) => l.msg === "broker ready", 20_000, "the first broker ready");
      const second = ServiceProcess.start("broker", args, { name: "second broker on the same dir" });
      const timer = setTimeout(() => second.kill("SIGKILL"), 15_000);
      const exit = await second.exited;
      clearTimeout(timer);
      expect(exit.code).toBe(1);
      const fatal = second.lines.find((l) => l.msg === "broker could not start");
      expect({ reason: fatal?.reason, pid: String(fatal?.err).includes(`pid ${first.pid}`) }).toEqual({ reason: "STORE_LOCKED", pid: true });
      // The first broker is untouched by the refused one.
      expect(first.running).toBe(true);
      first.kill("SIGKILL");
      await first.exited;
      // SIGKILL left its LOCK behind: the next broker finds its pid dead and takes the dir.
      const third = ServiceProcess.start("broker", args, { name: "broker after the holder died" });
      try {
        await third.waitForLine((l) => l.msg === "broker ready", 20_000, "a broker on the stale lock ready");
      } finally {
        await third.stop("SIGTERM", 10_000);
      }
      // A graceful stop removes the lock; a lock naming a pid that does not run is stale too.
      writeFileSync(join(dir, "LOCK"), JSON.stringify({ pid: 2 ** 22 + 12_345, startTime: "1" }));
      const fourth = ServiceProcess.start("broker", args, { name: "broker on a lock of a dead pid" });
      try {
        await fourth.waitForLine((l) => l.msg === "broker ready", 20_000, "a broker on a dead pid's lock ready");
      } finally {
        await fourth.stop("SIGTERM", 10_000);
      }
    } finally {
      first.kill("SIGKILL");
      await first.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a broker that comes back without the lease (no data dir)", () => {
  let cluster: Cluster | undefined;
  let client: BrokerClient | undefined;

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
  });

  it("ends the cookie in flight once, ABORTED / BROKER_RESTARTED, then the lease LEASE_NOT_FOUND: a result, not a timeout", async () => {
    cluster = await Cluster.start({ agents: [{ providerId: "slow", profile: "ioat", args: ["--bandwidth-bytes-per-sec", "65536"] }] });
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "forgotten", defaultTimeoutMs: 3000 });
    const lease = await client.requestChannel({ capabilities: ["memcpy"], ttlMs: 20_000 });
    const [slow] = await lease.submit([ops.memcpy(Buffer.alloc(256 * 1024))]); // 4 s of work
    const results: string[] = [];
    const waiting = lease.waitFor(slow, { timeoutMs: 30_000 }).then((r) => {
      results.push(`${r.result}/${r.reason}`);
      return r;
    });
    await cluster.restartBroker();
    const result = await waiting;
    expect({ result: result.result, reason: result.reason }).toEqual({ result: "ABORTED", reason: "BROKER_RESTARTED" });
    const ended = await lease.ended;
    expect(ended.reason).toBe("LEASE_NOT_FOUND");
    // Exactly once: one delivery, nothing more after the lease ended.
    expect(results).toEqual(["ABORTED/BROKER_RESTARTED"]);
  });
});
