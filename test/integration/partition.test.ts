import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient, DmaBrokerError, ops } from "@dmabroker/client";
import type { Lease } from "@dmabroker/client";
import { CLIENT_ID_KEY, loadDmaBrokerV1 } from "@dmabroker/proto";
import type { LeaseEvent__Output } from "@dmabroker/proto";
import { Cluster, ProcessFaultDriver } from "@dmabroker/testkit";
import type { FaultProxy } from "@dmabroker/testkit";
import { Code, expectReason, seededBytes } from "./helpers.js";

// Network faults between an agent and the broker, through the testkit's TCP
// fault proxy (issue 3, "partitioned"): a blackhole shorter than the heartbeat
// timeout only suspends; a longer one loses the provider (PROVIDER_GONE) and
// fences the old incarnation's late results (STALE_EPOCH); a reset is a lost
// connection; latency and a bandwidth cap only slow transfers down.

const SEED = 20261203;
const CHUNK = 64 * 1024;
/** Broker timing, short so the file stays quick: suspect after 300 ms of silence, lost after 1500 ms (the default). */
const HEARTBEAT_INTERVAL_MS = 100;
const SUSPECT_AFTER_MS = 300;
const HEARTBEAT_TIMEOUT_MS = 1500;
/** The victim's channel speed: slow enough that work is in flight during a fault. */
const VICTIM_BYTES_PER_SEC = 1024 * 1024;

/** Every result succeeded with the bytes of its source (results in submit order). */
function expectCopied(settled: readonly { result: string; output?: Buffer }[], sources: readonly Buffer[]): void {
  settled.forEach((c, i) => {
    expect(c.result).toBe("NOERROR");
    expect(c.output!.equals(sources[i]!)).toBe(true);
  });
}

/** Resolves when the lease reaches `state` (or at once if it is there). */
function leaseState(lease: Lease, state: string, timeoutMs: number): Promise<number> {
  if (lease.state === state) return Promise.resolve(performance.now());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`lease ${lease.id} not ${state} within ${timeoutMs} ms (is ${lease.state})`));
    }, timeoutMs);
    const off = lease.onStateChange((s) => {
      if (s === state) {
        clearTimeout(timer);
        off();
        resolve(performance.now());
      }
    });
  });
}

/**
 * Watches a lease on the raw wire (no SDK de-duplication): every completion
 * event with its arrival time, until the broker ends the stream.
 */
function rawWatch(address: string, clientId: string, leaseId: string): { seen: { cookie: number; result: string; at: number }[]; ended: Promise<void> } {
  const md = new grpc.Metadata();
  md.set(CLIENT_ID_KEY, clientId);
  const raw = new (loadDmaBrokerV1().DmaBroker)(address, grpc.credentials.createInsecure());
  const watch = raw.WatchLease({ leaseId, afterCookie: 0 }, md);
  const seen: { cookie: number; result: string; at: number }[] = [];
  const ended = new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      raw.close();
      resolve();
    };
    const timer = setTimeout(() => {
      watch.cancel();
      done();
    }, 15_000);
    watch.on("data", (e: LeaseEvent__Output) => {
      for (const c of e.completions?.completions ?? []) seen.push({ cookie: c.cookie, result: String(c.result), at: performance.now() });
    });
    watch.on("end", done);
    watch.on("error", done);
  });
  return { seen, ended };
}

describe("network partition through the fault proxy", () => {
  let cluster: Cluster;
  let client: BrokerClient;
  let driver: ProcessFaultDriver;
  let proxy: FaultProxy;
  const sources = Array.from({ length: 32 }, (_, i) => seededBytes(SEED + i, CHUNK));

  beforeAll(async () => {
    console.log(`partition test seed ${SEED}`);
    cluster = await Cluster.start({
      brokerArgs: [
        "--heartbeat-interval-ms",
        String(HEARTBEAT_INTERVAL_MS),
        "--suspect-after-ms",
        String(SUSPECT_AFTER_MS),
        "--heartbeat-timeout-ms",
        String(HEARTBEAT_TIMEOUT_MS),
      ],
      agents: [
        {
          providerId: "victim",
          profile: "ioat",
          viaProxy: true,
          args: ["--bandwidth-bytes-per-sec", String(VICTIM_BYTES_PER_SEC), "--reconnect-min-ms", "50", "--reconnect-max-ms", "200"],
        },
      ],
    });
    driver = new ProcessFaultDriver(cluster);
    proxy = cluster.proxy("victim");
    client = await BrokerClient.connect({ address: cluster.grpcAddress, clientId: "partition-test" });
  });

  afterAll(async () => {
    await driver?.close();
    client?.close();
    await cluster?.stop();
  });

  it("a blackhole shorter than the heartbeat timeout suspends the lease, then everything resumes with nothing lost", async () => {
    const epoch = cluster.agent("victim").epoch;
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "victim", mode: "exclusive" });
    const batch = sources.slice(0, 12);
    const cookies = await lease.submit(batch.map((s) => ops.memcpy(s)));
    const results = cookies.map((c) => lease.waitFor(c, { timeoutMs: 20_000 }));
    await results[0];

    const suspended = leaseState(lease, "suspended", 5000);
    const cutAt = performance.now();
    await driver.partition("victim");
    const suspendedAt = await suspended;
    console.log(`blackhole -> lease suspended: ${(suspendedAt - cutAt).toFixed(0)} ms`);

    const err = await expectReason(lease.submit([ops.memcpy(batch[0])], { timeoutMs: 3000 }), Code.UNAVAILABLE, "PROVIDER_SUSPECT");
    expect(Number(err.metadata.retry_after_ms)).toBeGreaterThan(0);
    // Heal well before the timeout (the blackhole lasted only this long).
    const silentMs = performance.now() - cutAt;
    expect(silentMs).toBeLessThan(HEARTBEAT_TIMEOUT_MS);
    const active = leaseState(lease, "active", 5000);
    await driver.heal("victim");
    await active;

    const settled = await Promise.all(results);
    expectCopied(settled, batch);
    // Same incarnation: no re-registration, the lease never ended.
    expect(lease.state).toBe("active");
    expect(
      cluster
        .agent("victim")
        .process.lines.filter((l) => l.msg === "registered")
        .map((l) => Number(l.epoch)),
    ).toEqual([epoch]);
    const more = await lease.submit([ops.memcpy(batch[1])]);
    expect((await lease.waitFor(more[0], { timeoutMs: 5000 })).output!.equals(batch[1])).toBe(true);
    await lease.release();
  });

  it("a blackhole longer than the timeout ends everything PROVIDER_GONE; after heal a new epoch, and the late results are fenced", async () => {
    const oldEpoch = cluster.agent("victim").epoch;
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "victim", mode: "exclusive" });
    const wire = rawWatch(cluster.grpcAddress, client.clientId, lease.id);
    const batch = sources.slice(0, 32);
    const cookies = await lease.submit(batch.map((s) => ops.memcpy(s)));
    const results = cookies.map((c) => lease.waitFor(c, { timeoutMs: 20_000 }));
    await results[0];

    const cutAt = performance.now();
    await driver.partition("victim");
    const settled = await Promise.all(results);
    const goneAt = performance.now();
    const ended = await lease.ended;
    console.log(`blackhole -> every in-flight cookie PROVIDER_GONE: ${(goneAt - cutAt).toFixed(0)} ms (timeout ${HEARTBEAT_TIMEOUT_MS} ms)`);
    expect(ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
    // Lost by the heartbeat sweep, not by a broken connection.
    expect(goneAt - cutAt).toBeGreaterThanOrEqual(SUSPECT_AFTER_MS);
    expect(goneAt - cutAt).toBeLessThan(HEARTBEAT_TIMEOUT_MS + 1000);
    const aborted = settled.filter((c) => c.result === "ABORTED");
    expect(aborted.length).toBeGreaterThan(0);
    for (const c of aborted) expect(c).toMatchObject({ status: "ERROR", reason: "PROVIDER_GONE", residue: CHUNK });
    for (const c of settled.filter((x) => x.result === "NOERROR")) expect(c.output!.equals(batch[cookies.indexOf(c.cookie)])).toBe(true);

    // Heal: the held traffic flows, the agent comes back as a new incarnation.
    await driver.heal("victim");
    const newEpoch = await cluster.waitForRegistration("victim", oldEpoch, 10_000);
    console.log(`heal -> re-registered, epoch ${oldEpoch} -> ${newEpoch}`);
    expect(newEpoch).toBeGreaterThan(oldEpoch);

    // Whatever the old incarnation finished during the partition is fenced: no
    // client sees it. The broker ends the old stream when it declares the
    // provider lost, so late messages on it are dropped by the transport; any
    // that reach the session are refused with STALE_EPOCH and counted.
    const closed = cluster.broker.lines.find((l) => l.msg === "closing provider stream" && l.provider_id === "victim" && Number(l.epoch) === oldEpoch);
    expect(closed, `the broker closing epoch ${oldEpoch}'s stream when it declared it lost`).toBeDefined();
    const refusals = cluster.broker.lines.filter((l) => l.msg === "refused results of a fenced incarnation" && Number(l.result_epoch) === oldEpoch);
    const refusedLogged = refusals.reduce((n, l) => n + Number(l.refused), 0);
    for (const r of refusals) expect(r).toMatchObject({ reason: "STALE_EPOCH" });
    const metrics = await (await fetch(`${cluster.adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const refusedCounted = Number(/^dmabroker_cookies_total\{result="stale_refused"\} (\d+)$/m.exec(metrics)?.[1]);
    console.log(`late results of epoch ${oldEpoch} refused by the broker session: ${refusedLogged} logged, ${refusedCounted} counted`);
    // Only this test's victim was fenced in this cluster so far, so every refusal counted is one logged here.
    expect(refusedCounted).toBe(refusedLogged);

    // On the raw wire: each cookie exactly once, no success after the loss, aborted stays aborted.
    await wire.ended;
    expect(wire.seen.map((x) => x.cookie).sort((a, b) => a - b)).toEqual(cookies);
    const byCookie = new Map(settled.map((c) => [c.cookie, c.result]));
    for (const x of wire.seen) {
      // A success can only come from before the partition took the provider away.
      if (x.result.endsWith("NOERROR")) expect(x.at).toBeLessThan(goneAt);
      expect(x.result.endsWith("NOERROR") ? "NOERROR" : "ABORTED").toBe(byCookie.get(x.cookie));
    }
    await expectReason(lease.txStatus(cookies[0], { timeoutMs: 3000 }), Code.FAILED_PRECONDITION, "PROVIDER_GONE");

    // The new incarnation serves a new lease.
    const next = await client.requestChannel({ capabilities: ["memcpy"], providerId: "victim", mode: "exclusive" });
    expect(next.epoch).toBe(newEpoch);
    const c = await next.submit([ops.memcpy(batch[2])]);
    expect((await next.waitFor(c[0], { timeoutMs: 5000 })).output!.equals(batch[2])).toBe(true);
    await next.release();
  });

  it("in a blackhole longer than twice the timeout the agent gives its incarnation up itself, and re-registers after heal", async () => {
    const agent = cluster.agent("victim");
    const oldEpoch = agent.epoch;
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "victim", mode: "exclusive" });
    await driver.partition("victim");
    expect(await lease.ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
    // The agent misses the broker's heartbeat echoes for 2 × timeout and drops the incarnation on its own.
    const gaveUp = await agent.process.waitForLine(
      (l) => l.msg === "lost the broker stream" && Number(l.epoch) === oldEpoch,
      3 * HEARTBEAT_TIMEOUT_MS,
      "the agent noticing the silent broker",
    );
    expect(gaveUp.why).toBe("broker heartbeats stopped");
    const healAt = performance.now();
    await driver.heal("victim");
    const newEpoch = await cluster.waitForRegistration("victim", oldEpoch, 10_000);
    console.log(`agent-side detection, heal -> re-registered: ${(performance.now() - healAt).toFixed(0)} ms`);
    expect(newEpoch).toBeGreaterThan(oldEpoch);
    const next = await client.requestChannel({ capabilities: ["memcpy"], providerId: "victim", mode: "exclusive" });
    expect(next.epoch).toBe(newEpoch);
    await next.release();
  });

  it("a reset loses the provider within milliseconds; the agent reconnects with a new epoch", async () => {
    const oldEpoch = cluster.agent("victim").epoch;
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "victim", mode: "exclusive" });
    const cookies = await lease.submit(sources.slice(0, 16).map((s) => ops.memcpy(s)));
    const results = cookies.map((c) => lease.waitFor(c, { timeoutMs: 20_000 }));
    await results[0];

    const cutAt = performance.now();
    proxy.setMode("reset");
    const settled = await Promise.all(results);
    const goneAt = performance.now();
    console.log(`reset -> every in-flight cookie PROVIDER_GONE: ${(goneAt - cutAt).toFixed(1)} ms`);
    expect(await lease.ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
    expect(settled.some((c) => c.result === "ABORTED" && c.reason === "PROVIDER_GONE")).toBe(true);
    expect(goneAt - cutAt).toBeLessThan(SUSPECT_AFTER_MS);
    expect(proxy.stats().connectionsReset).toBeGreaterThan(0);

    proxy.setMode("pass");
    const newEpoch = await cluster.waitForRegistration("victim", oldEpoch, 10_000);
    expect(newEpoch).toBeGreaterThan(oldEpoch);
  });

  it("added latency (20 ms each way) slows transfers without false suspicion; bytes stay correct", async () => {
    const epoch = cluster.agent("victim").epoch;
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "victim", mode: "exclusive" });
    const states: string[] = [];
    lease.onStateChange((s) => states.push(s));
    // 20 ms each way. (At 40 ms, 64 KiB results at 1 MiB/s make the broker
    // suspect the agent: its HTTP/2 receive window is Node's 64 KiB default,
    // so results and the heartbeats behind them wait for window updates.)
    proxy.setLatency(20);
    try {
      const batch = sources.slice(0, 16);
      const cookies = await lease.submit(batch.map((s) => ops.memcpy(s)));
      const settled = await lease.waitForAll(cookies, { timeoutMs: 20_000 });
      expectCopied(settled, batch);
    } finally {
      proxy.setLatency(0);
    }
    expect(states).toEqual([]);
    expect(cluster.agent("victim").epoch).toBe(epoch);
    await lease.release();
  });

  it("a bandwidth cap slows transfers down; they complete byte-correct on the same incarnation", async () => {
    const epoch = cluster.agent("victim").epoch;
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "victim", mode: "exclusive" });
    const states: string[] = [];
    lease.onStateChange((s) => states.push(s));
    const before = proxy.stats();
    proxy.setBandwidth(4 * 1024 * 1024);
    const batch = sources.slice(0, 16);
    const started = performance.now();
    try {
      const cookies = await lease.submit(batch.map((s) => ops.memcpy(s)));
      const settled = await lease.waitForAll(cookies, { timeoutMs: 20_000 });
      expectCopied(settled, batch);
    } finally {
      proxy.setBandwidth(undefined);
    }
    // Heartbeats share the HTTP/2 connection with the bulk data, so a cap can delay them: report it.
    console.log(`1 MiB through a 4 MiB/s cap: ${(performance.now() - started).toFixed(0)} ms; lease states seen: [${states.join(", ")}]`);
    const after = proxy.stats();
    expect(after.bytesDownstream - before.bytesDownstream).toBeGreaterThan(batch.length * CHUNK);
    expect(after.bytesUpstream - before.bytesUpstream).toBeGreaterThan(batch.length * CHUNK);
    expect(lease.state).toBe("active");
    expect(cluster.agent("victim").epoch).toBe(epoch);
    await lease.release();
  });

  it("the process driver freezes and thaws by pid; kill or terminate, then restart, bring a new incarnation through the same proxy", async () => {
    const agent = cluster.agent("victim");
    const procState = (): string => readFileSync(`/proc/${agent.process.pid}/stat`, "utf8").split(") ")[1][0];
    await driver.freeze("victim");
    await expect.poll(procState, { timeout: 3000, interval: 10 }).toBe("T");
    await driver.thaw("victim");
    await expect.poll(procState, { timeout: 3000, interval: 10 }).not.toBe("T");

    const oldEpoch = agent.epoch;
    const oldPid = agent.process.pid;
    const lease = await client.requestChannel({ capabilities: ["memcpy"], providerId: "victim" });
    await driver.kill("victim");
    expect(agent.process.running).toBe(false);
    expect(await lease.ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
    const accepted = proxy.stats().connectionsAccepted;
    await driver.restart("victim");
    const reborn = cluster.agent("victim");
    expect(reborn.process.pid).not.toBe(oldPid);
    expect(reborn.epoch).toBeGreaterThan(oldEpoch);
    // The new process connected through the same proxy.
    expect(cluster.proxy("victim")).toBe(proxy);
    expect(proxy.stats().connectionsAccepted).toBeGreaterThan(accepted);

    // Terminate is graceful: the agent says goodbye and exits cleanly.
    const held = await client.requestChannel({ capabilities: ["memcpy"], providerId: "victim" });
    await driver.terminate("victim");
    expect(await reborn.process.exited).toEqual({ code: 0, signal: null });
    expect(await held.ended).toEqual({ state: "provider_gone", reason: "PROVIDER_GONE" });
    await driver.restart("victim");
    expect(cluster.agent("victim").epoch).toBeGreaterThan(reborn.epoch);
  });

  it("the driver refuses to partition an agent that has no proxy or namespace", async () => {
    const other = new ProcessFaultDriver(cluster);
    cluster.agents.set("direct", { ...cluster.agent("victim"), spec: { providerId: "direct", profile: "ioat" } });
    try {
      const err = await other.partition("direct").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ reason: "INVALID_ARGUMENT" });
      expect(err).not.toBeInstanceOf(DmaBrokerError);
    } finally {
      cluster.agents.delete("direct");
    }
  });
});
